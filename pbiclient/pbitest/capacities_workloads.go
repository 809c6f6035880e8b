package pbitest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

func (s *Server) capacityWorkloadRoutes() {
	s.handleAPI("GET "+apiPrefix+"/capacities/{capacityId}/Workloads/{workloadName}", s.getWorkload)
	s.handleAPI("PATCH "+apiPrefix+"/capacities/{capacityId}/Workloads/{workloadName}", s.patchWorkload)
	s.handleAPI("GET "+apiPrefix+"/capacities/{capacityId}/refreshables/{refreshableId}", s.getRefreshable)
}

// workloadOf finds the request's capacity and workload (names compared without regard to
// case), answering 404 for either unknown. The caller must hold s.mu.
func (s *Server) workloadOf(w http.ResponseWriter, r *http.Request) (*Capacity, *Workload) {
	id := r.PathValue("capacityId")
	c := s.state.capacity(id)
	if c == nil {
		writeCapacityNotFound(w, id)
		return nil, nil
	}
	name := r.PathValue("workloadName")
	for i := range c.Workloads {
		if strings.EqualFold(c.Workloads[i].Name, name) {
			return c, &c.Workloads[i]
		}
	}
	// [INFER: the entity-not-found shape the service uses for other items]
	writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("Workload %s was not found on capacity %s.", name, c.ID))
	return nil, nil
}

func (s *Server) getWorkload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, wl := s.workloadOf(w, r)
	if wl == nil {
		s.mu.Unlock()
		return
	}
	item := workloadJSON{Name: wl.Name, State: wl.State, MaxMemoryPercentageSetByUser: wl.MaxMemoryPercentageSetByUser}
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "capacities('"+c.ID+"')/workloads", item)
}

// patchWorkload enables or disables a workload and sets its memory share. Only a capacity
// admin may; state is required; Unsupported is not a state the caller sets, nor may a
// workload the SKU does not support be enabled; the memory share is a percentage.
func (s *Server) patchWorkload(w http.ResponseWriter, r *http.Request) {
	var body struct {
		State                        string `json:"state"`
		MaxMemoryPercentageSetByUser *int   `json:"maxMemoryPercentageSetByUser"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	bad := func(msg string) { writeError(w, http.StatusBadRequest, "InvalidRequest", msg) }
	s.mu.Lock()
	defer s.mu.Unlock()
	c, wl := s.workloadOf(w, r)
	if wl == nil {
		return
	}
	switch m := body.MaxMemoryPercentageSetByUser; {
	case c.AccessRight != "Admin":
		writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
		return
	case body.State != "Enabled" && body.State != "Disabled":
		bad(fmt.Sprintf("state %q is not valid; use Enabled or Disabled.", body.State))
		return
	case wl.State == "Unsupported":
		bad(fmt.Sprintf("The workload %s is not supported by the capacity's SKU %s.", wl.Name, c.SKU))
		return
	case m != nil && (*m < 0 || *m > 100):
		bad("maxMemoryPercentageSetByUser must be a percentage, 0 to 100.")
		return
	}
	wl.State = body.State
	if body.MaxMemoryPercentageSetByUser != nil {
		wl.MaxMemoryPercentageSetByUser = *body.MaxMemoryPercentageSetByUser
	}
	writeEmptyOK(w)
}

// getRefreshable answers one refreshable of a capacity, in the list wrapper the service
// uses for it too (Refreshables), with the $expand of the list.
func (s *Server) getRefreshable(w http.ResponseWriter, r *http.Request) {
	var expandCapacity, expandGroup bool
	for _, e := range strings.Split(r.URL.Query().Get("$expand"), ",") {
		switch strings.TrimSpace(strings.ToLower(e)) {
		case "":
		case "capacity", "capacities":
			expandCapacity = true
		case "group", "groups":
			expandGroup = true
		default:
			writeQueryError(w, fmt.Sprintf("Could not find a property named '%s' on type 'Refreshable'.", strings.TrimSpace(e)))
			return
		}
	}
	capID, id := r.PathValue("capacityId"), r.PathValue("refreshableId")
	s.mu.Lock()
	c := s.state.capacity(capID)
	if c == nil {
		s.mu.Unlock()
		writeCapacityNotFound(w, capID)
		return
	}
	var found *refreshableJSON
	for _, ws := range s.state.workspaces {
		if !ws.info.IsOnDedicatedCapacity || !strings.EqualFold(ws.info.CapacityID, c.ID) {
			continue
		}
		d := ws.dataset(id)
		if d == nil {
			continue
		}
		if item, ok := refreshableOf(d, time.Now()); ok {
			if expandCapacity {
				cj := toCapacityJSON(*c, false)
				item.Capacity = &cj
			}
			if expandGroup {
				item.Group = &refreshableGrp{ID: ws.info.ID, Name: ws.info.Name}
			}
			found = &item
		}
		break
	}
	s.mu.Unlock()
	if found == nil {
		writeError(w, http.StatusNotFound, "ItemNotFound", fmt.Sprintf("Refreshable %s is not found on capacity %s.", id, c.ID))
		return
	}
	writeList(s, w, "", "capacities/refreshables", []refreshableJSON{*found})
}
