package pbiclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// answerOf returns the body the fake tenant answers a query of dataset with on one of the two
// APIs, read whole.
func answerOf(b *testing.B, srv *pbitest.Server, groupID, datasetID, op, accept, body string) []byte {
	b.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.APIBaseURL()+"/groups/"+groupID+"/datasets/"+datasetID+"/"+op, bytes.NewReader([]byte(body)))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.IssueToken(time.Hour))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: status %d, %v", op, resp.StatusCode, err)
	}
	return out
}

// The client's own cost of a 100,000-row answer, without the fake tenant's evaluation and
// encoding or the transport: the bodies are fetched once, then decoded into QueryResult as
// ExecuteQuery and ExecuteQueryArrow do.
func BenchmarkDecode100kRows(b *testing.B) {
	srv := pbitest.NewServer(pbitest.Options{})
	b.Cleanup(srv.Close)
	ws := srv.AddWorkspace(pbitest.Workspace{Name: "Big", IsOnDedicatedCapacity: true})
	ds := srv.AddDataset(ws.ID, pbitest.Dataset{Name: "Facts"})
	srv.SetModel(ds.ID, pbitest.LargeModel(100_000))
	jsonBody := answerOf(b, srv, ws.ID, ds.ID, "executeQueries", "application/json",
		`{"queries":[{"query":"EVALUATE Facts"}],"serializerSettings":{"includeNulls":true}}`)
	arrowBody := answerOf(b, srv, ws.ID, ds.ID, "executeDaxQueries", arrowStreamType, `{"query":"EVALUATE Facts"}`)
	b.Logf("answer bytes: json %d, arrow %d", len(jsonBody), len(arrowBody))

	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(jsonBody)))
		for b.Loop() {
			var resp executeQueriesResponse
			if err := json.NewDecoder(bytes.NewReader(jsonBody)).Decode(&resp); err != nil {
				b.Fatal(err)
			}
			var out QueryResult
			if err := out.addRows(resp.Results[0].Tables[0].Rows); err != nil || len(out.Rows) != 100_000 {
				b.Fatal(len(out.Rows), err)
			}
		}
	})
	b.Run("arrow", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(arrowBody)))
		for b.Loop() {
			out, err := readArrowTables(bufio.NewReaderSize(bytes.NewReader(arrowBody), 64<<10))
			if err != nil || len(out[0].Rows) != 100_000 {
				b.Fatal(err)
			}
		}
	})
}
