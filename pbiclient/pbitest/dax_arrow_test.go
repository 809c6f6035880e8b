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

// postDAXQueries sends a body to executeDaxQueries of dataset (a path under /v1.0/myorg), as
// the documented clients do: JSON, no Accept header.
func postDAXQueries(t *testing.T, s *Server, dataset string, body map[string]any) response {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, s.URL()+apiPrefix+dataset+"/executeDaxQueries", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.IssueToken(time.Hour))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: answer}
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

	r := postDAXQueries(t, s, path, map[string]any{"query": `EVALUATE Facts
EVALUATE ROW("Total", [Total Amount], "Rows", COUNTROWS(Facts))`})
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

	// Record batches are LZ4-frame compressed, as the service sends them: the 25,000 rows
	// (about 1.1 MB uncompressed) come in far less.
	if len(r.body) > 600_000 {
		t.Errorf("%d bytes: the batches are not compressed", len(r.body))
	}

	// A DAX error replaces the results with an error rowset, flagged in its schema's metadata.
	r = postDAXQueries(t, s, path, map[string]any{"query": "EVALUATE Facts EVALUATE Nope"})
	wantStatus(t, r, http.StatusOK)
	schemas, batches = arrowStreams(t, r.body)
	md := schemas[0].Metadata()
	isErr, _ := md.GetValue("IsError")
	code, _ := md.GetValue("FaultCode")
	msg, _ := md.GetValue("FaultString")
	if len(schemas) != 1 || isErr != "true" || code == "" || !strings.Contains(msg, "Failed to resolve name 'Nope'") {
		t.Fatalf("%d streams, IsError=%q FaultCode=%q FaultString=%q", len(schemas), isErr, code, msg)
	}
	if row := batches[0][0].Column(1).(*array.String).Value(0); row != msg {
		t.Errorf("the error row says %q, the metadata %q", row, msg)
	}

	// A result over resultSetRowCountLimit is an error rowset too; schemaOnly sends schemas alone.
	r = postDAXQueries(t, s, path, map[string]any{"query": "EVALUATE Facts", "resultSetRowCountLimit": 1000})
	schemas, _ = arrowStreams(t, r.body)
	if v, _ := schemas[0].Metadata().GetValue("FaultString"); !strings.Contains(v, "resultSetRowCountLimit") {
		t.Errorf("over the limit: %v", schemas[0].Metadata())
	}
	r = postDAXQueries(t, s, path, map[string]any{"query": "EVALUATE Facts", "schemaOnly": true})
	schemas, batches = arrowStreams(t, r.body)
	if len(schemas) != 1 || schemas[0].NumFields() != 5 || len(batches[0]) != 0 {
		t.Errorf("schemaOnly: %d streams, %d batches", len(schemas), len(batches[0]))
	}

	// The old executeQueries body is refused: query is the one field required.
	wantStatus(t, postDAXQueries(t, s, path, map[string]any{"queries": []map[string]string{{"query": "EVALUATE Facts"}}}), http.StatusBadRequest)

	// Without a capacity, no Arrow.
	s.SeedDemo()
	r = postDAXQueries(t, s, "/groups/"+DemoMarketingWorkspaceID+"/datasets/"+DemoWebTrafficDatasetID, map[string]any{"query": "EVALUATE Facts"})
	wantStatus(t, r, http.StatusForbidden)
	if code := errorCode(t, r); code != "FeatureNotAvailableError" {
		t.Fatalf("code %s", code)
	}
}
