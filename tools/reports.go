package tools

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
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
	Workspace string `json:"workspace"`
	Top       int    `json:"top"`
	Skip      int    `json:"skip"`
}

// ListReportsResult is the answer of list_reports.
type ListReportsResult struct {
	Workspace WorkspaceRef `json:"workspace"`
	Reports   []Report     `json:"reports"`
	Page
}

type exportArgs struct {
	Workspace      string   `json:"workspace"`
	Report         string   `json:"report"`
	Format         string   `json:"format"`
	Pages          []string `json:"pages"`
	ExportID       string   `json:"export_id"`
	TimeoutSeconds int      `json:"timeout_seconds"`
}

// ExportFile is a file export_report wrote.
type ExportFile struct {
	Path     string `json:"path" jsonschema:"Absolute path of the file on the machine running the server"`
	Name     string `json:"name"`
	Bytes    int64  `json:"bytes"`
	MimeType string `json:"mimeType"`
}

// ExportResult is the answer of export_report.
type ExportResult struct {
	Workspace       WorkspaceRef `json:"workspace"`
	Report          ItemRef      `json:"report"`
	ExportID        string       `json:"exportId" jsonschema:"Pass it back as export_id to resume an export that was still running"`
	Status          string       `json:"status" jsonschema:"Succeeded (file written) or Running (still in progress when the wait ended)"`
	PercentComplete int          `json:"percentComplete"`
	File            *ExportFile  `json:"file,omitempty"`
	Message         string       `json:"message"`
}

const defaultExportWait = 300

func reportTools(d Deps) []Tool {
	return []Tool{{
		Toolset: "reports",
		Definition: mcp.NewTool("list_reports",
			mcp.WithDescription("List the reports in a workspace, with their ids, names, type (Power BI or paginated) and the semantic model each reads. "+
				"Use it to find the report export_report needs. "+
				"Paged: at most top items per call (default 100, at most 1000); when hasMore is true, call again with skip = nextSkip."),
			annotations("List reports", true, false, true),
			workspaceParam(),
			topParam(100, 1000, "reports"),
			skipParam(),
			mcp.WithOutputSchema[ListReportsResult](),
		),
		Handler: handle("list reports", func(ctx context.Context, _ mcp.CallToolRequest, a listReportsArgs) (ListReportsResult, error) {
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
				res.Reports = append(res.Reports, Report{ID: r.ID, Name: r.Name, ReportType: r.ReportType, DatasetID: r.DatasetID,
					DatasetWorkspaceID: r.DatasetWorkspaceID, WebURL: r.WebURL})
			}
			return res, nil
		}),
	}, {
		Toolset: "reports",
		Definition: mcp.NewTool("export_report",
			mcp.WithDescription("Export a Power BI report to a PDF, PowerPoint (PPTX) or PNG file and save it on the machine running this server. "+
				"Returns the file's absolute path, size and MIME type. The file always goes to the server's export directory, under a name the server chooses. "+
				"The export runs as a Power BI job; the call follows it with progress notifications for up to timeout_seconds. "+
				"If it is still running then, the answer has status Running and an exportId: call again with export_id to resume. "+
				"Needs the report's workspace on a Premium, Embedded or Fabric capacity (not Pro or PPU) and the tenant's export settings enabled (PNG has its own setting, off by default). "+
				"A multi-page PNG export is a ZIP of one image per page. At most 50 pages per export."),
			annotations("Export a report to a file", true, false, false),
			workspaceParam(),
			itemParam("report", "Report", "list_reports"),
			mcp.WithString("format", mcp.Required(),
				mcp.Description("File format: PDF, PPTX (PowerPoint) or PNG."),
				mcp.Enum("PDF", "PPTX", "PNG")),
			mcp.WithArray("pages",
				mcp.Description("Only these pages, by page name (the ReportSection... part of a page's URL). Omit for every visible page."),
				mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(256)), mcp.MaxItems(50)),
			mcp.WithString("export_id",
				mcp.Description("Resume an export an earlier call left Running, instead of starting a new one (format and pages are then ignored). Export jobs expire after 24 hours."),
				mcp.MinLength(1), mcp.MaxLength(1024)),
			mcp.WithInteger("timeout_seconds",
				mcp.Description(fmt.Sprintf("The longest time to wait for the export job (default %d).", defaultExportWait)),
				mcp.Min(1), mcp.Max(3600), mcp.DefaultNumber(defaultExportWait)),
			mcp.WithOutputSchema[ExportResult](),
		),
		Handler: handle("export the report", func(ctx context.Context, req mcp.CallToolRequest, a exportArgs) (ExportResult, error) {
			ws, err := resolveWorkspace(ctx, d.Client, a.Workspace)
			if err != nil {
				return ExportResult{}, err
			}
			rep, err := resolveReport(ctx, d.Client, ws, a.Report)
			if err != nil {
				return ExportResult{}, err
			}
			exportID := a.ExportID
			if exportID == "" {
				job, err := d.Client.ExportReport(ctx, ws.ID, rep.ID, pbiclient.ExportRequest{Format: a.Format, Pages: a.Pages})
				if err != nil {
					return ExportResult{}, err
				}
				exportID = job.ID
			}
			res := ExportResult{Workspace: ws, Report: rep, ExportID: exportID}

			timeout := defaultInt(a.TimeoutSeconds, defaultExportWait)
			wctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
			defer cancel()
			report := progressReporter(ctx, req)
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
			file, err := saveExport(ctx, d, ws.ID, rep.ID, job, res.Report.Name)
			if err != nil {
				return ExportResult{}, err
			}
			res.Status, res.PercentComplete, res.File = job.Status, 100, file
			res.Message = "The report was exported to " + file.Path + "."
			return res, nil
		}),
	}}
}

// saveExport streams an export's file into the export directory. The bytes go straight from the
// network to a temporary file that is renamed only when complete, so a failed download never
// leaves a partial file under a real name, and a file is never overwritten.
func saveExport(ctx context.Context, d Deps, groupID, reportID string, job pbiclient.Export, reportName string) (*ExportFile, error) {
	if err := os.MkdirAll(d.ExportDir, 0o700); err != nil {
		return nil, userErrorf("The export finished but the export directory %s cannot be created: %v. Set PBI_MCP_EXPORT_DIR to a writable directory.", d.ExportDir, err)
	}
	tmp, err := os.CreateTemp(d.ExportDir, ".export-*.partial")
	if err != nil {
		return nil, userErrorf("The export finished but no file can be written in %s: %v. Set PBI_MCP_EXPORT_DIR to a writable directory.", d.ExportDir, err)
	}
	dl, err := d.Client.DownloadExport(ctx, groupID, reportID, job.ID, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	ext := fileExt(job.ResourceFileExtension)
	path, err := freeName(d.ExportDir, fileStem(reportName)+"-"+time.Now().UTC().Format("20060102-150405"), ext)
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("saving the exported file: %w", err)
	}
	mimeType, _, _ := strings.Cut(dl.ContentType, ";")
	if mimeType == "" || mimeType == "application/octet-stream" {
		if byExt := mime.TypeByExtension(ext); byExt != "" {
			mimeType, _, _ = strings.Cut(byExt, ";")
		}
	}
	return &ExportFile{Path: path, Name: filepath.Base(path), Bytes: dl.Bytes, MimeType: mimeType}, nil
}

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

// freeName returns dir/stem+ext, or dir/stem-2+ext, ... whichever does not exist yet.
func freeName(dir, stem, ext string) (string, error) {
	for i := 1; i < 1000; i++ {
		name := stem + ext
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", stem, i, ext)
		}
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			abs, err := filepath.Abs(path)
			if err != nil {
				return "", err
			}
			return abs, nil
		}
	}
	return "", fmt.Errorf("no free file name for %s%s in %s", stem, ext, dir)
}
