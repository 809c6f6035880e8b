package pbitest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

// Limits of executeQueries [swagger Datasets_ExecuteQueries "Limitations"].
const (
	maxQueryRows   = 100_000
	maxQueryValues = 1_000_000
)

func (s *Server) daxRoutes() {
	s.handleBoth("POST", "/datasets/{datasetId}/executeQueries", s.executeQueries)
	s.handleBoth("POST", "/datasets/{datasetId}/executeDaxQueries", s.executeDAXQueries) // dax_arrow.go
}

type executeQueriesRequest struct {
	Queries []struct {
		Query string `json:"query"`
	} `json:"queries"`
	SerializerSettings *struct {
		IncludeNulls bool `json:"includeNulls"`
	} `json:"serializerSettings"`
	ImpersonatedUserName string `json:"impersonatedUserName"`
}

type queryError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type queryTable struct {
	Rows  []orderedObject `json:"rows"`
	Error *queryError     `json:"error,omitempty"`
}

type queryResult struct {
	Tables []queryTable `json:"tables"`
	Error  *queryError  `json:"error,omitempty"`
}

// executeQueries runs one DAX query. DAX errors answer 400
// DatasetExecuteQueriesError; results over the row limit and queries with
// more than one EVALUATE answer 200 with what fits plus an error, as the
// service does. A model with row-level security answers with the rows the
// caller may see, or refuses (see rls.go).
func (s *Server) executeQueries(w http.ResponseWriter, r *http.Request) {
	if s.tenantSettings().refuseExecQueries {
		writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
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
	includeNulls := req.SerializerSettings != nil && req.SerializerSettings.IncludeNulls

	s.mu.Lock()
	defer s.mu.Unlock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		return
	}
	fillPendingRows(d.model) // demo rows made on first use (seed_orders.go)
	model := d.model
	if model == nil {
		model = &Model{}
	}
	if model = s.queryModel(w, r, groupID, d, model, req.ImpersonatedUserName); model == nil {
		return
	}
	tables, err := runQuery(model, req.Queries[0].Query)
	var de *daxError
	if errors.As(err, &de) {
		writeDAXError(w, de.msg)
		return
	}
	if err != nil {
		writeServerError(w)
		return
	}
	result := queryResult{Tables: []queryTable{serializeTable(tables[0], includeNulls)}}
	if len(tables) > 1 {
		result.Error = &queryError{Code: "DatasetExecuteQueriesError", Message: "More than one result table in a query"}
	}
	writeJSON(w, http.StatusOK, map[string][]queryResult{"results": {result}})
}

func writeDAXError(w http.ResponseWriter, msg string) {
	writePBIError(w, http.StatusBadRequest, "DatasetExecuteQueriesError", detailsMessage(msg),
		pbiDetail{Code: "AnalysisServicesErrorCode", Detail: pbiDetailDetail{Type: 1, Value: "3239575574"}})
}

// serializeTable writes rows as objects keyed Table[Column] or [Name],
// leaving blanks out unless includeNulls, and stops at the row limit.
func serializeTable(t *resultTable, includeNulls bool) queryTable {
	limit := min(maxQueryRows, maxQueryValues/max(len(t.cols), 1))
	out := queryTable{Rows: make([]orderedObject, 0, min(len(t.rows), limit))}
	for i, row := range t.rows {
		if i == limit {
			out.Error = &queryError{Code: "DatasetExecuteQueriesError",
				Message: fmt.Sprintf("More than %d rows in a query result", limit)}
			break
		}
		obj := orderedObject{}
		for j, col := range t.cols {
			if row[j] == nil && !includeNulls {
				continue
			}
			obj = append(obj, struct {
				key   string
				value any
			}{col.key(), jsonValue(row[j])})
		}
		out.Rows = append(out.Rows, obj)
	}
	return out
}

// jsonValue writes dates as the service does: ISO 8601 without a zone.
func jsonValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.Format("2006-01-02T15:04:05")
	}
	return v
}

// Demo model sizes; tests recompute expected figures from the rows.
const (
	demoDays     = 182 // 1 January to 30 June 2024
	demoSalesRow = 300
)

// seedModel gives the demo semantic models their tables and measures.
// "Sales" is a small star schema; "Finance KPIs" refuses INFO functions,
// as some models and callers do, so schema fallbacks can be tried.
func (s *Server) seedModel() {
	s.SetModel(DemoSalesDatasetID, DemoSalesModel())
	s.SetModel(DemoFinanceKPIsDatasetID, Model{
		RefuseInfoFunctions: true,
		Tables: []*Table{{
			Name:    "KPI",
			Columns: []Column{{Name: "Month", DataType: TypeString}, {Name: "Revenue", DataType: TypeDouble}, {Name: "Cost", DataType: TypeDouble}},
			Rows: [][]any{
				{"2024-01", 412000.0, 301500.0}, {"2024-02", 398250.0, 296100.0}, {"2024-03", 455900.0, 322400.0},
				{"2024-04", 441300.0, 318750.0}, {"2024-05", 470120.0, 331900.0}, {"2024-06", 489600.0, 340250.0},
			},
		}},
		Measures: []Measure{{Table: "KPI", Name: "Margin", Expression: "DIVIDE(SUM(KPI[Revenue]) - SUM(KPI[Cost]), SUM(KPI[Revenue]))", FormatString: "0.0%"}},
	})
	s.SetModel(DemoPersonalBudgetDatasetID, Model{
		Tables: []*Table{{
			Name:    "Budget",
			Columns: []Column{{Name: "Category", DataType: TypeString}, {Name: "Planned", DataType: TypeDouble}, {Name: "Spent", DataType: TypeDouble}},
			Rows: [][]any{
				{"Rent", 1200.0, 1200.0}, {"Groceries", 450.0, 512.35}, {"Transport", 120.0, 96.4},
				{"Utilities", 180.0, 171.2}, {"Leisure", 200.0, nil},
			},
		}},
		Measures: []Measure{{Table: "Budget", Name: "Remaining", Expression: "SUM(Budget[Planned]) - SUM(Budget[Spent])", FormatString: "#,0.00"}},
	})
}

// DemoSalesModel returns the model of the demo "Sales" dataset: Date,
// Product, Customer and Sales tables (300 order lines, January to June
// 2024) and measures such as [Total Sales], [Order Count] and
// [Average Price]. Every value follows from the row number, so the model
// is the same on every run.
func DemoSalesModel() Model {
	start := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
	dates := &Table{Name: "Date", Columns: []Column{
		{Name: "Date", DataType: TypeDateTime}, {Name: "Year", DataType: TypeInt64},
		{Name: "Quarter", DataType: TypeString}, {Name: "Month", DataType: TypeString},
		{Name: "MonthNumber", DataType: TypeInt64, IsHidden: true},
	}}
	for i := range demoDays {
		d := start.AddDate(0, 0, i)
		dates.Rows = append(dates.Rows, []any{d, int64(d.Year()), fmt.Sprintf("Q%d", (int(d.Month())+2)/3),
			d.Month().String()[:3], int64(d.Month())})
	}
	type product struct {
		name, category, color string
		price                 float64
	}
	productList := []product{
		{"Road-150 Red", "Bikes", "Red", 3578.27}, {"Road-650 Black", "Bikes", "Black", 699.10},
		{"Mountain-200 Silver", "Bikes", "Silver", 2319.99}, {"Touring-1000 Blue", "Bikes", "Blue", 2384.07},
		{"Sport-100 Helmet", "Accessories", "Red", 34.99}, {"Water Bottle", "Accessories", "", 4.99},
		{"Patch Kit", "Accessories", "", 2.29}, {"Mountain Bottle Cage", "Accessories", "Black", 9.99},
		{"Classic Vest", "Clothing", "Blue", 63.50}, {"Long-Sleeve Jersey", "Clothing", "Multi", 49.99},
		{"Half-Finger Gloves", "Clothing", "Black", 24.49}, {"Racing Socks", "Clothing", "White", 8.99},
	}
	products := &Table{Name: "Product", Columns: []Column{
		{Name: "ProductKey", DataType: TypeInt64, IsHidden: true}, {Name: "Product", DataType: TypeString},
		{Name: "Category", DataType: TypeString}, {Name: "Color", DataType: TypeString},
		{Name: "List Price", DataType: TypeDecimal},
	}}
	for i, p := range productList {
		var color any = p.color
		if p.color == "" {
			color = nil
		}
		products.Rows = append(products.Rows, []any{int64(i + 1), p.name, p.category, color, p.price})
	}
	customerList := [][2]string{
		{"Contoso Cycles", "Seattle"}, {"Fabrikam Sports", "London"}, {"Northwind Outfitters", "Berlin"},
		{"Adventure Works Store", "Paris"}, {"Tailspin Bikes", "Toronto"}, {"Wingtip Toys", "Sydney"},
		{"Proseware Retail", "Madrid"}, {"Litware Outdoor", "Tokyo"},
	}
	countries := map[string]string{"Seattle": "United States", "London": "United Kingdom", "Berlin": "Germany",
		"Paris": "France", "Toronto": "Canada", "Sydney": "Australia", "Madrid": "Spain", "Tokyo": "Japan"}
	customers := &Table{Name: "Customer", Columns: []Column{
		{Name: "CustomerKey", DataType: TypeInt64, IsHidden: true}, {Name: "Customer", DataType: TypeString},
		{Name: "City", DataType: TypeString}, {Name: "Country", DataType: TypeString},
	}}
	for i, c := range customerList {
		customers.Rows = append(customers.Rows, []any{int64(i + 1), c[0], c[1], countries[c[1]]})
	}
	sales := &Table{Name: "Sales", Columns: []Column{
		{Name: "OrderNumber", DataType: TypeString}, {Name: "OrderDate", DataType: TypeDateTime},
		{Name: "ProductKey", DataType: TypeInt64, IsHidden: true}, {Name: "CustomerKey", DataType: TypeInt64, IsHidden: true},
		{Name: "Quantity", DataType: TypeInt64}, {Name: "Unit Price", DataType: TypeDecimal},
		{Name: "Sales Amount", DataType: TypeDecimal},
	}}
	for i := range demoSalesRow {
		order := i / 2 // two lines per order
		p := productList[(i*5+i/7)%len(productList)]
		qty := int64(1 + (i*11)%5)
		sales.Rows = append(sales.Rows, []any{
			fmt.Sprintf("SO%d", 43001+order),
			start.AddDate(0, 0, (order*13)%demoDays),
			int64((i*5+i/7)%len(productList) + 1),
			int64((order*3)%len(customerList) + 1),
			qty, p.price, math.Round(float64(qty)*p.price*100) / 100,
		})
	}
	return Model{
		Tables: []*Table{dates, products, customers, sales},
		Measures: []Measure{
			{Table: "Sales", Name: "Total Sales", Expression: "SUM(Sales[Sales Amount])", FormatString: `\$#,0.00`},
			{Table: "Sales", Name: "Total Quantity", Expression: "SUM(Sales[Quantity])", FormatString: "#,0"},
			{Table: "Sales", Name: "Order Count", Expression: "DISTINCTCOUNT(Sales[OrderNumber])", FormatString: "#,0"},
			{Table: "Sales", Name: "Average Price", Expression: "DIVIDE([Total Sales], [Total Quantity])", FormatString: `\$#,0.00`,
				Description: "Sales amount per unit sold"},
			{Table: "Sales", Name: "Bike Sales", Expression: `CALCULATE([Total Sales], Product[Category] = "Bikes")`, FormatString: `\$#,0.00`},
		},
		Relationships: []Relationship{
			{FromTable: "Sales", FromColumn: "OrderDate", ToTable: "Date", ToColumn: "Date"},
			{FromTable: "Sales", FromColumn: "ProductKey", ToTable: "Product", ToColumn: "ProductKey"},
			{FromTable: "Sales", FromColumn: "CustomerKey", ToTable: "Customer", ToColumn: "CustomerKey"},
		},
	}
}
