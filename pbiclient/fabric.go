package pbiclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The Fabric REST API is the second surface of the client: semantic model definitions (TMDL
// or TMSL parts) are read and written there, not in Power BI's API. It has its own base URL and
// token audience (https://api.fabric.microsoft.com/.default), and goes through the same
// transport chain: retries, Retry-After, RequestId capture and typed errors. Its long-running
// operations answer 202 with x-ms-operation-id and Retry-After, and are followed here through
// GET operations/{id} to GET operations/{id}/result.

// DefaultFabricBaseURL is the public cloud's Fabric REST API.
const DefaultFabricBaseURL = "https://api.fabric.microsoft.com/v1"

// ErrNoFabric is returned by the Fabric calls of a Client made without Config.FabricTokens.
var ErrNoFabric = errors.New("pbiclient: the Fabric API is not configured (Config.FabricTokens)")

// DefinitionPart is one file of an item definition, decoded.
type DefinitionPart struct {
	Path    string // e.g. "definition/tables/Sales.tmdl"
	Payload []byte
}

// SemanticModelDefinition is a semantic model's definition: TMDL files (definition.pbism,
// definition/model.tmdl, definition/tables/*.tmdl, Copilot/...) or TMSL (model.bim).
type SemanticModelDefinition struct {
	Format string // "TMDL" or "TMSL" as asked for; "" when the service did not say
	Parts  []DefinitionPart
}

// Part returns the part at path, or nil.
func (d *SemanticModelDefinition) Part(path string) *DefinitionPart {
	for i := range d.Parts {
		if d.Parts[i].Path == path {
			return &d.Parts[i]
		}
	}
	return nil
}

// FabricOperation is one poll of a Fabric long-running operation, for progress reports.
type FabricOperation struct {
	ID              string
	Status          string // NotStarted, Running, Succeeded, Failed
	PercentComplete int
}

type fabricOperationHookKey struct{}

// WithFabricOperationHook returns a context whose Fabric long-running operations call hook
// after each status poll. It runs on the requesting goroutine and must return quickly.
func WithFabricOperationHook(ctx context.Context, hook func(FabricOperation)) context.Context {
	return context.WithValue(ctx, fabricOperationHookKey{}, hook)
}

type wirePart struct {
	Path        string `json:"path"`
	Payload     string `json:"payload"`
	PayloadType string `json:"payloadType"`
}

type wireDefinition struct {
	Format string     `json:"format,omitempty"`
	Parts  []wirePart `json:"parts"`
}

// GetSemanticModelDefinition reads a semantic model's definition; format "" means the
// service's default, TMDL. It follows the long-running operation to its result.
func (c *Client) GetSemanticModelDefinition(ctx context.Context, workspaceID, datasetID, format string) (*SemanticModelDefinition, error) {
	if c.fabric == nil {
		return nil, ErrNoFabric
	}
	if err := needID("workspace", workspaceID); err != nil {
		return nil, err
	}
	if err := needID("dataset", datasetID); err != nil {
		return nil, err
	}
	q := url.Values{}
	if format != "" {
		q.Set("format", format)
	}
	var out struct {
		Definition wireDefinition `json:"definition"`
	}
	if err := c.fabric.runFabric(ctx, pathOf("workspaces", workspaceID, "semanticModels", datasetID, "getDefinition"), q, nil, &out); err != nil {
		return nil, err
	}
	def := &SemanticModelDefinition{Format: out.Definition.Format}
	for _, p := range out.Definition.Parts {
		if p.PayloadType != "InlineBase64" {
			return nil, fmt.Errorf("pbiclient: definition part %s: unknown payload type %q", p.Path, p.PayloadType)
		}
		b, err := base64.StdEncoding.DecodeString(p.Payload)
		if err != nil {
			return nil, fmt.Errorf("pbiclient: definition part %s: %w", p.Path, err)
		}
		def.Parts = append(def.Parts, DefinitionPart{Path: p.Path, Payload: b})
	}
	return def, nil
}

// UpdateSemanticModelDefinition replaces a semantic model's definition with def's parts (the
// whole definition, not a patch) and waits for the long-running operation to succeed. A
// definition the service cannot read is an *APIError (400, e.g. CorruptedPayload) and changes
// nothing.
func (c *Client) UpdateSemanticModelDefinition(ctx context.Context, workspaceID, datasetID string, def SemanticModelDefinition) error {
	if c.fabric == nil {
		return ErrNoFabric
	}
	if err := needID("workspace", workspaceID); err != nil {
		return err
	}
	if err := needID("dataset", datasetID); err != nil {
		return err
	}
	body := struct {
		Definition wireDefinition `json:"definition"`
	}{wireDefinition{Parts: make([]wirePart, 0, len(def.Parts))}}
	for _, p := range def.Parts {
		body.Definition.Parts = append(body.Definition.Parts, wirePart{Path: p.Path,
			Payload: base64.StdEncoding.EncodeToString(p.Payload), PayloadType: "InlineBase64"})
	}
	return c.fabric.runFabric(ctx, pathOf("workspaces", workspaceID, "semanticModels", datasetID, "updateDefinition"), nil, body, nil)
}

// runFabric POSTs a Fabric operation that may run long: a 200 is decoded into out (unless
// nil); a 202 is polled at operations/{id}, honouring Retry-After, until it ends, and then,
// when out is not nil, its result is read from operations/{id}/result.
func (c *Client) runFabric(ctx context.Context, p apiPath, query url.Values, in, out any) error {
	cl, err := newCall(http.MethodPost, p, encodeQuery(query))
	if err != nil {
		return err
	}
	if in != nil {
		if cl.body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("pbiclient: POST %s: encode request: %w", cl.path, err)
		}
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	if resp.StatusCode != http.StatusAccepted {
		if out == nil {
			return nil
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("pbiclient: POST %s: decode response (RequestId %s): %w", cl.path, resp.Header.Get("RequestId"), err)
		}
		return nil
	}
	// The operation is named by x-ms-operation-id; Location is not followed, so that a token is
	// only ever sent under the configured base URL.
	id := resp.Header.Get("x-ms-operation-id")
	if err := needID("operation", id); err != nil {
		return fmt.Errorf("pbiclient: POST %s answered 202 without x-ms-operation-id (RequestId %s)", cl.path, resp.Header.Get("RequestId"))
	}
	if err := c.waitFabricOperation(ctx, id, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	_, err = c.getJSON(ctx, pathOf("operations", id, "result"), nil, out)
	return err
}

// waitFabricOperation polls an operation until it succeeds (nil) or fails (*JobFailedError),
// waiting what the service asks with Retry-After before each poll.
func (c *Client) waitFabricOperation(ctx context.Context, id string, hint time.Duration) error {
	hook, _ := ctx.Value(fabricOperationHookKey{}).(func(FabricOperation))
	for n := 0; ; n++ {
		if err := sleep(ctx, pollDelay(n, hint)); err != nil {
			return fmt.Errorf("pbiclient: gave up waiting for Fabric operation %s: %w", id, err)
		}
		var state struct {
			Status          string `json:"status"`
			PercentComplete int    `json:"percentComplete"`
			Error           *struct {
				ErrorCode string `json:"errorCode"`
				Message   string `json:"message"`
			} `json:"error"`
		}
		h, err := c.getJSON(ctx, pathOf("operations", id), nil, &state)
		if err != nil {
			return err
		}
		if hook != nil {
			hook(FabricOperation{ID: id, Status: state.Status, PercentComplete: state.PercentComplete})
		}
		switch state.Status {
		case "Succeeded":
			return nil
		case "Failed", "Undefined":
			jf := &JobFailedError{Operation: "Fabric operation", ID: id, Status: state.Status}
			if state.Error != nil {
				jf.Detail = bound(state.Error.ErrorCode+": "+state.Error.Message, maxMessageLen)
			}
			return jf
		}
		hint = parseRetryAfter(h.Get("Retry-After"), time.Now())
	}
}
