package pbiclient

import (
	"context"
	"errors"
	"net/http"
)

// RdlDatasourceUpdate points one data source of a paginated report elsewhere (one entry of
// Default.UpdateDatasources for reports).
type RdlDatasourceUpdate struct {
	// DatasourceName is the data source's name in the report definition (the RDL's
	// <DataSource Name="...">).
	DatasourceName    string               `json:"datasourceName"`
	ConnectionDetails RdlConnectionDetails `json:"connectionDetails"`
}

// RdlConnectionDetails is where a paginated report's data source connects.
type RdlConnectionDetails struct {
	Server   string `json:"server,omitempty"`
	Database string `json:"database,omitempty"`
}

// UpdateReportDatasources changes where data sources of a paginated report connect. The
// service supports it for paginated reports only, never a change of source type, and
// requires the caller to own the data sources (TakeOverReport).
func (c *Client) UpdateReportDatasources(ctx context.Context, groupID, reportID string, updates []RdlDatasourceUpdate) error {
	if err := needID("report", reportID); err != nil {
		return err
	}
	if len(updates) == 0 {
		return errors.New("pbiclient: UpdateReportDatasources: no update")
	}
	body := struct {
		UpdateDetails []RdlDatasourceUpdate `json:"updateDetails"`
	}{updates}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "reports", reportID, "Default.UpdateDatasources"), nil, body, nil)
	return err
}

// GetReportPage reads one page of a Power BI report by its name (ReportPage.Name, not the
// display name).
func (c *Client) GetReportPage(ctx context.Context, groupID, reportID, pageName string) (ReportPage, error) {
	if err := needID("report", reportID); err != nil {
		return ReportPage{}, err
	}
	if err := needID("page", pageName); err != nil {
		return ReportPage{}, err
	}
	var out ReportPage
	_, err := c.getJSON(ctx, workspacePath(groupID, "reports", reportID, "pages", pageName), nil, &out)
	return out, err
}
