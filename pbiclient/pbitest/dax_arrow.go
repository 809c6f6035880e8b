package pbitest

import (
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

// Execute DAX Queries with Apache Arrow results (preview).
//
// No published wire description of this operation was found: it is in neither Microsoft's
// Power BI REST definition (swagger.json, October 2024) nor the Fabric REST definitions
// (microsoft/fabric-rest-api-specs, August 2026), and api-notes.md does not mention it. What
// this fake serves is a model of it, built on the documented conventions of executeQueries
// (api-notes §2.2.8) and of Arrow:
//
//   - POST /v1.0/myorg[/groups/{groupId}]/datasets/{datasetId}/executeDaxQueries. The Power BI
//     path rather than Fabric's (/v1/workspaces/{id}/semanticModels/{id}/...): it takes the same
//     token audience, permissions (Build), tenant setting and My workspace variant as
//     executeQueries, so a caller that can run executeQueries needs no new consent.
//   - The request body is executeQueries' ({"queries":[{"query":"..."}], "impersonatedUserName"}),
//     one query as there; serializerSettings has no use, Arrow carries nulls. The result format
//     is chosen the HTTP way, with Accept: application/vnd.apache.arrow.stream (Arrow's
//     registered media type); another Accept is answered 406.
//   - 200 application/vnd.apache.arrow.stream: one Arrow IPC stream (schema, record batches,
//     end-of-stream marker) per EVALUATE, in query order, written one after the other. Columns
//     are named as executeQueries' row keys (Table[Column], [Name]); Int64, Float64, Utf8,
//     Boolean and Timestamp(ms, no zone) for DateTime; a blank is a null. No row limit.
//   - A DAX error is a stream of its own, in place of the results: its schema's metadata holds
//     error=true, and its one row the columns code and message (DatasetExecuteQueriesError and
//     the DAX message). An answer that has begun cannot change its status, so the error comes
//     in-band as the service streams results.
//   - Arrow needs the model on a capacity: a workspace on shared capacity, My workspace and push
//     models answer 403 FeatureNotAvailableError (pbi.error shape), the code Power BI gives for a
//     feature the capacity lacks (as exportToFile does here), so callers fall back to
//     executeQueries.
//
// Everything before the Arrow stream is executeQueries': the tenant setting, the dataset lookup,
// row-level security, the DAX engine and its INFO functions.

// ArrowStreamType is the media type of an Arrow IPC stream.
const ArrowStreamType = "application/vnd.apache.arrow.stream"

// arrowBatchRows is how many rows each record batch holds, so that large results come in
// several batches as a streaming service sends them.
const arrowBatchRows = 10_000

func (s *Server) executeDAXQueries(w http.ResponseWriter, r *http.Request) {
	if s.tenantSettings().refuseExecQueries {
		writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
		return
	}
	if !acceptsArrow(r.Header.Get("Accept")) {
		writeError(w, http.StatusNotAcceptable, "InvalidRequest", "Results are sent as "+ArrowStreamType+" only")
		return
	}
	var req executeQueriesRequest
	present, ok := readJSON(w, r, &req)
	if !ok {
		return
	}
	if !present || req.Queries == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request body must contain queries")
		return
	}
	if len(req.Queries) != 1 {
		writeDAXError(w, fmt.Sprintf("Only one query per request is supported; the request has %d.", len(req.Queries)))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return
	}
	if groupID == "" || !s.state.workspace(groupID).info.IsOnDedicatedCapacity || d.info.AddRowsAPIEnabled {
		writePBIError(w, http.StatusForbidden, "FeatureNotAvailableError")
		return
	}
	fillPendingRows(d.model)
	model := d.model
	if model == nil {
		model = &Model{}
	}
	if model = s.queryModel(w, r, groupID, d, model, req.ImpersonatedUserName); model == nil {
		return
	}
	tables, err := runQuery(model, req.Queries[0].Query)
	var de *daxError
	if err != nil && !errors.As(err, &de) {
		writeServerError(w)
		return
	}
	w.Header().Set("Content-Type", ArrowStreamType)
	w.WriteHeader(http.StatusOK)
	if de != nil {
		_ = writeArrowError(w, "DatasetExecuteQueriesError", de.msg)
		return
	}
	for _, t := range tables {
		if err := writeArrowTable(w, t); err != nil {
			return // the client went away
		}
	}
}

func acceptsArrow(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		if mt, _, err := mime.ParseMediaType(part); err == nil && mt == ArrowStreamType {
			return true
		}
	}
	return false
}

// writeArrowTable writes one result table as an Arrow IPC stream.
func writeArrowTable(w io.Writer, t *resultTable) error {
	fields := make([]arrow.Field, len(t.cols))
	for i, c := range t.cols {
		fields[i] = arrow.Field{Name: c.key(), Type: arrowType(t.rows, i), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	iw := ipc.NewWriter(w, ipc.WithSchema(schema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for start := 0; start < len(t.rows) || start == 0; start += arrowBatchRows {
		for _, row := range t.rows[start:min(start+arrowBatchRows, len(t.rows))] {
			for i, v := range row {
				appendArrow(b.Field(i), v)
			}
		}
		rec := b.NewRecordBatch()
		err := iw.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return iw.Close()
}

// arrowType is the Arrow type of column i: the one type all its values share (whole numbers
// become Float64 beside fractions), text for a column of mixed kinds or only blanks.
func arrowType(rows [][]any, i int) arrow.DataType {
	var kind arrow.DataType
	for _, row := range rows {
		var k arrow.DataType
		switch row[i].(type) {
		case nil:
			continue
		case int64:
			k = arrow.PrimitiveTypes.Int64
		case float64:
			k = arrow.PrimitiveTypes.Float64
		case bool:
			k = arrow.FixedWidthTypes.Boolean
		case time.Time:
			k = &arrow.TimestampType{Unit: arrow.Millisecond}
		default:
			k = arrow.BinaryTypes.String
		}
		switch {
		case kind == nil:
			kind = k
		case arrow.TypeEqual(kind, k):
		case isNumber(kind) && isNumber(k):
			kind = arrow.PrimitiveTypes.Float64
		default:
			return arrow.BinaryTypes.String
		}
	}
	if kind == nil {
		return arrow.BinaryTypes.String
	}
	return kind
}

func isNumber(t arrow.DataType) bool {
	return t.ID() == arrow.INT64 || t.ID() == arrow.FLOAT64
}

func appendArrow(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Float64Builder:
		f, _ := toFloat(v)
		b.Append(f)
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(time.Time).UnixMilli()))
	case *array.StringBuilder:
		if s, ok := v.(string); ok {
			b.Append(s)
		} else {
			b.Append(fmt.Sprint(jsonValue(v)))
		}
	}
}

// writeArrowError writes a DAX error as the stream that takes the results' place.
func writeArrowError(w io.Writer, code, message string) error {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "code", Type: arrow.BinaryTypes.String},
		{Name: "message", Type: arrow.BinaryTypes.String},
	}, func() *arrow.Metadata { m := arrow.NewMetadata([]string{"error"}, []string{"true"}); return &m }())
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(code)
	b.Field(1).(*array.StringBuilder).Append(message)
	rec := b.NewRecordBatch()
	defer rec.Release()
	iw := ipc.NewWriter(w, ipc.WithSchema(schema))
	if err := iw.Write(rec); err != nil {
		return err
	}
	return iw.Close()
}

// LargeModel returns a model with one table, Facts, of n rows: Id (Int64), Amount (Double),
// Customer (String), Day (DateTime) and Note (String, blank in two rows of three), every value
// following from the row number. Tests and benchmarks give it to a dataset of their own with
// SetModel when they need a result of many rows; the demo tenant does not carry it.
func LargeModel(n int) Model {
	start := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
	facts := &Table{Name: "Facts", Columns: []Column{
		{Name: "Id", DataType: TypeInt64}, {Name: "Amount", DataType: TypeDouble},
		{Name: "Customer", DataType: TypeString}, {Name: "Day", DataType: TypeDateTime},
		{Name: "Note", DataType: TypeString},
	}, Rows: make([][]any, n)}
	for i := range n {
		var note any
		if i%3 == 0 {
			note = fmt.Sprintf("note %d", i)
		}
		facts.Rows[i] = []any{int64(i + 1), float64(i%1000) + 0.25, fmt.Sprintf("Customer %04d", i%5000),
			start.AddDate(0, 0, i%730), note}
	}
	return Model{Tables: []*Table{facts},
		Measures: []Measure{{Table: "Facts", Name: "Total Amount", Expression: "SUM(Facts[Amount])"}}}
}
