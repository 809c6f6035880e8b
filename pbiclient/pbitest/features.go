package pbitest

import (
	"fmt"
	"net/http"
	"strings"
)

func (s *Server) featureRoutes() {
	s.handleAPI("GET "+apiPrefix+"/availableFeatures", s.listAvailableFeatures)
}

type featureJSON struct {
	Name           string `json:"name"`
	State          string `json:"state"`
	ExtendedState  string `json:"extendedState"`
	AdditionalInfo *struct {
		Usage int `json:"usage"`
	} `json:"additionalInfo,omitempty"`
}

func (s *Server) listAvailableFeatures(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"features": s.availableFeatures()})
}

// availableFeatures are the features the service documents: embedTrial, the embed tokens
// workspaces on shared capacity may use, with the share of them used so far (the same count
// that makes GenerateToken refuse more, see embed.go).
func (s *Server) availableFeatures() []featureJSON {
	s.mu.Lock()
	limit := s.state.sharedEmbedLimit
	if limit <= 0 {
		limit = defaultSharedEmbedTokenLimit
	}
	used := min(100, s.state.sharedEmbedTokens*100/limit)
	s.mu.Unlock()
	trial := featureJSON{Name: "embedTrial", State: "Enabled", ExtendedState: "Enabled"}
	trial.AdditionalInfo = &struct {
		Usage int `json:"usage"`
	}{used}
	return []featureJSON{trial}
}

// availableFeatureByName serves GET availableFeatures(featureName='{name}') and reports
// whether the request was one. Its parameter sits inside a path segment, which ServeMux
// patterns cannot express, so the catch-all route hands it here.
func (s *Server) availableFeatureByName(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix+"/availableFeatures(featureName='")
	name, ok2 := strings.CutSuffix(rest, "')")
	if r.Method != http.MethodGet || !ok || !ok2 || strings.Contains(name, "/") {
		return false
	}
	for _, f := range s.availableFeatures() {
		if strings.EqualFold(f.Name, name) {
			writeJSON(w, http.StatusOK, f)
			return true
		}
	}
	// [INFER: the entity-not-found shape the service uses for other items]
	writeError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("Feature %s was not found.", name))
	return true
}
