package pbiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MaxPushRows is the most rows one POST rows request may carry; the service refuses more.
const MaxPushRows = 10_000

// PushColumn is a column of a push dataset table. DataType is an EDM type: Int64, Double,
// Decimal, Boolean, DateTime or String.
type PushColumn struct {
	Name         string `json:"name"`
	DataType     string `json:"dataType"`
	FormatString string `json:"formatString,omitempty"`
	IsHidden     bool   `json:"isHidden,omitempty"`
}

// PushMeasure is a DAX measure of a push dataset table.
type PushMeasure struct {
	Name         string `json:"name"`
	Expression   string `json:"expression"`
	FormatString string `json:"formatString,omitempty"`
	Description  string `json:"description,omitempty"`
	IsHidden     bool   `json:"isHidden,omitempty"`
}

// PushTable is a table of a push dataset (the REST definition's Table without rows).
type PushTable struct {
	Name     string        `json:"name"`
	Columns  []PushColumn  `json:"columns"`
	Measures []PushMeasure `json:"measures,omitempty"`
	IsHidden bool          `json:"isHidden,omitempty"`
}

// PushRelationship relates FromTable.FromColumn (the many side) to ToTable.ToColumn.
type PushRelationship struct {
	Name                   string `json:"name"`
	FromTable              string `json:"fromTable"`
	FromColumn             string `json:"fromColumn"`
	ToTable                string `json:"toTable"`
	ToColumn               string `json:"toColumn"`
	CrossFilteringBehavior string `json:"crossFilteringBehavior,omitempty"`
}

// CreatePushDatasetRequest is the REST definition's CreateDatasetRequest for a push dataset.
type CreatePushDatasetRequest struct {
	Name          string             `json:"name"`
	DefaultMode   string             `json:"defaultMode"`
	Tables        []PushTable        `json:"tables"`
	Relationships []PushRelationship `json:"relationships,omitempty"`
}

// PushDataset is the service's answer to creating a push dataset.
type PushDataset struct {
	ID                     string `json:"id"`
	Name                   string `json:"name"`
	DefaultRetentionPolicy string `json:"defaultRetentionPolicy,omitempty"`
}

// CreatePushDataset creates a push dataset in a workspace ("" = My workspace). retention is
// "None" or "basicFIFO" ("" leaves the service's default, None). DefaultMode defaults to Push.
func (c *Client) CreatePushDataset(ctx context.Context, groupID string, req CreatePushDatasetRequest, retention string) (PushDataset, error) {
	if strings.TrimSpace(req.Name) == "" || len(req.Tables) == 0 {
		return PushDataset{}, errors.New("pbiclient: CreatePushDataset: a name and at least one table are required")
	}
	if req.DefaultMode == "" {
		req.DefaultMode = "Push"
	}
	var q url.Values
	if retention != "" {
		q = url.Values{"defaultRetentionPolicy": {retention}}
	}
	var out PushDataset
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets"), q, req, &out)
	return out, err
}

// ListTables lists the tables of a push dataset; other datasets are refused by the service.
func (c *Client) ListTables(ctx context.Context, groupID, datasetID string) ([]PushTable, error) {
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	var out list[PushTable]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "datasets", datasetID, "tables"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// PutTable replaces the schema (columns and measures) of a push dataset table.
func (c *Client) PutTable(ctx context.Context, groupID, datasetID string, table PushTable) (PushTable, error) {
	if err := needID("dataset", datasetID); err != nil {
		return PushTable{}, err
	}
	if strings.TrimSpace(table.Name) == "" {
		return PushTable{}, errors.New("pbiclient: PutTable: the table name is required")
	}
	var out PushTable
	_, err := c.sendJSON(ctx, http.MethodPut, workspacePath(groupID, "datasets", datasetID, "tables", table.Name), nil, table, &out)
	return out, err
}

// AddRows adds at most MaxPushRows rows (column name to value) to a push dataset table. Like
// every POST it is not re-sent after a failure that may have reached the service; a 429 is
// retried within the client's wait budget.
func (c *Client) AddRows(ctx context.Context, groupID, datasetID, table string, rows []map[string]any) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	if len(rows) > MaxPushRows {
		return fmt.Errorf("pbiclient: AddRows: %d rows; at most %d per request", len(rows), MaxPushRows)
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "datasets", datasetID, "tables", table, "rows"), nil,
		struct {
			Rows []map[string]any `json:"rows"`
		}{rows}, nil)
	return err
}

// DeleteRows deletes every row of a push dataset table.
func (c *Client) DeleteRows(ctx context.Context, groupID, datasetID, table string) error {
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, workspacePath(groupID, "datasets", datasetID, "tables", table, "rows"), nil, nil, nil)
	return err
}
