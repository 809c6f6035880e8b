package pbitest

import "net/http"

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

// listAvailableFeatures answers the features the service documents: embedTrial, the embed
// tokens workspaces on shared capacity may use, with the share of them used so far (the
// same count that makes GenerateToken refuse more, see embed.go).
func (s *Server) listAvailableFeatures(w http.ResponseWriter, r *http.Request) {
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
	writeJSON(w, http.StatusOK, map[string]any{"features": []featureJSON{trial}})
}
