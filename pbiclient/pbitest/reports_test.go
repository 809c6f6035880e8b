package pbitest

import (
	"net/http"
	"strings"
	"testing"
)

func TestReports(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ws := "/groups/" + DemoSalesWorkspaceID

	r := api(t, s, "GET", ws+"/reports", nil)
	wantStatus(t, r, http.StatusOK)
	body := r.json(t)
	if body["@odata.context"] != s.URL()+"/v1.0/myorg/groups/"+DemoSalesWorkspaceID+"/$metadata#reports" {
		t.Errorf("context %v", body["@odata.context"])
	}
	if n := len(body["value"].([]any)); n != 2 {
		t.Errorf("%d reports", n)
	}

	r = api(t, s, "GET", ws+"/reports/"+DemoSalesReportID, nil)
	wantStatus(t, r, http.StatusOK)
	rep := r.json(t)
	for k, v := range map[string]any{
		"id":                 DemoSalesReportID,
		"reportType":         "PowerBIReport",
		"name":               "Sales Overview",
		"webUrl":             "https://app.powerbi.com/groups/" + DemoSalesWorkspaceID + "/reports/" + DemoSalesReportID,
		"datasetId":          DemoSalesDatasetID,
		"datasetWorkspaceId": DemoSalesWorkspaceID,
		"isOwnedByMe":        true,
		"isFromPbix":         true,
	} {
		if rep[k] != v {
			t.Errorf("%s = %v, want %v", k, rep[k], v)
		}
	}
	wantEmbed := "https://app.powerbi.com/reportEmbed?reportId=" + DemoSalesReportID + "&groupId=" + DemoSalesWorkspaceID + "&w=2&config="
	if embed, _ := rep["embedUrl"].(string); !strings.HasPrefix(embed, wantEmbed) {
		t.Errorf("embedUrl %q", embed)
	}

	r = api(t, s, "GET", ws+"/reports/"+DemoSalesReportID+"/pages", nil)
	wantStatus(t, r, http.StatusOK)
	want := `{"@odata.context":"` + s.URL() + `/v1.0/myorg/groups/` + DemoSalesWorkspaceID + `/$metadata#pages","value":[` +
		`{"displayName":"Overview","name":"ReportSection","order":0},` +
		`{"displayName":"Regional Sales","name":"ReportSection1","order":1},` +
		`{"displayName":"Product Performance","name":"ReportSection2","order":2}]}`
	if string(r.body) != want {
		t.Errorf("pages\n%s\nwant\n%s", r.body, want)
	}
	r = api(t, s, "GET", ws+"/reports/"+DemoSalesReportID+"/pages/ReportSection1", nil)
	wantStatus(t, r, http.StatusOK)
	if p := r.json(t); p["displayName"] != "Regional Sales" {
		t.Errorf("page %v", p)
	}
	wantStatus(t, api(t, s, "GET", ws+"/reports/"+DemoSalesReportID+"/pages/Nope", nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", ws+"/reports/"+newGUID(), nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", "/groups/"+newGUID()+"/reports", nil), http.StatusNotFound)

	// My workspace.
	r = api(t, s, "GET", "/reports/"+DemoBudgetReportID, nil)
	wantStatus(t, r, http.StatusOK)
	if rep := r.json(t); rep["webUrl"] != "https://app.powerbi.com/groups/me/reports/"+DemoBudgetReportID {
		t.Errorf("My workspace report %v", rep)
	}
}

func TestAddDefaults(t *testing.T) {
	s := newTestServer(t, Options{})
	w := s.AddWorkspace(Workspace{Name: "Ops", IsOnDedicatedCapacity: true})
	if !isGUID(w.ID) || w.Type != "Workspace" || !isGUID(w.CapacityID) {
		t.Errorf("workspace %+v", w)
	}
	d := s.AddDataset(w.ID, Dataset{Name: "Ops Model"})
	if !isGUID(d.ID) || d.ConfiguredBy == "" || d.TargetStorageMode != "Abf" || d.CreatedDate.IsZero() {
		t.Errorf("dataset %+v", d)
	}
	rep := s.AddReport("", Report{Name: "Mine", DatasetID: d.ID})
	if rep.ReportType != "PowerBIReport" || len(rep.Pages) != 2 {
		t.Errorf("report %+v", rep)
	}
	// The report in My workspace points at its dataset's workspace.
	r := api(t, s, "GET", "/reports/"+rep.ID, nil)
	if got := r.json(t)["datasetWorkspaceId"]; got != w.ID {
		t.Errorf("datasetWorkspaceId %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("AddDataset to an unknown workspace did not panic")
		}
	}()
	s.AddDataset(newGUID(), Dataset{Name: "lost"})
}
