package pbiclient

import "context"

// The installed-apps operations work only for a signed-in user: Power BI refuses
// service principals (HTTP 403, "API is not accessible for application").

// App is a Power BI app installed for the signed-in user.
type App struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	LastUpdate  string `json:"lastUpdate,omitempty"` // as sent, ISO 8601
	PublishedBy string `json:"publishedBy,omitempty"`
}

// AppReport is a report of an app: a Report that names its app.
type AppReport struct {
	Report
	AppID string `json:"appId,omitempty"`
}

// ListApps lists the apps installed for the signed-in user.
func (c *Client) ListApps(ctx context.Context) ([]App, error) {
	var out list[App]
	if _, err := c.getJSON(ctx, pathOf("apps"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetApp returns one installed app.
func (c *Client) GetApp(ctx context.Context, appID string) (App, error) {
	if err := needID("app", appID); err != nil {
		return App{}, err
	}
	var out App
	_, err := c.getJSON(ctx, pathOf("apps", appID), nil, &out)
	return out, err
}

// ListAppReports lists the reports of an installed app.
func (c *Client) ListAppReports(ctx context.Context, appID string) ([]AppReport, error) {
	if err := needID("app", appID); err != nil {
		return nil, err
	}
	var out list[AppReport]
	if _, err := c.getJSON(ctx, pathOf("apps", appID, "reports"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetAppReport returns one report of an installed app.
func (c *Client) GetAppReport(ctx context.Context, appID, reportID string) (AppReport, error) {
	if err := needID("app", appID); err != nil {
		return AppReport{}, err
	}
	if err := needID("report", reportID); err != nil {
		return AppReport{}, err
	}
	var out AppReport
	_, err := c.getJSON(ctx, pathOf("apps", appID, "reports", reportID), nil, &out)
	return out, err
}

// ListAppDashboards lists the dashboards of an installed app.
func (c *Client) ListAppDashboards(ctx context.Context, appID string) ([]Dashboard, error) {
	if err := needID("app", appID); err != nil {
		return nil, err
	}
	var out list[Dashboard]
	if _, err := c.getJSON(ctx, pathOf("apps", appID, "dashboards"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetAppDashboard returns one dashboard of an installed app.
func (c *Client) GetAppDashboard(ctx context.Context, appID, dashboardID string) (Dashboard, error) {
	if err := needID("app", appID); err != nil {
		return Dashboard{}, err
	}
	if err := needID("dashboard", dashboardID); err != nil {
		return Dashboard{}, err
	}
	var out Dashboard
	_, err := c.getJSON(ctx, pathOf("apps", appID, "dashboards", dashboardID), nil, &out)
	return out, err
}
