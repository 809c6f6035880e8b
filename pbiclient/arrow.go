package pbiclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Execute DAX Queries with Apache Arrow results (preview; pbitest/dax_arrow.go has the wire and
// its sources): POST .../datasets/{id}/executeDaxQueries with {"query": ...}; the answer is one
// Arrow IPC stream per EVALUATE, concatenated, or an error rowset whose schema metadata holds
// IsError=true, FaultCode and FaultString.

const arrowStreamType = "application/vnd.apache.arrow.stream"

// executeDAXQueriesRequest is the body of executeDaxQueries. effectiveUsername is the user
// row-level security filters for, executeQueries' impersonatedUserName.
type executeDAXQueriesRequest struct {
	Query             string `json:"query"`
	EffectiveUsername string `json:"effectiveUsername,omitempty"`
}

// ErrArrowUnavailable is what ExecuteQueryArrow returns, wrapped with the service's answer,
// when Power BI does not serve Arrow results for the model: a workspace on shared capacity, My
// workspace without one, a push model, or a service without the preview. Run the query with
// ExecuteQuery instead.
var ErrArrowUnavailable = errors.New("pbiclient: Arrow results are not available for this model")

// ExecuteQueryArrow runs a DAX query through Execute DAX Queries with Arrow results and returns
// one table per EVALUATE, in the shape ExecuteQuery returns: blanks as nil, dates as the text
// executeQueries sends. There is no row limit. A DAX error is a *QueryError (level "result")
// with the DAX message; errors.Is(err, ErrArrowUnavailable) says to fall back to ExecuteQuery.
// opts.IncludeNulls has no effect: Arrow always carries blanks. Like ExecuteQuery, the request
// is never repeated after it may have reached the service.
func (c *Client) ExecuteQueryArrow(ctx context.Context, groupID, datasetID, query string, opts QueryOptions) ([]QueryResult, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	cl, err := newCall(http.MethodPost, workspacePath(groupID, "datasets", datasetID, "executeDaxQueries"), "")
	if err != nil {
		return nil, err
	}
	cl.accept = arrowStreamType
	if cl.body, err = json.Marshal(executeDAXQueriesRequest{Query: query, EffectiveUsername: opts.ImpersonatedUserName}); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && arrowUnavailable(ae) {
			return nil, fmt.Errorf("%w: %w", ErrArrowUnavailable, err)
		}
		return nil, err
	}
	defer closeBody(resp)
	requestID := resp.Header.Get("RequestId")
	// The documentation names no media type for the answer, so only one that is plainly not
	// Arrow is refused before decoding.
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); strings.HasSuffix(mt, "json") || strings.HasPrefix(mt, "text/") {
		return nil, fmt.Errorf("pbiclient: executeDaxQueries answered %q, not Arrow (RequestId %s)", mt, requestID)
	}
	out, err := readArrowTables(bufio.NewReaderSize(resp.Body, 64<<10))
	var qe *QueryError
	if errors.As(err, &qe) {
		qe.RequestID = requestID
		return nil, qe
	}
	if err != nil {
		return nil, fmt.Errorf("pbiclient: executeDaxQueries: decode Arrow (RequestId %s): %w", requestID, err)
	}
	return out, nil
}

// arrowUnavailable reports whether an error answer means "no Arrow here" rather than a fault
// of the query: FeatureNotAvailableError for a model or capacity without it, and 404, 405 or 406
// from a service that does not know the operation (the dataset itself is then looked up again
// by the fallback, which reports a missing one as before).
func arrowUnavailable(ae *APIError) bool {
	switch ae.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotAcceptable:
		return true
	}
	return ae.Code == "FeatureNotAvailableError"
}

// readArrowTables reads the IPC streams of an answer until the body ends.
func readArrowTables(r io.Reader) ([]QueryResult, error) {
	var out []QueryResult
	for {
		rd, err := ipc.NewReader(r, ipc.WithAllocator(memory.DefaultAllocator))
		if errors.Is(err, io.EOF) {
			return out, nil // no stream follows
		}
		if err != nil {
			return nil, err
		}
		t, err := readArrowTable(rd)
		rd.Release()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
}

// readArrowTable reads one stream: a result table, or the error that takes its place.
func readArrowTable(rd *ipc.Reader) (QueryResult, error) {
	schema := rd.Schema()
	t := QueryResult{Columns: make([]string, schema.NumFields()), Rows: [][]any{}}
	for i, f := range schema.Fields() {
		t.Columns[i] = f.Name
	}
	for rd.Next() {
		rec := rd.RecordBatch()
		n := int(rec.NumRows())
		cells := make([]any, n*len(t.Columns)) // one allocation for the batch's rows
		for j, col := range rec.Columns() {
			for i := range n {
				cells[i*len(t.Columns)+j] = arrowValue(col, i)
			}
		}
		for i := range n {
			t.Rows = append(t.Rows, cells[i*len(t.Columns):(i+1)*len(t.Columns):(i+1)*len(t.Columns)])
		}
	}
	if err := rd.Err(); err != nil {
		return QueryResult{}, err
	}
	md := schema.Metadata()
	if v, _ := md.GetValue("IsError"); strings.EqualFold(v, "true") {
		code, _ := md.GetValue("FaultCode")
		msg, _ := md.GetValue("FaultString")
		return QueryResult{}, &QueryError{Level: "result", Code: code, Message: bound(msg, maxMessageLen)}
	}
	return t, nil
}

// arrowValue is cell i of col as ExecuteQuery would give it. Strings are copied, so a row
// kept does not hold the whole batch's buffers.
func arrowValue(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Boolean:
		return a.Value(i)
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.Timestamp:
		return dateText(a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit))
	case *array.Date32:
		return dateText(a.Value(i).ToTime())
	case *array.Date64:
		return dateText(a.Value(i).ToTime())
	case *array.Decimal128:
		return a.Value(i).ToFloat64(a.DataType().(*arrow.Decimal128Type).Scale)
	}
	return col.ValueStr(i)
}

// dateText writes a DateTime as executeQueries does: ISO 8601 without a zone.
func dateText(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999")
}
