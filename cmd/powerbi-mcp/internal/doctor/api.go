package doctor

// The Power BI checks: workspaces, admin APIs, DAX and capacity.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/tools"
)

// 5. Workspaces.

func (d *doctor) newClient() error {
	var transport http.RoundTripper
	if d.opts.HTTPClient != nil {
		transport = d.opts.HTTPClient.Transport
	}
	c, err := pbiclient.New(pbiclient.Config{
		BaseURL:   d.opts.BaseURL,
		Tokens:    d.tokens,
		Transport: transport,
		UserAgent: "powerbi-mcp/" + d.opts.Version + " doctor",
		Logger:    d.opts.Logger,
		// A diagnosis answers quickly; the server's patience would hide a throttled tenant.
		MaxRetries:   1,
		MaxRetryWait: 5 * time.Second,
	})
	d.client = c
	return err
}

// fixServicePrincipalsAllowed is what to do when Power BI refuses a service principal
// outright.
const fixServicePrincipalsAllowed = "a Fabric administrator must turn on the tenant setting \"Service principals can use Fabric APIs\" " +
	"(formerly \"Allow service principals to use Power BI APIs\"; Admin portal > Tenant settings > Developer settings) " +
	"for a security group, and the app must be a member of that group (Entra ID > Groups > the group > Members > Add members). " +
	"Changes take up to 15 minutes."

func (d *doctor) checkWorkspaces(ctx context.Context) Result {
	r := Result{Check: CheckWorkspaces}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	groups, err := d.client.ListGroups(ctx, pbiclient.ListGroupsOptions{Top: 5000})
	if err != nil {
		r.Status = StatusFail
		r.Detail, r.Fix = d.explainAPIError(err)
		var apiErr *pbiclient.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			if d.isApp {
				r.Detail = "Power BI refused the service principal: " + apiErr.Error()
				r.Fix = fixServicePrincipalsAllowed
			} else {
				r.Fix = "the account needs a Power BI license, and the app registration the Power BI Service delegated permissions (at least Workspace.Read.All) with consent."
			}
		}
		return r
	}
	d.groups, d.groupsOK = groups, true
	if len(groups) == 0 {
		if !d.isApp {
			r.Status = StatusWarn
			r.Detail = "Power BI answers, but the user belongs to no workspace besides My workspace"
			r.Fix = "ask a workspace Admin to add the user (workspace > Manage access), if the agent should see shared workspaces."
			return r
		}
		r.Status = StatusFail
		r.Detail = "Power BI accepts the service principal, but it is a member of no workspace, so every tool finds nothing"
		id := d.info.ObjectID
		if id == "" {
			id = "<the service principal's object id: Entra ID > Enterprise applications > the app > Object ID>"
		}
		r.Fix = "add the service principal to each workspace it should use, as Member (or Contributor; a Viewer cannot run DAX queries): " +
			"in Power BI open the workspace > Manage access > Add people or groups, search the app's name, pick Member. " +
			"Or have an identity that is Admin of the workspace call the tool add_workspace_user with " +
			fmt.Sprintf(`{"workspace": "<workspace name>", "identifier": "%s", "principal_type": "App", "access_right": "Member"}`, id) + "."
		return r
	}
	r.Status = StatusOK
	r.Detail = fmt.Sprintf("the %s sees %d %s: %s", d.principalNoun(), len(groups), plural(len(groups), "workspace", "workspaces"), groupNames(groups, 5))
	return r
}

func (d *doctor) principalNoun() string {
	if d.isApp {
		return "service principal"
	}
	return "user"
}

func groupNames(groups []pbiclient.Group, max int) string {
	var names []string
	for i, g := range groups {
		if i == max {
			names = append(names, fmt.Sprintf("and %d more", len(groups)-max))
			break
		}
		names = append(names, g.Name)
	}
	return strings.Join(names, ", ")
}

// explainAPIError says what a failed Power BI call means when nothing more specific applies.
func (d *doctor) explainAPIError(err error) (detail, fix string) {
	var apiErr *pbiclient.APIError
	if !errors.As(err, &apiErr) {
		return withoutPackage(err.Error()), "correct what the message names, then run powerbi-mcp doctor again."
	}
	switch {
	case apiErr.StatusCode == 0:
		return explainNetError(d.opts.BaseURL, envBaseURL, apiErr.Err)
	case apiErr.Code == "TokenExpired":
		return apiErr.Error(), "the token has expired or this machine's clock is wrong: check the clock, and for a pre-acquired token get a new one."
	case apiErr.StatusCode == http.StatusForbidden && apiErr.Code == "":
		return apiErr.Error(), "Power BI did not accept the token: check that " + auth.EnvTenantID + " is the tenant that uses Power BI and that " +
			envBaseURL + " is its cloud's API (public cloud: " + pbiclient.DefaultBaseURL + ")."
	case apiErr.StatusCode == http.StatusNotFound:
		return apiErr.Error(), "check " + envBaseURL + " (public cloud: " + pbiclient.DefaultBaseURL + ")."
	case apiErr.StatusCode == http.StatusTooManyRequests:
		return apiErr.Error(), "Power BI is throttling this principal; wait the time it names and run powerbi-mcp doctor again."
	}
	return apiErr.Error(), "quote the RequestId above if you ask Microsoft support."
}

// 6. Admin APIs.

func (d *doctor) checkAdminAPIs(ctx context.Context) Result {
	r := Result{Check: CheckAdminAPIs}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	_, err := d.client.AdminListGroups(ctx, pbiclient.AdminQuery{Top: 1})
	if err == nil {
		r.Status, r.Detail = StatusOK, "the admin APIs answer the "+d.principalNoun()
		return r
	}
	var apiErr *pbiclient.APIError
	refused := errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden)
	switch {
	case refused && !d.isApp:
		r.Status = StatusSkip
		r.Detail = "the signed-in user is not a Fabric administrator (the admin APIs answered " + apiErr.Error() + "); only the admin tools need one"
	case refused:
		r.Status = StatusFail
		r.Detail = "the admin APIs refused the service principal: " + apiErr.Error()
		if !d.adminToolsOffered() {
			r.Status = StatusWarn
			r.Detail += "; only the admin tools need them, and this configuration does not offer them"
		}
		r.Fix = "a Fabric administrator must turn on \"Service principals can access read-only admin APIs\" " +
			"(Admin portal > Tenant settings > Admin API settings) for a security group the app is a member of; " +
			"and the app must not hold Power BI permissions that need admin consent (Tenant.Read.All, Tenant.ReadWrite.All): " +
			"remove them from the app registration's API permissions. Changes take up to 15 minutes."
	default:
		r.Status = StatusFail
		r.Detail, r.Fix = d.explainAPIError(err)
	}
	return r
}

// adminToolsOffered reports whether the server, configured as it is, offers the admin tools.
func (d *doctor) adminToolsOffered() bool {
	selected, err := tools.Select(tools.All(tools.Deps{}),
		tools.Options{ReadOnly: d.opts.ReadOnly, Toolsets: d.opts.Toolsets, Tools: d.opts.Tools})
	if err != nil {
		return true
	}
	for _, t := range selected {
		if t.Toolset == "admin" {
			return true
		}
	}
	return false
}

// 7. DAX.

// maxWorkspacesSearched bounds the requests spent looking for a semantic model to query.
const maxWorkspacesSearched = 10

func (d *doctor) checkDAX(ctx context.Context) Result {
	r := Result{Check: CheckDAX}
	if !d.groupsOK {
		r.Status, r.Detail = StatusSkip, "needs the workspace list"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	ws, ds, found := d.findDataset(ctx)
	d.modelWS, d.model, d.modelFound = ws, ds, found
	if !found {
		r.Status, r.Detail = StatusSkip, "no semantic model in the workspaces the "+d.principalNoun()+" sees, so nothing to query"
		return r
	}
	const query = `EVALUATE ROW("x", 1)`
	_, err := d.client.ExecuteQuery(ctx, ws.ID, ds.ID, query, pbiclient.QueryOptions{})
	if err == nil {
		r.Status, r.Detail = StatusOK, fmt.Sprintf("%s ran on the semantic model %q in %q", query, ds.Name, ws.Name)
		return r
	}
	r.Status = StatusFail
	r.Detail, r.Fix = d.explainAPIError(err)
	var apiErr *pbiclient.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		r.Detail = fmt.Sprintf("Power BI refused a DAX query on %q in %q: %s", ds.Name, ws.Name, apiErr.Error())
		r.Fix = "a Fabric administrator must turn on the tenant setting \"Dataset Execute Queries REST API\" " +
			"(Admin portal > Tenant settings > Integration settings) for this principal, and the principal needs Build permission " +
			"on the semantic model (workspace Contributor or higher has it; otherwise grant Build on the model's Manage permissions page)."
	}
	return r
}

// findDataset picks a semantic model to query: one that is not a push dataset and needs no
// effective identity (row-level security refuses service principals without one).
func (d *doctor) findDataset(ctx context.Context) (pbiclient.Group, pbiclient.Dataset, bool) {
	var fallbackWS pbiclient.Group
	var fallback *pbiclient.Dataset
	for i, g := range d.groups {
		if i == maxWorkspacesSearched {
			break
		}
		datasets, err := d.client.ListDatasets(ctx, g.ID)
		if err != nil {
			continue
		}
		for _, ds := range datasets {
			if !ds.AddRowsAPIEnabled && !ds.IsEffectiveIdentityRequired {
				return g, ds, true
			}
			if fallback == nil {
				fallbackWS, fallback = g, &ds
			}
		}
	}
	if fallback != nil {
		return fallbackWS, *fallback, true
	}
	return pbiclient.Group{}, pbiclient.Dataset{}, false
}

// 8. Capacity.

func (d *doctor) checkCapacity() Result {
	r := Result{Check: CheckCapacity}
	if !d.groupsOK || len(d.groups) == 0 {
		r.Status, r.Detail = StatusSkip, "needs at least one workspace"
		return r
	}
	var dedicated []pbiclient.Group
	for _, g := range d.groups {
		if g.IsOnDedicatedCapacity {
			dedicated = append(dedicated, g)
		}
	}
	if len(dedicated) == 0 {
		r.Status = StatusWarn
		r.Detail = fmt.Sprintf("none of the %d workspaces is on a Premium, Embedded or Fabric capacity; everything works except export_report (PDF, PowerPoint, PNG), which needs one", len(d.groups))
		r.Fix = "to export, assign a workspace to a capacity: workspace settings > License info, or the tool assign_workspace_to_capacity with a capacity you may assign to."
		return r
	}
	r.Status = StatusOK
	r.Detail = fmt.Sprintf("%d of %d workspaces on dedicated capacity, where exports work: %s", len(dedicated), len(d.groups), groupNames(dedicated, 5))
	return r
}

// 9. Fabric.

// checkFabric reads a model's definition through the Fabric REST API, as the model editing
// tools do: the same credential with Fabric's scope. Everything else works without it, so a
// problem here is a warning.
func (d *doctor) checkFabric(ctx context.Context) Result {
	r := Result{Check: CheckFabric}
	const tools = "get_dataset_definition, upsert_measures, delete_measures and update_dataset_definition"
	fc, err := d.auth.ForFabric()
	if err != nil {
		r.Status, r.Detail = StatusWarn, withoutPackage(err.Error())+"; "+tools+" will not work"
		return r
	}
	if !d.modelFound {
		r.Status, r.Detail = StatusSkip, "needs a semantic model, which the DAX check looks for"
		return r
	}
	fabric, err := auth.New(fc)
	if err != nil {
		r.Status, r.Detail = StatusWarn, withoutPackage(err.Error())
		return r
	}
	var transport http.RoundTripper
	if d.opts.HTTPClient != nil {
		transport = d.opts.HTTPClient.Transport
	}
	c, err := pbiclient.New(pbiclient.Config{BaseURL: d.opts.BaseURL, Tokens: d.tokens, FabricTokens: fabric,
		FabricBaseURL: d.opts.FabricBaseURL, Transport: transport, UserAgent: "powerbi-mcp/" + d.opts.Version + " doctor",
		Logger: d.opts.Logger, MaxRetries: 1, MaxRetryWait: 5 * time.Second})
	if err != nil {
		r.Status, r.Detail = StatusWarn, withoutPackage(err.Error())
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	def, err := c.GetSemanticModelDefinition(ctx, d.modelWS.ID, d.model.ID, "TMDL")
	if err == nil {
		r.Status, r.Detail = StatusOK, fmt.Sprintf("read the definition of %q in %q (%d parts)", d.model.Name, d.modelWS.Name, len(def.Parts))
		return r
	}
	r.Status = StatusWarn
	r.Detail, r.Fix = d.explainAPIError(err)
	r.Detail = fmt.Sprintf("could not read the definition of %q in %q, so %s will not work: %s", d.model.Name, d.modelWS.Name, tools, r.Detail)
	var apiErr *pbiclient.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		r.Fix = "the principal needs workspace Contributor or higher (definitions are read and written with the model's write permission)"
		if d.isApp {
			r.Fix += ", and " + fixServicePrincipalsAllowed
		} else {
			r.Fix += ", and the app registration the delegated Fabric permission SemanticModel.ReadWrite.All (or Item.ReadWrite.All) with consent."
		}
	}
	return r
}
