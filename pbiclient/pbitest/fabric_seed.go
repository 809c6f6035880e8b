package pbitest

// The demo Sales model's Copilot folder: AI instructions and verified answers, which agents read
// to ground the DAX they write. The folder layout follows Fabric's "SemanticModel definition"
// article (Copilot/Instructions/instructions.md and version.json, Copilot/VerifiedAnswers/,
// schema.json, examplePrompts.json, settings.json, version.json). The article does not name the
// files inside VerifiedAnswers/ nor publish the JSON inside them or schema.json; here each answer
// is one JSON file named after it, and schema.json lists tables with their columns, measures and
// synonyms. The Order Lines table is left out of the AI data schema on purpose.
func demoCopilotParts() map[string][]byte {
	return map[string][]byte{
		"Copilot/version.json":              []byte(`{"version":"1.0.0"}` + "\n"),
		"Copilot/settings.json":             []byte(`{"isPreparedForAI":true}` + "\n"),
		"Copilot/Instructions/version.json": []byte(`{"version":"1.0.0"}` + "\n"),
		"Copilot/Instructions/instructions.md": []byte(`# Sales model: instructions for Copilot

- "Sales" means [Total Sales] (the Sales Amount column, which already includes quantity).
- Fiscal questions use the calendar year: Date[Year], Date[Quarter] and Date[Month].
- Bikes are Product[Category] = "Bikes"; use [Bike Sales] rather than filtering by hand.
- Average price is [Average Price], sales per unit, never an average of Unit Price.
`),
		"Copilot/VerifiedAnswers/total-sales-by-category.json": []byte(`{
  "question": "What are total sales by product category?",
  "dax": "EVALUATE SUMMARIZECOLUMNS(Product[Category], \"Total Sales\", [Total Sales])"
}
`),
		"Copilot/VerifiedAnswers/orders-per-year.json": []byte(`{
  "question": "How many orders were placed each year?",
  "dax": "EVALUATE SUMMARIZECOLUMNS(Date[Year], \"Orders\", [Order Count])"
}
`),
		"Copilot/examplePrompts.json": []byte(`{"prompts":["Which customers bought the most bikes?","Total sales by quarter"]}` + "\n"),
		// The AI data schema: the tables, columns and measures in scope for Copilot (a table
		// without columns is in scope whole), with the synonyms each is known by.
		"Copilot/schema.json": []byte(`{
  "tables": [
    {"name": "Sales", "synonyms": ["orders", "revenue"],
     "columns": [{"name": "OrderDate", "synonyms": ["order date", "sold on"]}, {"name": "Quantity", "synonyms": ["units"]}, {"name": "Sales Amount"}],
     "measures": [{"name": "Total Sales", "synonyms": ["sales", "turnover"]}, {"name": "Order Count"}, {"name": "Average Price"}, {"name": "Bike Sales"}]},
    {"name": "Product", "synonyms": ["item"], "columns": [{"name": "Product"}, {"name": "Category", "synonyms": ["product line"]}, {"name": "Color"}]},
    {"name": "Customer"},
    {"name": "Date"}
  ]
}
`),
	}
}
