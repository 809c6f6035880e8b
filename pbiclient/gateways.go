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
