package tools

import (
	"strings"
	"testing"
)

func TestSetDatasetAccessLowersAndRemoves(t *testing.T) {
	st := newStack(t, stackOptions{})
	const group = "2f8a4c6e-1b3d-4e5f-9a7b-c8d0e2f4a6b1"
	const route = "PUT /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/users"
	args := map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "identifier": group, "principal_type": "Group", "access_right": "Read"}
	if msg := st.fails(t, "set_dataset_access", args); !strings.Contains(msg, "ask the user") || !strings.Contains(msg, group+" on the semantic model Sales") {
		t.Fatalf("without confirm: %s", msg)
	}
	if n := st.tenant.Count(route); n != 0 {
		t.Fatalf("%d PUT requests sent without confirmation", n)
	}
	args["confirm"] = true
	var res SetDatasetAccessResult
	st.ok(t, "set_dataset_access", args, &res)
	if len(res.Users) != 2 || res.Users[1].Identifier != group || res.Users[1].DatasetUserAccessRight != "Read" {
		t.Fatalf("lowered: %+v", res.Users)
	}
	// Write stays: None takes away the rest.
	st.ok(t, "set_dataset_access", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales", "identifier": "megan.bowen@contoso.com",
		"principal_type": "User", "access_right": "None", "confirm": true}, &res)
	if res.Users[0].DatasetUserAccessRight != "ReadWrite" {
		t.Fatalf("None on a principal with Write: %+v", res.Users)
	}
	args["access_right"] = "None"
	st.ok(t, "set_dataset_access", args, &res)
	var users ListDatasetUsersResult
	st.ok(t, "list_dataset_users", map[string]any{"workspace": "Sales Analytics", "dataset": "Sales"}, &users)
	if users.Count != 1 || users.Users[0].Identifier != "megan.bowen@contoso.com" {
		t.Fatalf("users after removing the group: %+v", users.Users)
	}
}
