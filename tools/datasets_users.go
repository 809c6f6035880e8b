package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// set_dataset_access is grant_dataset_access's counterpart that can take access away:
// Power BI's PUT .../users replaces a principal's rights where POST only adds to them.

type setAccessArgs struct {
	Workspace     string `json:"workspace" schema:"$workspace"`
	Dataset       string `json:"dataset" schema:"$dataset" required:"true"`
	Identifier    string `json:"identifier" required:"true" jsonschema:"A user's UPN or a group's object id" minLength:"1" pattern:"$datasetsPathSegment"`
	PrincipalType string `json:"principal_type" required:"true" enum:"User,Group"`
	AccessRight   string `json:"access_right" required:"true" enum:"None,Read,ReadReshare,ReadExplore,ReadReshareExplore"`
	Confirm       bool   `json:"confirm" schema:"$confirm"`
}

// SetDatasetAccessResult is the answer of set_dataset_access.
type SetDatasetAccessResult struct {
	Workspace WorkspaceRef  `json:"workspace"`
	Dataset   ItemRef       `json:"dataset"`
	Users     []DatasetUser `json:"users" jsonschema:"Everyone's permission after the change"`
	Message   string        `json:"message"`
}

// setDatasetAccess is set_dataset_access.
func setDatasetAccess(ctx context.Context, d Deps, a setAccessArgs) (SetDatasetAccessResult, error) {
	ws, ds, err := datasetTarget(ctx, d.Client, a.Workspace, a.Dataset)
	if err != nil {
		return SetDatasetAccessResult{}, err
	}
	who := strings.TrimSpace(a.Identifier)
	what := fmt.Sprintf("Set the permission of %s on the semantic model %s in %s to %s, replacing what it has now.", who, itemLabel(ds), workspaceLabel(ws), a.AccessRight)
	if a.AccessRight == "None" {
		what = fmt.Sprintf("Remove the permission of %s on the semantic model %s in %s.", who, itemLabel(ds), workspaceLabel(ws))
	}
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return SetDatasetAccessResult{}, err
	}
	access := pbiclient.DatasetUser{Identifier: who, PrincipalType: a.PrincipalType, DatasetUserAccessRight: a.AccessRight}
	if err := d.Client.SetDatasetAccess(ctx, ws.ID, ds.ID, access); err != nil {
		return SetDatasetAccessResult{}, err
	}
	users, err := d.Client.ListDatasetUsers(ctx, ws.ID, ds.ID)
	if err != nil {
		return SetDatasetAccessResult{}, err
	}
	res := SetDatasetAccessResult{Workspace: ws, Dataset: ds, Users: make([]DatasetUser, 0, len(users)),
		Message: "Done. Write permission, and rights inherited from a workspace role, are not changed this way; changes can take a while to reach the user."}
	for _, u := range users {
		res.Users = append(res.Users, DatasetUser(u))
	}
	return res, nil
}
