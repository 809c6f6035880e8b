package pbitest

// The demo Sales model's Copilot folder: AI instructions and verified answers, which agents read
// to ground the DAX they write. The folder layout follows Fabric's "SemanticModel definition"
// article (Copilot/Instructions/instructions.md and version.json, Copilot/VerifiedAnswers/,
// schema.json, examplePrompts.json, settings.json, version.json). The article does not name the
// files inside VerifiedAnswers/; here each answer is one JSON file named after it.
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
		"Copilot/schema.json":         []byte(`{"tables":[{"name":"Sales","synonyms":["orders","revenue"]},{"name":"Product","synonyms":["item"]}]}` + "\n"),
	}
}
