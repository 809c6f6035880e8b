package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Report is one report as the tools report it.
type Report struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	ReportType         string `json:"reportType,omitempty" jsonschema:"PowerBIReport or PaginatedReport"`
	DatasetID          string `json:"datasetId,omitempty" jsonschema:"The semantic model the report reads; absent for paginated reports"`
	DatasetWorkspaceID string `json:"datasetWorkspaceId,omitempty"`
	WebURL             string `json:"webUrl,omitempty"`
}

type listReportsArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ListReportsResult is the answer of list_reports.
type ListReportsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Reports   []Report     `json:"reports"`
	Page
}

type exportArgs struct {
	Workspace          string            `json:"workspace" schema:"$workspace"`
	Report             string            `json:"report" schema:"$report" required:"true"`
	Format             string            `json:"format" required:"true" jsonschema:"Power BI reports: PDF, PPTX or PNG. Paginated reports: any." enum:"$exportFormats"`
	Pages              []string          `json:"pages" jsonschema:"Power BI reports: only these pages, by name, display name or 1-based position (list_report_pages)." itemMinLength:"1" itemMaxLength:"256" maxItems:"50"`
	BookmarkName       string            `json:"bookmark_name" jsonschema:"Power BI reports: apply this bookmark to every page. Not with bookmark_state." minLength:"1"`
	BookmarkState      string            `json:"bookmark_state" jsonschema:"Power BI reports: apply this bookmark state (from the JavaScript API) to every page." minLength:"1" maxLength:"65536"`
	ReportLevelFilter  string            `json:"report_level_filter" jsonschema:"Power BI reports: one filter in URL filter syntax, e.g. Store/Territory eq 'NC'." minLength:"1" maxLength:"4096"`
	Locale             string            `json:"locale" jsonschema:"Power BI reports: e.g. en-US." pattern:"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$"`
	IncludeHiddenPages bool              `json:"include_hidden_pages" jsonschema:"Power BI reports: also hidden pages, when pages is omitted."`
	Identities         []identityArg     `json:"identities" jsonschema:"RLS identities, needed by a service principal on a model with RLS; at most one for paginated reports." maxItems:"20"`
	ParameterValues    []parameterArg    `json:"parameter_values" jsonschema:"Paginated reports: parameter values; repeat a name for each value of a multi-value parameter." maxItems:"100"`
	FormatSettings     map[string]string `json:"format_settings" jsonschema:"Paginated reports: device info settings, e.g. {\"OutputFormat\": \"PNG\"} for IMAGE, {\"StartPage\": \"1\", \"EndPage\": \"3\"}." schema:"$formatSettings"`
	ExportID           string            `json:"export_id" jsonschema:"Resume an export a call left Running (the other options are ignored); jobs expire after 24 hours." pattern:"$exportIDPattern" maxLength:"1024"`
	TimeoutSeconds     int               `json:"timeout_seconds" minimum:"1" maximum:"3600" default:"$defaultExportWait"`
}

type identityArg struct {
	Username string   `json:"username" required:"true" jsonschema:"Effective user name, e.g. a UPN" minLength:"1"`
	Roles    []string `json:"roles" maxItems:"50" itemMinLength:"1" itemMaxLength:"50"`
	Datasets []string `json:"datasets" jsonschema:"Ids of the models it applies to" maxItems:"50" itemPattern:"$guid"`
}

type parameterArg struct {
	Name  string `json:"name" required:"true" minLength:"1"`
	Value string `json:"value" required:"true" maxLength:"4096"`
}

// ExportResult is the answer of export_report.
type ExportResult struct {
	Workspace       WorkspaceRef `json:"workspace"`
	Report          ItemRef      `json:"report"`
	ExportID        string       `json:"exportId" jsonschema:"Pass it back as export_id to resume an export that was still running"`
	Status          string       `json:"status" jsonschema:"Succeeded (file written) or Running (still in progress when the wait ended)"`
	PercentComplete int          `json:"percentComplete"`
	File            *FileRef     `json:"file,omitempty"`
	Message         string       `json:"message"`
}

func (r ExportResult) writtenFiles() []FileRef {
	if r.File == nil {
		return nil // still running: no file yet
	}
	return []FileRef{*r.File}
}

const defaultExportWait = 300

func reportTools(d Deps) []Tool {
	return []Tool{
		tool(d, "reports", "list reports", listReports, mcp.NewTool("list_reports",
			mcp.WithDescription("List the reports in a workspace: id, name, type (Power BI or paginated) and the semantic model each reads."),
			annotations("List reports", true, false, true))),
		tool(d, "reports", "export the report", exportReport, mcp.NewTool("export_report",
			mcp.WithDescription("Export a report to a file. The call follows Power BI's export job, with progress, for up to timeout_seconds; one still Running then has an exportId: call again with export_id. "+
				"Needs the workspace on a Premium, Embedded or Fabric capacity (PPU: paginated reports only) and the tenant's export settings (PNG has its own, off by default). "+
				"Several PNG pages come as a ZIP; IMAGE is TIFF unless format_settings sets OutputFormat. At most 50 pages."),
			annotations("Export a report to a file", true, false, false))).followsJobs(),
		tool(d, "reports", "get the report", getReport, mcp.NewTool("get_report",
			mcp.WithDescription("Get one report: its type (Power BI or paginated), the semantic model it reads and that model's workspace, its web and embed URLs, and whether the caller owns it."),
			annotations("Get a report", true, false, true))),
		tool(d, "reports", "list the report's pages", listReportPages, mcp.NewTool("list_report_pages",
			mcp.WithDescription("List the pages of a Power BI report in order: name (e.g. ReportSection1), display name (on the tab) and position, any of which export_report's pages takes. Paginated reports have none."),
			annotations("List report pages", true, false, true))),
		tool(d, "reports", "list the report's data sources", listReportDatasources, mcp.NewTool("list_report_datasources",
			mcp.WithDescription("List the data sources of a paginated report: type, server, database, and the gateway data source it is bound to. A Power BI report has none: it reads its semantic model."),
			annotations("List a paginated report's data sources", true, false, true))),
		tool(d, "report_admin", "clone the report", cloneReport, mcp.NewTool("clone_report",
			mcp.WithDescription("Copy a report under a new name, in its workspace or another, optionally bound to another semantic model. "+
				"Needs Write on the report and Build on the target model; a live-connected report bound to another model loses its live connection."),
			annotations("Clone a report", false, false, false))),
		tool(d, "report_admin", "rebind the report", rebindReport, mcp.NewTool("rebind_report",
			mcp.WithDescription("DESTRUCTIVE: bind a Power BI report to another semantic model; visuals whose fields it lacks break (clone_report keeps a copy). "+
				"A model in another workspace is linked into the report's as a shared model; a live-connected report loses its live connection. "+
				"Needs Write on the report and Build on the model."),
			annotations("Rebind a report to another model", false, true, true))),
		tool(d, "report_admin", "update the report's content", updateReportContent, mcp.NewTool("update_report_content",
			mcp.WithDescription("DESTRUCTIVE: replace a Power BI report's pages and visuals with another report's, keeping its id, URL and model binding (clone_report keeps a copy). "+
				"Needs Write on the report and Read on the source."),
			annotations("Overwrite a report's content", false, true, true))),
		tool(d, "report_admin", "take over the report", takeOverReport, mcp.NewTool("take_over_report",
			mcp.WithDescription("DESTRUCTIVE: make the signed-in identity the owner of a paginated report's data sources, so its credentials connect; the previous owner's settings stop applying. "+
				"Needs write access to the report."),
			annotations("Take over a paginated report's data sources", false, true, true))),
		tool(d, "report_admin", "delete the report", deleteReport, mcp.NewTool("delete_report",
			mcp.WithDescription("DESTRUCTIVE and final: delete a report; its semantic model stays, tiles pinned from it break (download_report_pbix keeps a copy). "+
				"Needs Contributor or higher in the workspace."),
			annotations("Delete a report", false, true, true))),
		tool(d, "reports", "download the report", downloadReportPbix, mcp.NewTool("download_report_pbix",
			mcp.WithDescription("Download a report's file: the .pbix of a Power BI report (for Power BI Desktop), the .rdl of a paginated report. "+
				"Power BI refuses reports not uploaded as .pbix or edited in ways Desktop cannot open, and live-connected reports after a rebind. For PDF, PowerPoint or images use export_report."),
			annotations("Download a report's .pbix or .rdl file", true, false, false))),
	}
}

// listReports is list_reports.
func listReports(ctx context.Context, d Deps, a listReportsArgs) (ListReportsResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ListReportsResult{}, err
	}
	all, err := d.Client.ListReports(ctx, ws.ID)
	if err != nil {
		return ListReportsResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListReportsResult{Workspace: ws, Reports: make([]Report, 0, len(items)), Page: page}
	for _, r := range items {
		res.Reports = append(res.Reports, reportOf(r))
	}
	return res, nil
}

// exportReport is export_report.
func exportReport(ctx context.Context, d Deps, a exportArgs) (ExportResult, error) {
	ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
	if err != nil {
		return ExportResult{}, err
	}
	rep, err := resolveReport(ctx, d.Client, ws, a.Report)
	if err != nil {
		return ExportResult{}, err
	}
	exportID := a.ExportID
	if exportID == "" && ws.sharedCapacity {
		// Power BI would refuse it with a bare FeatureNotAvailableError.
		return ExportResult{}, userErrorf("Nothing was sent to Power BI: %s", exportNeedsCapacity)
	}
	if exportID == "" {
		er, err := exportRequest(ctx, d, ws, rep, a)
		if err != nil {
			return ExportResult{}, err
		}
		job, err := d.Client.ExportReport(ctx, ws.ID, rep.ID, er)
		if err != nil {
			return ExportResult{}, err
		}
		exportID = job.ID
	}
	res := ExportResult{Workspace: ws, Report: rep, ExportID: exportID}

	timeout := defaultInt(a.TimeoutSeconds, defaultExportWait)
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
	defer cancel()
	report := progressOf(ctx)
	job, err := d.Client.WaitExport(wctx, ws.ID, rep.ID, exportID, func(e pbiclient.Export) {
		res.PercentComplete = e.PercentComplete
		report(float64(e.PercentComplete), 100, "export "+e.Status)
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			res.Status = "Running"
			res.Message = fmt.Sprintf("The export is still running after %d seconds. Call export_report again with export_id to resume it.", timeout)
			return res, nil
		}
		return ExportResult{}, err
	}
	if res.Report.Name == "" {
		res.Report.Name = job.ReportName
	}
	file, err := saveFile(d, res.Report.Name, fileExt(job.ResourceFileExtension), func(w io.Writer) (pbiclient.Download, error) {
		return d.Client.DownloadExport(ctx, ws.ID, rep.ID, job.ID, w)
	})
	if err != nil {
		var ae *pbiclient.APIError
		if ctx.Err() != nil || errors.As(err, &ae) {
			return ExportResult{}, err // cancelled, or Power BI's own answer, which says what to do
		}
		// The job is done and Power BI keeps its file for a day: fetching it again needs no new export.
		return ExportResult{}, userErrorf("The report was exported (export_id %s), but its file could not be saved: %s. Call export_report again with this export_id to fetch the file again without a new export job.",
			job.ID, strings.TrimSuffix(err.Error(), "."))
	}
	res.Status, res.PercentComplete, res.File = job.Status, 100, file
	res.Message = "The report was exported to " + file.Path + "."
	return res, nil
}

// saveFile streams a download into a new file of the export directory (see newExportFile): the
// bytes go straight from the network to disk, and the file gets its name only when complete.
func saveFile(d Deps, name, ext string, download func(io.Writer) (pbiclient.Download, error)) (*FileRef, error) {
	var dl pbiclient.Download
	path, err := newExportFile(d, fileStem(name)+"-"+fileTime(), ext, func(w io.Writer) (err error) {
		dl, err = download(w)
		return err
	})
	if err != nil {
		return nil, err
	}
	file := fileRef(path, dl.Bytes)
	return &file, nil
}

// fileTime is the time part of the name of a file a tool writes: UTC, to the second, so that
// files sort by when they were written.
func fileTime() string { return time.Now().UTC().Format("20060102-150405") }

// fileStem makes a safe file name from a report name: letters, digits, '-' and '_' only, so no
// name Power BI holds can climb out of the export directory or upset a file system.
func fileStem(reportName string) string {
	var b strings.Builder
	for _, r := range reportName {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '.':
			b.WriteRune('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	if b.Len() == 0 {
		return "report"
	}
	return b.String()
}

// fileExt keeps the extension Power BI names for the file (".pdf", ".pptx", ".png", ".zip") only
// if it is a plain one; the service's word is not trusted to build a path.
func fileExt(ext string) string {
	name := strings.TrimPrefix(ext, ".")
	if name == "" || len(name) > 10 || strings.IndexFunc(name, func(r rune) bool { return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) }) >= 0 {
		return ".bin"
	}
	return "." + strings.ToLower(name)
}

// Export formats: Power BI reports have three; paginated reports have PDF and PPTX too, and these.
var (
	powerBIFormats       = []string{"PDF", "PPTX", "PNG"}
	paginatedOnlyFormats = []string{"ACCESSIBLEPDF", "XLSX", "DOCX", "CSV", "XML", "MHTML", "IMAGE"}
)

// exportRequest turns export_report's arguments into the request. The options go into the
// configuration of the report's kind, so the kind must be known: the format or the paginated
// options say it, and otherwise, when identities need a place, the report is looked up.
func exportRequest(ctx context.Context, d Deps, ws WorkspaceRef, rep ItemRef, a exportArgs) (pbiclient.ExportRequest, error) {
	er := pbiclient.ExportRequest{Format: a.Format, Pages: a.Pages, BookmarkName: a.BookmarkName, BookmarkState: a.BookmarkState,
		ReportLevelFilter: a.ReportLevelFilter, Locale: a.Locale, IncludeHiddenPages: a.IncludeHiddenPages, FormatSettings: a.FormatSettings}
	for _, id := range a.Identities {
		er.Identities = append(er.Identities, pbiclient.EffectiveIdentity{Username: id.Username, Roles: id.Roles, Datasets: id.Datasets})
	}
	for _, p := range a.ParameterValues {
		er.ParameterValues = append(er.ParameterValues, pbiclient.ParameterValue{Name: p.Name, Value: p.Value})
	}
	if a.BookmarkName != "" && a.BookmarkState != "" {
		return er, userErrorf("Pass bookmark_name or bookmark_state, not both.")
	}
	powerBIOnly := len(a.Pages) > 0 || a.BookmarkName != "" || a.BookmarkState != "" || a.ReportLevelFilter != "" || a.Locale != "" || a.IncludeHiddenPages
	er.Paginated = slices.Contains(paginatedOnlyFormats, a.Format) || len(a.ParameterValues) > 0 || len(a.FormatSettings) > 0
	if !er.Paginated && !powerBIOnly && len(a.Identities) > 0 {
		r, err := d.Client.GetReport(ctx, ws.ID, rep.ID)
		if err != nil {
			return er, err
		}
		er.Paginated = r.ReportType == "PaginatedReport"
	}
	switch {
	case er.Paginated && powerBIOnly:
		return er, userErrorf("pages, bookmark_name, bookmark_state, report_level_filter, locale and include_hidden_pages apply to Power BI reports, but format %s, parameter_values or format_settings are for paginated reports. Drop one set; get_report tells the report's type.", a.Format)
	case er.Paginated && len(a.Identities) > 1:
		return er, userErrorf("A paginated report takes a single identity; %d were given.", len(a.Identities))
	}
	if len(er.Pages) > 0 {
		pages, err := d.Client.ListReportPages(ctx, ws.ID, rep.ID)
		if err != nil {
			return er, err
		}
		if er.Pages, err = pageNames(rep, pages, er.Pages); err != nil {
			return er, err
		}
	}
	return er, nil
}

// pageNames reads a pages argument. People name a page as they see it, by its display name
// ("Regional Sales") or its place in the report ("2"), while Power BI takes only the page name
// (ReportSection1); so each value may be any of the three, looked up in the report's pages in
// the order list_report_pages shows them. A page name wins over a display name, which wins over
// a position, and exact case over any case. A value that names no page, or two, is refused
// with the report's pages, before an export is started for nothing.
func pageNames(rep ItemRef, pages []pbiclient.ReportPage, args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, arg := range args {
		name, err := pageName(rep, pages, arg)
		if err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, nil
}

// pageName is pageNames for one value.
func pageName(rep ItemRef, pages []pbiclient.ReportPage, arg string) (string, error) {
	want := strings.TrimSpace(arg)
	for _, match := range []func(pbiclient.ReportPage) bool{
		func(p pbiclient.ReportPage) bool { return p.Name == want },
		func(p pbiclient.ReportPage) bool { return p.DisplayName == want },
		func(p pbiclient.ReportPage) bool { return strings.EqualFold(p.Name, want) },
		func(p pbiclient.ReportPage) bool { return strings.EqualFold(p.DisplayName, want) },
	} {
		var found []pbiclient.ReportPage
		for _, p := range pages {
			if match(p) {
				found = append(found, p)
			}
		}
		switch len(found) {
		case 1:
			return found[0].Name, nil
		case 0:
			continue
		}
		var cands []string
		for _, p := range found {
			cands = append(cands, fmt.Sprintf("%s (%q)", p.Name, p.DisplayName))
		}
		return "", userErrorf("The page %q of %s is ambiguous; these %d pages match: %s. Pass the page name of the one you mean.", arg, describeItem("report", rep), len(found), strings.Join(cands, ", "))
	}
	if n, err := strconv.Atoi(want); err == nil && n >= 1 && n <= len(pages) {
		return pages[n-1].Name, nil
	}
	return "", userErrorf("%s has no page %q: pages takes a page name, a display name or a position from 1 to %d. Its pages, as list_report_pages shows them: %s.",
		upperFirst(describeItem("report", rep)), arg, len(pages), pageList(pages))
}

// maxListedPages bounds the pages an error lists; an export takes at most 50 anyway.
const maxListedPages = 50

// pageList lists pages for an error: position, display name and page name.
func pageList(pages []pbiclient.ReportPage) string {
	if len(pages) == 0 {
		return "none (a paginated report has no pages here)"
	}
	var b strings.Builder
	for i, p := range pages[:min(len(pages), maxListedPages)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %q (%s)", i+1, p.DisplayName, p.Name)
	}
	if len(pages) > maxListedPages {
		fmt.Fprintf(&b, " and %d more (list_report_pages lists them all)", len(pages)-maxListedPages)
	}
	return b.String()
}

// upperFirst capitalizes the first letter of a sentence.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type reportArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Report    string `json:"report" schema:"$report" required:"true"`
}

// ReportDetail is one report with everything get_report tells.
type ReportDetail struct {
	Report
	EmbedURL    string `json:"embedUrl,omitempty"`
	Description string `json:"description,omitempty"`
	IsOwnedByMe bool   `json:"isOwnedByMe"`
}

// GetReportResult is the answer of get_report.
type GetReportResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Report    ReportDetail `json:"report"`
}

type listReportPagesArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Report    string `json:"report" schema:"$report" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

type listReportDatasourcesArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Report    string `json:"report" schema:"$paginatedReport" required:"true"`
	Top       int    `json:"top" minimum:"1" maximum:"1000" default:"100"`
	Skip      int    `json:"skip" schema:"$skip"`
}

// ReportPage is a page of a Power BI report.
type ReportPage struct {
	Name        string `json:"name" jsonschema:"The page name the API takes (export_report pages)"`
	DisplayName string `json:"displayName" jsonschema:"The name users see on the page tab"`
	Order       int    `json:"order"`
}

// ListReportPagesResult is the answer of list_report_pages.
type ListReportPagesResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Report    ItemRef      `json:"report"`
	Pages     []ReportPage `json:"pages"`
	Page
}

// ListReportDatasourcesResult is the answer of list_report_datasources.
type ListReportDatasourcesResult struct {
	Workspace   WorkspaceRef `json:"workspace"`
	Report      ItemRef      `json:"report"`
	Datasources []Datasource `json:"datasources"`
	Page
}

type cloneArgs struct {
	Workspace       string `json:"workspace" schema:"$workspace"`
	Report          string `json:"report" schema:"$report" required:"true"`
	Name            string `json:"name" required:"true" minLength:"1"`
	TargetWorkspace string `json:"target_workspace" jsonschema:"Default: the report's; 00000000-0000-0000-0000-000000000000 means My workspace."`
	TargetModel     string `json:"target_model" jsonschema:"A semantic model in the target workspace to bind the copy to. Default: the report's."`
}

// CloneReportResult is the answer of clone_report.
type CloneReportResult struct {
	Workspace       WorkspaceRef `json:"workspace"`
	Source          ItemRef      `json:"source"`
	TargetWorkspace WorkspaceRef `json:"targetWorkspace"`
	Clone           Report       `json:"clone" jsonschema:"The new report"`
	Message         string       `json:"message"`
}

type rebindArgs struct {
	Workspace        string `json:"workspace" schema:"$workspace"`
	Report           string `json:"report" schema:"$report" required:"true"`
	Dataset          string `json:"dataset" required:"true" jsonschema:"The semantic model to bind the report to, in dataset_workspace."`
	DatasetWorkspace string `json:"dataset_workspace" jsonschema:"Default: the report's workspace."`
	Confirm          bool   `json:"confirm" schema:"$confirm"`
}

// ReportChangeResult is the answer of the tools that change or delete a report.
type ReportChangeResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Report    ItemRef      `json:"report"`
	Message   string       `json:"message"`
}

type updateContentArgs struct {
	Workspace       string `json:"workspace" schema:"$workspace"`
	Report          string `json:"report" schema:"$report" required:"true"`
	SourceReport    string `json:"source_report" required:"true" jsonschema:"The report whose content is copied, in source_workspace."`
	SourceWorkspace string `json:"source_workspace" jsonschema:"Default: the report's; 00000000-0000-0000-0000-000000000000 means My workspace."`
	Confirm         bool   `json:"confirm" schema:"$confirm"`
}

type takeOverArgs struct {
	Workspace string `json:"workspace" required:"true" minLength:"1"`
	Report    string `json:"report" schema:"$paginatedReport" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

type deleteReportArgs struct {
	Workspace string `json:"workspace" schema:"$workspace"`
	Report    string `json:"report" schema:"$report" required:"true"`
	Confirm   bool   `json:"confirm" schema:"$confirm"`
}

// downloadTypes are the values of download_report_pbix's download_type.
var downloadTypes = []string{pbiclient.DownloadIncludeModel, pbiclient.DownloadLiveConnect}

type downloadArgs struct {
	Workspace    string `json:"workspace" schema:"$workspace"`
	Report       string `json:"report" schema:"$report" required:"true"`
	DownloadType string `json:"download_type" jsonschema:"IncludeModel: the .pbix carries the semantic model; LiveConnect: it connects live to it. Only in a workspace." enum:"$downloadTypes"`
}

// DownloadReportResult is the answer of download_report_pbix.
type DownloadReportResult struct {
	Workspace  WorkspaceRef `json:"workspace"`
	Report     ItemRef      `json:"report"`
	ReportType string       `json:"reportType"`
	File       FileRef      `json:"file"`
	Message    string       `json:"message"`
}

func (r DownloadReportResult) writtenFiles() []FileRef { return []FileRef{r.File} }

// resolveBodyWorkspace reads a workspace argument that a request body carries: omitted means
// the same workspace (bodyID ""), the empty GUID means My workspace, anything else is resolved.
func resolveBodyWorkspace(ctx context.Context, d Deps, arg string, same WorkspaceRef) (ws WorkspaceRef, bodyID string, err error) {
	switch arg = strings.TrimSpace(arg); arg {
	case "":
		return same, "", nil
	case pbiclient.MyWorkspaceID:
		return WorkspaceRef{Name: "My workspace", MyWorkspace: true, ResolvedBy: "id"}, pbiclient.MyWorkspaceID, nil
	}
	ws, err = resolveWorkspace(ctx, d.Client, arg)
	return ws, ws.ID, err
}

// describeWorkspace names a workspace in a confirmation sentence.
func describeWorkspace(ws WorkspaceRef) string {
	switch {
	case ws.MyWorkspace:
		return "My workspace"
	case ws.Name != "":
		return fmt.Sprintf("the workspace %s (%s)", ws.Name, ws.ID)
	}
	return "the workspace " + ws.ID
}

// describeItem names an item in a confirmation sentence.
func describeItem(kind string, it ItemRef) string {
	if it.Name != "" {
		return fmt.Sprintf("the %s %s (%s)", kind, it.Name, it.ID)
	}
	return fmt.Sprintf("the %s %s", kind, it.ID)
}

// workspaceAndReport resolves the two arguments every report tool takes.
func workspaceAndReport(ctx context.Context, d Deps, workspace, report string) (WorkspaceRef, ItemRef, error) {
	ws, err := resolveWorkspace(ctx, d.Client, workspace)
	if err != nil {
		return ws, ItemRef{}, err
	}
	rep, err := resolveReport(ctx, d.Client, ws, report)
	return ws, rep, err
}

// getReport is get_report.
func getReport(ctx context.Context, d Deps, a reportArgs) (GetReportResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return GetReportResult{}, err
	}
	r, err := d.Client.GetReport(ctx, ws.ID, rep.ID)
	if err != nil {
		return GetReportResult{}, err
	}
	return GetReportResult{Workspace: ws, Report: ReportDetail{Report: reportOf(r), EmbedURL: r.EmbedURL,
		Description: r.Description, IsOwnedByMe: r.IsOwnedByMe}}, nil
}

// listReportPages is list_report_pages.
func listReportPages(ctx context.Context, d Deps, a listReportPagesArgs) (ListReportPagesResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return ListReportPagesResult{}, err
	}
	all, err := d.Client.ListReportPages(ctx, ws.ID, rep.ID)
	if err != nil {
		return ListReportPagesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListReportPagesResult{Workspace: ws, Report: rep, Pages: make([]ReportPage, 0, len(items)), Page: page}
	for _, p := range items {
		res.Pages = append(res.Pages, ReportPage{Name: p.Name, DisplayName: p.DisplayName, Order: p.Order})
	}
	return res, nil
}

// listReportDatasources is list_report_datasources.
func listReportDatasources(ctx context.Context, d Deps, a listReportDatasourcesArgs) (ListReportDatasourcesResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return ListReportDatasourcesResult{}, err
	}
	all, err := d.Client.ListReportDatasources(ctx, ws.ID, rep.ID)
	if err != nil {
		return ListReportDatasourcesResult{}, err
	}
	items, page := pageOf(all, defaultInt(a.Top, 100), a.Skip)
	res := ListReportDatasourcesResult{Workspace: ws, Report: rep, Datasources: make([]Datasource, 0, len(items)), Page: page}
	for _, ds := range items {
		res.Datasources = append(res.Datasources, datasourceOf(ds))
	}
	return res, nil
}

// cloneReport is clone_report.
func cloneReport(ctx context.Context, d Deps, a cloneArgs) (CloneReportResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return CloneReportResult{}, err
	}
	target, targetBodyID, err := resolveBodyWorkspace(ctx, d, a.TargetWorkspace, ws)
	if err != nil {
		return CloneReportResult{}, err
	}
	req := pbiclient.CloneReportRequest{Name: a.Name, TargetWorkspaceID: targetBodyID}
	if a.TargetModel != "" {
		model, err := resolveDataset(ctx, d.Client, target, a.TargetModel)
		if err != nil {
			return CloneReportResult{}, err
		}
		req.TargetModelID = model.ID
	}
	r, err := d.Client.CloneReport(ctx, ws.ID, rep.ID, req)
	if err != nil {
		return CloneReportResult{}, err
	}
	return CloneReportResult{Workspace: ws, Source: rep, TargetWorkspace: target, Clone: reportOf(r),
		Message: fmt.Sprintf("The report was copied to %s as %q (id %s).", describeWorkspace(target), r.Name, r.ID)}, nil
}

// rebindReport is rebind_report.
func rebindReport(ctx context.Context, d Deps, a rebindArgs) (ReportChangeResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return ReportChangeResult{}, err
	}
	dsWS := ws
	if a.DatasetWorkspace != "" {
		if dsWS, err = resolveWorkspace(ctx, d.Client, a.DatasetWorkspace); err != nil {
			return ReportChangeResult{}, err
		}
	}
	model, err := resolveDataset(ctx, d.Client, dsWS, a.Dataset)
	if err != nil {
		return ReportChangeResult{}, err
	}
	what := fmt.Sprintf("Rebind %s in %s to %s; its visuals will read that model from now on.",
		describeItem("report", rep), describeWorkspace(ws), describeItem("semantic model", model))
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return ReportChangeResult{}, err
	}
	if err := d.Client.RebindReport(ctx, ws.ID, rep.ID, model.ID); err != nil {
		return ReportChangeResult{}, err
	}
	return ReportChangeResult{Workspace: ws, Report: rep,
		Message: fmt.Sprintf("The report now reads the semantic model %s.", model.ID)}, nil
}

// updateReportContent is update_report_content.
func updateReportContent(ctx context.Context, d Deps, a updateContentArgs) (ReportChangeResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return ReportChangeResult{}, err
	}
	srcWS, srcBodyID, err := resolveBodyWorkspace(ctx, d, a.SourceWorkspace, ws)
	if err != nil {
		return ReportChangeResult{}, err
	}
	src, err := resolveReport(ctx, d.Client, srcWS, a.SourceReport)
	if err != nil {
		return ReportChangeResult{}, err
	}
	what := fmt.Sprintf("Replace every page of %s in %s with the content of %s in %s.",
		describeItem("report", rep), describeWorkspace(ws), describeItem("report", src), describeWorkspace(srcWS))
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return ReportChangeResult{}, err
	}
	if _, err := d.Client.UpdateReportContent(ctx, ws.ID, rep.ID, srcBodyID, src.ID); err != nil {
		return ReportChangeResult{}, err
	}
	return ReportChangeResult{Workspace: ws, Report: rep,
		Message: fmt.Sprintf("The report's content was replaced with that of report %s.", src.ID)}, nil
}

// takeOverReport is take_over_report.
func takeOverReport(ctx context.Context, d Deps, a takeOverArgs) (ReportChangeResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return ReportChangeResult{}, err
	}
	what := fmt.Sprintf("Take over the data sources of %s in %s, so they connect with the signed-in identity's settings.",
		describeItem("paginated report", rep), describeWorkspace(ws))
	if err := confirmed(ctx, a.Confirm, what); err != nil {
		return ReportChangeResult{}, err
	}
	if err := d.Client.TakeOverReport(ctx, ws.ID, rep.ID); err != nil {
		return ReportChangeResult{}, err
	}
	return ReportChangeResult{Workspace: ws, Report: rep,
		Message: "The signed-in identity now owns the report's data sources. Check their credentials with list_report_datasources."}, nil
}

// deleteReport is delete_report.
func deleteReport(ctx context.Context, d Deps, a deleteReportArgs) (ReportChangeResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return ReportChangeResult{}, err
	}
	if err := confirmed(ctx, a.Confirm, fmt.Sprintf("Delete %s from %s.", describeItem("report", rep), describeWorkspace(ws))); err != nil {
		return ReportChangeResult{}, err
	}
	if err := d.Client.DeleteReport(ctx, ws.ID, rep.ID); err != nil {
		return ReportChangeResult{}, err
	}
	return ReportChangeResult{Workspace: ws, Report: rep, Message: "The report was deleted."}, nil
}

// downloadReportPbix is download_report_pbix.
func downloadReportPbix(ctx context.Context, d Deps, a downloadArgs) (DownloadReportResult, error) {
	ws, rep, err := workspaceAndReport(ctx, d, a.Workspace, a.Report)
	if err != nil {
		return DownloadReportResult{}, err
	}
	if ws.MyWorkspace && a.DownloadType != "" {
		return DownloadReportResult{}, userErrorf("download_type is only available for reports in a workspace; for My workspace, call again without it.")
	}
	// The file's kind (.pbix or .rdl) and a readable file name come from the report.
	r, err := d.Client.GetReport(ctx, ws.ID, rep.ID)
	if err != nil {
		return DownloadReportResult{}, err
	}
	ext := ".pbix"
	if r.ReportType == "PaginatedReport" {
		ext = ".rdl"
	}
	if rep.Name == "" {
		rep.Name = r.Name
	}
	file, err := saveFile(d, rep.Name, ext, func(w io.Writer) (pbiclient.Download, error) {
		return d.Client.DownloadReport(ctx, ws.ID, rep.ID, a.DownloadType, w)
	})
	if err != nil {
		return DownloadReportResult{}, err
	}
	return DownloadReportResult{Workspace: ws, Report: rep, ReportType: r.ReportType, File: *file,
		Message: "The report was saved to " + file.Path + "."}, nil
}

// reportOf shapes a report for the tools' answers.
func reportOf(r pbiclient.Report) Report {
	return Report{ID: r.ID, Name: r.Name, ReportType: r.ReportType, DatasetID: r.DatasetID,
		DatasetWorkspaceID: r.DatasetWorkspaceID, WebURL: r.WebURL}
}
