package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// get_dataset_schema grounds the DAX an agent writes in what the model's authors said about it:
// the Copilot folder of the model's definition (AI instructions, verified answers, the AI data
// schema and its synonyms), the relationships filters flow along, and on request a few values
// of each column, so that a filter names a value the column really holds.

const (
	maxSampleValues = 5
	// maxSampledColumns bounds the one query that reads sample values, and what it adds to the result.
	maxSampledColumns = 100
	// maxSampleBytes bounds one sample value; a long text says what a column holds in its first words.
	maxSampleBytes = 120
	// sampleDelimiter joins the values CONCATENATEX returns for a column: the ASCII unit
	// separator, which model text does not hold, unlike a comma or a bar.
	sampleDelimiter = "\x1f"
	// copilotTimeout bounds the wait for the definition (a Fabric long-running operation), so that
	// a slow one costs the schema its Copilot parts, not the whole answer.
	copilotTimeout = 30 * time.Second
	// maxAnswerBytes bounds what one verified answer's visual adds when it carries no DAX.
	maxAnswerBytes = 400
)

// CopilotGrounding is what the model's Copilot folder tells an agent about the model.
type CopilotGrounding struct {
	Instructions    string              `json:"instructions,omitempty" jsonschema:"The model's AI instructions (Markdown): how its authors want questions answered; follow them"`
	VerifiedAnswers []VerifiedAnswer    `json:"verifiedAnswers,omitempty" jsonschema:"Questions with the answer the authors verified"`
	Synonyms        map[string][]string `json:"synonyms,omitempty" jsonschema:"Other names users give a table (Table), column (Table[Column]) or measure ([Measure])"`
	AISchema        map[string][]string `json:"aiSchema,omitempty" jsonschema:"The tables in scope for Copilot, each with its columns and [measures] in scope; an empty list means the whole table"`
}

// VerifiedAnswer is one verified answer: the question and what answers it.
type VerifiedAnswer struct {
	Question string `json:"question"`
	Answer   string `json:"answer,omitempty" jsonschema:"The DAX query that answers it, or the visual it shows"`
}

// schemaWithGrounding reads the schema, and alongside it the Copilot folder of the model's
// definition, then adds relationships and, when asked for, sample values.
func schemaWithGrounding(ctx context.Context, d Deps, ws WorkspaceRef, ds ItemRef, samples int) (DatasetSchemaResult, error) {
	// The definition comes from Fabric through a long-running operation; it is asked for while
	// the DAX queries run, and once.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type copilotRead struct {
		g    *CopilotGrounding
		note string
	}
	copilot := make(chan copilotRead, 1)
	go func() {
		g, note := readCopilot(ctx, d.Client, ws, ds)
		copilot <- copilotRead{g, note}
	}()

	res, err := readSchema(ctx, d.Client, ws, ds)
	if err != nil {
		return res, err
	}
	if res.Source == "INFO.VIEW" {
		res.Relationships = readRelationships(ctx, d.Client, ws, ds)
	}
	var notes []string
	if res.Message != "" {
		notes = append(notes, res.Message)
	}
	if samples > 0 {
		if note := readSamples(ctx, d.Client, ws, ds, res.Tables, samples); note != "" {
			notes = append(notes, note)
		}
	}
	var cr copilotRead
	select {
	case cr = <-copilot:
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.Copilot = cr.g
	if cr.note != "" {
		notes = append(notes, cr.note)
	}
	res.Message = strings.Join(notes, " ")
	return res, nil
}

// readCopilot reads the Copilot parts of the model's definition. A model without them gives
// nil and no note; a definition that cannot be read gives nil and a note saying why.
func readCopilot(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef) (*CopilotGrounding, string) {
	const skipped = "No AI instructions or verified answers: "
	if ws.ID == "" {
		return nil, skipped + "they come from the model's definition in the Fabric API, which is not read for models in My workspace."
	}
	ctx, cancel := context.WithTimeout(ctx, copilotTimeout)
	defer cancel()
	def, err := c.GetSemanticModelDefinition(ctx, ws.ID, ds.ID, "")
	var ae *pbiclient.APIError
	switch {
	case err == nil:
	case errors.Is(err, pbiclient.ErrNoFabric):
		return nil, skipped + "the server has no access to the Fabric API, which holds the model's definition."
	case errors.As(err, &ae) && ae.StatusCode > 0:
		answer := fmt.Sprintf("HTTP %d", ae.StatusCode)
		if ae.Code != "" {
			answer += " " + ae.Code
		}
		if ae.StatusCode == 401 || ae.StatusCode == 403 {
			return nil, skipped + "the Fabric API refused to read the model's definition (" + answer + "); it needs read and write permission on the model and a credential Fabric accepts."
		}
		return nil, skipped + "the Fabric API did not give the model's definition (" + answer + ")."
	case errors.As(err, new(*pbiclient.TokenError)):
		// The credential's message speaks of Power BI's token; this one is Fabric's.
		return nil, skipped + "the credential has no token the Fabric API accepts."
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return nil, fmt.Sprintf("%sthe Fabric API did not return the model's definition within %s.", skipped, copilotTimeout)
	default:
		return nil, skipped + "the model's definition could not be read from the Fabric API (" + oneLine(err.Error(), 200) + ")."
	}
	return copilotFromParts(def.Parts), ""
}

// copilotFromParts reads the Copilot folder: Copilot/Instructions/instructions.md,
// Copilot/VerifiedAnswers/*.json and Copilot/schema.json. Microsoft publishes the paths but
// not the JSON inside them, so the JSON is read leniently, by the names its fields are known
// by; a part that does not parse is left out. Nil when the folder holds none of them.
func copilotFromParts(parts []pbiclient.DefinitionPart) *CopilotGrounding {
	g := &CopilotGrounding{}
	var answers []struct {
		path string
		va   VerifiedAnswer
	}
	for _, p := range parts {
		switch {
		case p.Path == "Copilot/Instructions/instructions.md":
			g.Instructions = strings.TrimSpace(string(p.Payload))
		case strings.HasPrefix(p.Path, "Copilot/VerifiedAnswers/") && strings.HasSuffix(p.Path, ".json"):
			if va, ok := verifiedAnswer(p.Path, p.Payload); ok {
				answers = append(answers, struct {
					path string
					va   VerifiedAnswer
				}{p.Path, va})
			}
		case p.Path == "Copilot/schema.json":
			g.AISchema, g.Synonyms = aiSchema(p.Payload)
		}
	}
	sort.Slice(answers, func(i, j int) bool { return answers[i].path < answers[j].path })
	for _, a := range answers {
		g.VerifiedAnswers = append(g.VerifiedAnswers, a.va)
	}
	if g.Instructions == "" && len(g.VerifiedAnswers) == 0 && len(g.AISchema) == 0 && len(g.Synonyms) == 0 {
		return nil
	}
	return g
}

// verifiedAnswer reads one verified answer: its question (or first trigger phrase) and its DAX,
// text answer or visual.
func verifiedAnswer(p string, b []byte) (VerifiedAnswer, bool) {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return VerifiedAnswer{}, false
	}
	va := VerifiedAnswer{Question: firstString(m, "question", "displayName", "name", "title")}
	if va.Question == "" {
		for _, k := range []string{"triggerPhrases", "questions", "triggers", "utterances"} {
			if ts := stringList(m[k]); len(ts) > 0 {
				va.Question = ts[0]
				break
			}
		}
	}
	if va.Question == "" {
		// A file named after its answer, or a folder per answer holding one file.
		name := strings.TrimSuffix(path.Base(p), ".json")
		if dir := path.Base(path.Dir(p)); dir != "VerifiedAnswers" {
			name = dir
		}
		va.Question = name
	}
	va.Answer = firstString(m, "dax", "daxQuery", "query", "answer", "text")
	if va.Answer == "" {
		if v, ok := m["visual"]; ok {
			vb, _ := json.Marshal(v)
			va.Answer = "visual " + oneLine(string(vb), maxAnswerBytes)
		}
	}
	return va, true
}

// aiSchema reads Copilot/schema.json: the tables in scope, with the columns and measures in
// scope, and the synonyms of each.
func aiSchema(b []byte) (scope map[string][]string, synonyms map[string][]string) {
	var doc map[string]any
	if json.Unmarshal(b, &doc) != nil {
		return nil, nil
	}
	scope, synonyms = map[string][]string{}, map[string][]string{}
	addSynonyms := func(key string, v any) {
		if s := stringList(v); len(s) > 0 {
			synonyms[key] = s
		}
	}
	for _, t := range objects(doc["tables"], doc["entities"]) {
		table := firstString(t, "name")
		if table == "" {
			continue
		}
		fields := []string{}
		addSynonyms(table, t["synonyms"])
		for _, c := range objects(t["columns"], t["fields"]) {
			if name := firstString(c, "name"); name != "" {
				fields = append(fields, name)
				addSynonyms(table+"["+name+"]", c["synonyms"])
			}
		}
		for _, ms := range objects(t["measures"]) {
			if name := firstString(ms, "name"); name != "" {
				fields = append(fields, "["+name+"]")
				addSynonyms("["+name+"]", ms["synonyms"])
			}
		}
		scope[table] = fields
	}
	if len(scope) == 0 {
		scope = nil
	}
	if len(synonyms) == 0 {
		synonyms = nil
	}
	return scope, synonyms
}

// objects gathers the JSON objects of the arrays given.
func objects(arrays ...any) []map[string]any {
	var out []map[string]any
	for _, a := range arrays {
		items, _ := a.([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// firstString is the first of keys that holds a non-empty string.
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// stringList reads a list of strings, or of objects naming one ({"text": ...}).
func stringList(v any) []string {
	items, _ := v.([]any)
	var out []string
	for _, it := range items {
		switch it := it.(type) {
		case string:
			if s := strings.TrimSpace(it); s != "" {
				out = append(out, s)
			}
		case map[string]any:
			if s := firstString(it, "text", "value", "name"); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// readRelationships lists the model's relationships from INFO.VIEW.RELATIONSHIPS(), as
// 'From'[Column] → 'To'[Column] (cardinality, cross-filter direction[, inactive]). A service that
// does not answer the query costs the schema its relationships, not the answer.
func readRelationships(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef) []string {
	qr, err := c.ExecuteQuery(ctx, ws.ID, ds.ID, "EVALUATE INFO.VIEW.RELATIONSHIPS()", pbiclient.QueryOptions{IncludeNulls: true})
	if err != nil {
		return nil
	}
	card := map[string]string{"One": "one", "Many": "many"}
	var out []string
	for _, r := range rowsOf(qr) {
		from, to := r.str("FromTable"), r.str("ToTable")
		if from == "" || to == "" {
			continue
		}
		s := daxColumn(from, r.str("FromColumn")) + " → " + daxColumn(to, r.str("ToColumn"))
		var props []string
		if f, t := card[r.str("FromCardinality")], card[r.str("ToCardinality")]; f != "" && t != "" {
			props = append(props, f+"-to-"+t)
		}
		switch r.str("CrossFilteringBehavior") {
		case "OneDirection":
			props = append(props, "single")
		case "BothDirections":
			props = append(props, "both directions")
		}
		if active, ok := r.get("IsActive").(bool); ok && !active {
			props = append(props, "inactive: USERELATIONSHIP")
		}
		if len(props) > 0 {
			s += " (" + strings.Join(props, ", ") + ")"
		}
		out = append(out, s)
	}
	return out
}

// daxColumn is a column reference DAX takes whatever the names hold: 'Table'[Column].
func daxColumn(table, column string) string {
	return "'" + strings.ReplaceAll(table, "'", "''") + "'[" + strings.ReplaceAll(column, "]", "]]") + "]"
}

// readSamples adds to each visible column up to n of its distinct non-blank values (the
// smallest, so that the same values come back each time), read by one DAX query: a ROW with a
// CONCATENATEX over TOPN(n, DISTINCT(column)) per column. It returns a note when values could
// not be read or not for every column.
func readSamples(ctx context.Context, c *pbiclient.Client, ws WorkspaceRef, ds ItemRef, tables []SchemaTable, n int) string {
	n = min(n, maxSampleValues)
	type target struct{ t, c int }
	var targets []target
	var b strings.Builder
	more := 0
	for ti, t := range tables {
		for ci, col := range t.Columns {
			// Hidden columns are keys and helpers; binary ones (images) have no text to show.
			if col.IsHidden || col.DataType == "Binary" {
				continue
			}
			if len(targets) == maxSampledColumns {
				more++
				continue
			}
			ref := daxColumn(t.Name, col.Name)
			if len(targets) == 0 {
				b.WriteString("EVALUATE ROW(")
			} else {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `"c%d", CONCATENATEX(TOPN(%d, FILTER(DISTINCT(%s), NOT(ISBLANK(%s))), %s, ASC), %s, "%s", %s, ASC)`,
				len(targets), n, ref, ref, ref, ref, sampleDelimiter, ref)
			targets = append(targets, target{ti, ci})
		}
	}
	if len(targets) == 0 {
		return ""
	}
	b.WriteString(")")
	qr, err := c.ExecuteQuery(ctx, ws.ID, ds.ID, b.String(), pbiclient.QueryOptions{IncludeNulls: true})
	if err != nil {
		msg := err.Error()
		var qe *pbiclient.QueryError
		if errors.As(err, &qe) && qe.Message != "" {
			msg = qe.Message
		}
		return "Sample values could not be read: " + oneLine(msg, 300)
	}
	rows := rowsOf(qr)
	if len(rows) == 0 {
		return ""
	}
	for i, tg := range targets {
		s := rows[0].str(fmt.Sprintf("c%d", i))
		if s == "" {
			continue
		}
		vals := strings.Split(s, sampleDelimiter)
		for j, v := range vals {
			vals[j] = oneLine(v, maxSampleBytes)
		}
		t := &tables[tg.t]
		if t.Samples == nil {
			t.Samples = map[string][]string{}
		}
		t.Samples[t.Columns[tg.c].Name] = vals
	}
	if more > 0 {
		return fmt.Sprintf("Sample values are given for the first %d visible columns; %d more have none here (query them with execute_dax_query).", maxSampledColumns, more)
	}
	return ""
}
