package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// The gateways toolset: on-premises data gateways, their data sources and who may use them,
// and binding semantic models to them. Power BI never returns credentials; setting them is in
// gateways_datasources.go.

func gatewayParam() mcp.ToolOption {
	return mcp.WithString("gateway", mcp.Required(), mcp.MinLength(1))
}

func gatewayDatasourceParam() mcp.ToolOption {
	return mcp.WithString("datasource", mcp.Required(),
		mcp.Description("Its id or datasourceName."), mcp.MinLength(1))
}

// GatewayInfo is a gateway as the tools return it. gatewayAnnotation (a JSON string with the
// gateway's version and contacts) and the public key are left out: a model has no use for them.
type GatewayInfo struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	Type          string `json:"type,omitempty"`
	GatewayStatus string `json:"gatewayStatus,omitempty" jsonschema:"e.g. Live or Offline"`
}

func gatewayInfo(g pbiclient.Gateway) GatewayInfo {
	return GatewayInfo{ID: g.ID, Name: g.Name, Type: g.Type, GatewayStatus: g.GatewayStatus}
}

// GatewayDatasourceInfo is a gateway data source with its connection details decoded.
type GatewayDatasourceInfo struct {
	ID                string                                `json:"id"`
	GatewayID         string                                `json:"gatewayId"`
	DatasourceName    string                                `json:"datasourceName,omitempty"`
	DatasourceType    string                                `json:"datasourceType,omitempty"`
	ConnectionDetails pbiclient.DatasourceConnectionDetails `json:"connectionDetails"`
	CredentialType    string                                `json:"credentialType,omitempty" jsonschema:"Basic, Windows, Anonymous, OAuth2, Key or SAS; the credentials themselves are never returned"`
}

func gatewayDatasourceInfo(ds pbiclient.GatewayDatasource) (GatewayDatasourceInfo, error) {
	details, err := ds.Details()
	return GatewayDatasourceInfo{ID: ds.ID, GatewayID: ds.GatewayID, DatasourceName: ds.DatasourceName,
		DatasourceType: ds.DatasourceType, ConnectionDetails: details, CredentialType: ds.CredentialType}, err
}

func resolveGateway(ctx context.Context, c *pbiclient.Client, arg string) (ItemRef, error) {
	return resolveItem(arg, "gateway", "list_gateways",
		func() ([]pbiclient.Gateway, error) { return c.ListGateways(ctx) },
		func(g pbiclient.Gateway) (string, string) { return g.ID, g.Name })
}

func resolveGatewayDatasource(ctx context.Context, c *pbiclient.Client, gw ItemRef, arg string) (ItemRef, error) {
	return resolveItem(arg, "gateway data source", "list_gateway_datasources",
		func() ([]pbiclient.GatewayDatasource, error) { return c.ListGatewayDatasources(ctx, gw.ID) },
		func(ds pbiclient.GatewayDatasource) (string, string) { return ds.ID, ds.DatasourceName })
}

// resolveGatewayAndDatasource resolves a gateway and one of its data sources.
func resolveGatewayAndDatasource(ctx context.Context, c *pbiclient.Client, gateway, datasource string) (ItemRef, ItemRef, error) {
	gw, err := resolveGateway(ctx, c, gateway)
	if err != nil {
		return ItemRef{}, ItemRef{}, err
	}
	ds, err := resolveGatewayDatasource(ctx, c, gw, datasource)
	return gw, ds, err
}

type getGatewayArgs struct {
	Gateway string `json:"gateway" schema:"$gateway" required:"true"`
}

type gatewayArgs struct {
	Gateway string `json:"gateway" schema:"$gateway" required:"true"`
	Top     int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip    int    `json:"skip" schema:"$skip"`
}

type gatewayDatasourceArgs struct {
	Gateway    string `json:"gateway" schema:"$gateway" required:"true"`
	Datasource string `json:"datasource" schema:"$gatewayDatasource" required:"true"`
}

type gatewayListArgs struct {
	Top  int `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip int `json:"skip" schema:"$skip"`
}

// GatewayListResult is the answer of list_gateways and discover_gateways.
type GatewayListResult struct {
	Workspace *WorkspaceRef `json:"workspace,omitempty"`
	Dataset   *ItemRef      `json:"dataset,omitempty"`
	Gateways  []GatewayInfo `json:"gateways"`
	Page
}

// GatewayResult is the answer of get_gateway.
type GatewayResult struct {
	Gateway GatewayInfo `json:"gateway"`
}

// GatewayDatasourceListResult is the answer of list_gateway_datasources.
type GatewayDatasourceListResult struct {
	Gateway     ItemRef                 `json:"gateway"`
	Datasources []GatewayDatasourceInfo `json:"datasources"`
	Page
}

// GatewayDatasourceResult is the answer of get_gateway_datasource.
type GatewayDatasourceResult struct {
	Datasource GatewayDatasourceInfo `json:"datasource"`
}

// GatewayDatasourceStatusResult is the answer of get_gateway_datasource_status.
type GatewayDatasourceStatusResult struct {
	Gateway    ItemRef `json:"gateway"`
	Datasource ItemRef `json:"datasource"`
	Reachable  bool    `json:"reachable" jsonschema:"true when the gateway connected to the data source"`
	ErrorCode  string  `json:"errorCode,omitempty" jsonschema:"Power BI's reason when not reachable, e.g. DM_GWPipeline_Client_GatewayUnreachable"`
	Message    string  `json:"message"`
}

// GatewayDatasourceUsersResult is the answer of list_gateway_datasource_users and of the
// tools that change them.
type GatewayDatasourceUsersResult struct {
	Gateway    ItemRef                    `json:"gateway"`
	Datasource ItemRef                    `json:"datasource"`
	Users      []pbiclient.DatasourceUser `json:"users" jsonschema:"datasourceAccessRight (Read or ReadOverrideEffectiveIdentity), displayName, emailAddress, identifier, principalType"`
	Message    string                     `json:"message,omitempty"`
	Page
}

// BindToGatewayResult is the answer of bind_dataset_to_gateway.
type BindToGatewayResult struct {
	Workspace   WorkspaceRef           `json:"workspace"`
	Dataset     ItemRef                `json:"dataset"`
	Gateway     ItemRef                `json:"gateway"`
	Datasources []pbiclient.Datasource `json:"datasources" jsonschema:"the model's data sources after binding, with gatewayId and datasourceId"`
	Message     string                 `json:"message"`
}

func gatewayTools(d Deps) []Tool {
	return append([]Tool{
		tool(d, "gateways", "list the gateways", listGateways, mcp.NewTool("list_gateways",
			mcp.WithDescription("List the on-premises data gateways the signed-in identity is an admin of: id, name, type and status. "+
				"Use it to find the gateway a semantic model's data sources go through (list_datasources shows their gatewayId)."),
			annotations("List gateways", true, false, true))),
		tool(d, "gateways", "read the gateway", getGateway, mcp.NewTool("get_gateway",
			mcp.WithDescription("Read one on-premises data gateway: id, name, type and status."),
			annotations("Gateway", true, false, true))),
		tool(d, "gateways", "list the gateway's data sources", listGatewayDatasources, mcp.NewTool("list_gateway_datasources",
			mcp.WithDescription("List the data sources defined on a gateway: name, type, connection details (server, database, path, url) and credential type. "+
				"Credentials themselves are never returned."),
			annotations("List gateway data sources", true, false, true))),
		tool(d, "gateways", "read the gateway data source", getGatewayDatasource, mcp.NewTool("get_gateway_datasource",
			mcp.WithDescription("Read one data source of a gateway: name, type, connection details and credential type (never the credentials)."),
			annotations("Gateway data source", true, false, true))),
		tool(d, "gateways", "check the gateway data source", getGatewayDatasourceStatus, mcp.NewTool("get_gateway_datasource_status",
			mcp.WithDescription("Check whether a gateway can connect to one of its data sources right now. Answers reachable true, or false with Power BI's reason "+
				"(e.g. DM_GWPipeline_Client_GatewayUnreachable: the gateway machine is offline or cannot reach Power BI). "+
				"Use it when refreshes of models bound to the gateway fail."),
			annotations("Gateway data source status", true, false, true))),
		tool(d, "gateways", "list the data source's users", listGatewayDatasourceUsers, mcp.NewTool("list_gateway_datasource_users",
			mcp.WithDescription("List who may use a gateway data source, and with which right (Read, or ReadOverrideEffectiveIdentity for Analysis Services)."),
			annotations("Gateway data source users", true, false, true))),
		tool(d, "gateways", "add the data source user", addGatewayDatasourceUser, mcp.NewTool("add_gateway_datasource_user",
			mcp.WithDescription("Let a user use a gateway data source (for models they publish), or change their right: Read, or ReadOverrideEffectiveIdentity "+
				"(Power BI Embedded, on-premises Analysis Services sources only). Users are named by email address; Entra groups are not supported by Power BI here."),
			annotations("Add a gateway data source user", false, false, true))),
		tool(d, "gateways", "remove the data source user", removeGatewayDatasourceUser, mcp.NewTool("remove_gateway_datasource_user",
			mcp.WithDescription("DESTRUCTIVE: take away a user's access to a gateway data source. Models they own that use it stop refreshing through the gateway."),
			annotations("Remove a gateway data source user", false, true, true))),
		tool(d, "gateways", "discover gateways", discoverGateways, mcp.NewTool("discover_gateways",
			mcp.WithDescription("List the gateways a semantic model can be bound to: those with data sources matching the model's. "+
				"Use it before bind_dataset_to_gateway."),
			annotations("Gateways for a model", true, false, true))),
		tool(d, "gateways", "bind the model to the gateway", bindDatasetToGateway, mcp.NewTool("bind_dataset_to_gateway",
			mcp.WithDescription("Bind a semantic model's data sources to an on-premises gateway so its refreshes go through it. "+
				"Each data source needs a matching one on the gateway (discover_gateways lists such gateways); name them with datasources when the gateway has several for one connection. "+
				"Needs Dataset.ReadWrite.All and write access to the model, and the signed-in identity must be a user of those gateway data sources (list_gateway_datasource_users)."),
			annotations("Bind a model to a gateway", false, false, true))),
	}, gatewayDatasourceTools(d)...)
}

// listGateways is list_gateways.
func listGateways(ctx context.Context, d Deps, a gatewayListArgs) (GatewayListResult, error) {
	all, err := d.Client.ListGateways(ctx)
	if err != nil {
		return GatewayListResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	out := GatewayListResult{Gateways: []GatewayInfo{}, Page: p}
	for _, g := range items {
		out.Gateways = append(out.Gateways, gatewayInfo(g))
	}
	return out, nil
}

// getGateway is get_gateway.
func getGateway(ctx context.Context, d Deps, a getGatewayArgs) (GatewayResult, error) {
	gw, err := resolveGateway(ctx, d.Client, a.Gateway)
	if err != nil {
		return GatewayResult{}, err
	}
	g, err := d.Client.GetGateway(ctx, gw.ID)
	if err != nil {
		return GatewayResult{}, err
	}
	return GatewayResult{Gateway: gatewayInfo(g)}, nil
}

// listGatewayDatasources is list_gateway_datasources.
func listGatewayDatasources(ctx context.Context, d Deps, a gatewayArgs) (GatewayDatasourceListResult, error) {
	gw, err := resolveGateway(ctx, d.Client, a.Gateway)
	if err != nil {
		return GatewayDatasourceListResult{}, err
	}
	all, err := d.Client.ListGatewayDatasources(ctx, gw.ID)
	if err != nil {
		return GatewayDatasourceListResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	out := GatewayDatasourceListResult{Gateway: gw, Datasources: []GatewayDatasourceInfo{}, Page: p}
	for _, ds := range items {
		info, err := gatewayDatasourceInfo(ds)
		if err != nil {
			return GatewayDatasourceListResult{}, err
		}
		out.Datasources = append(out.Datasources, info)
	}
	return out, nil
}

// getGatewayDatasource is get_gateway_datasource.
func getGatewayDatasource(ctx context.Context, d Deps, a gatewayDatasourceArgs) (GatewayDatasourceResult, error) {
	gw, ds, err := resolveGatewayAndDatasource(ctx, d.Client, a.Gateway, a.Datasource)
	if err != nil {
		return GatewayDatasourceResult{}, err
	}
	got, err := d.Client.GetGatewayDatasource(ctx, gw.ID, ds.ID)
	if err != nil {
		return GatewayDatasourceResult{}, err
	}
	info, err := gatewayDatasourceInfo(got)
	return GatewayDatasourceResult{Datasource: info}, err
}

// getGatewayDatasourceStatus is get_gateway_datasource_status.
func getGatewayDatasourceStatus(ctx context.Context, d Deps, a gatewayDatasourceArgs) (GatewayDatasourceStatusResult, error) {
	gw, ds, err := resolveGatewayAndDatasource(ctx, d.Client, a.Gateway, a.Datasource)
	if err != nil {
		return GatewayDatasourceStatusResult{}, err
	}
	out := GatewayDatasourceStatusResult{Gateway: gw, Datasource: ds, Reachable: true, Message: "The gateway can connect to the data source."}
	err = d.Client.CheckGatewayDatasource(ctx, gw.ID, ds.ID)
	var ae *pbiclient.APIError
	// A 400 is the answer to the question, not a failure of the tool.
	if errors.As(err, &ae) && ae.StatusCode == 400 && ae.Code != "" {
		out.Reachable, out.ErrorCode = false, ae.Code
		out.Message = "The gateway cannot connect to the data source"
		if ae.Message != "" {
			out.Message += ": " + strings.TrimSuffix(ae.Message, ".")
		}
		out.Message += ". Check that the gateway machine is running and online (gatewayStatus in get_gateway) and that the data source's credentials are valid; refreshes through it fail until then."
		return out, nil
	}
	return out, err
}

// listGatewayDatasourceUsers is list_gateway_datasource_users.
func listGatewayDatasourceUsers(ctx context.Context, d Deps, a gatewayUsersArgs) (GatewayDatasourceUsersResult, error) {
	gw, ds, err := resolveGatewayAndDatasource(ctx, d.Client, a.Gateway, a.Datasource)
	if err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	all, err := d.Client.ListGatewayDatasourceUsers(ctx, gw.ID, ds.ID)
	if err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	return GatewayDatasourceUsersResult{Gateway: gw, Datasource: ds, Users: items, Page: p}, nil
}

// addGatewayDatasourceUser is add_gateway_datasource_user.
func addGatewayDatasourceUser(ctx context.Context, d Deps, a addGatewayUserArgs) (GatewayDatasourceUsersResult, error) {
	gw, ds, err := resolveGatewayAndDatasource(ctx, d.Client, a.Gateway, a.Datasource)
	if err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	right := a.AccessRight
	if right == "" {
		right = "Read"
	}
	u := pbiclient.DatasourceUser{EmailAddress: strings.TrimSpace(a.EmailAddress), DatasourceAccessRight: right}
	if err := d.Client.AddGatewayDatasourceUser(ctx, gw.ID, ds.ID, u); err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	return gatewayUsersAfter(ctx, d, gw, ds, fmt.Sprintf("%s now has %s access to the data source.", u.EmailAddress, right))
}

// removeGatewayDatasourceUser is remove_gateway_datasource_user.
func removeGatewayDatasourceUser(ctx context.Context, d Deps, a removeGatewayUserArgs) (GatewayDatasourceUsersResult, error) {
	gw, ds, err := resolveGatewayAndDatasource(ctx, d.Client, a.Gateway, a.Datasource)
	if err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	email := strings.TrimSpace(a.EmailAddress)
	what := fmt.Sprintf("Remove %s's access to the data source %s on the gateway %s.", email, itemLabel(ds), itemLabel(gw))
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	if err := d.Client.DeleteGatewayDatasourceUser(ctx, gw.ID, ds.ID, email); err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	return gatewayUsersAfter(ctx, d, gw, ds, fmt.Sprintf("%s no longer has access to the data source.", email))
}

// discoverGateways is discover_gateways.
func discoverGateways(ctx context.Context, d Deps, a discoverGatewaysArgs) (GatewayListResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return GatewayListResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return GatewayListResult{}, err
	}
	all, err := d.Client.DiscoverGateways(ctx, ws.ID, ds.ID)
	if err != nil {
		return GatewayListResult{}, err
	}
	items, p := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	out := GatewayListResult{Workspace: &ws, Dataset: &ds, Gateways: []GatewayInfo{}, Page: p}
	for _, g := range items {
		out.Gateways = append(out.Gateways, gatewayInfo(g))
	}
	return out, nil
}

// bindDatasetToGateway is bind_dataset_to_gateway.
func bindDatasetToGateway(ctx context.Context, d Deps, a bindGatewayArgs) (BindToGatewayResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return BindToGatewayResult{}, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, a.Dataset)
	if err != nil {
		return BindToGatewayResult{}, err
	}
	gw, err := resolveGateway(ctx, d.Client, a.Gateway)
	if err != nil {
		return BindToGatewayResult{}, err
	}
	if err := d.Client.BindToGateway(ctx, ws.ID, ds.ID, gw.ID, a.Datasources); err != nil {
		return BindToGatewayResult{}, err
	}
	sources, err := d.Client.ListDatasources(ctx, ws.ID, ds.ID)
	if err != nil {
		return BindToGatewayResult{}, err
	}
	return BindToGatewayResult{Workspace: ws, Dataset: ds, Gateway: gw, Datasources: sources,
		Message: "The model's data sources are bound to the gateway; its next refresh goes through it."}, nil
}

type gatewayUsersArgs struct {
	Gateway    string `json:"gateway" schema:"$gateway" required:"true"`
	Datasource string `json:"datasource" schema:"$gatewayDatasource" required:"true"`
	Top        int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip       int    `json:"skip" schema:"$skip"`
}

type addGatewayUserArgs struct {
	Gateway      string `json:"gateway" schema:"$gateway" required:"true"`
	Datasource   string `json:"datasource" schema:"$gatewayDatasource" required:"true"`
	EmailAddress string `json:"email_address" required:"true" jsonschema:"The user's email address (UPN)." pattern:"^[^@\\s]+@[^@\\s]+$"`
	AccessRight  string `json:"access_right" jsonschema:"Read (default) or ReadOverrideEffectiveIdentity." enum:"Read,ReadOverrideEffectiveIdentity" default:"Read"`
}

type removeGatewayUserArgs struct {
	Gateway      string `json:"gateway" schema:"$gateway" required:"true"`
	Datasource   string `json:"datasource" schema:"$gatewayDatasource" required:"true"`
	EmailAddress string `json:"email_address" required:"true" jsonschema:"The user's email address, as list_gateway_datasource_users shows it." pattern:"$principal"`
	Confirm      bool   `json:"confirm" schema:"$confirm"`
}

type discoverGatewaysArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type bindGatewayArgs struct {
	Workspace   string   `json:"workspace" schema:"$workspace"`
	Dataset     string   `json:"dataset" schema:"$dataset" required:"true"`
	Gateway     string   `json:"gateway" schema:"$gateway" required:"true"`
	Datasources []string `json:"datasources" jsonschema:"Gateway data source ids (GUIDs) to bind to, from list_gateway_datasources. Omit them to let Power BI match by connection." itemPattern:"$guid" maxItems:"100" uniqueItems:"true"`
}

// gatewayUsersAfter reads the users back after a change, so the answer shows its effect.
func gatewayUsersAfter(ctx context.Context, d Deps, gw, ds ItemRef, msg string) (GatewayDatasourceUsersResult, error) {
	users, err := d.Client.ListGatewayDatasourceUsers(ctx, gw.ID, ds.ID)
	if err != nil {
		return GatewayDatasourceUsersResult{}, err
	}
	items, p := pageOf(users, 1000, 0)
	return GatewayDatasourceUsersResult{Gateway: gw, Datasource: ds, Users: items, Page: p, Message: msg}, nil
}
