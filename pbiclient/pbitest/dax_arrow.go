package pbitest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Execute DAX Queries with Apache Arrow results (preview), as Microsoft documents it ("Datasets -
// Execute Dax Queries" and "Execute Dax Queries In Group" in the Power BI REST reference, and
// "Mastering the Execute DAX Queries REST API"); the operation is newer than the swagger copy
// here, so swaggercheck holds it as a preview operation (swaggercheck/preview.go).
//
//   - POST /v1.0/myorg[/groups/{groupId}]/datasets/{datasetId}/executeDaxQueries, with the token,
//     permissions (Read and Build), tenant setting and 120-per-minute limit of executeQueries.
//   - The body is {"query": "...", ...}: one query string, which may hold several EVALUATE
//     statements, and optional effectiveUsername, roles, customData, culture, queryTimeout,
//     resultSetRowCountLimit (default 1,000,000 rows), memoryLimit, schemaOnly,
//     applicationContext and executionMetrics. effectiveUsername is the user row-level security
//     filters for, as executeQueries' impersonatedUserName.
//   - 200: the answer is one Arrow IPC stream per EVALUATE, concatenated in query order, each
//     with its own schema; record batches are LZ4-frame compressed. A data rowset has no
//     schema metadata. A query error also answers 200, with an error rowset: schema metadata
//     IsError=true, FaultCode and FaultString (and one row of the same). Blanks are nulls.
//   - A result over resultSetRowCountLimit is an error rowset too; schemaOnly answers each
//     stream's schema with no record batch.
//   - The operation is "only available for datasets hosted on a capacity": a workspace on
//     shared capacity, My workspace and push models are answered 403 FeatureNotAvailableError
//     (pbi.error shape), the code Power BI gives for a feature the capacity lacks (as
//     exportToFile does here); the documentation names no code, so callers fall back to
//     executeQueries on this answer and on a 404 or 405 of a service without the operation.
//
// Everything before the Arrow stream is executeQueries': the tenant setting, the dataset lookup,
// row-level security, the DAX engine and its INFO functions.

// executeDAXQueriesRequest is the body of executeDaxQueries.
type executeDAXQueriesRequest struct {
	Query                  string   `json:"query"`
	EffectiveUsername      string   `json:"effectiveUsername"`
	Roles                  []string `json:"roles"`
	CustomData             string   `json:"customData"`
	Culture                string   `json:"culture"`
	ApplicationContext     string   `json:"applicationContext"`
	QueryTimeout           *int     `json:"queryTimeout"`
	ResultSetRowCountLimit *int     `json:"resultSetRowCountLimit"`
	MemoryLimit            *float64 `json:"memoryLimit"`
	SchemaOnly             bool     `json:"schemaOnly"`
	ExecutionMetrics       bool     `json:"executionMetrics"`
}

// defaultResultSetRowCountLimit is resultSetRowCountLimit's documented default.
const defaultResultSetRowCountLimit = 1_000_000

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
	var req executeDAXQueriesRequest
	present, ok := readJSON(w, r, &req)
	if !ok {
		return
	}
	if !present || strings.TrimSpace(req.Query) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request body must contain query")
		return
	}
	limit := defaultResultSetRowCountLimit
	if req.ResultSetRowCountLimit != nil {
		if *req.ResultSetRowCountLimit < 1 {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "resultSetRowCountLimit must be a positive number")
			return
		}
		limit = *req.ResultSetRowCountLimit
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
	if model = s.queryModel(w, r, groupID, d, model, req.EffectiveUsername); model == nil {
		return
	}
	tables, err := runQuery(model, req.Query)
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
		if len(t.rows) > limit {
			_ = writeArrowError(w, "ResultSetRowCountLimitExceeded",
				fmt.Sprintf("The result set has more than %d rows, the resultSetRowCountLimit of the request.", limit))
			return
		}
		if err := writeArrowTable(w, t, req.SchemaOnly); err != nil {
			return // the client went away
		}
	}
}

// arrowWriter writes one IPC stream as the service does: record batches LZ4-frame compressed.
func arrowWriter(w io.Writer, schema *arrow.Schema) *ipc.Writer {
	return ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithLZ4())
}

// writeArrowTable writes one result table as an Arrow IPC stream; schemaOnly writes its schema
// and no record batch.
func writeArrowTable(w io.Writer, t *resultTable, schemaOnly bool) error {
	fields := make([]arrow.Field, len(t.cols))
	for i, c := range t.cols {
		fields[i] = arrow.Field{Name: c.key(), Type: arrowType(t.rows, i), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	iw := arrowWriter(w, schema)
	if schemaOnly {
		return iw.Close() // the schema message is written on Close when no batch came
	}
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

// writeArrowError writes an error rowset, the stream that takes the results' place: the error
// in the schema's metadata (IsError, FaultCode, FaultString), and in one row.
func writeArrowError(w io.Writer, code, message string) error {
	md := arrow.NewMetadata([]string{"IsError", "FaultCode", "FaultString"}, []string{"true", code, message})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "FaultCode", Type: arrow.BinaryTypes.String},
		{Name: "FaultString", Type: arrow.BinaryTypes.String},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(code)
	b.Field(1).(*array.StringBuilder).Append(message)
	rec := b.NewRecordBatch()
	defer rec.Release()
	iw := arrowWriter(w, schema)
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
