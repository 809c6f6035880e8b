package swaggercheck

// The admin access operations' documented departures from the swagger.

// adminGroupUpdate is the body of PATCH admin/groups/{groupId} (Groups_UpdateGroupAsAdmin) as
// the operation's own examples send it: the properties to change, without the workspace id
// the path names already ({"name": "Updated Sales Results", "description": "Refreshed sales
// numbers", "defaultDatasetStorageFormat": "Large"}, and {"logAnalyticsWorkspace": null} to
// unassign). The swagger types the body as AdminGroup, which requires id.
var adminGroupUpdate = map[string]any{
	"properties": map[string]any{
		"name":                        map[string]any{"type": "string"},
		"description":                 map[string]any{"type": "string"},
		"defaultDatasetStorageFormat": map[string]any{"$ref": "#/definitions/DefaultDatasetStorageFormat"},
		"logAnalyticsWorkspace":       map[string]any{"$ref": "#/definitions/AzureResource", "x-nullable": true},
	},
}

// requestSchema is the schema an operation's request body is checked against: the swagger's,
// unless a deviation above replaces it.
func requestSchema(opID string, schema any) any {
	if opID == "Groups_UpdateGroupAsAdmin" {
		return map[string]any{"$ref": "#/definitions/AdminGroupUpdateRequest"}
	}
	return schema
}

func applyAccessDeviations(defs map[string]any) {
	defs["AdminGroupUpdateRequest"] = adminGroupUpdate
}
