package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Semantic model definitions (TMDL), through the Fabric REST API: read them, and edit them
// safely. Every edit reads the current definition, changes it here, checks that it still reads
// as TMDL, shows the change as a unified diff and asks; once agreed, it saves the definition as
// it was under the export directory, sends the edit, follows the service's long-running
// operation and reads the definition back.

type definitionArgs struct {
	Workspace string `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Dataset   string `json:"dataset" schema:"$dataset" required:"true"`
	Part      string `json:"part" jsonschema:"Path of one part to return its text"`
}

type measureArg struct {
	Table         string `json:"table" required:"true" minLength:"1"`
	Name          string `json:"name" required:"true" minLength:"1"`
	Expression    string `json:"expression" jsonschema:"DAX" required:"true" minLength:"1"`
	FormatString  string `json:"format_string"`
	Description   string `json:"description"`
	DisplayFolder string `json:"display_folder"`
}

type upsertMeasuresArgs struct {
	Workspace string       `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Dataset   string       `json:"dataset" schema:"$dataset" required:"true"`
	Measures  []measureArg `json:"measures" required:"true" minItems:"1" maxItems:"100"`
	Confirm   bool         `json:"confirm" schema:"$confirm"`
}

type measureRefArg struct {
	Table string `json:"table" required:"true" minLength:"1"`
	Name  string `json:"name" required:"true" minLength:"1"`
}

type deleteMeasuresArgs struct {
	Workspace string          `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Dataset   string          `json:"dataset" schema:"$dataset" required:"true"`
	Measures  []measureRefArg `json:"measures" required:"true" minItems:"1" maxItems:"100"`
	Confirm   bool            `json:"confirm" schema:"$confirm"`
}

type partArg struct {
	Path string `json:"path" required:"true" minLength:"1"`
	Text string `json:"text" required:"true"`
}

type updateDefinitionArgs struct {
	Workspace string    `json:"workspace" schema:"$requiredWorkspace" required:"true"`
	Dataset   string    `json:"dataset" schema:"$dataset" required:"true"`
	Parts     []partArg `json:"parts" required:"true" minItems:"1" maxItems:"50"`
	Confirm   bool      `json:"confirm" schema:"$confirm"`
}

// DefinitionPart is one file of a definition.
type DefinitionPart struct {
	Path  string `json:"path"`
	Bytes int    `json:"bytes"`
}

// TableMeasures names a table and its measures.
type TableMeasures struct {
	Table    string   `json:"table"`
	Measures []string `json:"measures"`
}

// DatasetDefinitionResult is the answer of get_dataset_definition.
type DatasetDefinitionResult struct {
	Workspace WorkspaceRef     `json:"workspace"`
	Dataset   ItemRef          `json:"dataset"`
	Format    string           `json:"format"`
	Parts     []DefinitionPart `json:"parts"`
	Tables    []TableMeasures  `json:"tables,omitempty"`
	Part      string           `json:"part,omitempty"`
	Text      string           `json:"text,omitempty"`
	File      *FileRef         `json:"file,omitempty"`
	Message   string           `json:"message,omitempty"`
}

func (r DatasetDefinitionResult) writtenFiles() []FileRef {
	if r.File == nil {
		return nil
	}
	return []FileRef{*r.File}
}

// Measure is a measure as the definition holds it.
type Measure struct {
	Table         string `json:"table"`
	Name          string `json:"name"`
	Expression    string `json:"expression"`
	FormatString  string `json:"formatString,omitempty"`
	DisplayFolder string `json:"displayFolder,omitempty"`
	Description   string `json:"description,omitempty"`
}

// ModelEditResult is the answer of the tools that edit a definition.
type ModelEditResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Dataset   ItemRef      `json:"dataset"`
	Applied   bool         `json:"applied"`
	Diff      string       `json:"diff"`
	// Backup is the folder holding the definition as it was, and the whole diff.
	Backup   string    `json:"backup,omitempty"`
	DiffFile *FileRef  `json:"diffFile,omitempty"`
	Measures []Measure `json:"measures,omitempty"`
	Message  string    `json:"message"`
}

func (r ModelEditResult) writtenFiles() []FileRef {
	if r.DiffFile == nil {
		return nil
	}
	return []FileRef{*r.DiffFile}
}

func modelingTools(d Deps) []Tool {
	return []Tool{
		tool(d, "modeling", "read the semantic model definition", getDatasetDefinition, mcp.NewTool("get_dataset_definition",
			mcp.WithDescription("Read a semantic model's TMDL definition: its parts and each table's measures; with part, that part's text."),
			annotations("Semantic model definition", true, false, true))),
		tool(d, "modeling", "add or change measures", upsertMeasures, mcp.NewTool("upsert_measures",
			mcp.WithDescription("Add measures to a semantic model's tables, or change them (omitted properties keep their values)."),
			annotations("Add or change measures", false, false, true))).followsJobs(),
		tool(d, "modeling", "delete measures", deleteMeasures, mcp.NewTool("delete_measures",
			mcp.WithDescription("Delete measures from a semantic model; visuals and measures that use them break."),
			annotations("Delete measures", false, true, true))).followsJobs(),
		tool(d, "modeling", "update the semantic model definition", updateDatasetDefinition, mcp.NewTool("update_dataset_definition",
			mcp.WithDescription("Replace or add whole parts of a semantic model's definition (get_dataset_definition reads them)."),
			annotations("Update a semantic model definition", false, true, true))).followsJobs(),
	}
}

// getDatasetDefinition is get_dataset_definition.
func getDatasetDefinition(ctx context.Context, d Deps, a definitionArgs) (DatasetDefinitionResult, error) {
	ws, ds, def, err := readDefinition(ctx, d, a.Workspace, a.Dataset)
	if err != nil {
		return DatasetDefinitionResult{}, err
	}
	res := DatasetDefinitionResult{Workspace: ws, Dataset: ds, Format: cmp.Or(def.Format, "TMDL"), Parts: []DefinitionPart{}}
	for _, p := range def.Parts {
		res.Parts = append(res.Parts, DefinitionPart{Path: p.Path, Bytes: len(p.Payload)})
	}
	if a.Part == "" {
		tables, unread := tablesOf(def)
		for _, t := range tables {
			tm := TableMeasures{Table: t.Name, Measures: []string{}}
			for _, m := range t.Measures {
				tm.Measures = append(tm.Measures, m.Name)
			}
			res.Tables = append(res.Tables, tm)
		}
		if len(unread) > 0 {
			res.Message = "These table parts could not be read for their measures: " + strings.Join(unread, "; ")
		}
		return res, nil
	}
	p := def.Part(a.Part)
	if p == nil {
		return res, userErrorf("The definition has no part %q; its parts are listed in parts. Call again with one of those paths.", a.Part)
	}
	res.Part, res.Text = p.Path, string(p.Payload)
	// A part too large for the result goes to a file as well; the text is then cut to fit.
	if len(p.Payload) > d.maxResultBytes()/2 {
		stem := fileStem(ds.Name) + "-" + fileStem(strings.TrimSuffix(filepath.Base(p.Path), filepath.Ext(p.Path)))
		fp, err := newExportFile(d, stem, ".tmdl", func(w io.Writer) error { _, err := w.Write(p.Payload); return err })
		if err != nil {
			return res, err
		}
		ref := fileRef(fp, int64(len(p.Payload)))
		res.File = &ref
		res.Message = "The part is larger than a result holds: the whole text is in file."
	}
	return res, nil
}

// upsertMeasures is upsert_measures.
func upsertMeasures(ctx context.Context, d Deps, a upsertMeasuresArgs) (ModelEditResult, error) {
	var names []string
	for _, m := range a.Measures {
		names = append(names, quoteName(m.Name))
	}
	return editDefinition(ctx, d, a.Workspace, a.Dataset, a.Confirm, "add or change the measures "+strings.Join(names, ", "),
		func(def *pbiclient.SemanticModelDefinition) (map[string][]byte, error) {
			return measureEdits(def, len(a.Measures), func(i int) (string, string, *measureArg) {
				return a.Measures[i].Table, a.Measures[i].Name, &a.Measures[i]
			})
		})
}

// deleteMeasures is delete_measures.
func deleteMeasures(ctx context.Context, d Deps, a deleteMeasuresArgs) (ModelEditResult, error) {
	var names []string
	for _, m := range a.Measures {
		names = append(names, quoteName(m.Table)+"["+m.Name+"]")
	}
	return editDefinition(ctx, d, a.Workspace, a.Dataset, a.Confirm, "delete the measures "+strings.Join(names, ", "),
		func(def *pbiclient.SemanticModelDefinition) (map[string][]byte, error) {
			return measureEdits(def, len(a.Measures), func(i int) (string, string, *measureArg) {
				return a.Measures[i].Table, a.Measures[i].Name, nil
			})
		})
}

// definitionPath is where parts of a TMDL definition live (Fabric's "SemanticModel
// definition" article): definition.pbism, diagramLayout.json, definition/*.tmdl, the
// tables, roles, cultures and perspectives folders, and the Copilot folder.
var definitionPath = regexp.MustCompile(`^(definition\.pbism|diagramLayout\.json|definition/[^/\\]+\.tmdl|definition/(tables|roles|cultures|perspectives)/[^/\\]+\.tmdl|Copilot/([^/\\]+/)*[^/\\]+)$`)

// updateDatasetDefinition is update_dataset_definition.
func updateDatasetDefinition(ctx context.Context, d Deps, a updateDefinitionArgs) (ModelEditResult, error) {
	var paths []string
	for _, p := range a.Parts {
		if !definitionPath.MatchString(p.Path) || slices.Contains(strings.Split(p.Path, "/"), "..") || slices.Contains(strings.Split(p.Path, "/"), ".") {
			return ModelEditResult{}, userErrorf("The part path %q is outside a TMDL definition's layout (definition.pbism, definition/model.tmdl, definition/tables/<Table>.tmdl, definition/roles|cultures|perspectives/<name>.tmdl, Copilot/...). Nothing was sent.", p.Path)
		}
		if slices.Contains(paths, p.Path) {
			return ModelEditResult{}, userErrorf("The part %s is given twice. Nothing was sent.", p.Path)
		}
		paths = append(paths, p.Path)
	}
	return editDefinition(ctx, d, a.Workspace, a.Dataset, a.Confirm, "replace the parts "+strings.Join(paths, ", "),
		func(def *pbiclient.SemanticModelDefinition) (map[string][]byte, error) {
			changed := map[string][]byte{}
			for _, p := range a.Parts {
				changed[p.Path] = []byte(p.Text)
			}
			return changed, nil
		})
}

// readDefinition resolves the workspace and model and reads the model's TMDL definition.
func readDefinition(ctx context.Context, d Deps, workspace, dataset string) (WorkspaceRef, ItemRef, *pbiclient.SemanticModelDefinition, error) {
	ws, err := resolveWorkspace(ctx, d.Client, workspace)
	if err == nil && ws.MyWorkspace {
		err = userErrorf("A workspace is required: model definitions are read and written through the Fabric API, which this server reaches by workspace. Pass a workspace id or name from list_workspaces.")
	}
	if err != nil {
		return ws, ItemRef{}, nil, err
	}
	ds, err := resolveDataset(ctx, d.Client, ws, dataset)
	if err != nil {
		return ws, ds, nil, err
	}
	def, err := d.Client.GetSemanticModelDefinition(ctx, ws.ID, ds.ID, "TMDL")
	if err != nil {
		return ws, ds, nil, fabricFailure("read the definition of "+itemLabel(ds), err)
	}
	return ws, ds, def, nil
}

// fabricFailure explains what the Fabric API needs when it cannot be used: a credential for it,
// or permissions. Other errors pass as they are.
func fabricFailure(action string, err error) error {
	var ae *pbiclient.APIError
	switch {
	case errors.Is(err, pbiclient.ErrNoFabric) || errors.Is(err, auth.ErrNoFabric):
		return userErrorf("Could not %s: model definitions are read and written through the Fabric REST API (https://api.fabric.microsoft.com), and this server has no credential for it (%v). "+
			"Next: the user must sign the server in with a credential that can get tokens for the scope https://api.fabric.microsoft.com/.default (a service principal, managed identity, device code or azure-cli; not a pre-acquired Power BI token) and restart it.", action, err)
	case errors.As(err, &ae) && (ae.StatusCode == 401 || ae.StatusCode == 403) && ae.Code != "TokenExpired":
		return userErrorf("Could not %s: the Fabric API answered HTTP %d %s: %s (RequestId %s). Nothing was changed. "+
			"Next: for a service principal, a Fabric administrator must enable the tenant setting 'Service principals can use Fabric APIs' for a security group that holds it; "+
			"and the identity needs the Contributor role or higher in the workspace.", action, ae.StatusCode, ae.Code, strings.TrimSuffix(ae.Message, "."), cmp.Or(ae.RequestID, "none"))
	}
	return err
}

// tablesOf reads the table parts of a definition, in path order; unread lists those that do
// not read, with why.
func tablesOf(def *pbiclient.SemanticModelDefinition) (tables []*tmdlTable, unread []string) {
	for _, p := range sortedParts(def) {
		if !strings.HasPrefix(p.Path, "definition/tables/") || !strings.HasSuffix(p.Path, ".tmdl") {
			continue
		}
		t, err := parseTableTMDL(p.Path, string(p.Payload))
		if err != nil {
			unread = append(unread, err.Error())
			continue
		}
		t.path = p.Path
		tables = append(tables, t)
	}
	return tables, unread
}

func sortedParts(def *pbiclient.SemanticModelDefinition) []pbiclient.DefinitionPart {
	parts := slices.Clone(def.Parts)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Path < parts[j].Path })
	return parts
}

// measureEdits applies n measure changes to the table parts of def: item i names a table and a
// measure, and the measure's new form (nil: delete it). Unknown tables and measures are errors
// that name what exists.
func measureEdits(def *pbiclient.SemanticModelDefinition, n int, item func(i int) (table, name string, m *measureArg)) (map[string][]byte, error) {
	tables, unread := tablesOf(def)
	var tableNames []string
	for _, t := range tables {
		tableNames = append(tableNames, quoteName(t.Name))
	}
	changed := map[string][]byte{}
	seen := map[string]bool{}
	for i := range n {
		tableName, name, m := item(i)
		key := strings.ToLower(name)
		if seen[key] {
			return nil, userErrorf("The measure %s is named twice in measures. Nothing was sent.", quoteName(name))
		}
		seen[key] = true
		ti := slices.IndexFunc(tables, func(t *tmdlTable) bool { return strings.EqualFold(t.Name, tableName) })
		if ti < 0 {
			msg := fmt.Sprintf("The model has no table %s; its tables: %s.", quoteName(tableName), strings.Join(tableNames, ", "))
			if len(unread) > 0 {
				msg += " These table parts could not be read: " + strings.Join(unread, "; ") + "."
			}
			return nil, userErrorf("%s Nothing was sent.", msg)
		}
		t := tables[ti]
		// Measure names are unique in the whole model, not only in their table.
		for _, o := range tables {
			if o != t && o.measureByName(name) >= 0 {
				return nil, userErrorf("The measure %s is in the table %s, not %s (measure names are unique in a model). Nothing was sent.", quoteName(name), quoteName(o.Name), quoteName(t.Name))
			}
		}
		at := t.measureByName(name)
		if m == nil {
			if at < 0 {
				return nil, userErrorf("The table %s has no measure %s; its measures: %s. Nothing was sent.", quoteName(t.Name), quoteName(name), measureNames(t))
			}
			changed[t.path] = []byte(t.setMeasure(at, nil))
		} else {
			if err := checkDAX(m.Expression); err != nil {
				return nil, userErrorf("The measure %s was not sent: %v. Nothing was changed.", quoteName(name), err)
			}
			nm := tmdlMeasure{Name: name, Expression: m.Expression, FormatString: m.FormatString, DisplayFolder: m.DisplayFolder, Description: m.Description}
			if at >= 0 {
				old := t.Measures[at]
				nm.FormatString = cmp.Or(nm.FormatString, old.FormatString)
				nm.DisplayFolder = cmp.Or(nm.DisplayFolder, old.DisplayFolder)
				nm.Description = cmp.Or(nm.Description, old.Description)
				nm.props = old.props
			}
			changed[t.path] = []byte(t.setMeasure(at, &nm))
		}
		// The next change to this table reads the file as it is now.
		nt, err := parseTableTMDL(t.path, string(changed[t.path]))
		if err != nil {
			return nil, userErrorf("The edited table %s does not read as TMDL: %v. Nothing was sent.", quoteName(t.Name), err)
		}
		nt.path = t.path
		tables[ti] = nt
	}
	return changed, nil
}

func measureNames(t *tmdlTable) string {
	if len(t.Measures) == 0 {
		return "none"
	}
	var names []string
	for _, m := range t.Measures {
		names = append(names, quoteName(m.Name))
	}
	return strings.Join(names, ", ")
}

// diffShare is the share of the result budget a diff may take in a result or a question
// (1/diffShare); the whole diff is in the backup folder and in a file of its own.
const diffShare = 2

// editDefinition runs one edit of a model's definition: edit returns the parts it changes, by
// path. what says what the edit does, for the question to the user.
func editDefinition(ctx context.Context, d Deps, workspace, dataset string, confirm bool, what string,
	edit func(*pbiclient.SemanticModelDefinition) (map[string][]byte, error)) (ModelEditResult, error) {
	ws, ds, def, err := readDefinition(ctx, d, workspace, dataset)
	if err != nil {
		return ModelEditResult{}, err
	}
	res := ModelEditResult{Workspace: ws, Dataset: ds}
	changed, err := edit(def)
	if err != nil {
		return res, err
	}
	var paths []string
	for p, b := range changed {
		if err := checkPart(p, b); err != nil {
			return res, userErrorf("Not sent: the edited definition does not read: %v. Nothing was changed; fix it and call again.", err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var diff strings.Builder
	for _, p := range paths {
		old := def.Part(p)
		before := ""
		if old != nil {
			before = string(old.Payload)
		}
		diff.WriteString(unifiedDiff(p, before, string(changed[p]), old == nil))
	}
	if diff.Len() == 0 {
		res.Diff, res.Message = "", "Nothing to change: the definition already holds this."
		return res, nil
	}
	res.Diff = diff.String()
	if shown := d.maxResultBytes() / diffShare; len(res.Diff) > shown {
		res.Diff = cutAtLine(res.Diff, shown) + "\n[diff cut: the whole diff is in diffFile and in the backup folder]\n"
		fp, err := newExportFile(d, fileStem(ds.Name)+"-"+fileTime(), ".diff", func(w io.Writer) error {
			_, err := io.WriteString(w, diff.String())
			return err
		})
		if err != nil {
			return res, err
		}
		ref := fileRef(fp, int64(diff.Len()))
		res.DiffFile = &ref
	}
	// The question names no file of this call: a client that answers by calling again (MCP
	// 2026-07-28) must be asked the same question to have its answer taken.
	ok, err := agreedToEdit(ctx, confirm, fmt.Sprintf("In the semantic model %s, %s. The definition as it is now will be saved under definitions/ in the export directory first.", itemLabel(ds), what), res.Diff)
	if err != nil {
		return res, err
	}
	if !ok {
		res.Message = "Not sent: show the user this diff, and if they agree, call again with confirm: true. Nothing was changed."
		return res, nil
	}
	// Saved before anything is sent, so the model can always be put back as it was.
	if res.Backup, err = saveBackup(d, ds, def, diff.String()); err != nil {
		return res, err
	}
	next := pbiclient.SemanticModelDefinition{Format: def.Format}
	for _, p := range def.Parts {
		if b, ok := changed[p.Path]; ok {
			p.Payload = b
			delete(changed, p.Path)
		}
		next.Parts = append(next.Parts, p)
	}
	for _, p := range paths {
		if b, ok := changed[p]; ok {
			next.Parts = append(next.Parts, pbiclient.DefinitionPart{Path: p, Payload: b})
		}
	}
	report := progressOf(ctx)
	hooked := pbiclient.WithFabricOperationHook(ctx, func(op pbiclient.FabricOperation) {
		report(float64(op.PercentComplete), 100, "Updating the definition: "+op.Status)
	})
	if err := d.Client.UpdateSemanticModelDefinition(hooked, ws.ID, ds.ID, next); err != nil {
		var ae *pbiclient.APIError
		if errors.As(err, &ae) && ae.StatusCode == 400 {
			return res, userErrorf("The service refused the edited definition: HTTP 400 %s: %s%s (RequestId %s). Nothing was changed. Next: fix what the details say and call again.",
				ae.Code, strings.TrimSuffix(ae.Message, "."), apiDetails(ae), cmp.Or(ae.RequestID, "none"))
		}
		return res, fabricFailure("update the definition of "+itemLabel(ds), err)
	}
	res.Applied = true
	res.Message = "The definition was updated; the measures of the tables edited are as read back."
	after, err := d.Client.GetSemanticModelDefinition(ctx, ws.ID, ds.ID, "TMDL")
	if err != nil {
		res.Message = "The definition was updated, but reading it back failed: " + err.Error()
		return res, nil
	}
	tables, _ := tablesOf(after)
	for _, t := range tables {
		if !slices.Contains(paths, t.path) {
			continue
		}
		for _, m := range t.Measures {
			res.Measures = append(res.Measures, Measure{Table: t.Name, Name: m.Name, Expression: m.Expression,
				FormatString: m.FormatString, DisplayFolder: m.DisplayFolder, Description: m.Description})
		}
	}
	return res, nil
}

func apiDetails(ae *pbiclient.APIError) string {
	if len(ae.Details) == 0 {
		return ""
	}
	return ". Details: " + strings.Join(ae.Details, "; ")
}

// agreedToEdit asks the user to agree to an edit, showing them its diff. It reports whether
// they did, or the confirm argument did for a client that cannot ask; a declined edit is an
// error result.
func agreedToEdit(ctx context.Context, confirm bool, what, diff string) (bool, error) {
	res, err := ask(ctx, "confirm", mcp.ElicitationParams{
		Message: what + " Go ahead with this change?\n\n" + diff,
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"confirm": map[string]any{"type": "boolean", "title": "Go ahead", "description": what},
			},
			"required": []string{"confirm"},
		},
	})
	switch {
	case err != nil:
		return false, err
	case res == nil:
	case res.Action == mcp.ElicitationResponseActionAccept:
		if content, ok := res.Content.(map[string]any); ok && content["confirm"] == true {
			return true, nil
		}
		return false, userErrorf("Not done: the user did not agree to this change. Nothing was changed.")
	case res.Action == mcp.ElicitationResponseActionDecline:
		return false, userErrorf("Not done: the user did not agree to this change. Nothing was changed.")
	}
	return confirm, nil
}

// cutAtLine is s cut to at most n bytes, at the end of a line.
func cutAtLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], '\n'); i > 0 {
		return s[:i+1]
	}
	return s[:n]
}

// saveBackup writes every part of def, as it is before the edit, into a new folder
// definitions/<model>-<time>/ of the export directory, with the edit's diff as changes.diff,
// and returns the folder.
func saveBackup(d Deps, ds ItemRef, def *pbiclient.SemanticModelDefinition, diff string) (string, error) {
	fail := func(err error) (string, error) {
		return "", userErrorf("Not sent: the definition could not be backed up under the export directory %s: %v. Nothing was changed. Set PBI_MCP_EXPORT_DIR to a writable directory.", d.ExportDir, err)
	}
	root, err := filepath.Abs(filepath.Join(d.ExportDir, "definitions"))
	if err == nil {
		err = os.MkdirAll(root, 0o700)
	}
	if err != nil {
		return fail(err)
	}
	stem := fileStem(cmp.Or(ds.Name, ds.ID)) + "-" + time.Now().UTC().Format("20060102-150405")
	var dir string
	for i := 1; ; i++ {
		dir = filepath.Join(root, stem)
		if i > 1 {
			dir = filepath.Join(root, fmt.Sprintf("%s-%d", stem, i))
		}
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i == maxNameTries {
			return fail(err)
		}
	}
	files := map[string][]byte{"changes.diff": []byte(diff)}
	for _, p := range def.Parts {
		files[p.Path] = p.Payload
	}
	// os.Root keeps every path the service named inside the folder.
	r, err := os.OpenRoot(dir)
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	for p, b := range files {
		if sub := filepath.Dir(filepath.FromSlash(p)); sub != "." {
			if err := r.MkdirAll(sub, 0o700); err != nil {
				return fail(err)
			}
		}
		if err := r.WriteFile(filepath.FromSlash(p), b, 0o600); err != nil {
			return fail(err)
		}
	}
	return dir, nil
}
