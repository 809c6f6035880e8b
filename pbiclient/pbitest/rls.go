package pbitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Row-level security (RLS) as executeQueries applies it to a dataset with
// RLS set (isEffectiveIdentityRequired): the model's roles each hold users
// and a DAX filter per table. The service's rules, as documented and
// observed:
//   - a service principal cannot query such a model at all, not even with
//     impersonatedUserName: 401 [swagger executeQueries "Limitations"; OBS
//     status 401, code assumed to be the usual PowerBINotAuthorizedException];
//   - a user who can edit the model (workspace Admin, Member or
//     Contributor, or its owner) sees every row: RLS restricts Viewers and
//     users the model is shared with [DOC service-admin-rls];
//   - any other user sees the rows their roles keep, roles adding up; a user
//     in no role is refused 401 RLSNotAuthorizedForModel [OBS];
//   - impersonatedUserName runs the query as that user, with that user's
//     roles; only a user who sees every row may ask for it [INFER], and a
//     model without RLS ignores it [swagger DatasetExecuteQueriesRequest];
//   - a filtered table filters the tables on the many side of its
//     relationships, and theirs in turn, as the default single direction
//     does.

// Role is a row-level security role of a model.
type Role struct {
	Name string
	// Members are the users in the role, by user principal name.
	Members []string
	// Filters maps a table name to the condition its rows must meet, a DAX
	// expression FILTER accepts, e.g. `'Region'[Region] = "West"`. A table
	// without one is not filtered by this role.
	Filters map[string]string
}

func cloneRoles(roles []Role) []Role {
	if roles == nil {
		return nil
	}
	out := make([]Role, len(roles))
	for i, r := range roles {
		out[i] = Role{Name: r.Name, Members: append([]string(nil), r.Members...), Filters: make(map[string]string, len(r.Filters))}
		for k, v := range r.Filters {
			out[i].Filters[k] = v
		}
	}
	return out
}

// queryModel returns the model as the request's caller may query it, or
// answers the refusal and returns nil. The caller holds s.mu.
func (s *Server) queryModel(w http.ResponseWriter, r *http.Request, groupID string, d *dataset, model *Model, impersonated string) *Model {
	if !d.info.RLS {
		return model
	}
	if !callerIsUser(r) {
		writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
		return nil
	}
	user := callerUPN(r)
	seesAll := s.canEditModel(groupID, d, user)
	if impersonated != "" {
		if !seesAll {
			writePBIError(w, http.StatusUnauthorized, "PowerBINotAuthorizedException")
			return nil
		}
		user, seesAll = impersonated, false
	}
	if seesAll {
		return model
	}
	var roles []Role
	for _, role := range model.Roles {
		for _, m := range role.Members {
			if strings.EqualFold(m, user) {
				roles = append(roles, role)
				break
			}
		}
	}
	if len(roles) == 0 {
		writePBIError(w, http.StatusUnauthorized, "RLSNotAuthorizedForModel")
		return nil
	}
	restricted, err := restrictModel(model, roles)
	if err != nil {
		// A role filter the engine cannot run is a mistake in the seeded model.
		writeServerError(w)
		return nil
	}
	return restricted
}

// canEditModel reports whether user may change the model, and so sees all
// of it: its owner, or an Admin, Member or Contributor of its workspace. In
// My workspace everything belongs to the caller. The caller holds s.mu.
func (s *Server) canEditModel(groupID string, d *dataset, user string) bool {
	if groupID == "" || strings.EqualFold(d.info.ConfiguredBy, user) {
		return true
	}
	ws := s.state.workspace(groupID)
	if ws == nil {
		return false
	}
	for _, u := range ws.users {
		if strings.EqualFold(u.Identifier, user) {
			return u.AccessRight == "Admin" || u.AccessRight == "Member" || u.AccessRight == "Contributor"
		}
	}
	return false
}

// callerUPN is the user principal name in the request's token, already
// accepted by authorize; "" for an app-only token.
func callerUPN(r *http.Request) string {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		UPN string `json:"upn"`
	}
	_ = json.Unmarshal(payload, &claims)
	return claims.UPN
}

// restrictModel returns a copy of m holding only the rows roles let their
// members see. A table is narrowed when every role filters it, to the rows
// any of those filters keeps; then the narrowing flows along relationships.
func restrictModel(m *Model, roles []Role) (*Model, error) {
	out := m.clone()
	var narrowed []*Table
	for i, t := range m.Tables {
		keep := make([]bool, len(t.Rows))
		filtered := true
		for _, role := range roles {
			cond, ok := roleFilter(role, t.Name)
			if !ok {
				filtered = false
				break
			}
			rows, err := rowsKept(m, t, cond)
			if err != nil {
				return nil, fmt.Errorf("role %s, table %s: %w", role.Name, t.Name, err)
			}
			for _, j := range rows {
				keep[j] = true
			}
		}
		if filtered {
			kept := out.Tables[i].Rows[:0]
			for j, row := range out.Tables[i].Rows {
				if keep[j] {
					kept = append(kept, row)
				}
			}
			out.Tables[i].Rows = kept
			narrowed = append(narrowed, out.Tables[i])
		}
	}
	propagate(out, narrowed)
	return out, nil
}

// roleFilter is the role's filter on table, its name matched as DAX does.
func roleFilter(role Role, table string) (string, bool) {
	for name, cond := range role.Filters {
		if strings.EqualFold(name, table) {
			return cond, true
		}
	}
	return "", false
}

// rowsKept runs FILTER(t, cond) on m and returns the numbers of the rows it keeps.
func rowsKept(m *Model, t *Table, cond string) ([]int, error) {
	res, err := runQuery(m, "EVALUATE FILTER('"+strings.ReplaceAll(t.Name, "'", "''")+"', "+cond+")")
	if err != nil {
		return nil, err
	}
	if len(res) != 1 || res[0].base != t {
		return nil, fmt.Errorf("the filter does not keep rows of %s", t.Name)
	}
	return res[0].idx, nil
}

// propagate narrows the many side of every relationship whose one side was
// narrowed to the rows whose key is still there, and on from those tables
// until nothing changes. Rows only ever go, so it ends.
func propagate(m *Model, narrowed []*Table) {
	for len(narrowed) > 0 {
		one := narrowed[0]
		narrowed = narrowed[1:]
		for _, rel := range m.Relationships {
			if !strings.EqualFold(rel.ToTable, one.Name) {
				continue
			}
			many := m.table(rel.FromTable)
			toCol, fromCol := one.column(rel.ToColumn), -1
			if many != nil {
				fromCol = many.column(rel.FromColumn)
			}
			if toCol < 0 || fromCol < 0 {
				continue
			}
			keys := make(map[any]bool, len(one.Rows))
			for _, row := range one.Rows {
				keys[row[toCol]] = true
			}
			kept := many.Rows[:0]
			for _, row := range many.Rows {
				// A blank key matches no row of the one side.
				if row[fromCol] != nil && keys[row[fromCol]] {
					kept = append(kept, row)
				}
			}
			if len(kept) < len(many.Rows) {
				many.Rows = kept
				narrowed = append(narrowed, many)
			}
		}
	}
}
