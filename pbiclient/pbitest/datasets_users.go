package pbitest

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Server) datasetUserRoutes() {
	s.handleBoth("PUT", "/datasets/{datasetId}/users", s.putDatasetUser)
}

// datasetPutRights are the rights PUT .../users may set: those POST grants, and None,
// which removes the principal's permissions.
var datasetPutRights = append([]string{"None"}, datasetGrantRights...)

// putDatasetUser sets a principal's permission on a model, replacing what it had (POST only
// adds). As documented, it cannot add or remove Write: a principal with Write keeps it, and
// None removes everything else. Service principals are not supported.
func (s *Server) putDatasetUser(w http.ResponseWriter, r *http.Request) {
	body, ok := readDatasetUser(w, r, "Updating", datasetPutRights)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := s.datasetOf(w, r)
	if d == nil {
		return
	}
	i := slices.IndexFunc(d.info.Users, func(u DatasetUser) bool {
		return strings.EqualFold(u.Identifier, body.Identifier) && u.PrincipalType == body.PrincipalType
	})
	hadWrite := i >= 0 && strings.Contains(d.info.Users[i].DatasetUserAccessRight, "Write")
	switch {
	case body.DatasetUserAccessRight == "None" && hadWrite:
		d.info.Users[i].DatasetUserAccessRight = "ReadWrite"
	case body.DatasetUserAccessRight == "None" && i >= 0:
		d.info.Users = slices.Delete(d.info.Users, i, i+1)
	case body.DatasetUserAccessRight == "None":
		// Nothing to remove.
	case i < 0:
		d.info.Users = append(d.info.Users, body)
	case hadWrite:
		d.info.Users[i].DatasetUserAccessRight = unionRights("ReadWrite", body.DatasetUserAccessRight)
	default:
		d.info.Users[i].DatasetUserAccessRight = body.DatasetUserAccessRight
	}
	writeEmptyOK(w)
}
