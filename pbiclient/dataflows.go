package pbiclient

import (
	"context"
	"net/http"
	"net/url"
)

// Dataflows (Gen1) live in workspaces only: My workspace has none, so every operation needs a
// groupID.

// Dataflow is a dataflow as listed. Its id is ObjectID: Power BI names it objectId, not id.
type Dataflow struct {
	ObjectID     string `json:"objectId"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
	ModelURL     string `json:"modelUrl,omitempty"`
	ConfiguredBy string `json:"configuredBy,omitempty"`
}

// DataflowDefinition is the part of a dataflow's model.json (CDM folder format) a reader
// needs: its entities (tables) and their attributes (columns). The Power Query document and
// partitions are left out.
type DataflowDefinition struct {
	Name         string           `json:"name"`
	Description  string           `json:"description,omitempty"`
	Version      string           `json:"version,omitempty"`
	Culture      string           `json:"culture,omitempty"`
	ModifiedTime string           `json:"modifiedTime,omitempty"`
	Entities     []DataflowEntity `json:"entities"`
}

// DataflowEntity is a table of a dataflow.
type DataflowEntity struct {
	Type        string              `json:"$type,omitempty"` // LocalEntity or ReferenceEntity (a linked table)
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Attributes  []DataflowAttribute `json:"attributes,omitempty"`
}

// DataflowAttribute is a column of a dataflow entity.
type DataflowAttribute struct {
	Name     string `json:"name"`
	DataType string `json:"dataType,omitempty"`
}

// DataflowTransaction is one refresh of a dataflow. IDs look like
// "2020-08-27T16:07:47.2487692Z@8dbd8c92-...$2".
type DataflowTransaction struct {
	ID          string `json:"id"`
	RefreshType string `json:"refreshType,omitempty"`
	StartTime   string `json:"startTime,omitempty"`
	EndTime     string `json:"endTime,omitempty"`
	Status      string `json:"status,omitempty"`
}

// DataflowTransactionStatus is the answer to a cancel request: Status is SuccessfullyMarked,
// AlreadyConcluded, NotFound or Invalid (the definition's enum spells them camelCase).
type DataflowTransactionStatus struct {
	TransactionID string `json:"transactionId"`
	Status        string `json:"status"`
}

func dataflowPath(groupID, dataflowID string, segments ...string) apiPath {
	return workspacePath(groupID, "dataflows", dataflowID).join(segments...)
}

func needDataflow(groupID, dataflowID string) error {
	if err := needID("workspace", groupID); err != nil {
		return err
	}
	return needID("dataflow", dataflowID)
}

// ListDataflows lists the dataflows of a workspace.
func (c *Client) ListDataflows(ctx context.Context, groupID string) ([]Dataflow, error) {
	if err := needID("workspace", groupID); err != nil {
		return nil, err
	}
	var out list[Dataflow]
	if _, err := c.getJSON(ctx, workspacePath(groupID, "dataflows"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// GetDataflow reads a dataflow's definition (model.json).
func (c *Client) GetDataflow(ctx context.Context, groupID, dataflowID string) (DataflowDefinition, error) {
	var out DataflowDefinition
	if err := needDataflow(groupID, dataflowID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, dataflowPath(groupID, dataflowID), nil, &out)
	return out, err
}

// RefreshDataflow starts a refresh. notifyOption (NoNotification, MailOnFailure or
// MailOnCompletion) is required; processType ("" for the service's default, or
// "processFull") is optional. Power BI answers 200 with no body: the refresh shows up in
// ListDataflowTransactions.
func (c *Client) RefreshDataflow(ctx context.Context, groupID, dataflowID, processType, notifyOption string) error {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return err
	}
	var q url.Values
	if processType != "" {
		q = url.Values{"processType": {processType}}
	}
	body := struct {
		NotifyOption string `json:"notifyOption"`
	}{notifyOption}
	_, err := c.sendJSON(ctx, http.MethodPost, dataflowPath(groupID, dataflowID, "refreshes"), q, body, nil)
	return err
}

// ListDataflowTransactions lists a dataflow's refreshes, newest first.
func (c *Client) ListDataflowTransactions(ctx context.Context, groupID, dataflowID string) ([]DataflowTransaction, error) {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return nil, err
	}
	var out list[DataflowTransaction]
	if _, err := c.getJSON(ctx, dataflowPath(groupID, dataflowID, "transactions"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// CancelDataflowTransaction cancels a running refresh. The id carries ':', '@' and '$',
// which are escaped in the path.
func (c *Client) CancelDataflowTransaction(ctx context.Context, groupID, transactionID string) (DataflowTransactionStatus, error) {
	var out DataflowTransactionStatus
	if err := needID("workspace", groupID); err != nil {
		return out, err
	}
	if err := needID("transaction", transactionID); err != nil {
		return out, err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "dataflows", "transactions", transactionID, "cancel"), nil, nil, &out)
	return out, err
}

// ListDataflowDatasources lists the data sources a dataflow reads.
func (c *Client) ListDataflowDatasources(ctx context.Context, groupID, dataflowID string) ([]Datasource, error) {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return nil, err
	}
	var out list[Datasource]
	if _, err := c.getJSON(ctx, dataflowPath(groupID, dataflowID, "datasources"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ListUpstreamDataflowsOfDataflow lists the dataflows a dataflow reads from.
func (c *Client) ListUpstreamDataflowsOfDataflow(ctx context.Context, groupID, dataflowID string) ([]DependentDataflow, error) {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return nil, err
	}
	var out list[DependentDataflow]
	if _, err := c.getJSON(ctx, dataflowPath(groupID, dataflowID, "upstreamDataflows"), nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// UpdateDataflowRefreshSchedule changes a dataflow's refresh schedule; unset fields keep their
// value. The rules are those of a model's schedule (see UpdateRefreshSchedule). Power BI has
// no operation to read a dataflow's schedule back.
func (c *Client) UpdateDataflowRefreshSchedule(ctx context.Context, groupID, dataflowID string, u RefreshScheduleUpdate) error {
	if err := needDataflow(groupID, dataflowID); err != nil {
		return err
	}
	body := struct {
		Value RefreshScheduleUpdate `json:"value"`
	}{u}
	_, err := c.sendJSON(ctx, http.MethodPatch, dataflowPath(groupID, dataflowID, "refreshSchedule"), nil, body, nil)
	return err
}
