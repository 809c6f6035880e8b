package pbitest

import "time"

// The demo model with row-level security. As in a real tenant, it sits beside the models
// everyone queries rather than replacing one: the sandbox signs in as a service principal, which
// Power BI does not let query an RLS model at all.
const (
	DemoRegionalSalesDatasetID = "3e5a7c9b-1d3f-4b6a-8c2e-9f1b3d5a7c60" // "Regional Sales" in Sales Analytics, with RLS roles West and East
	// DemoWestUser and DemoEastUser are the members of the roles West and East. Each may read
	// Regional Sales (Build) but has no role in its workspace, so RLS applies to them; they
	// sign in with DemoUserPassword.
	DemoWestUser = "diego.siciliani@contoso.com"
	DemoEastUser = "lynne.robbins@contoso.com"
)

// seedRLS adds Regional Sales, its two role members and their directory accounts.
func (s *Server) seedRLS() {
	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoRegionalSalesDatasetID, Name: "Regional Sales",
		ConfiguredBy: DefaultUserPrincipalName, IsRefreshable: true, RLS: true,
		CreatedDate: time.Date(2024, time.March, 21, 9, 17, 42, 417_000_000, time.UTC),
		Users: []DatasetUser{
			{Identifier: DefaultUserPrincipalName, PrincipalType: "User", DatasetUserAccessRight: "ReadWriteReshareExplore"},
			{Identifier: DemoWestUser, PrincipalType: "User", DatasetUserAccessRight: "ReadExplore"},
			{Identifier: DemoEastUser, PrincipalType: "User", DatasetUserAccessRight: "ReadExplore"},
		}})
	s.SetModel(DemoRegionalSalesDatasetID, regionalSalesModel())
	s.AddUser(DemoWestUser, DemoUserPassword)
	s.AddUser(DemoEastUser, DemoUserPassword)
}

// regionalSalesModel has a Region table, which the roles filter, and the Sales lines of three
// regions; Central is in no role, so only those who see the whole model see it.
func regionalSalesModel() Model {
	regions := &Table{Name: "Region", Columns: []Column{{Name: "Region", DataType: TypeString}, {Name: "Manager", DataType: TypeString}},
		Rows: [][]any{{"West", DemoWestUser}, {"East", DemoEastUser}, {"Central", DefaultUserPrincipalName}}}
	sales := &Table{Name: "Sales", Columns: []Column{
		{Name: "OrderNumber", DataType: TypeString}, {Name: "Region", DataType: TypeString},
		{Name: "Product", DataType: TypeString}, {Name: "Amount", DataType: TypeDecimal},
	}}
	products := []string{"Road-150 Red", "Mountain-200 Silver", "Classic Vest", "Water Bottle"}
	for i := range 12 {
		region := regions.Rows[i%3][0]
		sales.Rows = append(sales.Rows, []any{
			"RS" + string(rune('A'+i)), region, products[i%len(products)], float64(100 * (i + 1)),
		})
	}
	return Model{
		Tables:        []*Table{regions, sales},
		Measures:      []Measure{{Table: "Sales", Name: "Total Amount", Expression: "SUM(Sales[Amount])", FormatString: `\$#,0.00`}},
		Relationships: []Relationship{{FromTable: "Sales", FromColumn: "Region", ToTable: "Region", ToColumn: "Region"}},
		Roles: []Role{
			{Name: "West", Members: []string{DemoWestUser}, Filters: map[string]string{"Region": `'Region'[Region] = "West"`}},
			{Name: "East", Members: []string{DemoEastUser}, Filters: map[string]string{"Region": `'Region'[Region] = "East"`}},
		},
	}
}
