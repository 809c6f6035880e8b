package pbitest

// The demo users who sign in to a server run for a team, and the Entra groups
// that give them their workspaces. Each sees only their own workspaces, so an
// end-to-end test can show two users apart:
//
//   - DefaultUserPrincipalName (Megan Bowen): Admin of Sales Analytics, and a
//     member of Finance Analysts, the Contributors of Finance;
//   - DemoMarketingUser (Adele Vance): Member of Marketing, and a member of
//     Sales Team, the Viewers of Sales Analytics; not of Finance.
//
// The deployment pipeline's Test and Production workspaces belong to the
// service principal and Megan, who runs the pipeline.
//
// The row-level security users (DemoWestUser, DemoEastUser) are in Sales Team
// too: Viewers are whom Power BI applies the model's roles to.
const (
	// DemoMarketingUser is the second demo user, who signs in with
	// DemoUserPassword or at the authorize endpoint (login_hint).
	DemoMarketingUser = "adele.vance@contoso.com"
)

func (s *Server) seedSignIn() {
	sp := WorkspaceUser{Identifier: DemoServicePrincipalObjectID, PrincipalType: "App", AccessRight: "Admin", DisplayName: DemoServicePrincipalName}
	for _, id := range []string{DemoSalesTestWorkspaceID, DemoSalesProdWorkspaceID} {
		s.AddWorkspaceUser(id, sp)
		s.AddWorkspaceUser(id, WorkspaceUser{Identifier: DefaultUserPrincipalName, AccessRight: "Admin", DisplayName: "Megan Bowen"})
	}
	s.AddUser(DemoMarketingUser, DemoUserPassword)
	s.AddGroupMember(DemoFinanceAnalystsGroupID, DefaultUserPrincipalName)
	for _, upn := range []string{DemoMarketingUser, DemoWestUser, DemoEastUser} {
		s.AddGroupMember(DemoSalesTeamGroupID, upn)
	}
}
