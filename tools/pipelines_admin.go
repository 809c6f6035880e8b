package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// The tools that change a pipeline itself: create, rename, delete, the workspaces of its stages
// and who administers it. Deploying is deploy_pipeline_stage.

func pipelineAdminTools(d Deps) []Tool {
	return []Tool{
		tool(d, "pipelines", "create the deployment pipeline", createPipeline, mcp.NewTool("create_pipeline",
			mcp.WithDescription("Create a deployment pipeline with three empty stages; the signed-in identity becomes its admin. "+
				"Then give its stages workspaces with assign_pipeline_stage."),
			annotations("Create a deployment pipeline", false, false, false))),
		tool(d, "pipelines", "update the deployment pipeline", updatePipeline, mcp.NewTool("update_pipeline",
			mcp.WithDescription("Rename a deployment pipeline or change its description (\"\" clears it)."),
			annotations("Update a deployment pipeline", false, false, true))),
		tool(d, "pipelines", "delete the deployment pipeline", deletePipeline, mcp.NewTool("delete_pipeline",
			mcp.WithDescription("DESTRUCTIVE: delete a deployment pipeline and its deployment history. Its workspaces and their content stay. Refused while a deployment runs."),
			annotations("Delete a deployment pipeline", false, true, true))),
		tool(d, "pipelines", "assign the pipeline stage", assignPipelineStage, mcp.NewTool("assign_pipeline_stage",
			mcp.WithDescription("Assign a workspace to a pipeline stage that has none, or with unassign take the stage's workspace out of the pipeline (the workspace stays). "+
				"The workspace must be on Premium, PPU or Fabric capacity, in no other pipeline, and the caller its Admin."),
			annotations("Assign a pipeline stage's workspace", false, false, false))),
		tool(d, "pipelines", "update the pipeline user", updatePipelineUser, mcp.NewTool("update_pipeline_user",
			mcp.WithDescription("Make a user, group or service principal an admin of a deployment pipeline (the only role), or with remove take their access away. "+
				"Pipeline access does not give access to the stages' workspaces."),
			annotations("Add or remove a pipeline admin", false, true, true))),
	}
}

type createPipelineArgs struct {
	DisplayName string `json:"display_name" required:"true" minLength:"1" maxLength:"256"`
	Description string `json:"description" maxLength:"1024"`
}

// createPipeline is create_pipeline.
func createPipeline(ctx context.Context, d Deps, a createPipelineArgs) (PipelineResult, error) {
	p, err := d.Client.CreatePipeline(ctx, pbiclient.CreatePipelineRequest{DisplayName: strings.TrimSpace(a.DisplayName), Description: a.Description})
	if err != nil {
		return PipelineResult{}, err
	}
	return PipelineResult{Pipeline: pipelineOf(p)}, nil
}

type updatePipelineArgs struct {
	Pipeline    string  `json:"pipeline" schema:"$pipeline" required:"true"`
	DisplayName string  `json:"display_name" minLength:"1" maxLength:"256"`
	Description *string `json:"description" maxLength:"1024"`
}

// updatePipeline is update_pipeline.
func updatePipeline(ctx context.Context, d Deps, a updatePipelineArgs) (PipelineResult, error) {
	if strings.TrimSpace(a.DisplayName) == "" && a.Description == nil {
		return PipelineResult{}, userErrorf("Nothing to change: give display_name, description or both.")
	}
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineResult{}, err
	}
	var req pbiclient.UpdatePipelineRequest
	if name := strings.TrimSpace(a.DisplayName); name != "" {
		req.DisplayName = &name
	}
	req.Description = a.Description
	p, err := d.Client.UpdatePipeline(ctx, ref.ID, req)
	if err != nil {
		return PipelineResult{}, err
	}
	return PipelineResult{Pipeline: pipelineOf(p)}, nil
}

type deletePipelineArgs struct {
	Pipeline string `json:"pipeline" schema:"$pipeline" required:"true"`
	Confirm  bool   `json:"confirm" schema:"$confirm"`
}

// DeletePipelineResult is the answer of delete_pipeline.
type DeletePipelineResult struct {
	Deleted  bool    `json:"deleted"`
	Pipeline ItemRef `json:"pipeline"`
}

// deletePipeline is delete_pipeline.
func deletePipeline(ctx context.Context, d Deps, a deletePipelineArgs) (DeletePipelineResult, error) {
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return DeletePipelineResult{}, err
	}
	// The confirmation names the pipeline and the workspaces it lets go of.
	p, err := d.Client.GetPipeline(ctx, ref.ID, true)
	if err != nil {
		return DeletePipelineResult{}, err
	}
	ref.Name = p.DisplayName
	var stages []string
	for _, s := range p.Stages {
		if s.WorkspaceID != "" {
			stages = append(stages, fmt.Sprintf("%s: %s", stageName(s.Order), orNone(s.WorkspaceName, s.WorkspaceID)))
		}
	}
	what := fmt.Sprintf("Delete the deployment pipeline %s (id %s) and its deployment history", p.DisplayName, p.ID)
	if len(stages) > 0 {
		what += "; its workspaces (" + strings.Join(stages, ", ") + ") stay"
	}
	if err := confirmed(ctx, a.Confirm, what+"."); err != nil {
		return DeletePipelineResult{}, err
	}
	if err := d.Client.DeletePipeline(ctx, ref.ID); err != nil {
		return DeletePipelineResult{}, err
	}
	return DeletePipelineResult{Deleted: true, Pipeline: ref}, nil
}

type assignStageArgs struct {
	Pipeline  string `json:"pipeline" schema:"$pipeline" required:"true"`
	Stage     int    `json:"stage" required:"true" minimum:"0" maximum:"2" jsonschema:"0 Development, 1 Test, 2 Production"`
	Workspace string `json:"workspace" minLength:"1"`
	Unassign  bool   `json:"unassign" default:"false"`
}

// assignPipelineStage is assign_pipeline_stage. It answers with the stages as they are now.
func assignPipelineStage(ctx context.Context, d Deps, a assignStageArgs) (PipelineStagesResult, error) {
	if a.Unassign == (strings.TrimSpace(a.Workspace) != "") {
		return PipelineStagesResult{}, userErrorf("Give either workspace, to assign it, or unassign: true.")
	}
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineStagesResult{}, err
	}
	stage, err := pipelineStage(ctx, d.Client, ref.ID, a.Stage)
	if err != nil {
		return PipelineStagesResult{}, err
	}
	// What the service refuses with a bare code, said with what to do instead.
	switch {
	case a.Unassign && stage.WorkspaceID == "":
		return PipelineStagesResult{}, userErrorf("The %s stage of %s has no workspace; nothing was changed.", stage.Name, orNone(ref.Name, ref.ID))
	case !a.Unassign && stage.WorkspaceID != "":
		return PipelineStagesResult{}, userErrorf("The %s stage of %s already has the workspace %s. Unassign it first (unassign: true), then assign the new one.",
			stage.Name, orNone(ref.Name, ref.ID), orNone(stage.WorkspaceName, stage.WorkspaceID))
	}
	if a.Unassign {
		err = d.Client.UnassignPipelineStageWorkspace(ctx, ref.ID, a.Stage)
	} else {
		ws, werr := resolveGroup(ctx, d.Client, a.Workspace)
		if werr != nil {
			return PipelineStagesResult{}, werr
		}
		err = d.Client.AssignPipelineStageWorkspace(ctx, ref.ID, a.Stage, ws.ID)
	}
	if err != nil {
		return PipelineStagesResult{}, err
	}
	return listPipelineStages(ctx, d, pipelineArgs{Pipeline: ref.ID})
}

type updatePipelineUserArgs struct {
	Pipeline      string `json:"pipeline" schema:"$pipeline" required:"true"`
	Identifier    string `json:"identifier" schema:"$identifier" required:"true"`
	PrincipalType string `json:"principal_type" enum:"User,Group,App" jsonschema:"Needed to add."`
	Remove        bool   `json:"remove" default:"false"`
	Confirm       bool   `json:"confirm" schema:"$confirm"`
}

// PipelineUsersResult is the answer of update_pipeline_user: who has access now.
type PipelineUsersResult struct {
	Pipeline ItemRef        `json:"pipeline"`
	Users    []PipelineUser `json:"users"`
}

// updatePipelineUser is update_pipeline_user.
func updatePipelineUser(ctx context.Context, d Deps, a updatePipelineUserArgs) (PipelineUsersResult, error) {
	id := strings.TrimSpace(a.Identifier)
	if !a.Remove {
		if a.PrincipalType == "" {
			return PipelineUsersResult{}, userErrorf("principal_type is required to add a principal: User, Group or App.")
		}
		if err := checkPrincipal(id, a.PrincipalType); err != nil {
			return PipelineUsersResult{}, err
		}
	}
	ref, err := resolvePipeline(ctx, d.Client, a.Pipeline)
	if err != nil {
		return PipelineUsersResult{}, err
	}
	if a.Remove {
		users, err := pipelineUsers(ctx, d.Client, ref.ID)
		if err != nil {
			return PipelineUsersResult{}, err
		}
		var found *PipelineUser
		for i, u := range users {
			if strings.EqualFold(u.Identifier, id) {
				found = &users[i]
			}
		}
		if found == nil {
			return PipelineUsersResult{}, userErrorf("%q has no access to the pipeline %s: get_pipeline lists its users.", id, orNone(ref.Name, ref.ID))
		}
		what := fmt.Sprintf("Remove the %s %s from the admins of the deployment pipeline %s (id %s).", principalNoun(found.PrincipalType), found.Identifier, orNone(ref.Name, ref.ID), ref.ID)
		if len(users) == 1 {
			what += " It is the last one: afterwards only a Fabric administrator can manage the pipeline."
		}
		if err := confirmed(ctx, a.Confirm, what); err != nil {
			return PipelineUsersResult{}, err
		}
		err = d.Client.DeletePipelineUser(ctx, ref.ID, found.Identifier)
	} else {
		err = d.Client.UpdatePipelineUser(ctx, ref.ID, pbiclient.PipelineUser{Identifier: id, PrincipalType: a.PrincipalType, AccessRight: "Admin"})
	}
	if err != nil {
		return PipelineUsersResult{}, err
	}
	users, err := pipelineUsers(ctx, d.Client, ref.ID)
	if err != nil {
		return PipelineUsersResult{}, err
	}
	return PipelineUsersResult{Pipeline: ref, Users: users}, nil
}
