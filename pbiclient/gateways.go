package pbiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Gateways are on-premises data gateways (clusters) the caller is an admin of. Virtual
// network gateways are not reachable through these operations.

// Gateway is an on-premises data gateway.
type Gateway struct {
	ID                string            `json:"id"`
	Name              string            `json:"name,omitempty"`
	Type              string            `json:"type,omitempty"`
	GatewayStatus     string            `json:"gatewayStatus,omitempty"`
	GatewayAnnotation string            `json:"gatewayAnnotation,omitempty"` // a JSON document in a string
	PublicKey         *GatewayPublicKey `json:"publicKey,omitempty"`
}

// GatewayPublicKey is the RSA key data source credentials are encrypted with for the gateway.
type GatewayPublicKey struct {
	Exponent string `json:"exponent"`
	Modulus  string `json:"modulus"`
}

// GatewayDatasource is a data source defined on a gateway. Power BI never returns its
// credentials.
type GatewayDatasource struct {
	ID             string `json:"id"`
	GatewayID      string `json:"gatewayId"`
	DatasourceName string `json:"datasourceName,omitempty"`
	DatasourceType string `json:"datasourceType,omitempty"`
	// ConnectionDetails is a JSON document in a string here, unlike a model's data source,
	// where it is an object; Details decodes it.
	ConnectionDetails string `json:"connectionDetails,omitempty"`
	CredentialType    string `json:"credentialType,omitempty"`
}

// Details decodes ConnectionDetails. Fields it does not know are dropped.
func (d GatewayDatasource) Details() (DatasourceConnectionDetails, error) {
	var out DatasourceConnectionDetails
	if d.ConnectionDetails == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(d.ConnectionDetails), &out); err != nil {
		return out, fmt.Errorf("pbiclient: connectionDetails of data source %s is not a JSON object: %w", d.ID, err)
	}
	return out, nil
}

// DatasourceUser is a principal allowed to use a gateway data source.
type DatasourceUser struct {
	DatasourceAccessRight string `json:"datasourceAccessRight"` // None, Read or ReadOverrideEffectiveIdentity
	DisplayName           string `json:"displayName,omitempty"`
	EmailAddress          string `json:"emailAddress,omitempty"`
	Identifier            string `json:"identifier,omitempty"`
	PrincipalType         string `json:"principalType,omitempty"`
}

func gatewayPath(gatewayID string, segments ...string) apiPath {
	return pathOf("gateways", gatewayID).join(segments...)
}

// ListGateways lists the gateways the caller is an admin of.
func (c *Client) ListGateways(ctx context.Context) ([]Gateway, error) {
	var out list[Gateway]
	if _, err := c.getJSON(ctx, pathOf("gateways"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetGateway returns one gateway.
func (c *Client) GetGateway(ctx context.Context, gatewayID string) (Gateway, error) {
	var out Gateway
	if err := needID("gateway", gatewayID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, gatewayPath(gatewayID), nil, &out)
	return out, err
}

// ListGatewayDatasources lists the data sources of a gateway.
func (c *Client) ListGatewayDatasources(ctx context.Context, gatewayID string) ([]GatewayDatasource, error) {
	if err := needID("gateway", gatewayID); err != nil {
		return nil, err
	}
	var out list[GatewayDatasource]
	if _, err := c.getJSON(ctx, gatewayPath(gatewayID, "datasources"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

func needGatewayDatasource(gatewayID, datasourceID string) error {
	if err := needID("gateway", gatewayID); err != nil {
		return err
	}
	return needID("data source", datasourceID)
}

// GetGatewayDatasource returns one data source of a gateway.
func (c *Client) GetGatewayDatasource(ctx context.Context, gatewayID, datasourceID string) (GatewayDatasource, error) {
	var out GatewayDatasource
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, gatewayPath(gatewayID, "datasources", datasourceID), nil, &out)
	return out, err
}

// CheckGatewayDatasource asks the gateway whether it can connect to the data source. It
// returns nil when it can; otherwise the APIError says why, e.g.
// DM_GWPipeline_Client_GatewayUnreachable.
func (c *Client) CheckGatewayDatasource(ctx context.Context, gatewayID, datasourceID string) error {
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return err
	}
	_, err := c.getJSON(ctx, gatewayPath(gatewayID, "datasources", datasourceID, "status"), nil, nil)
	return err
}

// ListGatewayDatasourceUsers lists who may use a gateway data source.
func (c *Client) ListGatewayDatasourceUsers(ctx context.Context, gatewayID, datasourceID string) ([]DatasourceUser, error) {
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return nil, err
	}
	var out list[DatasourceUser]
	if _, err := c.getJSON(ctx, gatewayPath(gatewayID, "datasources", datasourceID, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// AddGatewayDatasourceUser grants a user (by email address) or a service principal (by
// Identifier, PrincipalType "App") access to a gateway data source, or changes its right.
// Groups are not supported.
func (c *Client) AddGatewayDatasourceUser(ctx context.Context, gatewayID, datasourceID string, u DatasourceUser) error {
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, gatewayPath(gatewayID, "datasources", datasourceID, "users"), nil, u, nil)
	return err
}

// DeleteGatewayDatasourceUser takes a user's access to a gateway data source away.
func (c *Client) DeleteGatewayDatasourceUser(ctx context.Context, gatewayID, datasourceID, emailAddress string) error {
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return err
	}
	if err := needID("user", emailAddress); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, gatewayPath(gatewayID, "datasources", datasourceID, "users", emailAddress), nil, nil, nil)
	return err
}

// BindToGateway binds a model's data sources to data sources of a gateway ("" groupID = My
// workspace). datasourceIDs may be empty: Power BI then picks the gateway's matching ones.
func (c *Client) BindToGateway(ctx context.Context, groupID, datasetID, gatewayID string, datasourceIDs []string) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	if err := needID("gateway", gatewayID); err != nil {
		return err
	}
	body := struct {
		GatewayObjectID     string   `json:"gatewayObjectId"`
		DatasourceObjectIDs []string `json:"datasourceObjectIds,omitempty"`
	}{gatewayID, datasourceIDs}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "Default.BindToGateway"), nil, body, nil)
	return err
}

// DiscoverGateways lists the gateways a model can be bound to.
func (c *Client) DiscoverGateways(ctx context.Context, groupID, datasetID string) ([]Gateway, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	var out list[Gateway]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "Default.DiscoverGateways"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetDatasetGatewayDatasources lists the gateway data sources a model is bound to ("" groupID =
// My workspace), with the gatewayId and id to update their credentials by.
func (c *Client) GetDatasetGatewayDatasources(ctx context.Context, groupID, datasetID string) ([]GatewayDatasource, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	var out list[GatewayDatasource]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "Default.GetBoundGatewayDatasources"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// CredentialSettings go with a data source's credentials.
type CredentialSettings struct {
	// PrivacyLevel is None, Public, Organizational or Private; "" sends None. It matters
	// when a model combines data from several sources.
	PrivacyLevel string
	// NotEncrypted lets the gateway connect to the source without encryption; otherwise
	// connecting fails when the source offers none.
	NotEncrypted bool
}

// credentialDetails is the wire form of credentials (swagger CredentialDetails).
type credentialDetails struct {
	CredentialType      string `json:"credentialType"`
	Credentials         string `json:"credentials"`
	EncryptedConnection string `json:"encryptedConnection"`
	EncryptionAlgorithm string `json:"encryptionAlgorithm"`
	PrivacyLevel        string `json:"privacyLevel"`
}

// encryptedFor encrypts credentials with the gateway's current public key, read from the
// gateway each time so that a key the gateway renewed is the one used.
func (c *Client) encryptedFor(ctx context.Context, gatewayID string, cred DatasourceCredentials, s CredentialSettings) (credentialDetails, error) {
	if _, err := cred.credentialData(); err != nil {
		return credentialDetails{}, err // incomplete credentials need no round trip
	}
	gw, err := c.GetGateway(ctx, gatewayID)
	if err != nil {
		return credentialDetails{}, err
	}
	if gw.PublicKey == nil {
		return credentialDetails{}, fmt.Errorf("pbiclient: gateway %s has no public key to encrypt credentials with", gatewayID)
	}
	enc, err := EncryptCredentials(*gw.PublicKey, cred)
	if err != nil {
		return credentialDetails{}, err
	}
	out := credentialDetails{CredentialType: cred.Type, Credentials: enc, EncryptedConnection: "Encrypted",
		EncryptionAlgorithm: "RSA-OAEP", PrivacyLevel: s.PrivacyLevel}
	if s.NotEncrypted {
		out.EncryptedConnection = "NotEncrypted"
	}
	if out.PrivacyLevel == "" {
		out.PrivacyLevel = "None"
	}
	return out, nil
}

// NewGatewayDatasource is a data source to create on a gateway.
type NewGatewayDatasource struct {
	Name string
	Type string // datasourceType, e.g. Sql, File, AnalysisServices, Oracle
	// ConnectionDetails are the connection's fields, e.g. server and database; Power BI
	// takes them as a JSON document in a string.
	ConnectionDetails map[string]string
	Credentials       DatasourceCredentials
	Settings          CredentialSettings
}

// CreateGatewayDatasource creates a data source on an on-premises gateway, its credentials
// encrypted with the gateway's public key. Power BI refuses OAuth2 credentials here.
func (c *Client) CreateGatewayDatasource(ctx context.Context, gatewayID string, ds NewGatewayDatasource) (GatewayDatasource, error) {
	var out GatewayDatasource
	if err := needID("gateway", gatewayID); err != nil {
		return out, err
	}
	details, err := json.Marshal(ds.ConnectionDetails)
	if err != nil {
		return out, err
	}
	creds, err := c.encryptedFor(ctx, gatewayID, ds.Credentials, ds.Settings)
	if err != nil {
		return out, err
	}
	body := struct {
		DataSourceType    string            `json:"dataSourceType"`
		ConnectionDetails string            `json:"connectionDetails"`
		DataSourceName    string            `json:"dataSourceName"`
		CredentialDetails credentialDetails `json:"credentialDetails"`
	}{ds.Type, string(details), ds.Name, creds}
	_, err = c.sendJSON(ctx, http.MethodPost, gatewayPath(gatewayID, "datasources"), nil, body, &out)
	return out, err
}

// UpdateGatewayDatasourceCredentials replaces the credentials of a gateway data source,
// encrypted with the gateway's public key; the credential type may change with them.
func (c *Client) UpdateGatewayDatasourceCredentials(ctx context.Context, gatewayID, datasourceID string, cred DatasourceCredentials, s CredentialSettings) error {
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return err
	}
	creds, err := c.encryptedFor(ctx, gatewayID, cred, s)
	if err != nil {
		return err
	}
	body := struct {
		CredentialDetails credentialDetails `json:"credentialDetails"`
	}{creds}
	_, err = c.sendJSON(ctx, http.MethodPatch, gatewayPath(gatewayID, "datasources", datasourceID), nil, body, nil)
	return err
}

// DeleteGatewayDatasource deletes a data source from a gateway. Models bound to it stop
// refreshing through the gateway.
func (c *Client) DeleteGatewayDatasource(ctx context.Context, gatewayID, datasourceID string) error {
	if err := needGatewayDatasource(gatewayID, datasourceID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, gatewayPath(gatewayID, "datasources", datasourceID), nil, nil, nil)
	return err
}
