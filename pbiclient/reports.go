package pbiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// GetReport returns one report.
func (c *Client) GetReport(ctx context.Context, groupID, reportID string) (Report, error) {
	var r Report
	if err := needID("report", reportID); err != nil {
		return r, err
	}
	_, err := c.getJSON(ctx, workspacePath(groupID, "reports", reportID), nil, &r)
	return r, err
}

// ReportPage is a page of a Power BI report. Name is what the API takes (export pages,
// embedding); DisplayName is what users see.
type ReportPage struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Order       int    `json:"order"`
}

// ListReportPages lists the pages of a Power BI report.
func (c *Client) ListReportPages(ctx context.Context, groupID, reportID string) ([]ReportPage, error) {
	if err := needID("report", reportID); err != nil {
		return nil, err
	}
	var out list[ReportPage]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "reports", reportID, "pages"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// CloneReportRequest is the body of Clone (CloneReportRequest in the REST definition).
type CloneReportRequest struct {
	Name string `json:"name"`
	// TargetWorkspaceID: "" clones into the source's workspace; MyWorkspaceID into My workspace.
	TargetWorkspaceID string `json:"targetWorkspaceId,omitempty"`
	// TargetModelID: "" keeps the source's semantic model.
	TargetModelID string `json:"targetModelId,omitempty"`
}

// CloneReport copies a report and returns the copy. Like every POST it is not re-sent after a
// failure that may have reached the service.
func (c *Client) CloneReport(ctx context.Context, groupID, reportID string, req CloneReportRequest) (Report, error) {
	var r Report
	if err := needID("report", reportID); err != nil {
		return r, err
	}
	if req.Name == "" {
		return r, errors.New("pbiclient: CloneReport: Name is required")
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "reports", reportID, "Clone"), nil, req, &r)
	return r, err
}

// RebindReport binds a Power BI report to another semantic model. Not for paginated reports.
func (c *Client) RebindReport(ctx context.Context, groupID, reportID, datasetID string) error {
	if err := needID("report", reportID); err != nil {
		return err
	}
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	body := struct {
		DatasetID string `json:"datasetId"`
	}{datasetID}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "reports", reportID, "Rebind"), nil, body, nil)
	return err
}

// updateReportContentRequest is UpdateReportContentRequest of the REST definition.
type updateReportContentRequest struct {
	SourceType   string       `json:"sourceType"`
	SourceReport sourceReport `json:"sourceReport"`
}

type sourceReport struct {
	SourceReportID    string `json:"sourceReportId"`
	SourceWorkspaceID string `json:"sourceWorkspaceId,omitempty"`
}

// UpdateReportContent replaces the content (pages, visuals) of the report reportID with the
// content of the report sourceReportID in the workspace sourceGroupID ("" = the service's
// default, the target's workspace), and returns the updated report.
func (c *Client) UpdateReportContent(ctx context.Context, groupID, reportID, sourceGroupID, sourceReportID string) (Report, error) {
	var r Report
	if err := needID("report", reportID); err != nil {
		return r, err
	}
	if err := needID("source report", sourceReportID); err != nil {
		return r, err
	}
	body := updateReportContentRequest{SourceType: "ExistingReport",
		SourceReport: sourceReport{SourceReportID: sourceReportID, SourceWorkspaceID: sourceGroupID}}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "reports", reportID, "UpdateReportContent"), nil, body, &r)
	return r, err
}

// TakeOverReport makes the caller the owner of a paginated report's data sources. The API
// has no My workspace variant, so groupID is required.
func (c *Client) TakeOverReport(ctx context.Context, groupID, reportID string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	if err := needID("report", reportID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "reports", reportID, "Default.TakeOver"), nil, nil, nil)
	return err
}

// ListReportDatasources lists the data sources of a paginated report.
func (c *Client) ListReportDatasources(ctx context.Context, groupID, reportID string) ([]Datasource, error) {
	if err := needID("report", reportID); err != nil {
		return nil, err
	}
	var out list[Datasource]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "reports", reportID, "datasources"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// DeleteReport deletes a report.
func (c *Client) DeleteReport(ctx context.Context, groupID, reportID string) error {
	if err := needID("report", reportID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID, "reports", reportID), nil, nil, nil)
	return err
}

// Download types of DownloadReport.
const (
	DownloadIncludeModel = "IncludeModel" // the .pbix carries the semantic model
	DownloadLiveConnect  = "LiveConnect"  // the .pbix connects live to the semantic model in the service
)

// DownloadReport streams a report's definition file into w: a .pbix for a Power BI report,
// the .rdl for a paginated report. downloadType ("" = the service's default) exists only in
// the workspace variant of the API, so it is refused for My workspace.
func (c *Client) DownloadReport(ctx context.Context, groupID, reportID, downloadType string, w io.Writer) (Download, error) {
	if err := needID("report", reportID); err != nil {
		return Download{}, err
	}
	var q url.Values
	if downloadType != "" {
		if groupID == "" {
			return Download{}, errors.New("pbiclient: DownloadReport: downloadType is only available for reports in a workspace, not My workspace")
		}
		q = url.Values{"downloadType": {downloadType}}
	}
	return c.stream(ctx, workspacePath(groupID, "reports", reportID, "Export"), encodeQuery(q), w)
}

// ExportRequest asks for a report exported to a file.
type ExportRequest struct {
	// Format is "PDF", "PPTX" or "PNG" for Power BI reports; paginated reports take "PDF",
	// "PPTX", "XLSX", "DOCX", "CSV", "XML", "MHTML", "ACCESSIBLEPDF" and "IMAGE".
	Format string
	// Paginated selects paginatedReportConfiguration for the options below instead of
	// powerBIReportConfiguration.
	Paginated bool
	// Identities are effective identities for row-level security (at most one for paginated reports).
	Identities []EffectiveIdentity

	// Power BI reports only.
	Pages              []string // by page name (not display name)
	BookmarkName       string   // a bookmark of the report applied to every page; or
	BookmarkState      string   // a bookmark state captured with the JavaScript API
	ReportLevelFilter  string   // one filter in URL filter syntax, e.g. "Store/Territory eq 'NC'"
	Locale             string   // e.g. "en-US"
	IncludeHiddenPages bool     // when no pages are named

	// Paginated reports only.
	ParameterValues []ParameterValue
	FormatSettings  map[string]string // device information settings, e.g. {"OutputFormat": "PNG"}
}

// EffectiveIdentity is a user and roles row-level security is evaluated for.
type EffectiveIdentity struct {
	Username string   `json:"username"`
	Roles    []string `json:"roles,omitempty"`
	Datasets []string `json:"datasets,omitempty"`
	// CustomData is passed to the model's RLS rules (CUSTOMDATA()); used by embed tokens.
	CustomData string `json:"customData,omitempty"`
}

// ParameterValue is a paginated report parameter; a multi-value parameter repeats its name.
type ParameterValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// exportReportRequest is the wire form of ExportRequest (ExportReportRequest in the REST definition).
type exportReportRequest struct {
	Format                       string                        `json:"format"`
	PowerBIReportConfiguration   *powerBIReportConfiguration   `json:"powerBIReportConfiguration,omitempty"`
	PaginatedReportConfiguration *paginatedReportConfiguration `json:"paginatedReportConfiguration,omitempty"`
}

type powerBIReportConfiguration struct {
	Settings           *exportReportSettings `json:"settings,omitempty"`
	DefaultBookmark    *pageBookmark         `json:"defaultBookmark,omitempty"`
	ReportLevelFilters []exportFilter        `json:"reportLevelFilters,omitempty"`
	Pages              []exportReportPage    `json:"pages,omitempty"`
	Identities         []EffectiveIdentity   `json:"identities,omitempty"`
}

type exportReportSettings struct {
	Locale             string `json:"locale,omitempty"`
	IncludeHiddenPages bool   `json:"includeHiddenPages,omitempty"`
}

type pageBookmark struct {
	Name  string `json:"name,omitempty"`
	State string `json:"state,omitempty"`
}

type exportFilter struct {
	Filter string `json:"filter"`
}

type exportReportPage struct {
	PageName string `json:"pageName"`
}

type paginatedReportConfiguration struct {
	Identities      []EffectiveIdentity `json:"identities,omitempty"`
	FormatSettings  map[string]string   `json:"formatSettings,omitempty"`
	ParameterValues []ParameterValue    `json:"parameterValues,omitempty"`
}

func (r ExportRequest) wire() exportReportRequest {
	w := exportReportRequest{Format: r.Format}
	if r.Paginated {
		if len(r.Identities) > 0 || len(r.FormatSettings) > 0 || len(r.ParameterValues) > 0 {
			w.PaginatedReportConfiguration = &paginatedReportConfiguration{
				Identities: r.Identities, FormatSettings: r.FormatSettings, ParameterValues: r.ParameterValues}
		}
		return w
	}
	cfg := powerBIReportConfiguration{Identities: r.Identities}
	for _, p := range r.Pages {
		cfg.Pages = append(cfg.Pages, exportReportPage{PageName: p})
	}
	if r.Locale != "" || r.IncludeHiddenPages {
		cfg.Settings = &exportReportSettings{Locale: r.Locale, IncludeHiddenPages: r.IncludeHiddenPages}
	}
	if r.BookmarkName != "" || r.BookmarkState != "" {
		cfg.DefaultBookmark = &pageBookmark{Name: r.BookmarkName, State: r.BookmarkState}
	}
	if r.ReportLevelFilter != "" {
		cfg.ReportLevelFilters = []exportFilter{{Filter: r.ReportLevelFilter}}
	}
	if cfg.Settings != nil || cfg.DefaultBookmark != nil || cfg.ReportLevelFilters != nil || cfg.Pages != nil || cfg.Identities != nil {
		w.PowerBIReportConfiguration = &cfg
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
	return c.exportCall(ctx, http.MethodGet, workspacePath(groupID, "reports", reportID, "exports").joinOpaque(exportID), nil)
}

func (c *Client) exportCall(ctx context.Context, method string, path apiPath, body any) (Export, error) {
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
	return c.stream(ctx, workspacePath(groupID, "reports", reportID, "exports").joinOpaque(exportID).join("file"), "", w)
}

// stream copies the body of a GET into w as it arrives, never holding it in memory.
func (c *Client) stream(ctx context.Context, path apiPath, query string, w io.Writer) (Download, error) {
	cl, err := newCall(http.MethodGet, path, query)
	if err != nil {
		return Download{}, err
	}
	cl.accept = "*/*"
	resp, err := c.do(ctx, cl)
	if err != nil {
		return Download{}, err
	}
	defer resp.Body.Close()
	d := Download{ContentType: resp.Header.Get("Content-Type")}
	d.Bytes, err = io.Copy(w, resp.Body)
	if err != nil {
		return d, fmt.Errorf("pbiclient: GET %s: download interrupted after %d bytes (RequestId %s): %w",
			cl.path, d.Bytes, resp.Header.Get("RequestId"), err)
	}
	return d, nil
}
