package tools

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// embedSecretNotice is sent with every embed token, so that neither the model nor the user
// mistakes it for something to show or store.
const embedSecretNotice = "SECRET: token grants access to the content below until expiration. Hand it only to the embedding application (powerbi-client setAccessToken / embed config with tokenType Embed); do not show it in chat, logs or files."

// EmbedTokenResult is the answer of every embed token tool.
type EmbedTokenResult struct {
	Secret           string      `json:"secret" jsonschema:"How to treat token: it is a secret"`
	Token            string      `json:"token" jsonschema:"The embed token (SECRET)"`
	TokenID          string      `json:"tokenId" jsonschema:"Correlates the token with the audit log; not secret"`
	Expiration       string      `json:"expiration" jsonschema:"UTC; never later than the server's own Power BI access token expires"`
	ExpiresInMinutes int         `json:"expiresInMinutes"`
	Items            []EmbedItem `json:"items" jsonschema:"What the token is for, with the embed URL to load each"`
}

// EmbedItem is one item an embed token covers.
type EmbedItem struct {
	Type        string `json:"type" jsonschema:"report, dataset, dashboard, tile or targetWorkspace"`
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	WorkspaceID string `json:"workspaceId,omitempty"`
	Access      string `json:"access,omitempty" jsonschema:"View, Edit, Create, or the XMLA permission of a dataset"`
	EmbedURL    string `json:"embedUrl,omitempty"`
	QnaEmbedURL string `json:"qnaEmbedUrl,omitempty" jsonschema:"Datasets: where Q&A on the model is embedded"`
}

// embedIdentityArg is one item of the identities argument.
type embedIdentityArg struct {
	Username   string   `json:"username" required:"true" jsonschema:"What USERNAME() and USERPRINCIPALNAME() return" minLength:"1"`
	Roles      []string `json:"roles" maxItems:"50" itemMaxLength:"50" itemPattern:"^[^,]+$"`
	Datasets   []string `json:"datasets" jsonschema:"Ids of the models it applies to" maxItems:"50" itemPattern:"$guid"`
	CustomData string   `json:"custom_data" jsonschema:"What CUSTOMDATA() returns"`
}

// identitiesParam declares the identities argument of every embed tool; its items are
// embedIdentityArg's fields.
func identitiesParam() mcp.ToolOption {
	return mcp.WithArray("identities",
		mcp.Description("RLS identities: required for a service principal on a model with RLS, refused without. datasets defaults to the token's models."),
		mcp.MaxItems(50))
}

func lifetimeParam() mcp.ToolOption {
	return mcp.WithInteger("lifetime_in_minutes",
		mcp.Description("A shorter life; never beyond the server's own access token (about an hour)."),
		mcp.Min(1), mcp.Max(1440))
}

func identitiesOf(args []embedIdentityArg, defaultDatasets []string) []pbiclient.EffectiveIdentity {
	var out []pbiclient.EffectiveIdentity
	for _, a := range args {
		ds := a.Datasets
		if len(ds) == 0 {
			ds = defaultDatasets
		}
		out = append(out, pbiclient.EffectiveIdentity{Username: a.Username, Roles: a.Roles, Datasets: ds, CustomData: a.CustomData})
	}
	return out
}

func embedResult(tok pbiclient.EmbedToken, items []EmbedItem) EmbedTokenResult {
	res := EmbedTokenResult{Secret: embedSecretNotice, Token: tok.Token, TokenID: tok.TokenID, Expiration: tok.Expiration, Items: items}
	if exp, err := time.Parse(time.RFC3339, tok.Expiration); err == nil {
		res.ExpiresInMinutes = max(0, int(time.Until(exp).Minutes()))
	}
	return res
}

// embedWorkspace resolves the workspace of an embed tool: required, and never My workspace,
// whose content cannot be embedded for customers.
func embedWorkspace(ctx context.Context, c *pbiclient.Client, arg string) (WorkspaceRef, error) {
	ws, err := resolveWorkspace(ctx, c, arg)
	if err == nil && ws.MyWorkspace {
		err = userErrorf("Embed tokens cannot be generated for content in My workspace. Move the content to a workspace and pass its id or name from list_workspaces.")
	}
	return ws, err
}

func embedWorkspaceParam() mcp.ToolOption {
	return mcp.WithString("workspace", mcp.Required())
}

type v2ReportArg struct {
	Report    string `json:"report" required:"true"`
	Workspace string `json:"workspace" jsonschema:"Default: the workspace argument"`
	AllowEdit bool   `json:"allow_edit"`
}

type v2DatasetArg struct {
	Dataset         string `json:"dataset" required:"true"`
	Workspace       string `json:"workspace" jsonschema:"Default: the workspace argument"`
	XmlaPermissions string `json:"xmla_permissions" jsonschema:"ReadOnly: also read through the XMLA endpoint (default Off)" enum:"Off,ReadOnly"`
}

type generateEmbedTokenArgs struct {
	Workspace         string             `json:"workspace" schema:"$embedWorkspace" required:"true"`
	Reports           []v2ReportArg      `json:"reports" jsonschema:"Reports to embed; their models are added." maxItems:"50"`
	Datasets          []v2DatasetArg     `json:"datasets" jsonschema:"Semantic models to query, ask Q&A on, or create reports on (with target_workspaces)." maxItems:"50"`
	TargetWorkspaces  []string           `json:"target_workspaces" jsonschema:"Workspaces the app may save new reports to (save as, create)." maxItems:"50"`
	Dashboard         string             `json:"dashboard" jsonschema:"A dashboard instead, alone: not with reports, datasets or target_workspaces."`
	Tile              string             `json:"tile" jsonschema:"With dashboard: only this tile of it (id or title)."`
	Identities        []embedIdentityArg `json:"identities" schema:"$embedIdentities"`
	LifetimeInMinutes int                `json:"lifetime_in_minutes" schema:"$embedLifetime"`
}

// v1ItemArgs is what a dashboard or tile token was asked.
type v1ItemArgs struct {
	Workspace         string
	Dashboard         string
	Tile              string
	Identities        []embedIdentityArg
	LifetimeInMinutes int
}

func embedTools(d Deps) []Tool {
	return []Tool{
		tool(d, "embed", "generate the embed token", generateEmbedToken, mcp.NewTool("generate_embed_token",
			mcp.WithDescription("Generate an embed token (\"embed for your customers\", app owns data) with each item's embed URL: "+
				"one token for reports and semantic models, possibly in several workspaces, or for one dashboard or tile. "+
				"Editing, saving and creating reports need write access; at most 50 reports, 50 models and 50 target workspaces."),
			annotations("Generate an embed token", false, false, false))),
	}
}

// generateEmbedToken is generate_embed_token: a dashboard or tile has only the single-item
// API (V1); everything else goes in one multi-item token (V2), which Microsoft recommends.
func generateEmbedToken(ctx context.Context, d Deps, a generateEmbedTokenArgs) (EmbedTokenResult, error) {
	switch {
	case a.Tile != "" && a.Dashboard == "":
		return EmbedTokenResult{}, userErrorf("tile needs the dashboard it is on: give dashboard too.")
	case a.Dashboard == "":
		return generateV2(ctx, d.Client, a)
	case len(a.Reports)+len(a.Datasets)+len(a.TargetWorkspaces) > 0:
		return EmbedTokenResult{}, userErrorf("A dashboard or tile token covers that item alone: leave out reports, datasets and target_workspaces, or generate two tokens.")
	}
	target := dashboardTarget
	if a.Tile != "" {
		target = tileTarget
	}
	return generateV1(ctx, d, v1ItemArgs{Workspace: a.Workspace, Dashboard: a.Dashboard, Tile: a.Tile,
		Identities: a.Identities, LifetimeInMinutes: a.LifetimeInMinutes}, target)
}

// v1Target resolves the item of a single-item token, describes it, and asks for its token.
type v1Target func(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, a v1ItemArgs) (items []EmbedItem, datasets []string, gen func(pbiclient.GenerateTokenRequest) (pbiclient.EmbedToken, error), err error)

// generateV1 resolves the workspace and, with target, the item, and asks for a token for that
// one item.
func generateV1(ctx context.Context, d Deps, a v1ItemArgs, target v1Target) (EmbedTokenResult, error) {
	ws, err := embedWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return EmbedTokenResult{}, err
	}
	items, datasets, gen, err := target(ctx, d.Client, ws, a)
	if err != nil {
		return EmbedTokenResult{}, err
	}
	tok, err := gen(pbiclient.GenerateTokenRequest{Identities: identitiesOf(a.Identities, datasets), LifetimeInMinutes: a.LifetimeInMinutes})
	if err != nil {
		return EmbedTokenResult{}, err
	}
	return embedResult(tok, items), nil
}

func datasetItem(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (pbiclient.Dataset, error) {
	ref, err := resolveDataset(ctx, c, ws, arg)
	if err != nil {
		return pbiclient.Dataset{}, err
	}
	return c.GetDataset(ctx, ws.ID, ref.ID)
}

func dashboardTarget(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, a v1ItemArgs) ([]EmbedItem, []string, func(pbiclient.GenerateTokenRequest) (pbiclient.EmbedToken, error), error) {
	ref, err := resolveDashboard(ctx, c, ws, a.Dashboard)
	if err != nil {
		return nil, nil, nil, err
	}
	dash, err := c.GetDashboard(ctx, ws.ID, ref.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	tiles, err := c.ListTiles(ctx, ws.ID, dash.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	var datasets []string
	for _, t := range tiles {
		if t.DatasetID != "" && !containsFold(datasets, t.DatasetID) {
			datasets = append(datasets, t.DatasetID)
		}
	}
	items := []EmbedItem{{Type: "dashboard", ID: dash.ID, Name: dash.DisplayName, WorkspaceID: ws.ID, Access: "View", EmbedURL: dash.EmbedURL}}
	return items, datasets, func(r pbiclient.GenerateTokenRequest) (pbiclient.EmbedToken, error) {
		r.AccessLevel = "View"
		return c.GenerateDashboardToken(ctx, ws.ID, dash.ID, r)
	}, nil
}

func tileTarget(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, a v1ItemArgs) ([]EmbedItem, []string, func(pbiclient.GenerateTokenRequest) (pbiclient.EmbedToken, error), error) {
	dash, err := resolveDashboard(ctx, c, ws, a.Dashboard)
	if err != nil {
		return nil, nil, nil, err
	}
	ref, err := resolveTile(ctx, c, ws, dash, a.Tile)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := c.GetTile(ctx, ws.ID, dash.ID, ref.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	var datasets []string
	if t.DatasetID != "" {
		datasets = []string{t.DatasetID}
	}
	items := []EmbedItem{{Type: "tile", ID: t.ID, Name: t.Title, WorkspaceID: ws.ID, Access: "View", EmbedURL: t.EmbedURL}}
	return items, datasets, func(r pbiclient.GenerateTokenRequest) (pbiclient.EmbedToken, error) {
		r.AccessLevel = "View"
		return c.GenerateTileToken(ctx, ws.ID, dash.ID, t.ID, r)
	}, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// generateV2 resolves every item of generate_embed_token, adds the reports' models, and
// asks for one token.
func generateV2(ctx context.Context, c *pbiclient.Client, a generateEmbedTokenArgs) (EmbedTokenResult, error) {
	if len(a.Reports)+len(a.Datasets) == 0 {
		return EmbedTokenResult{}, userErrorf("Name what to embed: reports or datasets, or a dashboard.")
	}
	def, err := embedWorkspace(ctx, c, a.Workspace)
	if err != nil {
		return EmbedTokenResult{}, err
	}
	workspaces := map[string]WorkspaceRef{}
	wsOf := func(arg string) (WorkspaceRef, error) {
		if strings.TrimSpace(arg) == "" {
			return def, nil
		}
		if ws, ok := workspaces[arg]; ok {
			return ws, nil
		}
		ws, err := embedWorkspace(ctx, c, arg)
		if err == nil {
			workspaces[arg] = ws
		}
		return ws, err
	}
	var req pbiclient.GenerateTokenRequestV2
	var items []EmbedItem
	dsWorkspace := map[string]string{} // lowercase model id -> its workspace id
	for _, x := range a.Datasets {
		ws, err := wsOf(x.Workspace)
		if err != nil {
			return EmbedTokenResult{}, err
		}
		ds, err := datasetItem(ctx, c, ws, x.Dataset)
		if err != nil {
			return EmbedTokenResult{}, err
		}
		if containsDataset(req.Datasets, ds.ID) {
			continue
		}
		xmla := x.XmlaPermissions
		if xmla == "" {
			xmla = "Off"
		}
		req.Datasets = append(req.Datasets, pbiclient.EmbedTokenDataset{ID: ds.ID, XmlaPermissions: xmla})
		dsWorkspace[strings.ToLower(ds.ID)] = ws.ID
		items = append(items, EmbedItem{Type: "dataset", ID: ds.ID, Name: ds.Name, WorkspaceID: ws.ID, Access: "XMLA " + xmla,
			EmbedURL: ds.CreateReportEmbedURL, QnaEmbedURL: ds.QnaEmbedURL})
	}
	for _, x := range a.Reports {
		ws, err := wsOf(x.Workspace)
		if err != nil {
			return EmbedTokenResult{}, err
		}
		ref, err := resolveReport(ctx, c, ws, x.Report)
		if err != nil {
			return EmbedTokenResult{}, err
		}
		rep, err := c.GetReport(ctx, ws.ID, ref.ID)
		if err != nil {
			return EmbedTokenResult{}, err
		}
		req.Reports = append(req.Reports, pbiclient.EmbedTokenReport{ID: rep.ID, AllowEdit: x.AllowEdit})
		access := "View"
		if x.AllowEdit {
			access = "Edit"
		}
		items = append(items, EmbedItem{Type: "report", ID: rep.ID, Name: rep.Name, WorkspaceID: ws.ID, Access: access, EmbedURL: rep.EmbedURL})
		// The embedded report reads its model with the same token, so the model must be in it.
		if rep.DatasetID != "" && !containsDataset(req.Datasets, rep.DatasetID) {
			req.Datasets = append(req.Datasets, pbiclient.EmbedTokenDataset{ID: rep.DatasetID, XmlaPermissions: "Off"})
			dsWorkspace[strings.ToLower(rep.DatasetID)] = cmp.Or(rep.DatasetWorkspaceID, ws.ID)
		}
	}
	if len(req.Datasets) > 50 {
		return EmbedTokenResult{}, userErrorf("The token would cover %d semantic models (the reports' models included); Power BI allows at most 50. Split the items over several tokens.", len(req.Datasets))
	}
	for _, arg := range a.TargetWorkspaces {
		ws, err := wsOf(arg)
		if err != nil {
			return EmbedTokenResult{}, err
		}
		req.TargetWorkspaces = append(req.TargetWorkspaces, pbiclient.EmbedTokenWorkspace{ID: ws.ID})
		items = append(items, EmbedItem{Type: "targetWorkspace", ID: ws.ID, Name: ws.Name, Access: "Create"})
	}
	// An identity without datasets applies to the token's models with row-level security:
	// Power BI refuses identities for models without it.
	var rls []string
	if len(a.Identities) > 0 {
		for _, x := range req.Datasets {
			if ds, err := c.GetDataset(ctx, dsWorkspace[strings.ToLower(x.ID)], x.ID); err == nil && ds.IsEffectiveIdentityRequired {
				rls = append(rls, x.ID)
			}
		}
		if len(rls) == 0 {
			return EmbedTokenResult{}, userErrorf("None of the semantic models of this token uses row-level security (isEffectiveIdentityRequired in get_dataset), and Power BI refuses identities for such models. Call again without identities.")
		}
	}
	req.Identities = identitiesOf(a.Identities, rls)
	req.LifetimeInMinutes = a.LifetimeInMinutes
	tok, err := c.GenerateToken(ctx, req)
	if err != nil {
		return EmbedTokenResult{}, err
	}
	return embedResult(tok, items), nil
}

func containsDataset(list []pbiclient.EmbedTokenDataset, id string) bool {
	for _, x := range list {
		if strings.EqualFold(x.ID, id) {
			return true
		}
	}
	return false
}
