package pbitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The Fabric REST API (https://api.fabric.microsoft.com/v1) for semantic model definitions, as
// its published definitions (testdata/fabric, from microsoft/fabric-rest-api-specs) describe it:
//   - POST workspaces/{ws}/semanticModels/{id}/getDefinition[?format=TMDL|TMSL]
//   - POST workspaces/{ws}/semanticModels/{id}/updateDefinition
//   - GET operations/{id} and operations/{id}/result (long-running operations)
//
// Both POSTs answer 202 with Location, x-ms-operation-id and Retry-After, as Fabric does for
// all but the smallest models; the operation runs for FabricOperationDuration. Definitions are
// generated from the dataset's Model as TMDL (tmdl.go); an update is parsed, refused with
// Fabric's error shape when it does not parse, and otherwise applied to the Model's measures,
// so DAX queries see them. Tables and columns are not changed by an update.
//
// Tokens must be for Fabric's audience (the token endpoint grants Fabric's scope to the service
// principal, to signed-in users, to on-behalf-of exchanges and to managed identities); a Power
// BI token is answered 401. Any such token sees every workspace: workspace roles are not
// modelled on this surface.

// fabricPrefix is the path the Fabric API lives under on this server.
const fabricPrefix = "/fabric/v1"

// Defaults of the Fabric long-running operations; tests change them with SetFabricOperations.
const (
	defaultFabricOperationDuration = 1500 * time.Millisecond
	defaultFabricRetryAfter        = 1 // seconds
)

// FabricBaseURL is the Fabric REST base, the stand-in for https://api.fabric.microsoft.com/v1.
func (s *Server) FabricBaseURL() string { return s.srv.URL + fabricPrefix }

// fabricState holds the long-running operations and the parts of each definition that the
// Model does not carry (the Copilot folder, kept verbatim).
type fabricState struct {
	duration   time.Duration
	retryAfter int
	ops        map[string]*fabricOperation
	polls      int
	// extra maps a dataset id to its parts other than the generated TMDL, by path.
	extra map[string]map[string][]byte
}

type fabricOperation struct {
	created, done time.Time
	// result is the definition a getDefinition operation returns; nil for updates.
	result *fabricDefinition
}

type fabricDefinition struct {
	Format string       `json:"format,omitempty"`
	Parts  []fabricPart `json:"parts"`
}

type fabricPart struct {
	Path        string `json:"path"`
	Payload     string `json:"payload"`
	PayloadType string `json:"payloadType"`
}

// fabricSt returns the Fabric state, made on first use. The caller must hold s.mu.
func (s *Server) fabricSt() *fabricState {
	s.fabricOnce.Do(func() {
		s.fabric = &fabricState{
			duration:   defaultFabricOperationDuration,
			retryAfter: defaultFabricRetryAfter,
			ops:        map[string]*fabricOperation{},
			extra:      map[string]map[string][]byte{},
		}
	})
	return s.fabric
}

// SetFabricOperations sets how long Fabric's long-running operations run and the Retry-After
// (whole seconds) their answers carry. A duration <= 0 answers 200 at once, without an operation.
func (s *Server) SetFabricOperations(duration time.Duration, retryAfterSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.fabricSt()
	st.duration, st.retryAfter = duration, retryAfterSeconds
}

// FabricOperationPolls counts the GET operations/{id} requests answered so far.
func (s *Server) FabricOperationPolls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fabricSt().polls
}

// SetDefinitionParts stores parts of a dataset's definition that its Model does not carry,
// such as Copilot/ files; they are served verbatim by getDefinition.
func (s *Server) SetDefinitionParts(datasetID string, parts map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.fabricSt()
	if st.extra[datasetID] == nil {
		st.extra[datasetID] = map[string][]byte{}
	}
	for p, b := range parts {
		st.extra[datasetID][p] = b
	}
}

func (s *Server) fabricRoutes() {
	s.handleFabric("POST "+fabricPrefix+"/workspaces/{workspaceId}/semanticModels/{semanticModelId}/getDefinition", s.getDefinition)
	s.handleFabric("POST "+fabricPrefix+"/workspaces/{workspaceId}/semanticModels/{semanticModelId}/updateDefinition", s.updateDefinition)
	s.handleFabric("GET "+fabricPrefix+"/operations/{operationId}", s.fabricOperationState)
	s.handleFabric("GET "+fabricPrefix+"/operations/{operationId}/result", s.fabricOperationResult)
	s.handleFabric(fabricPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeFabricError(w, http.StatusNotFound, "EntityNotFound", "The requested resource could not be found", nil)
	})
}

// handleFabric registers a Fabric route: recorded like Power BI's, with Fabric's headers and its
// own token audience.
func (s *Server) handleFabric(pattern string, h http.HandlerFunc) {
	s.apiRoutes = append(s.apiRoutes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rec := s.begin(w, r, true)
		defer rec.finish()
		if !s.delay(r.Context()) {
			return
		}
		rec.Header().Set("RequestId", rec.requestID)
		rec.Header().Set("x-ms-request-id", rec.requestID)
		rec.Header().Set("Access-Control-Expose-Headers", "RequestId,Location,Retry-After,x-ms-operation-id")
		// Faults apply as to Power BI's routes, and count Fabric requests among theirs; the
		// answers take Fabric's shapes.
		switch f, settings := s.nextFault(); f {
		case faultDrop:
			dropConnection(rec)
			return
		case faultServerError:
			writeFabricError(rec, http.StatusInternalServerError, "InternalServerError", "An internal error occurred.", nil)
			return
		case faultThrottle:
			rec.Header().Set("Retry-After", strconv.Itoa(settings.RetryAfter))
			writeFabricError(rec, http.StatusTooManyRequests, "RequestBlocked",
				fmt.Sprintf("Request is blocked by the upstream service. Retry in %d seconds.", settings.RetryAfter), nil)
			return
		}
		switch s.checkTokenFor(r.Header.Get("Authorization"), fabricResource) {
		case tokenValid:
		case tokenExpired:
			writeFabricError(rec, http.StatusUnauthorized, "TokenExpired", "Access token has expired, resubmit with a new access token", nil)
			return
		default:
			// Fabric answers a token for another audience, or none, with 401 Unauthorized.
			writeFabricError(rec, http.StatusUnauthorized, "Unauthorized", "Missing or invalid authentication", nil)
			return
		}
		h(rec, r)
	})
}

// fabricError is Fabric's ErrorResponse (common/definitions.json).
type fabricError struct {
	RequestID       string              `json:"requestId,omitempty"`
	ErrorCode       string              `json:"errorCode"`
	Message         string              `json:"message"`
	RelatedResource *fabricRelated      `json:"relatedResource,omitempty"`
	MoreDetails     []fabricErrorDetail `json:"moreDetails,omitempty"`
}

type fabricErrorDetail struct {
	ErrorCode       string         `json:"errorCode"`
	Message         string         `json:"message"`
	RelatedResource *fabricRelated `json:"relatedResource,omitempty"`
}

type fabricRelated struct {
	ResourceID   string `json:"resourceId"`
	ResourceType string `json:"resourceType"`
}

func writeFabricError(w http.ResponseWriter, status int, code, message string, details []fabricErrorDetail) {
	writeBody(w, status, contentTypeJSON, marshal(fabricError{
		RequestID: w.Header().Get("RequestId"), ErrorCode: code, Message: message, MoreDetails: details,
	}))
}

// semanticModelOf resolves the workspace and semantic model of a request, answering 404 as
// Fabric does when either is missing. The caller must hold s.mu.
func (s *Server) semanticModelOf(w http.ResponseWriter, r *http.Request) *dataset {
	wsID, id := r.PathValue("workspaceId"), r.PathValue("semanticModelId")
	ws := s.state.workspace(wsID)
	if ws == nil {
		writeBody(w, http.StatusNotFound, contentTypeJSON, marshal(fabricError{
			RequestID: w.Header().Get("RequestId"), ErrorCode: "EntityNotFound",
			Message:         "The requested workspace was not found",
			RelatedResource: &fabricRelated{ResourceID: wsID, ResourceType: "Workspace"},
		}))
		return nil
	}
	d := ws.dataset(id)
	if d == nil {
		writeBody(w, http.StatusNotFound, contentTypeJSON, marshal(fabricError{
			RequestID: w.Header().Get("RequestId"), ErrorCode: "ItemNotFound",
			Message:         "The requested item was not found",
			RelatedResource: &fabricRelated{ResourceID: id, ResourceType: "SemanticModel"},
		}))
		return nil
	}
	return d
}

// startOperation answers 202 for a new long-running operation, or at once with 200 when
// operations take no time (SetFabricOperations(0, ...)), as Fabric answers for small models.
// The caller must hold s.mu.
func (s *Server) startOperation(w http.ResponseWriter, result *fabricDefinition) {
	st := s.fabricSt()
	if st.duration <= 0 {
		if result == nil {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		writeBody(w, http.StatusOK, contentTypeJSON, marshal(map[string]any{"definition": result}))
		return
	}
	id := newGUID()
	now := time.Now()
	st.ops[id] = &fabricOperation{created: now, done: now.Add(st.duration), result: result}
	w.Header().Set("Location", s.FabricBaseURL()+"/operations/"+id)
	w.Header().Set("x-ms-operation-id", id)
	w.Header().Set("Retry-After", strconv.Itoa(st.retryAfter))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) getDefinition(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	switch strings.ToUpper(format) {
	case "", "TMDL":
		format = "TMDL"
	default:
		// TMSL (model.bim) is not generated here.
		writeFabricError(w, http.StatusBadRequest, "InvalidDefinitionFormat",
			fmt.Sprintf("The definition format %s is not supported for this item", format), nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.semanticModelOf(w, r)
	if d == nil {
		return
	}
	fillPendingRows(d.model)
	def := &fabricDefinition{Format: format}
	files := modelTMDL(d.model, d.info.Name)
	extra, ok := s.fabricSt().extra[d.info.ID]
	if !ok && d.info.ID == DemoSalesDatasetID {
		extra = demoCopilotParts()
	}
	for p, b := range extra {
		files[p] = b
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		def.Parts = append(def.Parts, fabricPart{Path: p, Payload: base64.StdEncoding.EncodeToString(files[p]), PayloadType: "InlineBase64"})
	}
	s.startOperation(w, def)
}

func (s *Server) updateDefinition(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Definition *fabricDefinition `json:"definition"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Definition == nil {
		writeFabricError(w, http.StatusBadRequest, "InvalidRequest", "The request body must hold a definition", nil)
		return
	}
	files := map[string][]byte{}
	for _, p := range req.Definition.Parts {
		b, err := base64.StdEncoding.DecodeString(p.Payload)
		if p.PayloadType != "InlineBase64" || err != nil {
			writeFabricError(w, http.StatusBadRequest, "CorruptedPayload", "The provided payload is corrupted.",
				[]fabricErrorDetail{{ErrorCode: "InvalidPayload", Message: "Part " + p.Path + " is not InlineBase64"}})
			return
		}
		files[p.Path] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.semanticModelOf(w, r)
	if d == nil {
		return
	}
	fillPendingRows(d.model)
	measures, err := parseModelTMDL(files, d.model)
	if err != nil {
		writeFabricError(w, http.StatusBadRequest, "CorruptedPayload", "The provided payload is corrupted.",
			[]fabricErrorDetail{{ErrorCode: "TMDLParseError", Message: err.Error()}})
		return
	}
	if d.model == nil {
		d.model = &Model{}
	}
	d.model.Measures = measures
	extra := map[string][]byte{}
	for p, b := range files {
		if p != "definition.pbism" && !strings.HasPrefix(p, "definition/") {
			extra[p] = b
		}
	}
	s.fabricSt().extra[d.info.ID] = extra
	s.startOperation(w, nil)
}

// operationOf finds the operation a request names, answering 404 when there is none. The
// caller must hold s.mu.
func (s *Server) operationOf(w http.ResponseWriter, r *http.Request) *fabricOperation {
	op := s.fabricSt().ops[r.PathValue("operationId")]
	if op == nil {
		writeFabricError(w, http.StatusNotFound, "EntityNotFound", "The requested operation was not found", nil)
	}
	return op
}

func (s *Server) fabricOperationState(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.fabricSt()
	st.polls++
	op := s.operationOf(w, r)
	if op == nil {
		return
	}
	now := time.Now()
	status, percent, updated := "Running", 50, now
	if !now.Before(op.done) {
		status, percent, updated = "Succeeded", 100, op.done
		if op.result != nil {
			w.Header().Set("Location", s.FabricBaseURL()+"/operations/"+r.PathValue("operationId")+"/result")
		}
	} else {
		w.Header().Set("Retry-After", strconv.Itoa(st.retryAfter))
	}
	w.Header().Set("x-ms-operation-id", r.PathValue("operationId"))
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(map[string]any{
		"status":             status,
		"createdTimeUtc":     op.created.UTC().Format(time.RFC3339Nano),
		"lastUpdatedTimeUtc": updated.UTC().Format(time.RFC3339Nano),
		"percentComplete":    percent,
	}))
}

func (s *Server) fabricOperationResult(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := s.operationOf(w, r)
	if op == nil {
		return
	}
	switch {
	case time.Now().Before(op.done):
		writeFabricError(w, http.StatusBadRequest, "OperationNotSucceeded", "The operation has not succeeded yet", nil)
	case op.result == nil:
		writeFabricError(w, http.StatusBadRequest, "OperationHasNoResult", "The operation has no result", nil)
	default:
		writeBody(w, http.StatusOK, contentTypeJSON, marshal(map[string]any{"definition": op.result}))
	}
}
