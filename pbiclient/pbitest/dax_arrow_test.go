package pbitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// postDAXQueries sends a query to executeDaxQueries of dataset (a path under /v1.0/myorg) with
// the given Accept header.
func postDAXQueries(t *testing.T, s *Server, dataset, accept, query string) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"queries": []map[string]string{{"query": query}}})
	req, err := http.NewRequest(http.MethodPost, s.URL()+apiPrefix+dataset+"/executeDaxQueries", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// arrowStreams reads every IPC stream of an answer: each one's schema and batches.
func arrowStreams(t *testing.T, body []byte) (schemas []*arrow.Schema, batches [][]arrow.RecordBatch) {
	t.Helper()
	r := bytes.NewReader(body)
	for {
		rd, err := ipc.NewReader(r)
		if errors.Is(err, io.EOF) {
			return schemas, batches
		}
		if err != nil {
			t.Fatal(err)
		}
		var recs []arrow.RecordBatch
		for rd.Next() {
			rec := rd.RecordBatch()
			rec.Retain()
			t.Cleanup(rec.Release)
			recs = append(recs, rec)
		}
		if err := rd.Err(); err != nil {
			t.Fatal(err)
		}
		schemas, batches = append(schemas, rd.Schema()), append(batches, recs)
		rd.Release()
	}
}

// The answer is one IPC stream per EVALUATE, columns named and typed as documented beside the
// handler, large tables in batches of 10,000 rows, blanks as nulls.
func TestExecuteDAXQueriesWire(t *testing.T) {
	s := newTestServer(t, Options{})
	ws := s.AddWorkspace(Workspace{Name: "Big", IsOnDedicatedCapacity: true})
	ds := s.AddDataset(ws.ID, Dataset{Name: "Facts"})
	s.SetModel(ds.ID, LargeModel(25_000))
	path := "/groups/" + ws.ID + "/datasets/" + ds.ID

	r := postDAXQueries(t, s, path, "application/json, "+ArrowStreamType, `EVALUATE Facts
EVALUATE ROW("Total", [Total Amount], "Rows", COUNTROWS(Facts))`)
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != ArrowStreamType {
		t.Fatalf("Content-Type %q", ct)
	}
	schemas, batches := arrowStreams(t, r.body)
	if len(schemas) != 2 {
		t.Fatalf("%d streams for two EVALUATEs", len(schemas))
	}
	want := []struct {
		name string
		typ  arrow.Type
	}{{"Facts[Id]", arrow.INT64}, {"Facts[Amount]", arrow.FLOAT64}, {"Facts[Customer]", arrow.STRING}, {"Facts[Day]", arrow.TIMESTAMP}, {"Facts[Note]", arrow.STRING}}
	for i, f := range schemas[0].Fields() {
		if f.Name != want[i].name || f.Type.ID() != want[i].typ {
			t.Errorf("column %d: %s %s, want %s %s", i, f.Name, f.Type, want[i].name, want[i].typ)
		}
	}
	if len(batches[0]) != 3 || batches[0][0].NumRows() != 10_000 || batches[0][2].NumRows() != 5_000 {
		t.Fatalf("%d batches", len(batches[0]))
	}
	first := batches[0][0]
	if day := first.Column(3).(*array.Timestamp).Value(1).ToTime(arrow.Millisecond); !day.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("day of row 2: %v", day)
	}
	if note := first.Column(4); note.IsNull(0) || !note.IsNull(1) || !note.IsNull(2) {
		t.Errorf("notes are blank in two rows of three: %v", note)
	}
	if f := schemas[1].Fields(); f[0].Name != "[Total]" || f[0].Type.ID() != arrow.FLOAT64 || f[1].Type.ID() != arrow.INT64 ||
		batches[1][0].Column(1).(*array.Int64).Value(0) != 25_000 {
		t.Errorf("ROW: %v", schemas[1])
	}

	// A DAX error replaces the results with one error stream.
	r = postDAXQueries(t, s, path, ArrowStreamType, "EVALUATE Facts EVALUATE Nope")
	wantStatus(t, r, http.StatusOK)
	schemas, batches = arrowStreams(t, r.body)
	if v, _ := schemas[0].Metadata().GetValue("error"); len(schemas) != 1 || v != "true" {
		t.Fatalf("%d streams, error=%q", len(schemas), v)
	}
	if msg := batches[0][0].Column(1).(*array.String).Value(0); !strings.Contains(msg, "Failed to resolve name 'Nope'") {
		t.Fatalf("message %q", msg)
	}

	// Only Arrow is served; without a capacity, not even that.
	wantStatus(t, postDAXQueries(t, s, path, "application/json", "EVALUATE Facts"), http.StatusNotAcceptable)
	s.SeedDemo()
	r = postDAXQueries(t, s, "/groups/"+DemoMarketingWorkspaceID+"/datasets/"+DemoWebTrafficDatasetID, ArrowStreamType, "EVALUATE Facts")
	wantStatus(t, r, http.StatusForbidden)
	if code := errorCode(t, r); code != "FeatureNotAvailableError" {
		t.Fatalf("code %s", code)
	}
}
