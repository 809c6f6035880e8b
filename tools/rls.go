package tools

import (
	"context"
	"fmt"
	"slices"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// resolveQueryDataset is resolveDataset for a DAX query. Power BI does not run executeQueries for
// a service principal on a model that requires an effective identity (row-level security or
// single sign-on), whatever impersonatedUserName says: it answers 401, which reads like a
// missing permission. So when the server signs in as an app, the model's flags are read first
// and such a query is refused with its real cause, without sending it. The flags come from the
// list a name is resolved with; only a model given by id costs one request more, and only for
// an app. A user's query goes as before: Power BI applies the user's RLS roles itself.
func resolveQueryDataset(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, arg string) (ItemRef, error) {
	caller, known, err := c.Caller(ctx)
	if err != nil {
		return ItemRef{}, err
	}
	if !known || !caller.App {
		return resolveDataset(ctx, c, ws, arg)
	}
	ref, listed, err := resolveListedDataset(ctx, c, ws, arg)
	if err != nil {
		return ItemRef{}, err
	}
	var ds *pbiclient.Dataset
	if i := slices.IndexFunc(listed, func(d pbiclient.Dataset) bool { return d.ID == ref.ID }); i >= 0 {
		ds = &listed[i]
	}
	if ds == nil {
		got, err := c.GetDataset(ctx, ws.ID, ref.ID)
		if err != nil {
			return ItemRef{}, err
		}
		ds = &got
	}
	if ds.IsEffectiveIdentityRequired {
		return ItemRef{}, servicePrincipalRLSError(*ds)
	}
	return ref, nil
}

// servicePrincipalRLSError explains why a service principal cannot query the model, and how the
// user can.
func servicePrincipalRLSError(ds pbiclient.Dataset) error {
	name := ds.ID
	if ds.Name != "" {
		name = fmt.Sprintf("%q (%s)", ds.Name, ds.ID)
	}
	what := "row-level security (RLS) or single sign-on (SSO)"
	if ds.IsEffectiveIdentityRolesRequired {
		what = "row-level security (RLS) roles"
	}
	return userErrorf("Could not run the DAX query: the semantic model %s has %s (isEffectiveIdentityRequired), "+
		"and Power BI does not run DAX queries for a service principal on such a model, not even with impersonated_user_name. "+
		"The query was not sent. Next: only the user can fix this: run the server signed in as a user who can read the model "+
		"(--auth device-code, username-password or azure-cli, or --auth token with the user's own access token); Power BI then returns the rows that user's RLS roles allow. "+
		"A user who can edit the model (workspace Admin, Member or Contributor) sees every row and may pass impersonated_user_name to see what another user sees.",
		name, what)
}
