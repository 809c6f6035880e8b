package pbitest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) groupRoutes() {
	s.handleAPI("GET "+apiPrefix+"/groups", s.listGroups)
	s.handleAPI("GET "+apiPrefix+"/groups/{groupId}", s.getGroup)
}

// groupJSON is a Group as the service sends it, fields in its order.
type groupJSON struct {
	ID                          string `json:"id"`
	IsReadOnly                  bool   `json:"isReadOnly"`
	IsOnDedicatedCapacity       bool   `json:"isOnDedicatedCapacity"`
	CapacityID                  string `json:"capacityId,omitempty"`
	DefaultDatasetStorageFormat string `json:"defaultDatasetStorageFormat,omitempty"`
	Type                        string `json:"type"`
	Name                        string `json:"name"`
}

func toGroupJSON(w Workspace) groupJSON {
	g := groupJSON{
		ID:                    w.ID,
		IsReadOnly:            w.IsReadOnly,
		IsOnDedicatedCapacity: w.IsOnDedicatedCapacity,
		CapacityID:            w.CapacityID,
		Type:                  w.Type,
		Name:                  w.Name,
	}
	if w.IsOnDedicatedCapacity {
		// Only capacity workspaces have a storage format setting.
		g.DefaultDatasetStorageFormat = "Small"
	}
	return g
}

func (w Workspace) filterFields() filterFields {
	return filterFields{
		"id":                    w.ID,
		"name":                  w.Name,
		"type":                  w.Type,
		"isReadOnly":            strconv.FormatBool(w.IsReadOnly),
		"isOnDedicatedCapacity": strconv.FormatBool(w.IsOnDedicatedCapacity),
		"capacityId":            w.CapacityID,
	}
}

var groupFilterFields = map[string]bool{
	"id": true, "name": true, "type": true, "isReadOnly": true, "isOnDedicatedCapacity": true, "capacityId": true,
}

// writeQueryError answers an OData query option the service rejects, in the
// error format of its OData stack.
func writeQueryError(w http.ResponseWriter, detail string) {
	writeError(w, http.StatusBadRequest, "", "The query specified in the URI is not valid. "+detail)
}

// pageOptions reads $top and $skip. ok is false after a 400 was answered.
func pageOptions(w http.ResponseWriter, r *http.Request) (top, skip int, ok bool) {
	top, skip = -1, 0
	q := r.URL.Query()
	for _, opt := range []struct {
		name string
		dst  *int
	}{{"$top", &top}, {"$skip", &skip}} {
		if !q.Has(opt.name) {
			continue
		}
		v := q.Get(opt.name)
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			writeQueryError(w, fmt.Sprintf("Invalid value '%s' for %s query option found. The %s query option requires a non-negative integer value.", v, opt.name, opt.name))
			return 0, 0, false
		}
		*opt.dst = int(n)
	}
	return top, skip, true
}

// page applies $skip then $top.
func page[T any](items []T, top, skip int) []T {
	if skip >= len(items) {
		return []T{}
	}
	items = items[skip:]
	if top >= 0 && top < len(items) {
		items = items[:top]
	}
	return items
}

// listGroups serves GET /groups: $filter, $top, $skip, and @odata.count
// holding the number of groups returned.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	var filter odataFilter
	if src := r.URL.Query().Get("$filter"); strings.TrimSpace(src) != "" {
		f, err := parseFilter(src, groupFilterFields)
		if err != nil {
			writeQueryError(w, err.Error())
			return
		}
		filter = f
	}
	s.mu.Lock()
	groups := []groupJSON{}
	for _, ws := range s.state.workspaces {
		if filter == nil || filter(ws.info.filterFields()) {
			groups = append(groups, toGroupJSON(ws.info))
		}
	}
	s.mu.Unlock()
	groups = page(groups, top, skip)
	n := len(groups)
	writeJSON(w, http.StatusOK, odataList{Context: s.metadataURL("", "groups"), Count: &n, Value: groups})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		s.mu.Unlock()
		return
	}
	info := ws.info
	s.mu.Unlock()
	s.writeEntity(w, http.StatusOK, "", "groups", toGroupJSON(info))
}

// writeGroupNotFound answers a workspace id that does not exist or that the
// caller is not a member of; the service does not tell the two apart.
func writeGroupNotFound(w http.ResponseWriter) {
	writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
}
