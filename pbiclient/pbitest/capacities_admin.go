package pbitest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The tenant administrator's capacity assignments: POST admin/capacities/AssignWorkspaces
// and UnassignWorkspaces move many workspaces at once, whatever the caller's rights on the
// capacity; like every admin operation they need a Fabric administrator and count against
// the admin rate limit (200 an hour).

func (s *Server) capacityAdminRoutes() {
	p := "POST " + apiPrefix + "/admin/capacities/"
	s.handleAPI(p+"AssignWorkspaces", s.admin("assignWorkspaces", s.adminAssignWorkspaces))
	s.handleAPI(p+"UnassignWorkspaces", s.admin("unassignWorkspaces", s.adminUnassignWorkspaces))
}

// moveWorkspace assigns ws to capacity c (nil: back to shared capacity) as an
// assign-to-capacity operation does, so CapacityAssignmentStatus reports it. The caller
// must hold s.mu.
func (s *Server) moveWorkspace(ws *workspace, c *Capacity, now time.Time) {
	a := &capacityAssignment{capacityID: emptyGUID, activityID: newGUID(), start: now, end: now.Add(assignmentDuration)}
	if c != nil {
		a.capacityID = c.ID
		a.failed = c.State != "Active"
	}
	switch {
	case a.failed:
	case c == nil:
		ws.info.IsOnDedicatedCapacity, ws.info.CapacityID, ws.info.DefaultDatasetStorageFormat = false, "", ""
	default:
		ws.info.IsOnDedicatedCapacity, ws.info.CapacityID = true, c.ID
		if ws.info.DefaultDatasetStorageFormat == "" {
			ws.info.DefaultDatasetStorageFormat = "Small"
		}
	}
	if s.state.assignments == nil {
		s.state.assignments = map[string]*capacityAssignment{}
	}
	s.state.assignments[strings.ToLower(ws.info.ID)] = a
}

// workspacesNamed finds every workspace of ids, answering 404 for the first unknown one
// [INFER: the service's text is not documented]. The caller must hold s.mu.
func (s *Server) workspacesNamed(w http.ResponseWriter, ids []string) ([]*workspace, bool) {
	var out []*workspace
	for _, id := range ids {
		ws := s.state.workspace(id)
		if ws == nil {
			writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("Workspace %s was not found.", id))
			return nil, false
		}
		out = append(out, ws)
	}
	return out, true
}

func (s *Server) adminAssignWorkspaces(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CapacityMigrationAssignments []struct {
			WorkspacesToAssign     []string `json:"workspacesToAssign"`
			TargetCapacityObjectID string   `json:"targetCapacityObjectId"`
		} `json:"capacityMigrationAssignments"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if len(body.CapacityMigrationAssignments) == 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "capacityMigrationAssignments must list at least one assignment.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type move struct {
		ws []*workspace
		c  *Capacity
	}
	var moves []move
	for _, a := range body.CapacityMigrationAssignments {
		c := s.state.capacity(a.TargetCapacityObjectID)
		if c == nil {
			writeCapacityNotFound(w, a.TargetCapacityObjectID)
			return
		}
		if len(a.WorkspacesToAssign) == 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "workspacesToAssign must list at least one workspace.")
			return
		}
		ws, ok := s.workspacesNamed(w, a.WorkspacesToAssign)
		if !ok {
			return
		}
		moves = append(moves, move{ws, c})
	}
	now := time.Now()
	for _, m := range moves {
		for _, ws := range m.ws {
			s.moveWorkspace(ws, m.c, now)
		}
	}
	writeEmptyOK(w)
}

func (s *Server) adminUnassignWorkspaces(w http.ResponseWriter, r *http.Request) {
	var body struct {
		WorkspacesToUnassign []string `json:"workspacesToUnassign"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if len(body.WorkspacesToUnassign) == 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "workspacesToUnassign must list at least one workspace.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, ok := s.workspacesNamed(w, body.WorkspacesToUnassign)
	if !ok {
		return
	}
	now := time.Now()
	for _, x := range ws {
		s.moveWorkspace(x, nil, now)
	}
	writeEmptyOK(w)
}
