package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// computeEngineBehaviors are the values of DataflowUpdateRequestMessage.computeEngineBehavior.
var computeEngineBehaviors = []string{"computeOptimized", "computeOn", "computeDisabled"}

// updateDataflow changes a dataflow's name, description, native-query permission or
// compute engine setting; fields left out keep their value. The service answers 200 with
// no body. A request that sets nothing, an empty name or an unknown compute engine value is
// refused [INFER: the service's exact texts are not documented].
func (s *Server) updateDataflow(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name                  *string `json:"name"`
		Description           *string `json:"description"`
		AllowNativeQueries    *bool   `json:"allowNativeQueries"`
		ComputeEngineBehavior *string `json:"computeEngineBehavior"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	switch {
	case body.Name == nil && body.Description == nil && body.AllowNativeQueries == nil && body.ComputeEngineBehavior == nil:
		bad("The request must set name, description, allowNativeQueries or computeEngineBehavior.")
		return
	case body.Name != nil && strings.TrimSpace(*body.Name) == "":
		bad("The dataflow name cannot be empty.")
		return
	case body.ComputeEngineBehavior != nil && !slices.ContainsFunc(computeEngineBehaviors, func(v string) bool { return strings.EqualFold(v, *body.ComputeEngineBehavior) }):
		bad(fmt.Sprintf("computeEngineBehavior %q is not valid; use computeOptimized, computeOn or computeDisabled.", *body.ComputeEngineBehavior))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	df, _ := s.dataflowOf(w, r)
	if df == nil {
		return
	}
	if body.Name != nil {
		df.info.Name = *body.Name
	}
	if body.Description != nil {
		df.info.Description = *body.Description
	}
	if body.AllowNativeQueries != nil {
		df.info.AllowNativeQueries = *body.AllowNativeQueries
	}
	if v := body.ComputeEngineBehavior; v != nil {
		df.info.ComputeEngineBehavior = computeEngineBehaviors[slices.IndexFunc(computeEngineBehaviors, func(b string) bool { return strings.EqualFold(b, *v) })]
	}
	writeEmptyOK(w)
}

// deleteDataflow removes a dataflow with its refresh history and schedule. Models and
// dataflows that read from it keep the link, as lineage in the service does until they are
// changed [INFER].
func (s *Server) deleteDataflow(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	df, groupID := s.dataflowOf(w, r)
	if df == nil {
		return
	}
	ws := s.state.workspace(groupID)
	ws.dataflows = slices.DeleteFunc(ws.dataflows, func(x *dataflow) bool { return x == df })
	writeEmptyOK(w)
}

// DataflowSettings returns what a dataflow holds that the API reads back nowhere (its
// compute engine setting), with the rest of its description, so that tests can see what an
// update did.
func (s *Server) DataflowSettings(workspaceID, dataflowID string) (Dataflow, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.state.workspace(workspaceID)
	if ws == nil {
		return Dataflow{}, false
	}
	df := ws.dataflow(dataflowID)
	if df == nil {
		return Dataflow{}, false
	}
	info := df.info
	info.Entities = slices.Clone(info.Entities)
	info.Datasources = slices.Clone(info.Datasources)
	info.Upstream = slices.Clone(info.Upstream)
	return info, true
}
