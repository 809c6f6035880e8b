package swaggercheck

import (
	"strconv"
	"strings"
	"testing"
)

const ws = "/v1.0/myorg/groups/5b6f1c2a-0000-4000-8000-000000000001"

func checker(t *testing.T) *Checker {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every body and response schema of the definition must compile, so that an
// operation used for the first time never fails for the checker's sake.
func TestEverySchemaCompiles(t *testing.T) {
	c := checker(t)
	if len(c.ops) != 286+FabricOperations+PreviewOperations {
		t.Errorf("%d operations, the definitions have 286 (Power BI) + %d (Fabric) + %d (preview)", len(c.ops), FabricOperations, PreviewOperations)
	}
	for _, op := range c.ops {
		if op.hasBody {
			if _, err := c.schema(requestMode, "op."+op.ID+".request"); err != nil {
				t.Error(err)
			}
		}
		for code, b := range op.responses {
			if b == jsonBody {
				if _, err := c.schema(responseMode, "op."+op.ID+".response."+strconv.Itoa(code)); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

func TestCheck(t *testing.T) {
	c := checker(t)
	const datasets = `{"@odata.context":"https://x/$metadata#datasets","value":[{"id":"d1","name":"Sales","IsRefreshable":true,"isEffectiveIdentityRequired":false,"upstreamDatasets":[]}]}`
	cases := []struct {
		name   string
		x      Exchange
		op     string
		wantOK bool
		want   string // in a problem when !wantOK
	}{
		{"list, camelCase and PascalCase, extra response field", Exchange{Method: "GET", Path: ws + "/datasets", Status: 200, ResponseBody: []byte(datasets)},
			"Datasets_GetDatasetsInGroup", true, ""},
		{"swagger's odata.context is @odata.context on the wire", Exchange{Method: "GET", Path: ws + "/datasets", Status: 200,
			ResponseBody: []byte(`{"@odata.context":1,"value":[]}`)}, "Datasets_GetDatasetsInGroup", false, "@odata.context"},
		{"wrong response type", Exchange{Method: "GET", Path: ws + "/datasets", Status: 200, ResponseBody: []byte(`{"@odata.context":"c","value":{}}`)},
			"Datasets_GetDatasetsInGroup", false, "response body"},
		{"missing required response field", Exchange{Method: "GET", Path: ws + "/datasets", Status: 200, ResponseBody: []byte(`{"@odata.context":"c","value":[{"name":"x"}]}`)},
			"Datasets_GetDatasetsInGroup", false, "missing property 'id'"},
		{"list wrapper without value", Exchange{Method: "GET", Path: ws + "/datasets", Status: 200, ResponseBody: []byte(`{"@odata.context":"c","values":[]}`)},
			"Datasets_GetDatasetsInGroup", false, "missing property 'value'"},
		{"empty response where a body is declared", Exchange{Method: "GET", Path: ws + "/datasets", Status: 200},
			"Datasets_GetDatasetsInGroup", false, "empty"},
		{"route template beats a path with an escaped slash", Exchange{Method: "GET", Path: ws + "/reports/r/exports/a/b=/file",
			Route: "GET /v1.0/myorg/groups/{groupId}/reports/{reportId}/exports/{exportId}/file", Status: 200, ResponseBody: []byte("%PDF-1.7")},
			"Reports_GetFileOfExportToFileInGroup", true, ""},
		{"a literal segment beats a parameter", Exchange{Method: "GET", Path: ws + "/datasets/upstreamDataflows", Status: 200,
			ResponseBody: []byte(`{"@odata.context":"c","value":[]}`)}, "Datasets_GetDatasetToDataflowsLinksInGroup", true, ""},
		{"standard refresh, empty body", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 202},
			"Datasets_RefreshDatasetInGroup", true, ""},
		{"enhanced refresh: no notifyOption, enum values in any case, timeout", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 202,
			Body: []byte(`{"type":"full","commitMode":"Transactional","objects":[{"table":"Sales"}],"timeout":"01:00:00"}`)},
			"Datasets_RefreshDatasetInGroup", true, ""},
		{"misspelt request field", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 202, Body: []byte(`{"notifyOptions":"NoNotification"}`)},
			"Datasets_RefreshDatasetInGroup", false, "notifyoptions"},
		{"misspelt nested request field", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 202, Body: []byte(`{"objects":[{"tables":"Sales"}]}`)},
			"Datasets_RefreshDatasetInGroup", false, "tables"},
		{"request enum value", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 202, Body: []byte(`{"type":"Fullest"}`)},
			"Datasets_RefreshDatasetInGroup", false, "request body"},
		{"a bad request refused is no violation", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 400, Body: []byte(`{"type":"Fullest"}`),
			ResponseBody: []byte(`{"error":{"code":"InvalidRequest"}}`)}, "Datasets_RefreshDatasetInGroup", true, ""},
		{"undeclared status", Exchange{Method: "POST", Path: ws + "/datasets/d/refreshes", Status: 200},
			"Datasets_RefreshDatasetInGroup", false, "status 200 is not a declared response"},
		{"body on a 200-empty write", Exchange{Method: "POST", Path: ws + "/datasets/d/Default.TakeOver", Status: 200, ResponseBody: []byte(`{}`)},
			"Datasets_TakeOverInGroup", false, "declares none"},
		{"body sent to an operation that takes none", Exchange{Method: "POST", Path: ws + "/datasets/d/Default.TakeOver", Status: 200, Body: []byte(`{}`)},
			"Datasets_TakeOverInGroup", false, "takes none"},
		{"query parameters", Exchange{Method: "GET", Path: "/v1.0/myorg/groups", RawQuery: "%24top=5&%24filter=name+eq+%27x%27", Status: 200,
			ResponseBody: []byte(`{"@odata.context":"c","value":[]}`)}, "Groups_GetGroups", true, ""},
		{"undefined query parameter", Exchange{Method: "GET", Path: "/v1.0/myorg/groups", RawQuery: "top=5", Status: 200, ResponseBody: []byte(`{"@odata.context":"c","value":[]}`)},
			"Groups_GetGroups", false, "query parameter top is not defined"},
		{"missing required query parameter", Exchange{Method: "GET", Path: "/v1.0/myorg/admin/groups", Status: 200, ResponseBody: []byte(`{"@odata.context":"c","value":[]}`)},
			"Groups_GetGroupsAsAdmin", false, "required query parameter $top missing"},
		{"query parameter type", Exchange{Method: "GET", Path: "/v1.0/myorg/groups", RawQuery: "%24top=five", Status: 200,
			ResponseBody: []byte(`{"@odata.context":"c","value":[]}`)}, "Groups_GetGroups", false, "not an integer"},
		{"path parameter typed uuid", Exchange{Method: "GET", Path: "/v1.0/myorg/groups/sales", Status: 200,
			ResponseBody: []byte(`{"id":"sales"}`)}, "Groups_GetGroup", false, "groupId=\"sales\": not a GUID"},
		{"method not defined", Exchange{Method: "PUT", Path: ws + "/datasets", Status: 200}, "", false, "no PUT operation"},
		{"path not defined, answered 2xx", Exchange{Method: "GET", Path: ws + "/nothing", Status: 200}, "", false, "no such path"},
		{"path not defined, answered 404", Exchange{Method: "GET", Path: ws + "/nothing", Status: 404}, "", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op, problems := c.Check(tc.x)
			if op != tc.op {
				t.Errorf("operation %q, want %q", op, tc.op)
			}
			if tc.wantOK {
				if len(problems) > 0 {
					t.Errorf("problems: %q", problems)
				}
				return
			}
			if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Errorf("problems %q, want one mentioning %q", problems, tc.want)
			}
		})
	}
}

func TestUndocumented(t *testing.T) {
	c := checker(t)
	got := c.Undocumented(Exchange{Method: "GET", Path: ws + "/datasets", Status: 200,
		ResponseBody: []byte(`{"@odata.context":"c","value":[{"id":"a","IsRefreshable":true,"upstreamDatasets":[]},{"id":"b","users":[],"ownerHint":"x"}]}`)})
	want := []string{"Datasets_GetDatasetsInGroup: /value/*/ownerhint", "Datasets_GetDatasetsInGroup: /value/*/upstreamdatasets"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Undocumented = %q, want %q", got, want)
	}
}

// Fabric's operations are checked against Fabric's own definitions, whose files refer to each
// other.
func TestCheckFabric(t *testing.T) {
	c := checker(t)
	const model = "/fabric/v1/workspaces/5b6f1c2a-0000-4000-8000-000000000001/semanticModels/5b6f1c2a-0000-4000-8000-000000000002"
	good := Exchange{Method: "POST", Path: model + "/updateDefinition", Status: 202,
		Body: []byte(`{"definition":{"parts":[{"path":"definition/model.tmdl","payload":"bW9kZWw=","payloadType":"InlineBase64"}]}}`)}
	if id, problems := c.Check(good); id != "Items_UpdateSemanticModelDefinition" || len(problems) != 0 {
		t.Errorf("Check(update) = %s %v, want Items_UpdateSemanticModelDefinition and no problem", id, problems)
	}
	bad := good
	bad.Body = []byte(`{"definition":{"parts":[{"path":"definition/model.tmdl","payload":"bW9kZWw=","payloadType":"Zip"}]}}`)
	if _, problems := c.Check(bad); len(problems) == 0 || !strings.Contains(problems[0], "payloadtype") {
		t.Errorf("Check(part with an unknown payloadType) = %v, want it refused", problems)
	}
	state := Exchange{Method: "GET", Path: "/fabric/v1/operations/5b6f1c2a-0000-4000-8000-000000000003", Status: 200,
		ResponseBody: []byte(`{"status":"Bogus","createdTimeUtc":"2026-01-01T00:00:00Z","lastUpdatedTimeUtc":"2026-01-01T00:00:00Z","percentComplete":100}`)}
	if id, problems := c.Check(state); id != "LongRunningOperations_GetOperationState" || len(problems) == 0 {
		t.Errorf("Check(operation state with an unknown status) = %s %v, want a problem", id, problems)
	}
}
