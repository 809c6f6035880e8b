package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Gateway data sources created, their credentials replaced, and deleted. A secret never comes
// from a tool argument: a model's arguments are logged, audited and kept in its context. The
// user puts the password, key or token in an environment variable of the server or in a file
// of the data directory, and the model names where; pbiclient encrypts it for the gateway.
// Results and errors name that place, never what is there.

// secretEnvPrefix starts the name of every environment variable a tool reads a secret from.
// Any other variable stays out of reach, so a model cannot send the server's own sign-in
// secret (AZURE_CLIENT_SECRET, PBI_MCP_ACCESS_TOKEN) to a data source it chose.
const secretEnvPrefix = "PBI_SECRET_"

var secretEnvName = regexp.MustCompile(`^` + secretEnvPrefix + `\w+$`)

// maxSecretFileBytes bounds a secret file: credentials are small, and an access token is a
// few kilobytes.
const maxSecretFileBytes = 64 << 10

func secretEnvParam() mcp.ToolOption {
	return mcp.WithString("secret_env", mcp.Pattern(secretEnvName.String()),
		mcp.Description("Environment variable holding the password, key or token."))
}

type setGatewayDatasourceArgs struct {
	Gateway           string            `json:"gateway" schema:"$gateway" required:"true"`
	Datasource        string            `json:"datasource" required:"true" minLength:"1" jsonschema:"Its id or name. A new name, with datasource_type and connection_details, creates it."`
	DatasourceType    string            `json:"datasource_type" jsonschema:"To create: e.g. Sql, Oracle, File, AnalysisServices."`
	ConnectionDetails map[string]string `json:"connection_details" jsonschema:"To create: e.g. {\"server\":\"sql01\",\"database\":\"Sales\"}."`
	CredentialType    string            `json:"credential_type" required:"true" enum:"Basic,Windows,Key,OAuth2,Anonymous"`
	Username          string            `json:"username" jsonschema:"Basic and Windows (DOMAIN\\user)."`
	SecretEnv         string            `json:"secret_env" schema:"$secretEnv"`
	SecretFile        string            `json:"secret_file" jsonschema:"Or a data-directory file holding it (.json: username, password, key or accessToken)."`
	PrivacyLevel      string            `json:"privacy_level" enum:"None,Public,Organizational,Private" default:"Organizational"`
	EncryptConnection *bool             `json:"encrypt_connection" default:"true" jsonschema:"false when the source offers no TLS."`
}

type deleteGatewayDatasourceArgs struct {
	Gateway    string `json:"gateway" schema:"$gateway" required:"true"`
	Datasource string `json:"datasource" schema:"$gatewayDatasource" required:"true"`
	Confirm    bool   `json:"confirm" schema:"$confirm"`
}

// GatewayDatasourceChangeResult is the answer of set_gateway_datasource and
// delete_gateway_datasource.
type GatewayDatasourceChangeResult struct {
	Gateway    ItemRef               `json:"gateway"`
	Datasource GatewayDatasourceInfo `json:"datasource"`
	Message    string                `json:"message"`
}

// Creating a data source and replacing its credentials are one tool: they take the same
// credentials, and the tool list stays shorter. Which one a call means is explicit: only a
// call with datasource_type and connection_details creates, and only under a new name.
func gatewayDatasourceTools(d Deps) []Tool {
	return []Tool{
		tool(d, "gateways", "set the gateway data source", setGatewayDatasource, mcp.NewTool("set_gateway_datasource",
			mcp.WithDescription("Create a data source on an online gateway, or replace an existing one's credentials (e.g. after a password change). "+
				"The secret comes from secret_env or secret_file, where the user put it: never ask for it in the chat."),
			annotations("Set gateway data source", false, false, true))),
		tool(d, "gateways", "delete the gateway data source", deleteGatewayDatasource, mcp.NewTool("delete_gateway_datasource",
			mcp.WithDescription("DESTRUCTIVE: delete a data source from a gateway. Models bound to it stop refreshing through the gateway."),
			annotations("Delete gateway data source", false, true, true))),
	}
}

// setGatewayDatasource is set_gateway_datasource.
func setGatewayDatasource(ctx context.Context, d Deps, a setGatewayDatasourceArgs) (GatewayDatasourceChangeResult, error) {
	// The secret is read first: a missing one stops the call before anything is sent.
	creds, from, err := readDatasourceCredentials(d, a.CredentialType, a.Username, a.SecretEnv, a.SecretFile)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	gw, err := resolveGateway(ctx, d.Client, a.Gateway)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	settings := credentialSettings(a.PrivacyLevel, a.EncryptConnection)
	if a.DatasourceType == "" && len(a.ConnectionDetails) == 0 {
		return updateGatewayCredentials(ctx, d, gw, a.Datasource, creds, settings, from)
	}
	name := strings.TrimSpace(a.Datasource)
	switch {
	case a.DatasourceType == "" || len(a.ConnectionDetails) == 0:
		return GatewayDatasourceChangeResult{}, userErrorf("Creating a data source needs both datasource_type and connection_details; replacing credentials needs neither.")
	case guidPattern.MatchString(name):
		return GatewayDatasourceChangeResult{}, userErrorf("To create a data source, datasource is the new data source's name, not an id.")
	}
	existing, err := d.Client.ListGatewayDatasources(ctx, gw.ID)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	for _, ds := range existing {
		if strings.EqualFold(ds.DatasourceName, name) {
			return GatewayDatasourceChangeResult{}, userErrorf("The gateway %s already has a data source named %q (id %s), and Power BI cannot change a data source's connection. "+
				"To replace its credentials, call again without datasource_type and connection_details; to change its connection, delete it first (delete_gateway_datasource). Nothing was changed.",
				itemLabel(gw), ds.DatasourceName, ds.ID)
		}
	}
	ds, err := d.Client.CreateGatewayDatasource(ctx, gw.ID, pbiclient.NewGatewayDatasource{Name: name,
		Type: a.DatasourceType, ConnectionDetails: a.ConnectionDetails, Credentials: creds, Settings: settings})
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	info, err := gatewayDatasourceInfo(ds)
	return GatewayDatasourceChangeResult{Gateway: gw, Datasource: info,
		Message: fmt.Sprintf("Created with %s, encrypted for the gateway. Users who publish models on it need add_gateway_datasource_user; bind_dataset_to_gateway binds a model to it.", credentialsFrom(creds, from))}, err
}

// updateGatewayCredentials replaces the credentials of an existing gateway data source.
func updateGatewayCredentials(ctx context.Context, d Deps, gw ItemRef, datasource string, creds pbiclient.DatasourceCredentials, settings pbiclient.CredentialSettings, from string) (GatewayDatasourceChangeResult, error) {
	ref, err := resolveGatewayDatasource(ctx, d.Client, gw, datasource)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	if err := d.Client.UpdateGatewayDatasourceCredentials(ctx, gw.ID, ref.ID, creds, settings); err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	ds, err := d.Client.GetGatewayDatasource(ctx, gw.ID, ref.ID)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	info, err := gatewayDatasourceInfo(ds)
	return GatewayDatasourceChangeResult{Gateway: gw, Datasource: info,
		Message: fmt.Sprintf("The data source now has %s, encrypted for the gateway. get_gateway_datasource_status checks that the gateway connects with them.", credentialsFrom(creds, from))}, err
}

// deleteGatewayDatasource is delete_gateway_datasource.
func deleteGatewayDatasource(ctx context.Context, d Deps, a deleteGatewayDatasourceArgs) (GatewayDatasourceChangeResult, error) {
	gw, ref, err := resolveGatewayAndDatasource(ctx, d.Client, a.Gateway, a.Datasource)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	ds, err := d.Client.GetGatewayDatasource(ctx, gw.ID, ref.ID)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	info, err := gatewayDatasourceInfo(ds)
	if err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	what := fmt.Sprintf("Delete the data source %s from the gateway %s; models bound to it stop refreshing through the gateway.", itemLabel(ref), itemLabel(gw))
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	if err := d.Client.DeleteGatewayDatasource(ctx, gw.ID, ref.ID); err != nil {
		return GatewayDatasourceChangeResult{}, err
	}
	return GatewayDatasourceChangeResult{Gateway: gw, Datasource: info, Message: "The data source was deleted from the gateway."}, nil
}

func credentialSettings(privacy string, encrypt *bool) pbiclient.CredentialSettings {
	if privacy == "" {
		privacy = "Organizational"
	}
	return pbiclient.CredentialSettings{PrivacyLevel: privacy, NotEncrypted: encrypt != nil && !*encrypt}
}

// secretFields are the fields a .json secret file may hold, by credential type.
var secretFields = map[string][]string{
	pbiclient.CredentialBasic:   {"username", "password"},
	pbiclient.CredentialWindows: {"username", "password"},
	pbiclient.CredentialKey:     {"key"},
	pbiclient.CredentialOAuth2:  {"accessToken"},
}

// readDatasourceCredentials assembles credentials from the username argument and the secret
// in the environment variable or data-directory file the arguments name. It returns them with
// where the secret came from, for the result. No error shows a secret's value.
func readDatasourceCredentials(d Deps, credType, username, secretEnv, secretFile string) (pbiclient.DatasourceCredentials, string, error) {
	c := pbiclient.DatasourceCredentials{Type: credType, Username: strings.TrimSpace(username)}
	fields, needsSecret := secretFields[credType]
	switch {
	case !needsSecret && credType != pbiclient.CredentialAnonymous:
		return c, "", userErrorf("credential_type %q is not one of Basic, Windows, Key, OAuth2 or Anonymous.", credType)
	case !needsSecret && (c.Username != "" || secretEnv != "" || secretFile != ""):
		return c, "", userErrorf("Anonymous credentials have no username or secret: call again without username, secret_env and secret_file.")
	case !needsSecret:
		return c, "", nil
	case (secretEnv == "") == (secretFile == ""):
		return c, "", userErrorf("%s credentials need a secret from exactly one place: secret_env (an environment variable %s* of the server) or secret_file (a file in the data directory %s). The user must put it there; never pass or ask for it in the chat.",
			credType, secretEnvPrefix, d.DataDir)
	case c.Username != "" && !slices.Contains(fields, "username"):
		return c, "", userErrorf("%s credentials have no username: call again without it.", credType)
	}

	var secret, from string
	values := map[string]string{}
	if secretEnv != "" {
		if !secretEnvName.MatchString(secretEnv) {
			return c, "", userErrorf("secret_env %q is not read: secrets come only from environment variables whose names start with %s (letters, digits and _), so that the server's other variables stay private. The user must put the secret in such a variable of the server and restart it.", secretEnv, secretEnvPrefix)
		}
		v, ok := os.LookupEnv(secretEnv)
		if !ok || v == "" {
			return c, "", userErrorf("The environment variable %s is not set in the server's environment. The user must set it to the secret (e.g. in the env block of the MCP client's configuration for this server) and restart the server. Nothing was changed.", secretEnv)
		}
		secret, from = strings.TrimRight(v, "\r\n"), "the environment variable "+secretEnv
	} else {
		f, _, err := openDataFile(d, secretFile)
		if err != nil {
			return c, "", err
		}
		data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
		f.Close()
		switch {
		case err != nil:
			return c, "", userErrorf("The file %q in the data directory could not be read (%v).", secretFile, err)
		case len(data) > maxSecretFileBytes:
			return c, "", userErrorf("The file %q in the data directory is larger than %d KiB: it cannot be a secret.", secretFile, maxSecretFileBytes>>10)
		}
		from = fmt.Sprintf("the file %q", secretFile)
		if strings.HasSuffix(strings.ToLower(secretFile), ".json") {
			// The parser's message would quote the file, so it is not passed on.
			if json.Unmarshal(data, &values) != nil {
				return c, "", userErrorf(`The file %q is not a JSON object of strings. For %s credentials it holds %s.`, secretFile, credType, jsonShape(fields))
			}
			for k := range values {
				if !slices.Contains(fields, k) {
					return c, "", userErrorf(`The file %q has the field %q, which %s credentials do not take: it holds %s.`, secretFile, k, credType, jsonShape(fields))
				}
			}
		} else {
			secret = string(bytes.TrimRight(data, "\r\n"))
		}
	}

	if u := values["username"]; u != "" {
		if c.Username != "" && c.Username != u {
			return c, "", userErrorf("The username argument differs from the one in %q: give it in one place only.", secretFile)
		}
		c.Username = u
	}
	name := fields[len(fields)-1] // the secret's field: password, key or accessToken
	if v, ok := values[name]; ok {
		secret = v
	}
	if secret == "" {
		return c, "", userErrorf("No %s was found in %s. The user must put it there; nothing was changed.", name, from)
	}
	switch credType {
	case pbiclient.CredentialBasic, pbiclient.CredentialWindows:
		if c.Username == "" {
			return c, "", userErrorf("%s credentials need a username: pass username (it is not secret), or put it in a .json secret_file.", credType)
		}
		c.Password = secret
	case pbiclient.CredentialKey:
		c.Key = secret
	case pbiclient.CredentialOAuth2:
		c.AccessToken = secret
	}
	return c, from, nil
}

// credentialsFrom says which credentials were set and where their secret was read, e.g.
// "Basic credentials from the environment variable PBI_SECRET_SALES".
func credentialsFrom(c pbiclient.DatasourceCredentials, from string) string {
	if from == "" {
		return c.Type + " credentials"
	}
	return c.Type + " credentials from " + from
}

// jsonShape shows the JSON object a secret file holds, e.g. {"username": "...", "password": "..."}.
func jsonShape(fields []string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf("%q: \"...\"", f)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
