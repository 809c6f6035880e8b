package pbiclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Dashboard is a Power BI dashboard, in a workspace or in an app.
type Dashboard struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	IsReadOnly  bool   `json:"isReadOnly"`
	WebURL      string `json:"webUrl,omitempty"`
	EmbedURL    string `json:"embedUrl,omitempty"`
	AppID       string `json:"appId,omitempty"` // set only on dashboards read through an app
}

// Tile is a tile of a dashboard.
type Tile struct {
	ID        string `json:"id"`
	Title     string `json:"title,omitempty"`
	ReportID  string `json:"reportId,omitempty"`  // only for tiles pinned from a report
	DatasetID string `json:"datasetId,omitempty"` // for tiles from a report or a dataset (Q&A)
	RowSpan   int    `json:"rowSpan"`
	ColSpan   int    `json:"colSpan"`
	EmbedURL  string `json:"embedUrl,omitempty"`
	EmbedData string `json:"embedData,omitempty"`
}

// ListDashboards lists the dashboards of a workspace ("" = My workspace).
func (c *Client) ListDashboards(ctx context.Context, groupID string) ([]Dashboard, error) {
	var out list[Dashboard]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "dashboards"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetDashboard returns one dashboard of a workspace ("" = My workspace).
func (c *Client) GetDashboard(ctx context.Context, groupID, dashboardID string) (Dashboard, error) {
	if err := needID("dashboard", dashboardID); err != nil {
		return Dashboard{}, err
	}
	var out Dashboard
	_, err := c.getJSON(ctx, workspacePath(groupID, "dashboards", dashboardID), nil, &out)
	return out, err
}

// CreateDashboard creates an empty dashboard called name in a workspace ("" = My
// workspace) and returns it. Like every POST it is not re-sent after a failure that may
// have reached the service.
func (c *Client) CreateDashboard(ctx context.Context, groupID, name string) (Dashboard, error) {
	if strings.TrimSpace(name) == "" {
		return Dashboard{}, errors.New("pbiclient: CreateDashboard: name is required")
	}
	var out Dashboard
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "dashboards"), nil,
		struct {
			Name string `json:"name"`
		}{name}, &out)
	return out, err
}

// DeleteDashboard deletes a dashboard, with its tiles, from a workspace ("" = My workspace).
func (c *Client) DeleteDashboard(ctx context.Context, groupID, dashboardID string) error {
	if err := needID("dashboard", dashboardID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID, "dashboards", dashboardID), nil, nil, nil)
	return err
}

// ListTiles lists the tiles of a dashboard in a workspace ("" = My workspace).
func (c *Client) ListTiles(ctx context.Context, groupID, dashboardID string) ([]Tile, error) {
	if err := needID("dashboard", dashboardID); err != nil {
		return nil, err
	}
	var out list[Tile]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "dashboards", dashboardID, "tiles"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetTile returns one tile of a dashboard in a workspace ("" = My workspace).
func (c *Client) GetTile(ctx context.Context, groupID, dashboardID, tileID string) (Tile, error) {
	if err := needID("dashboard", dashboardID); err != nil {
		return Tile{}, err
	}
	if err := needID("tile", tileID); err != nil {
		return Tile{}, err
	}
	var out Tile
	_, err := c.getJSON(ctx, workspacePath(groupID, "dashboards", dashboardID, "tiles", tileID), nil, &out)
	return out, err
}

// MyWorkspaceID names My workspace where a request body needs a workspace id, such as
// CloneReportRequest.TargetWorkspaceID or CloneTileRequest.TargetWorkspaceID.
const MyWorkspaceID = "00000000-0000-0000-0000-000000000000"

// CloneTileRequest says where a tile is copied to (CloneTileRequest in the REST
// definition). Only TargetDashboardID is required.
type CloneTileRequest struct {
	TargetDashboardID string `json:"targetDashboardId"`
	// TargetWorkspaceID is the target dashboard's workspace: "" means the source tile's
	// own workspace, MyWorkspaceID the caller's My workspace.
	TargetWorkspaceID string `json:"targetWorkspaceId,omitempty"`
	// TargetReportID and TargetModelID rebind the copy to another report or dataset. A
	// copy to another workspace without them loses its links and shows nothing.
	TargetReportID string `json:"targetReportId,omitempty"`
	TargetModelID  string `json:"targetModelId,omitempty"`
	// PositionConflictAction is "Tail" (the service's default: put the copy at the end
	// when the source's position is taken) or "Abort" (fail instead).
	PositionConflictAction string `json:"positionConflictAction,omitempty"`
}

// CloneTile copies a tile of a dashboard in a workspace ("" = My workspace) to a
// dashboard and returns the new tile. Like every POST it is not re-sent after a failure
// that may have reached the service.
func (c *Client) CloneTile(ctx context.Context, groupID, dashboardID, tileID string, req CloneTileRequest) (Tile, error) {
	if err := needID("dashboard", dashboardID); err != nil {
		return Tile{}, err
	}
	if err := needID("tile", tileID); err != nil {
		return Tile{}, err
	}
	if err := needID("target dashboard", req.TargetDashboardID); err != nil {
		return Tile{}, err
	}
	var out Tile
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "dashboards", dashboardID, "tiles", tileID, "Clone"), nil, req, &out)
	return out, err
}
