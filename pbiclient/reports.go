package pbiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Report is a Power BI report or paginated report.
type Report struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	DatasetID          string `json:"datasetId,omitempty"` // absent for paginated reports
	DatasetWorkspaceID string `json:"datasetWorkspaceId,omitempty"`
	ReportType         string `json:"reportType,omitempty"` // "PowerBIReport" or "PaginatedReport"
	WebURL             string `json:"webUrl,omitempty"`
	EmbedURL           string `json:"embedUrl,omitempty"`
	Description        string `json:"description,omitempty"`
	IsOwnedByMe        bool   `json:"isOwnedByMe"`
}

// ListReports lists the reports of a workspace ("" = My workspace).
func (c *Client) ListReports(ctx context.Context, groupID string) ([]Report, error) {
	var out list[Report]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "reports"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ExportRequest asks for a report exported to a file.
type ExportRequest struct {
	// Format is "PDF", "PPTX" or "PNG" for Power BI reports; paginated reports also take
	// "XLSX", "DOCX", "CSV", "XML", "MHTML", "ACCESSIBLEPDF" and "IMAGE".
	Format string
	// Pages limits a Power BI report export to these pages, by page name (not display name).
	Pages []string
}

// exportReportRequest is the wire form of ExportRequest (ExportReportRequest in the REST
// definition). Bookmarks, filters, identities and the paginated configuration go here when
// ExportRequest grows them.
type exportReportRequest struct {
	Format                     string                      `json:"format"`
	PowerBIReportConfiguration *powerBIReportConfiguration `json:"powerBIReportConfiguration,omitempty"`
}

type powerBIReportConfiguration struct {
	Pages []exportReportPage `json:"pages,omitempty"`
}

type exportReportPage struct {
	PageName string `json:"pageName"`
}

func (r ExportRequest) wire() exportReportRequest {
	w := exportReportRequest{Format: r.Format}
	if len(r.Pages) > 0 {
		cfg := &powerBIReportConfiguration{}
		for _, p := range r.Pages {
			cfg.Pages = append(cfg.Pages, exportReportPage{PageName: p})
		}
		w.PowerBIReportConfiguration = cfg
	}
	return w
}

// Export is the state of an export-to-file job. Times are kept as sent.
type Export struct {
	ID                    string `json:"id"` // opaque; may contain '/', '+' and '='
	ReportID              string `json:"reportId"`
	ReportName            string `json:"reportName,omitempty"`
	Status                string `json:"status"` // "NotStarted", "Running", "Succeeded", "Failed" (or "Undefined")
	PercentComplete       int    `json:"percentComplete"`
	ResourceLocation      string `json:"resourceLocation,omitempty"`
	ResourceFileExtension string `json:"resourceFileExtension,omitempty"` // e.g. ".pdf"
	CreatedDateTime       string `json:"createdDateTime,omitempty"`
	LastActionDateTime    string `json:"lastActionDateTime,omitempty"`
	ExpirationTime        string `json:"expirationTime,omitempty"` // the file can be downloaded until then

	// RetryAfter is the Retry-After header of the answer: while running, when to poll again;
	// on a Failed job, that the service was busy and a new export may succeed after it.
	RetryAfter time.Duration `json:"-"`
}

// ExportReport starts exporting a report to a file. Like every POST it is not re-sent after
// a failure that may have reached the service (see APIError.OutcomeUnknown).
func (c *Client) ExportReport(ctx context.Context, groupID, reportID string, req ExportRequest) (Export, error) {
	if err := needID("report", reportID); err != nil {
		return Export{}, err
	}
	if req.Format == "" {
		return Export{}, errors.New("pbiclient: ExportReport: Format is required")
	}
	return c.exportCall(ctx, http.MethodPost, workspacePath(groupID, "reports", reportID, "ExportTo"), req.wire())
}

// GetExport returns the state of an export job.
func (c *Client) GetExport(ctx context.Context, groupID, reportID, exportID string) (Export, error) {
	if err := needID("report", reportID); err != nil {
		return Export{}, err
	}
	if err := needID("export", exportID); err != nil {
		return Export{}, err
	}
	return c.exportCall(ctx, http.MethodGet, workspacePath(groupID, "reports", reportID, "exports", exportID), nil)
}

func (c *Client) exportCall(ctx context.Context, method, path string, body any) (Export, error) {
	var e Export
	h, err := c.sendJSON(ctx, method, path, nil, body, &e)
	if err != nil {
		return Export{}, err
	}
	e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	return e, nil
}

// WaitExport polls an export job until it has Succeeded, calling onPoll (if not nil) after
// each poll. Between polls it waits the Retry-After the service sent, kept within [1s, 30s].
// A Failed (or Undefined) job returns a *JobFailedError; its RetryAfter, when set, means
// the service was busy and the whole export should be started again after that delay.
// ctx bounds the whole wait.
func (c *Client) WaitExport(ctx context.Context, groupID, reportID, exportID string, onPoll func(Export)) (Export, error) {
	for n := 0; ; n++ {
		e, err := c.GetExport(ctx, groupID, reportID, exportID)
		if err != nil {
			return e, err
		}
		if onPoll != nil {
			onPoll(e)
		}
		switch e.Status {
		case "NotStarted", "Running", "":
		case "Succeeded":
			return e, nil
		default:
			return e, &JobFailedError{Operation: "export", ID: exportID, Status: e.Status, RetryAfter: e.RetryAfter}
		}
		if err := sleep(ctx, pollDelay(n, e.RetryAfter)); err != nil {
			return e, fmt.Errorf("pbiclient: waiting for export %s: %w", exportID, err)
		}
	}
}

// Download describes a downloaded export file.
type Download struct {
	Bytes       int64  `json:"bytes"`
	ContentType string `json:"contentType,omitempty"`
}

// DownloadExport streams the file of a succeeded export job into w, without holding it in
// memory (files reach 250 MB). On a failure partway, the error comes with the bytes
// already written to w.
func (c *Client) DownloadExport(ctx context.Context, groupID, reportID, exportID string, w io.Writer) (Download, error) {
	if err := needID("report", reportID); err != nil {
		return Download{}, err
	}
	if err := needID("export", exportID); err != nil {
		return Download{}, err
	}
	path := workspacePath(groupID, "reports", reportID, "exports", exportID, "file")
	resp, err := c.do(ctx, call{method: http.MethodGet, path: path, accept: "*/*"})
	if err != nil {
		return Download{}, err
	}
	defer resp.Body.Close()
	d := Download{ContentType: resp.Header.Get("Content-Type")}
	d.Bytes, err = io.Copy(w, resp.Body)
	if err != nil {
		return d, fmt.Errorf("pbiclient: GET %s: download interrupted after %d bytes (RequestId %s): %w",
			path, d.Bytes, resp.Header.Get("RequestId"), err)
	}
	return d, nil
}
