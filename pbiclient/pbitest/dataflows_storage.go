package pbitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// DataflowStorageAccount is an Azure Data Lake Storage Gen2 account connected to the tenant,
// where workspaces assigned to it keep their dataflows.
type DataflowStorageAccount struct {
	ID        string `json:"id"` // filled with a random GUID when empty
	Name      string `json:"name"`
	IsEnabled bool   `json:"isEnabled"` // whether workspaces can be assigned to it
}

// AddDataflowStorageAccount adds a storage account the caller can see and returns it.
func (s *Server) AddDataflowStorageAccount(a DataflowStorageAccount) DataflowStorageAccount {
	if a.ID == "" {
		a.ID = newGUID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.dataflowStorage = append(s.state.dataflowStorage, a)
	return a
}

func (s *Server) dataflowStorageRoutes() {
	s.handleAPI("GET "+apiPrefix+"/dataflowStorageAccounts", s.listDataflowStorageAccounts)
	s.handleAPI("POST "+apiPrefix+"/groups/{groupId}/AssignToDataflowStorage", s.assignToDataflowStorage)
}

func (s *Server) listDataflowStorageAccounts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	items := append([]DataflowStorageAccount{}, s.state.dataflowStorage...)
	s.mu.Unlock()
	writeList(s, w, "", "dataflowStorageAccounts", items)
}

// assignToDataflowStorage sets the storage account of a workspace's dataflows, or with the
// empty GUID returns them to Power BI's storage. The account must exist and be enabled, as
// documented; GET groups shows the workspace's dataflowStorageId.
func (s *Server) assignToDataflowStorage(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DataflowStorageID string `json:"dataflowStorageId"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if !isGUID(body.DataflowStorageID) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "dataflowStorageId is required and must be a GUID (00000000-0000-0000-0000-000000000000 to unassign).")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, _ := s.workspaceOf(w, r)
	if ws == nil {
		return
	}
	if body.DataflowStorageID == emptyGUID {
		ws.info.DataflowStorageID = ""
		writeEmptyOK(w)
		return
	}
	i := slices.IndexFunc(s.state.dataflowStorage, func(a DataflowStorageAccount) bool { return strings.EqualFold(a.ID, body.DataflowStorageID) })
	switch {
	case i < 0:
		writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("Dataflow storage account %s was not found.", body.DataflowStorageID))
		return
	case !s.state.dataflowStorage[i].IsEnabled:
		writeError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Dataflow storage account %s is not enabled for workspace assignment.", body.DataflowStorageID))
		return
	}
	ws.info.DataflowStorageID = s.state.dataflowStorage[i].ID
	writeEmptyOK(w)
}
