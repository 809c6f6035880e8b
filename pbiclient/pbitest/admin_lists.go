package pbitest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The admin counterparts of the ordinary item reads (dataflows, data sources, tiles, imports,
// pipelines, refreshables of a capacity), an administrator's changes to a workspace's
// properties and to a pipeline's users. Where the answer has the ordinary operation's shape,
// the ordinary handler serves it for the item's workspace (inWorkspace).

func (s *Server) adminListRoutes() {
	p := apiPrefix + "/admin/"
	s.handleAPI("GET "+p+"dataflows", s.admin("dataflows", s.adminListDataflows))
	s.handleAPI("GET "+p+"groups/{groupId}/dataflows", s.admin("groupDataflows", s.adminListDataflows))
	s.handleAPI("GET "+p+"dataflows/{dataflowId}/datasources", s.admin("dataflowDatasources", s.adminDataflowRead(s.listDataflowDatasources)))
	s.handleAPI("GET "+p+"dataflows/{dataflowId}/export", s.admin("dataflowExport", s.adminDataflowRead(s.getDataflow)))
	s.handleAPI("GET "+p+"groups/{groupId}/dataflows/{dataflowId}/upstreamDataflows", s.admin("upstreamDataflows", s.adminGroupRead(s.listUpstreamDataflowsOfDataflow, nil)))
	s.handleAPI("GET "+p+"groups/{groupId}/datasets/upstreamDataflows", s.admin("datasetUpstream", s.adminGroupRead(s.listUpstreamDataflows,
		func(w http.ResponseWriter) { writeList(s, w, "", "datasets", []any{}) })))
	s.handleAPI("GET "+p+"datasets/{datasetId}/datasources", s.admin("datasetDatasources", s.adminDatasetDatasources))
	s.handleAPI("GET "+p+"dashboards/{dashboardId}/tiles", s.admin("tiles", s.adminTiles))
	s.handleAPI("GET "+p+"imports", s.admin("imports", s.adminListImports))
	s.handleAPI("GET "+p+"pipelines", s.admin("pipelines", s.adminListPipelines))
	s.handleAPI("POST "+p+"pipelines/{pipelineId}/users", s.admin("pipelineUser", s.adminUpdate(s.adminAddPipelineUser)))
	s.handleAPI("DELETE "+p+"pipelines/{pipelineId}/users/{identifier}", s.admin("pipelineUser", s.adminUpdate(s.adminDeletePipelineUser)))
	s.handleAPI("PATCH "+p+"groups/{groupId}", s.admin("updateGroup", s.adminUpdate(s.adminUpdateGroup)))
	s.handleAPI("GET "+p+"capacities/{capacityId}/refreshables", s.admin("capacityRefreshables", func(w http.ResponseWriter, r *http.Request) {
		s.refreshables(w, r, r.PathValue("capacityId"), "")
	}))
	s.handleAPI("GET "+p+"capacities/{capacityId}/refreshables/{refreshableId}", s.admin("capacityRefreshable", func(w http.ResponseWriter, r *http.Request) {
		s.refreshables(w, r, r.PathValue("capacityId"), r.PathValue("refreshableId"))
	}))
}

// inWorkspace is r as the ordinary route of the same read sees it: naming the workspace
// groupID, so that the ordinary handler serves the administrator.
func inWorkspace(r *http.Request, groupID string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Pattern = "{groupId}" // what workspaceOf looks for
	r2.SetPathValue("groupId", groupID)
	return r2
}

// dataflowWorkspace is the id of the workspace holding a dataflow, "" when none does. The
// caller holds s.mu.
func (s *Server) dataflowWorkspace(id string) string {
	for _, ws := range s.state.workspaces {
		if ws.dataflow(id) != nil {
			return ws.info.ID
		}
	}
	return ""
}

// adminDataflowRead serves an admin read of a dataflow with the ordinary handler h.
func (s *Server) adminDataflowRead(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		groupID := s.dataflowWorkspace(r.PathValue("dataflowId"))
		s.mu.Unlock()
		if groupID == "" {
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
			return
		}
		h(w, inWorkspace(r, groupID))
	}
}

// adminGroupRead serves an admin read under admin/groups/{groupId} with the ordinary handler
// h; a workspace only the admin APIs see has no dataflows, so empty answers for it.
func (s *Server) adminGroupRead(h http.HandlerFunc, empty func(http.ResponseWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("groupId")
		s.mu.Lock()
		ordinary := s.state.workspace(id) != nil
		_, known := s.tenantWorkspace(id)
		s.mu.Unlock()
		switch {
		case ordinary:
			h(w, inWorkspace(r, id))
		case known && empty != nil:
			empty(w)
		case known:
			writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		default:
			writeGroupNotFound(w)
		}
	}
}

// adminDataflowJSON is an AdminDataflow.
type adminDataflowJSON struct {
	dataflowJSON
	WorkspaceID string `json:"workspaceId"`
}

// adminDataflow is a dataflow of the workspace groupID as the admin APIs send it.
func (s *Server) adminDataflow(df Dataflow, groupID string) adminDataflowJSON {
	return adminDataflowJSON{dataflowJSON: dataflowJSON{ObjectID: df.ObjectID, Name: df.Name, Description: df.Description,
		ModelURL:     fmt.Sprintf("%s/groups/%s/dataflows/%s/model.json", s.APIBaseURL(), groupID, df.ObjectID),
		ConfiguredBy: df.ConfiguredBy}, WorkspaceID: groupID}
}

// adminListDataflows serves GET admin/dataflows and admin/groups/{groupId}/dataflows: $filter,
// $top and $skip.
func (s *Server) adminListDataflows(w http.ResponseWriter, r *http.Request) {
	groupID := r.PathValue("groupId")
	if groupID != "" {
		s.mu.Lock()
		_, known := s.tenantWorkspace(groupID)
		s.mu.Unlock()
		if !known {
			writeGroupNotFound(w)
			return
		}
	}
	adminItems(s, w, r, "dataflows", map[string]bool{"objectId": true, "name": true, "description": true, "configuredBy": true, "workspaceId": true},
		func(tw tenantWorkspace, add func(adminDataflowJSON, filterFields)) {
			ws := s.state.workspace(tw.info.ID)
			if ws == nil || (groupID != "" && !strings.EqualFold(groupID, tw.info.ID)) {
				return
			}
			for _, df := range ws.dataflows {
				add(s.adminDataflow(df.info, tw.info.ID),
					filterFields{"objectId": df.info.ObjectID, "name": df.info.Name, "description": df.info.Description,
						"configuredBy": df.info.ConfiguredBy, "workspaceId": tw.info.ID})
			}
		})
}

// adminDatasetDatasources serves GET admin/datasets/{datasetId}/datasources.
func (s *Server) adminDatasetDatasources(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("datasetId")
	s.mu.Lock()
	it, found := s.findTenantItem(id)
	found = found && it.kind == "Dataset"
	ordinary := found && s.state.workspace(it.ws.info.ID) != nil
	var sources []Datasource
	if found {
		sources = slices.Clone(it.dataset.Datasources)
	}
	s.mu.Unlock()
	switch {
	case !found:
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
	case ordinary:
		s.listDatasources(w, inWorkspace(r, it.ws.info.ID))
	default:
		writeList(s, w, "", "datasources", sources)
	}
}

// adminTiles serves GET admin/dashboards/{dashboardId}/tiles.
func (s *Server) adminTiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	it, found := s.findTenantItem(r.PathValue("dashboardId"))
	found = found && it.kind == "Dashboard"
	ordinary := found && s.state.workspace(it.ws.info.ID) != nil
	s.mu.Unlock()
	switch {
	case !found:
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
	case ordinary:
		s.listTiles(w, inWorkspace(r, it.ws.info.ID))
	default:
		// [INFER] a dashboard only the admin APIs see is seeded without tiles.
		writeList(s, w, "", "tiles", []any{})
	}
}

// adminListImports serves GET admin/imports: every workspace's imports; $top and $skip.
func (s *Server) adminListImports(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	now := time.Now()
	s.mu.Lock()
	items := []importJSON{}
	for _, ws := range append([]*workspace{s.state.myWorkspace}, s.state.workspaces...) {
		for _, j := range s.state.imports[ws] {
			items = append(items, s.toImportJSON(ws, ws.info.ID, j, now))
		}
	}
	s.mu.Unlock()
	writeList(s, w, "", "imports", page(items, top, skip))
}

// adminPipelineJSON is an AdminPipeline: with its users and stages when expanded.
type adminPipelineJSON struct {
	pipelineJSON
	Users []orderedObject `json:"users,omitempty"`
}

// adminListPipelines serves GET admin/pipelines: $expand users and stages, $top and $skip.
// $filter supports only the documented one, pipelines without users ("not users/any()"); the
// service answers others unfiltered.
func (s *Server) adminListPipelines(w http.ResponseWriter, r *http.Request) {
	top, skip, ok := pageOptions(w, r)
	if !ok {
		return
	}
	expand, ok := adminExpand(w, r, "users", "stages")
	if !ok {
		return
	}
	orphaned := strings.ReplaceAll(r.URL.Query().Get("$filter"), " ", "") == "notusers/any()"
	s.mu.Lock()
	out := []adminPipelineJSON{}
	for _, p := range s.state.pipelines {
		users := p.itemUsers()
		if orphaned && len(users) > 0 {
			continue
		}
		pj := adminPipelineJSON{pipelineJSON: pipelineJSON{ID: p.info.ID, DisplayName: p.info.DisplayName, Description: p.info.Description}}
		if expand["stages"] {
			pj.Stages = s.stagesOf(p)
		}
		if expand["users"] {
			pj.Users = []orderedObject{}
			for _, u := range users {
				pj.Users = append(pj.Users, orderedObject{{"identifier", u.Identifier}, {"accessRight", cmp.Or(u.AccessRight, "Admin")},
					{"principalType", cmp.Or(u.PrincipalType, "User")}})
			}
		}
		out = append(out, pj)
	}
	s.mu.Unlock()
	writeList(s, w, "", "pipelines", page(out, top, skip))
}

// adminAddPipelineUser serves POST admin/pipelines/{pipelineId}/users: a principal becomes (or
// stays) an Admin of the pipeline, the only right there is.
func (s *Server) adminAddPipelineUser(w http.ResponseWriter, r *http.Request) {
	s.setPipelineUser(w, r, s.adminPipelineOf)
}

// adminPipelineOf is the pipeline the admin route names, whoever its users are: an
// administrator reaches every pipeline of the tenant. The caller must hold s.mu.
func (s *Server) adminPipelineOf(w http.ResponseWriter, r *http.Request) *pipeline {
	p := s.state.pipeline(r.PathValue("pipelineId"))
	if p == nil {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
	}
	return p
}

// adminDeletePipelineUser serves DELETE admin/pipelines/{pipelineId}/users/{identifier}.
func (s *Server) adminDeletePipelineUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.adminPipelineOf(w, r)
	if p == nil {
		return
	}
	i := p.userIndex(r.PathValue("identifier"))
	if i < 0 {
		writePBIError(w, http.StatusNotFound, "PowerBIEntityNotFound")
		return
	}
	p.info.Users = slices.Delete(p.info.Users, i, i+1)
	writeEmptyOK(w)
}

// adminUpdateGroup serves PATCH admin/groups/{groupId}: name, description and
// defaultDatasetStorageFormat of any workspace of the tenant.
func (s *Server) adminUpdateGroup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name                        *string `json:"name"`
		Description                 *string `json:"description"`
		DefaultDatasetStorageFormat *string `json:"defaultDatasetStorageFormat"`
	}
	if present, ok := readJSON(w, r, &body); !ok {
		return
	} else if !present {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request body is required")
		return
	}
	if body.Name != nil && strings.TrimSpace(*body.Name) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "name cannot be empty")
		return
	}
	if f := body.DefaultDatasetStorageFormat; f != nil && *f != "Small" && *f != "Large" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "defaultDatasetStorageFormat is Small or Large")
		return
	}
	id := r.PathValue("groupId")
	s.mu.Lock()
	defer s.mu.Unlock()
	var info *Workspace
	a := s.state.adminState()
	i := -1 // the workspace only the admin APIs see
	if ws := s.state.workspace(id); ws != nil {
		info = &ws.info
	} else if i = slices.IndexFunc(a.workspaces, func(w *AdminWorkspace) bool { return strings.EqualFold(w.ID, id) }); i >= 0 {
		info = &a.workspaces[i].Workspace
	}
	if info == nil {
		writeGroupNotFound(w)
		return
	}
	if body.DefaultDatasetStorageFormat != nil && !info.IsOnDedicatedCapacity {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "defaultDatasetStorageFormat needs a workspace on a dedicated capacity")
		return
	}
	if body.Description != nil {
		if i >= 0 {
			a.workspaces[i].Description = *body.Description
		} else {
			if a.descriptions == nil {
				a.descriptions = map[string]string{}
			}
			a.descriptions[strings.ToLower(id)] = *body.Description
		}
	}
	if body.Name != nil {
		info.Name = strings.TrimSpace(*body.Name)
	}
	if f := body.DefaultDatasetStorageFormat; f != nil {
		info.DefaultDatasetStorageFormat = *f
	}
	writeEmptyOK(w)
}
