package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// user answers the server's confirmation questions the way it was told to, and remembers them.
type user struct {
	accept   bool
	question string
}

func (u *user) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	u.question = req.Params.Message
	if !u.accept {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept,
		Content: map[string]any{"confirm": true}}}, nil
}

const routeDeleteDatasetInGroup = "DELETE /v1.0/myorg/groups/{groupId}/datasets/{datasetId}"

// A client that can ask the user is asked, and the user's answer decides, whatever confirm says.
func TestDestructiveToolAsksTheUserWhenTheClientCan(t *testing.T) {
	args := map[string]any{"workspace": "Marketing", "dataset": pbitest.DemoOldCampaignsDatasetID}

	declines := &user{}
	st := newStack(t, stackOptions{elicit: declines})
	args["confirm"] = true // the model's word does not replace the user's
	msg := st.fails(t, "delete_dataset", args)
	if !strings.Contains(msg, "did not agree") || !strings.Contains(msg, "Nothing was changed") {
		t.Fatalf("%s", msg)
	}
	if !strings.Contains(declines.question, "Old Campaigns") {
		t.Fatalf("the question must name what is deleted: %q", declines.question)
	}
	if n := st.tenant.Count(routeDeleteDatasetInGroup); n != 0 {
		t.Fatalf("%d DELETE requests after the user declined", n)
	}

	accepts := &user{accept: true}
	st = newStack(t, stackOptions{elicit: accepts})
	delete(args, "confirm")
	var out map[string]any
	st.ok(t, "delete_dataset", args, &out)
	if n := st.tenant.Count(routeDeleteDatasetInGroup); n != 1 {
		t.Fatalf("%d DELETE requests after the user agreed, want 1", n)
	}
}
