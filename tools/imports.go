package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// ImportedDataset is a semantic model an import created or replaced.
type ImportedDataset struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	WebURL string `json:"webUrl,omitempty"`
}

// ImportedReport is a report an import created or replaced.
type ImportedReport struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ReportType string `json:"reportType,omitempty"`
	DatasetID  string `json:"datasetId,omitempty"`
	WebURL     string `json:"webUrl,omitempty"`
}

// Import is the state of an import as the tools report it.
type Import struct {
	ID              string            `json:"id"`
	Name            string            `json:"name,omitempty"`
	ImportState     string            `json:"importState" jsonschema:"Publishing, Succeeded or Failed"`
	CreatedDateTime string            `json:"createdDateTime,omitempty"`
	UpdatedDateTime string            `json:"updatedDateTime,omitempty"`
	Datasets        []ImportedDataset `json:"datasets"`
	Reports         []ImportedReport  `json:"reports"`
}

// ImportFileResult is the answer of import_file.
type ImportFileResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Import
	BytesUploaded int64  `json:"bytesUploaded"`
	Message       string `json:"message"`
}

// GetImportResult is the answer of get_import.
type GetImportResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Import
}

// ListImportsResult is the answer of list_imports.
type ListImportsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Imports   []Import     `json:"imports"`
	Page
}

type importFileArgs struct {
	Workspace      string `json:"workspace" schema:"$workspace"`
	File           string `json:"file" required:"true" jsonschema:"Relative to the data directory, e.g. Sales.pbix or reports/Invoice.rdl." minLength:"1" maxLength:"1024"`
	DisplayName    string `json:"display_name" jsonschema:"Default: the file's name without extension. Ignored for model.json." minLength:"1" maxLength:"200"`
	NameConflict   string `json:"name_conflict" jsonschema:"When an item of that name exists: see the description." enum:"Ignore,Abort,Overwrite,CreateOrOverwrite,GenerateUniqueName"`
	SkipReport     bool   `json:"skip_report" jsonschema:".pbix: the semantic model without its report."`
	TimeoutSeconds int    `json:"timeout_seconds" jsonschema:"How long to follow the import after the upload." minimum:"1" maximum:"3600" default:"$defaultImportWait"`
	Confirm        bool   `json:"confirm" schema:"$confirm"`
}

type getImportArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	ImportID  string `json:"import_id" required:"true" jsonschema:"As import_file or list_imports return it." pattern:"$guid"`
}

type listImportsArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

const defaultImportWait = 300

// importTypes are the file types Power BI imports, and the nameConflict values each takes
// (api-notes §2.10: .rdl only Abort and Overwrite, dataflows only Abort and GenerateUniqueName).
var importTypes = map[string][]string{
	".pbix": {"Ignore", "Abort", "Overwrite", "CreateOrOverwrite", "GenerateUniqueName"},
	".xlsx": {"Ignore", "Abort", "Overwrite", "CreateOrOverwrite", "GenerateUniqueName"},
	".rdl":  {"Abort", "Overwrite"},
	".json": {"Abort", "GenerateUniqueName"},
}

func importTools(d Deps) []Tool {
	return []Tool{
		tool(d, "imports", "import the file", importFile, mcp.NewTool("import_file",
			mcp.WithDescription("Publish a file from the data directory (the user copies it in) to a workspace: .pbix (model and report), .rdl (paginated report), .xlsx, or a dataflow's model.json. "+
				"The import is followed with progress for up to timeout_seconds; the answer lists the items created, or gives the importId for get_import while still publishing. "+
				"name_conflict, when an item of that name exists: Ignore (default for .pbix, .xlsx) adds another, Abort (default for .rdl, model.json) fails, Overwrite replaces it (fails if none), CreateOrOverwrite replaces or creates, GenerateUniqueName renames; "+
				".rdl takes only Abort or Overwrite, model.json only Abort or GenerateUniqueName. Overwrite and CreateOrOverwrite replace items (confirm). "+
				"Needs Contributor or higher; files over 1 GB (up to 10 GB) a Premium capacity."),
			annotations("Import a file into a workspace", false, true, false))).followsJobs(),
		tool(d, "imports", "get the import", getImport, mcp.NewTool("get_import",
			mcp.WithDescription("Get the state of an import (Publishing, Succeeded or Failed) and the semantic models and reports it created, e.g. to follow one import_file left publishing."),
			annotations("Get an import", true, false, true))),
		tool(d, "imports", "list imports", listImports, mcp.NewTool("list_imports",
			mcp.WithDescription("List the imports of a workspace (files published to it through the API or the Power BI service), with their state and the semantic models and reports each created."),
			annotations("List imports", true, false, true))),
	}
}

// getImport is get_import.
func getImport(ctx context.Context, d Deps, a getImportArgs) (GetImportResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return GetImportResult{}, err
	}
	imp, err := d.Client.GetImport(ctx, ws.ID, a.ImportID)
	if err != nil {
		return GetImportResult{}, err
	}
	return GetImportResult{Workspace: ws, Import: importOf(imp)}, nil
}

// listImports is list_imports.
func listImports(ctx context.Context, d Deps, a listImportsArgs) (ListImportsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListImportsResult{}, err
	}
	all, err := d.Client.ListImports(ctx, ws.ID)
	if err != nil {
		return ListImportsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListImportsResult{Workspace: ws, Imports: make([]Import, 0, len(items)), Page: page}
	for _, imp := range items {
		res.Imports = append(res.Imports, importOf(imp))
	}
	return res, nil
}

// importFile is import_file.
func importFile(ctx context.Context, d Deps, a importFileArgs) (ImportFileResult, error) {
	ext := strings.ToLower(path.Ext(a.File))
	modes, ok := importTypes[ext]
	if !ok {
		return ImportFileResult{}, userErrorf("%q is not a file Power BI imports: use a .pbix, .rdl, .xlsx or dataflow model.json file.", a.File)
	}
	display := a.DisplayName
	if display == "" {
		display = strings.TrimSuffix(path.Base(a.File), path.Ext(a.File))
	}
	if strings.EqualFold(path.Ext(display), ext) {
		display = display[:len(display)-len(ext)]
	}
	display += ext // Power BI wants the file's extension in datasetDisplayName
	if ext == ".json" {
		// A dataflow is imported under this fixed name (api-notes §2.10).
		display = "model.json"
	}
	conflict := a.NameConflict
	if conflict == "" {
		conflict = modes[0]
	}
	if !slices.Contains(modes, conflict) {
		return ImportFileResult{}, userErrorf("name_conflict %s is not possible for a %s file: use one of %s.", conflict, ext, strings.Join(modes, ", "))
	}
	if a.SkipReport && ext != ".pbix" {
		return ImportFileResult{}, userErrorf("skip_report applies only to .pbix files.")
	}

	f, info, err := openDataFile(d, a.File)
	if err != nil {
		return ImportFileResult{}, err
	}
	defer f.Close()
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ImportFileResult{}, err
	}
	if conflict == "Overwrite" || conflict == "CreateOrOverwrite" {
		if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Replace the semantic model and report named %q in %s with the contents of %s.",
			strings.TrimSuffix(display, ext), workspaceLabel(ws), a.File)); err != nil {
			return ImportFileResult{}, err
		}
	}

	report := progressOf(ctx)
	src := &uploadProgress{r: f, size: info.Size(), report: report}
	imp, err := d.Client.ImportFile(ctx, ws.ID, pbiclient.ImportRequest{DisplayName: display, NameConflict: conflict, SkipReport: a.SkipReport},
		pbiclient.ImportSource{ReaderAt: src, Size: info.Size()})
	if err != nil {
		return ImportFileResult{}, err
	}
	res := ImportFileResult{Workspace: ws, Import: Import{ID: imp.ID, ImportState: "Publishing", Datasets: []ImportedDataset{}, Reports: []ImportedReport{}},
		BytesUploaded: info.Size()}

	timeout := defaultInt(a.TimeoutSeconds, defaultImportWait)
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
	defer cancel()
	// Progress: the upload is 0-50, each poll of the publishing import one more, done 100.
	polls := 0
	done, err := d.Client.WaitImport(wctx, ws.ID, imp.ID, func(i pbiclient.Import) {
		polls++
		step := min(50+polls, 99)
		if i.ImportState != "Publishing" {
			step = 100
		}
		report(float64(step), 100, "import "+i.ImportState)
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			res.Message = fmt.Sprintf("The file was uploaded and is still publishing after %d seconds. Follow it with get_import (import_id %s).", timeout, imp.ID)
			return res, nil
		}
		return ImportFileResult{}, err
	}
	res.Import = importOf(done)
	res.Message = fmt.Sprintf("Imported %s: %d semantic model(s) and %d report(s).", a.File, len(res.Datasets), len(res.Reports))
	return res, nil
}

// uploadProgress reports upload progress as the file is read, about every 2%. Every attempt
// reads the file from the start, so progress restarts with it.
type uploadProgress struct {
	r      io.ReaderAt
	size   int64
	report func(done, total float64, message string)
	next   atomic.Int64 // the offset of the next report
}

func (u *uploadProgress) ReadAt(p []byte, off int64) (int, error) {
	n, err := u.r.ReadAt(p, off)
	end := off + int64(n)
	if end >= u.next.Load() {
		u.next.Store(end + max(u.size/50, 1<<20))
		// The upload is the first half of the work; publishing the second.
		u.report(float64(50*end/max(u.size, 1)), 100, "uploading")
	}
	return n, err
}

func importOf(i pbiclient.Import) Import {
	out := Import{ID: i.ID, Name: i.Name, ImportState: i.ImportState, CreatedDateTime: i.CreatedDateTime, UpdatedDateTime: i.UpdatedDateTime,
		Datasets: make([]ImportedDataset, 0, len(i.Datasets)), Reports: make([]ImportedReport, 0, len(i.Reports))}
	for _, ds := range i.Datasets {
		out.Datasets = append(out.Datasets, ImportedDataset{ID: ds.ID, Name: ds.Name, WebURL: ds.WebURL})
	}
	for _, r := range i.Reports {
		out.Reports = append(out.Reports, ImportedReport{ID: r.ID, Name: r.Name, ReportType: r.ReportType, DatasetID: r.DatasetID, WebURL: r.WebURL})
	}
	return out
}
