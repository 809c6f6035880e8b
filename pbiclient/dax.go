package pbiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
)

// QueryOptions are the optional parts of an executeQueries request.
type QueryOptions struct {
	// ImpersonatedUserName runs the query as this user (UPN) for row-level
	// security; models without RLS ignore it.
	ImpersonatedUserName string
	// IncludeNulls asks for blank cells as nulls; without it the service
	// leaves them out of the row objects.
	IncludeNulls bool
}

// QueryResult is the one table a DAX query returned.
type QueryResult struct {
	// Columns in the order the service sent them: Table[Column] for model
	// columns, [Name] for computed ones.
	Columns []string
	// Rows hold one value per column: nil, bool, string, int64 (whole
	// numbers) or float64. Dates come as the service's text.
	Rows [][]any
	// RowLimit is the service's message when it cut the rows at its limit
	// (100,000 rows or 1,000,000 values), "" otherwise.
	RowLimit string
}

// QueryError is an error the service reported inside a 200 answer to
// executeQueries, at the level of the response, the query's result or its
// table.
type QueryError struct {
	Level     string // "response", "result" or "table"
	Code      string
	Message   string
	RequestID string
}

func (e *QueryError) Error() string {
	msg := fmt.Sprintf("power bi: the DAX query failed (%s error)", e.Level)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RequestID != "" {
		msg += " (RequestId " + e.RequestID + ")"
	}
	return msg
}

type executeQueriesRequest struct {
	Queries              []executeQuery      `json:"queries"`
	SerializerSettings   *serializerSettings `json:"serializerSettings,omitempty"`
	ImpersonatedUserName string              `json:"impersonatedUserName,omitempty"`
}

type executeQuery struct {
	Query string `json:"query"`
}

type serializerSettings struct {
	IncludeNulls bool `json:"includeNulls"`
}

type queryErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type executeQueriesResponse struct {
	Results []struct {
		Tables []struct {
			Rows  []json.RawMessage `json:"rows"`
			Error *queryErrorBody   `json:"error"`
		} `json:"tables"`
		Error *queryErrorBody `json:"error"`
	} `json:"results"`
	Error *queryErrorBody `json:"error"`
}

// rowLimitMessage is how the service says it cut a result at its limit.
var rowLimitMessage = regexp.MustCompile(`(?i)^More than \S+ rows in a query result`)

// ExecuteQuery runs one DAX query against a semantic model ("" groupID =
// My workspace). A DAX error is an *APIError (400 DatasetExecuteQueriesError
// with the DAX message as its Message); an error the service reports inside a
// 200 answer is a *QueryError, except the row limit, which sets RowLimit
// on a result that holds the rows sent. The request is a POST and is never
// repeated after it may have reached the service.
func (c *Client) ExecuteQuery(ctx context.Context, groupID, datasetID, query string, opts QueryOptions) (QueryResult, error) {
	if err := needID("dataset", datasetID); err != nil {
		return QueryResult{}, err
	}
	req := executeQueriesRequest{Queries: []executeQuery{{Query: query}}, ImpersonatedUserName: opts.ImpersonatedUserName}
	if opts.IncludeNulls {
		req.SerializerSettings = &serializerSettings{IncludeNulls: true}
	}
	var resp executeQueriesResponse
	h, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "executeQueries"), nil, req, &resp)
	if err != nil {
		return QueryResult{}, err
	}
	fail := func(level string, e *queryErrorBody) error {
		return &QueryError{Level: level, Code: e.Code, Message: bound(e.Message, maxMessageLen), RequestID: h.Get("RequestId")}
	}
	if resp.Error != nil {
		return QueryResult{}, fail("response", resp.Error)
	}
	var out QueryResult
	if len(resp.Results) == 0 {
		return out, nil
	}
	res := resp.Results[0]
	if res.Error != nil {
		return QueryResult{}, fail("result", res.Error)
	}
	if len(res.Tables) == 0 {
		return out, nil
	}
	table := res.Tables[0]
	if table.Error != nil {
		if !rowLimitMessage.MatchString(table.Error.Message) {
			return QueryResult{}, fail("table", table.Error)
		}
		out.RowLimit = table.Error.Message
	}
	if err := out.addRows(table.Rows); err != nil {
		return QueryResult{}, fmt.Errorf("pbiclient: executeQueries: decode rows (RequestId %s): %w", h.Get("RequestId"), err)
	}
	return out, nil
}

// addRows turns row objects into positional rows. Columns are taken in
// the order the service wrote them; a column first seen in a later row
// (blank cells are left out without includeNulls) is added at the end.
func (r *QueryResult) addRows(rows []json.RawMessage) error {
	pos := map[string]int{}
	for i, c := range r.Columns {
		pos[c] = i
	}
	for _, raw := range rows {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return fmt.Errorf("a row is not a JSON object")
		}
		row := make([]any, len(r.Columns))
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := t.(string)
			var v any
			if err := dec.Decode(&v); err != nil {
				return err
			}
			i, ok := pos[key]
			if !ok {
				i = len(r.Columns)
				pos[key] = i
				r.Columns = append(r.Columns, key)
				for j := range r.Rows {
					r.Rows[j] = append(r.Rows[j], nil)
				}
				row = append(row, nil)
			}
			row[i] = number(v)
		}
		r.Rows = append(r.Rows, row)
	}
	return nil
}

// number turns a JSON number into int64 when it is whole, float64 otherwise.
func number(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}
