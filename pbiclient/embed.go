package pbiclient

import (
	"context"
	"net/http"
)

// EmbedToken is a Power BI embed token. Token is a secret: whoever holds it sees the content
// it was made for until Expiration. Never log it.
type EmbedToken struct {
	Token      string `json:"token"`
	TokenID    string `json:"tokenId"`
	Expiration string `json:"expiration"` // UTC, RFC 3339
}

// String hides the token, so that printing an EmbedToken by mistake leaks nothing.
func (t EmbedToken) String() string {
	return "EmbedToken{tokenId: " + t.TokenID + ", expiration: " + t.Expiration + ", token: [redacted]}"
}

// EmbedTokenReport is a report in a multi-resource token request.
type EmbedTokenReport struct {
	ID        string `json:"id"`
	AllowEdit bool   `json:"allowEdit,omitempty"`
}

// EmbedTokenDataset is a dataset in a multi-resource token request.
type EmbedTokenDataset struct {
	ID              string `json:"id"`
	XmlaPermissions string `json:"xmlaPermissions,omitempty"` // "Off" or "ReadOnly"
}

// EmbedTokenWorkspace is a workspace an embed token may save new reports to.
type EmbedTokenWorkspace struct {
	ID string `json:"id"`
}

// GenerateTokenRequestV2 is the body of the multi-resource POST /GenerateToken.
type GenerateTokenRequestV2 struct {
	Datasets          []EmbedTokenDataset   `json:"datasets,omitempty"`
	Reports           []EmbedTokenReport    `json:"reports,omitempty"`
	TargetWorkspaces  []EmbedTokenWorkspace `json:"targetWorkspaces,omitempty"`
	Identities        []EffectiveIdentity   `json:"identities,omitempty"`
	LifetimeInMinutes int                   `json:"lifetimeInMinutes,omitempty"`
}

// GenerateTokenRequest is the body of the single-item GenerateToken operations.
type GenerateTokenRequest struct {
	AccessLevel       string              `json:"accessLevel,omitempty"` // View, Edit or Create
	DatasetID         string              `json:"datasetId,omitempty"`   // report creation only
	AllowSaveAs       bool                `json:"allowSaveAs,omitempty"`
	Identities        []EffectiveIdentity `json:"identities,omitempty"`
	LifetimeInMinutes int                 `json:"lifetimeInMinutes,omitempty"`
}

// GenerateToken makes an embed token for several reports, datasets and target workspaces
// (the multi-resource V2 operation).
func (c *Client) GenerateToken(ctx context.Context, req GenerateTokenRequestV2) (EmbedToken, error) {
	var out EmbedToken
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("GenerateToken"), nil, req, &out)
	return out, err
}

// GenerateReportToken makes an embed token to view or edit one report of a workspace.
func (c *Client) GenerateReportToken(ctx context.Context, groupID, reportID string, req GenerateTokenRequest) (EmbedToken, error) {
	if err := needID("report", reportID); err != nil {
		return EmbedToken{}, err
	}
	return c.generateV1(ctx, groupID, req, "reports", reportID)
}

// GenerateReportCreateToken makes an embed token to create a report on req.DatasetID in a
// workspace.
func (c *Client) GenerateReportCreateToken(ctx context.Context, groupID string, req GenerateTokenRequest) (EmbedToken, error) {
	if err := needID("dataset", req.DatasetID); err != nil {
		return EmbedToken{}, err
	}
	return c.generateV1(ctx, groupID, req, "reports")
}

// GenerateDatasetToken makes an embed token for one dataset of a workspace.
func (c *Client) GenerateDatasetToken(ctx context.Context, groupID, datasetID string, req GenerateTokenRequest) (EmbedToken, error) {
	if err := needID("dataset", datasetID); err != nil {
		return EmbedToken{}, err
	}
	return c.generateV1(ctx, groupID, req, "datasets", datasetID)
}

// GenerateDashboardToken makes an embed token to view one dashboard of a workspace.
func (c *Client) GenerateDashboardToken(ctx context.Context, groupID, dashboardID string, req GenerateTokenRequest) (EmbedToken, error) {
	if err := needID("dashboard", dashboardID); err != nil {
		return EmbedToken{}, err
	}
	return c.generateV1(ctx, groupID, req, "dashboards", dashboardID)
}

// GenerateTileToken makes an embed token to view one dashboard tile of a workspace.
func (c *Client) GenerateTileToken(ctx context.Context, groupID, dashboardID, tileID string, req GenerateTokenRequest) (EmbedToken, error) {
	if err := needID("dashboard", dashboardID); err != nil {
		return EmbedToken{}, err
	}
	if err := needID("tile", tileID); err != nil {
		return EmbedToken{}, err
	}
	return c.generateV1(ctx, groupID, req, "dashboards", dashboardID, "tiles", tileID)
}

// generateV1 posts a single-item token request. These operations exist only for workspaces.
func (c *Client) generateV1(ctx context.Context, groupID string, req GenerateTokenRequest, segments ...string) (EmbedToken, error) {
	if err := needID("workspace", groupID); err != nil {
		return EmbedToken{}, err
	}
	var out EmbedToken
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, append(segments, "GenerateToken")...), nil, req, &out)
	return out, err
}
