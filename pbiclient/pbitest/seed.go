package pbitest

import "time"

// Ids of the demo tenant SeedDemo creates. They are fixed so that docs and
// tests can name them.
const (
	DemoCapacityID = "6b8d0f2a-4c6e-4a1b-9d3f-5e7a9c1b3d50" // the Premium capacity of Sales Analytics and Finance

	DemoSalesWorkspaceID     = "4f1c2a9e-7b3d-4e2a-8c6f-1d5e9a0b3c71" // "Sales Analytics", dedicated capacity
	DemoFinanceWorkspaceID   = "8a2d4f6b-1c3e-4b5a-9e7d-2f4a6c8e0b12" // "Finance", dedicated capacity
	DemoMarketingWorkspaceID = "c3e5a7b9-2d4f-4a6c-8e0b-3f5a7c9e1d24" // "Marketing", shared capacity
	DemoScratchWorkspaceID   = "e1f3a5c7-9b2d-4f6e-8a1c-5d7f9b3e2a46" // "Scratch", shared capacity, empty: the one to delete in demos and end-to-end tests

	DemoSalesDatasetID          = "2b4d6f8a-3c5e-4a7b-9c1d-4e6f8a0b2c35" // "Sales" in Sales Analytics
	DemoLiveOrdersDatasetID     = "9f1b3d5e-6a8c-4dae-8f4a-7b9c1d3e5f68" // "Live Orders" in Sales Analytics: push dataset, not refreshable
	DemoFinanceKPIsDatasetID    = "5d7f9b1c-4e6a-4b8c-8d2e-5f7a9b1c3d46" // "Finance KPIs" in Finance
	DemoWebTrafficDatasetID     = "7e9a1c3d-5f7b-4c9d-9e3f-6a8b0c2d4e57" // "Web Traffic" in Marketing
	DemoPersonalBudgetDatasetID = "1a3c5e7f-7b9d-4ebf-9a5b-8c0d2e4f6a79" // "Personal Budget" in My workspace
	DemoForecastDatasetID       = "0c2e4a6b-8d1f-4a3c-9e5b-7d9f1b3c5e82" // "Forecast" in Finance, owned by the service principal
	DemoLegacyLeadsDatasetID    = "e4a6c8d0-2f3b-4d5e-8a7c-9b1d3f5a7c93" // "Legacy Leads" in Marketing, kept for take-over examples
	DemoOldCampaignsDatasetID   = "f5b7d9e1-3a4c-4e6f-9b8d-0c2e4a6b8da4" // "Old Campaigns 2022" in Marketing, kept for delete examples
	DemoSalesDataflowID         = "a1c3e5f7-4b6d-4f8a-8c0e-2d4f6a8c0eb5" // the dataflow "Sales" reads from, in Sales Analytics
	// Owned by the service principal, so its schedule can be changed; a long enhanced refresh
	// runs on it from the start, for cancel_refresh.
	DemoInventoryDatasetID = "0b2d4f6a-8c1e-4b3d-8f5a-7c9e1b3d5f80" // "Inventory" in Sales Analytics
	// A DirectQuery model owned by the service principal, with a cache refresh every 30 minutes.
	DemoInventoryLiveDatasetID = "e4f6a8b0-2c4e-4d6f-9a1b-3c5e7f9b1d92" // "Inventory Live" in Sales Analytics

	// Refreshes in the demo history, for get_refresh_details.
	DemoFinanceRefreshID   = "a1c3e5f7-9b2d-4f6a-8c0e-2d4f6a8b0c13" // completed enhanced refresh of Finance KPIs
	DemoInventoryRefreshID = "b2d4f6a8-0c3e-4a7b-9d1f-3e5a7b9c1d24" // running enhanced refresh of Inventory

	DemoSalesReportID      = "3c5e7a9b-8c0e-4fc1-8b6c-9d1e3f5a7b80" // "Sales Overview" on Sales
	DemoLiveOrdersReportID = "6f8b0d2e-1f3b-4cf4-9e9f-2a4b6c8d0eb3" // "Live Orders Monitor" on Live Orders
	DemoFinanceReportID    = "4d6f8b0c-9d1f-4ad2-9c7d-0e2f4a6b8c91" // "Monthly Close" on Finance KPIs
	DemoMarketingReportID  = "5e7a9c1d-0e2a-4be3-8d8e-1f3a5b7c9da2" // "Campaign Performance" on Web Traffic
	DemoBudgetReportID     = "7a9c1e3f-2a4c-4d05-8fa0-3b5c7d9e1fc4" // "Budget Tracker" on Personal Budget, My workspace

	// DemoServicePrincipalObjectID is the object id of the service principal
	// the sandbox signs in as; it is Admin of every demo workspace.
	DemoServicePrincipalObjectID = servicePrincipalObjectID
	DemoServicePrincipalName     = "powerbi-mcp sandbox"
	DemoSalesTeamGroupID         = "a4c6e8f0-3b5d-4e7f-9a1b-6c8e0f2a4b57" // Entra group "Sales Team": Viewer of Sales Analytics
	DemoFinanceAnalystsGroupID   = "b5d7f9a1-4c6e-4f8a-8b2c-7d9f1a3b5c68" // Entra group "Finance Analysts": Contributor of Finance
	// DemoRemovableUser is a Contributor of Marketing kept for demos and
	// end-to-end tests of removing a user.
	DemoRemovableUser    = "former.contractor@contoso.com"
	DemoInvoicesReportID = "8b0d2f4a-3b5d-4e16-9ab1-4c6d8e0f2ad5" // "Invoices", paginated, in Finance, with a SQL data source
	// Reserved for tools that change or delete a report, so that trying them
	// leaves the reports above as they are.
	DemoCampaignDraftReportID   = "9c1e3a5b-4c6e-4f27-8bc2-5d7e9f1a3be6" // "Campaign Draft" on Web Traffic, Marketing: to delete
	DemoCampaignSandboxReportID = "0d2f4b6c-5d7f-4a38-9cd3-6e8f0a2b4cf7" // "Campaign Sandbox" on Web Traffic, Marketing: to rebind or overwrite
)

// SeedDemo fills the tenant with the demo content used by
// `powerbi-mcp --sandbox`: three workspaces (two on a Premium capacity, one
// on shared capacity, where exports and enhanced refreshes fail as they do
// in the real service) plus an empty one to delete, their users, datasets,
// reports with named pages, refresh schedules, enhanced refreshes in the
// history (one still running), and some My workspace content. Everything is
// fixed, so repeated runs look the same.
// Call it once per Server.
func (s *Server) SeedDemo() {
	created := func(day, hour int) time.Time {
		return time.Date(2024, time.March, day, hour, 17, 42, 417_000_000, time.UTC)
	}

	s.AddWorkspace(Workspace{ID: DemoSalesWorkspaceID, Name: "Sales Analytics",
		IsOnDedicatedCapacity: true, CapacityID: DemoCapacityID})
	s.AddWorkspace(Workspace{ID: DemoFinanceWorkspaceID, Name: "Finance",
		IsOnDedicatedCapacity: true, CapacityID: DemoCapacityID})
	s.AddWorkspace(Workspace{ID: DemoMarketingWorkspaceID, Name: "Marketing"})
	s.AddWorkspace(Workspace{ID: DemoScratchWorkspaceID, Name: "Scratch"})
	s.seedWorkspaceUsers()

	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoSalesDatasetID, Name: "Sales",
		ConfiguredBy: "megan.bowen@contoso.com", IsRefreshable: true, CreatedDate: created(4, 9),
		Datasources: []Datasource{
			{DatasourceType: "Sql", ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-sales.database.windows.net", Database: "SalesDW"}},
			{DatasourceType: "SharePointList", ConnectionDetails: DatasourceConnectionDetails{URL: "https://contoso.sharepoint.com/sites/sales"}},
		},
		Parameters: []Parameter{
			{Name: "ServerName", Type: "Text", IsRequired: true, CurrentValue: "contoso-sales.database.windows.net"},
			{Name: "DatabaseName", Type: "Text", IsRequired: true, CurrentValue: "SalesDW"},
		},
		Users: []DatasetUser{
			{Identifier: "megan.bowen@contoso.com", PrincipalType: "User", DatasetUserAccessRight: "ReadWriteReshareExplore"},
			{Identifier: "2f8a4c6e-1b3d-4e5f-9a7b-c8d0e2f4a6b1", PrincipalType: "Group", DatasetUserAccessRight: "ReadExplore"},
		},
		UpstreamDataflows: []UpstreamDataflow{{DataflowID: DemoSalesDataflowID, WorkspaceID: DemoSalesWorkspaceID}}})
	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoLiveOrdersDatasetID, Name: "Live Orders",
		ConfiguredBy: "megan.bowen@contoso.com", AddRowsAPIEnabled: true, CreatedDate: created(11, 14)})
	s.AddDataset(DemoFinanceWorkspaceID, Dataset{ID: DemoFinanceKPIsDatasetID, Name: "Finance KPIs",
		ConfiguredBy: "alex.wilber@contoso.com", IsRefreshable: true, TargetStorageMode: "PremiumFiles",
		CreatedDate: created(6, 8)})
	// Its data source has no credentials, the commonest reason real refreshes fail.
	s.AddDataset(DemoMarketingWorkspaceID, Dataset{ID: DemoWebTrafficDatasetID, Name: "Web Traffic",
		ConfiguredBy: "adele.vance@contoso.com", IsRefreshable: true, CreatedDate: created(12, 16),
		RefreshError: "ModelRefreshFailed_CredentialsNotSpecified"})
	// Owned by the service principal, so the changes only an owner may make
	// work on it; its parameters cover the types and the rules of updates.
	s.AddDataset(DemoFinanceWorkspaceID, Dataset{ID: DemoForecastDatasetID, Name: "Forecast",
		ConfiguredBy: s.ClientID(), IsRefreshable: true, TargetStorageMode: "PremiumFiles", CreatedDate: created(18, 10),
		Datasources: []Datasource{
			{DatasourceType: "Sql", ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Planning"},
				DatasourceID: "b2d4f6a8-5c7e-4a9b-8d1f-3e5a7c9e1fc6", GatewayID: "c3e5a7b9-6d8f-4b0c-9e2a-4f6b8d0a2ad7"},
		},
		Parameters: []Parameter{
			{Name: "Scenario", Type: "Text", IsRequired: true, CurrentValue: "Base", SuggestedValues: []string{"Base", "Optimistic", "Pessimistic"}},
			{Name: "HorizonMonths", Type: "Number", IsRequired: true, CurrentValue: "12"},
			{Name: "IncludeActuals", Type: "Logical", IsRequired: false, CurrentValue: "TRUE"},
			{Name: "SourceQuery", Type: "Any", IsRequired: false, CurrentValue: "Planning"},
		},
		Users: []DatasetUser{
			{Identifier: "alex.wilber@contoso.com", PrincipalType: "User", DatasetUserAccessRight: "ReadReshareExplore"},
		}})
	s.AddDataset(DemoMarketingWorkspaceID, Dataset{ID: DemoLegacyLeadsDatasetID, Name: "Legacy Leads",
		ConfiguredBy: "adele.vance@contoso.com", IsRefreshable: true, CreatedDate: created(2, 13),
		Parameters: []Parameter{{Name: "Region", Type: "Text", IsRequired: true, CurrentValue: "EMEA"}}})
	s.AddDataset(DemoMarketingWorkspaceID, Dataset{ID: DemoOldCampaignsDatasetID, Name: "Old Campaigns 2022",
		ConfiguredBy: "adele.vance@contoso.com", IsRefreshable: true, CreatedDate: created(1, 8)})
	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoInventoryDatasetID, Name: "Inventory",
		ConfiguredBy: s.opts.ClientID, IsRefreshable: true, CreatedDate: created(14, 10)})
	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoInventoryLiveDatasetID, Name: "Inventory Live",
		ConfiguredBy: s.opts.ClientID, DirectQuery: true, CreatedDate: created(15, 10)})
	s.AddDataset("", Dataset{ID: DemoPersonalBudgetDatasetID, Name: "Personal Budget",
		ConfiguredBy: "admin@contoso.onmicrosoft.com", IsRefreshable: true, CreatedDate: created(20, 11)})

	s.AddReport(DemoSalesWorkspaceID, Report{ID: DemoSalesReportID, Name: "Sales Overview",
		DatasetID: DemoSalesDatasetID, Pages: []Page{
			{Name: "ReportSection", DisplayName: "Overview"},
			{Name: "ReportSection1", DisplayName: "Regional Sales"},
			{Name: "ReportSection2", DisplayName: "Product Performance"},
		}})
	s.AddReport(DemoSalesWorkspaceID, Report{ID: DemoLiveOrdersReportID, Name: "Live Orders Monitor",
		DatasetID: DemoLiveOrdersDatasetID, Pages: []Page{
			{Name: "ReportSection", DisplayName: "Orders Today"},
		}})
	s.AddReport(DemoFinanceWorkspaceID, Report{ID: DemoFinanceReportID, Name: "Monthly Close",
		DatasetID: DemoFinanceKPIsDatasetID, Pages: []Page{
			{Name: "ReportSection8f2b3c4d5e6a7b8c9d0e", DisplayName: "Income Statement"},
			{Name: "ReportSection1a2b3c4d5e6f7a8b9c0d", DisplayName: "Balance Sheet"},
			{Name: "ReportSection9e8d7c6b5a4f3e2d1c0b", DisplayName: "Cash Flow"},
		}})
	s.AddReport(DemoMarketingWorkspaceID, Report{ID: DemoMarketingReportID, Name: "Campaign Performance",
		DatasetID: DemoWebTrafficDatasetID, Pages: []Page{
			{Name: "ReportSection", DisplayName: "Traffic Overview"},
			{Name: "ReportSection1", DisplayName: "Channels"},
			{Name: "ReportSection2", DisplayName: "Conversions"},
		}})
	s.AddReport("", Report{ID: DemoBudgetReportID, Name: "Budget Tracker",
		DatasetID: DemoPersonalBudgetDatasetID, Pages: []Page{
			{Name: "ReportSection", DisplayName: "Monthly Budget"},
			{Name: "ReportSection1", DisplayName: "Spending by Category"},
		}})
	s.seedRefreshes()
	s.AddReport(DemoFinanceWorkspaceID, Report{ID: DemoInvoicesReportID, Name: "Invoices",
		ReportType: reportTypePaginated, Datasources: []ReportDatasource{{
			DatasourceType: "Sql", Server: "contoso-finance.database.windows.net", Database: "Billing",
			DatasourceID: "1e3a5c7d-6e8a-4b49-8de4-7f9a1b3c5d08", GatewayID: "2f4b6d8e-7f9b-4c5a-9ef5-8a0b2c4d6e19"}}})
	s.AddReport(DemoMarketingWorkspaceID, Report{ID: DemoCampaignDraftReportID, Name: "Campaign Draft",
		DatasetID: DemoWebTrafficDatasetID, Pages: []Page{{Name: "ReportSection", DisplayName: "Draft"}}})
	s.AddReport(DemoMarketingWorkspaceID, Report{ID: DemoCampaignSandboxReportID, Name: "Campaign Sandbox",
		DatasetID: DemoWebTrafficDatasetID, Pages: []Page{
			{Name: "ReportSection", DisplayName: "Scratch"},
			{Name: "ReportSection1", DisplayName: "Notes", Hidden: true},
		}})
	s.seedModel()
	s.seedOrderLines()
	s.seedDashboards()
	s.seedApps()
	s.seedAdmin()
	s.seedAudit()
	s.seedPush()
	s.seedImports()
	s.seedPipelines()
	s.seedGatewaysAndDataflows()
	s.seedLineage()
	s.seedCapacities()
	s.seedRLS()
	s.seedSandbox()
	s.seedSignIn()
}

// seedRefreshes adds refresh schedules and history to the demo models. The
// history is relative to the time of seeding, as the service's clock runs.
func (s *Server) seedRefreshes() {
	now := time.Now().UTC().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	sales := s.state.workspace(DemoSalesWorkspaceID)
	sales.dataset(DemoSalesDatasetID).schedule = &refreshSchedule{
		Days:  []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"},
		Times: []string{"06:00", "18:00"}, Enabled: true,
		LocalTimeZoneID: "W. Europe Standard Time", NotifyOption: "MailOnFailure",
	}
	sales.dataset(DemoInventoryLiveDatasetID).dqSchedule = &dqRefreshSchedule{
		Frequency: 30, Days: []string{}, Times: []string{}, LocalTimeZoneID: "UTC",
	}
	s.state.workspace(DemoFinanceWorkspaceID).dataset(DemoFinanceKPIsDatasetID).addRefresh(&refreshJob{
		requestID: DemoFinanceRefreshID, refreshType: "ViaEnhancedApi", enhanced: true,
		start: now.Add(-2 * time.Hour), end: now.Add(-2*time.Hour + 4*time.Minute),
		typ: "Full", commitMode: "Transactional",
		objects: []refreshObject{{Table: "Ledger"}, {Table: "Budget"}, {Table: "Accounts"}},
	})
	sales.dataset(DemoInventoryDatasetID).addRefresh(&refreshJob{
		requestID: DemoInventoryRefreshID, refreshType: "ViaEnhancedApi", enhanced: true,
		start: now.Add(-10 * time.Minute), end: now.Add(24 * time.Hour),
		typ: "Full", commitMode: "Transactional",
		objects: []refreshObject{{Table: "Stock", Partition: "2025"}, {Table: "Stock", Partition: "2026"}, {Table: "Warehouses"}},
	})
}

// seedWorkspaceUsers gives the demo workspaces their users. The service
// principal is Admin everywhere, as the setup guide asks.
func (s *Server) seedWorkspaceUsers() {
	sp := WorkspaceUser{Identifier: DemoServicePrincipalObjectID, PrincipalType: "App", AccessRight: "Admin", DisplayName: DemoServicePrincipalName}
	for _, id := range []string{DemoSalesWorkspaceID, DemoFinanceWorkspaceID, DemoMarketingWorkspaceID, DemoScratchWorkspaceID} {
		s.AddWorkspaceUser(id, sp)
	}
	s.AddWorkspaceUser(DemoSalesWorkspaceID, WorkspaceUser{Identifier: "megan.bowen@contoso.com", AccessRight: "Admin", DisplayName: "Megan Bowen"})
	s.AddWorkspaceUser(DemoSalesWorkspaceID, WorkspaceUser{Identifier: DemoSalesTeamGroupID, PrincipalType: "Group", AccessRight: "Viewer", DisplayName: "Sales Team"})
	s.AddWorkspaceUser(DemoFinanceWorkspaceID, WorkspaceUser{Identifier: "alex.wilber@contoso.com", AccessRight: "Admin", DisplayName: "Alex Wilber"})
	s.AddWorkspaceUser(DemoFinanceWorkspaceID, WorkspaceUser{Identifier: DemoFinanceAnalystsGroupID, PrincipalType: "Group", AccessRight: "Contributor", DisplayName: "Finance Analysts"})
	s.AddWorkspaceUser(DemoMarketingWorkspaceID, WorkspaceUser{Identifier: "adele.vance@contoso.com", AccessRight: "Member", DisplayName: "Adele Vance"})
	s.AddWorkspaceUser(DemoMarketingWorkspaceID, WorkspaceUser{Identifier: DemoRemovableUser, AccessRight: "Contributor", DisplayName: "Former Contractor"})
}
