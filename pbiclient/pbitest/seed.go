package pbitest

import "time"

// Ids of the demo tenant SeedDemo creates. They are fixed so that docs and
// tests can name them.
const (
	DemoCapacityID = "6b8d0f2a-4c6e-4a1b-9d3f-5e7a9c1b3d50" // the Premium capacity of Sales Analytics and Finance

	DemoSalesWorkspaceID     = "4f1c2a9e-7b3d-4e2a-8c6f-1d5e9a0b3c71" // "Sales Analytics", dedicated capacity
	DemoFinanceWorkspaceID   = "8a2d4f6b-1c3e-4b5a-9e7d-2f4a6c8e0b12" // "Finance", dedicated capacity
	DemoMarketingWorkspaceID = "c3e5a7b9-2d4f-4a6c-8e0b-3f5a7c9e1d24" // "Marketing", shared capacity

	DemoSalesDatasetID          = "2b4d6f8a-3c5e-4a7b-9c1d-4e6f8a0b2c35" // "Sales" in Sales Analytics
	DemoLiveOrdersDatasetID     = "9f1b3d5e-6a8c-4dae-8f4a-7b9c1d3e5f68" // "Live Orders" in Sales Analytics: push dataset, not refreshable
	DemoFinanceKPIsDatasetID    = "5d7f9b1c-4e6a-4b8c-8d2e-5f7a9b1c3d46" // "Finance KPIs" in Finance
	DemoWebTrafficDatasetID     = "7e9a1c3d-5f7b-4c9d-9e3f-6a8b0c2d4e57" // "Web Traffic" in Marketing
	DemoPersonalBudgetDatasetID = "1a3c5e7f-7b9d-4ebf-9a5b-8c0d2e4f6a79" // "Personal Budget" in My workspace

	DemoSalesReportID      = "3c5e7a9b-8c0e-4fc1-8b6c-9d1e3f5a7b80" // "Sales Overview" on Sales
	DemoLiveOrdersReportID = "6f8b0d2e-1f3b-4cf4-9e9f-2a4b6c8d0eb3" // "Live Orders Monitor" on Live Orders
	DemoFinanceReportID    = "4d6f8b0c-9d1f-4ad2-9c7d-0e2f4a6b8c91" // "Monthly Close" on Finance KPIs
	DemoMarketingReportID  = "5e7a9c1d-0e2a-4be3-8d8e-1f3a5b7c9da2" // "Campaign Performance" on Web Traffic
	DemoBudgetReportID     = "7a9c1e3f-2a4c-4d05-8fa0-3b5c7d9e1fc4" // "Budget Tracker" on Personal Budget, My workspace
	DemoInvoicesReportID   = "8b0d2f4a-3b5d-4e16-9ab1-4c6d8e0f2ad5" // "Invoices", paginated, in Finance, with a SQL data source
	// Reserved for tools that change or delete a report, so that trying them
	// leaves the reports above as they are.
	DemoCampaignDraftReportID   = "9c1e3a5b-4c6e-4f27-8bc2-5d7e9f1a3be6" // "Campaign Draft" on Web Traffic, Marketing: to delete
	DemoCampaignSandboxReportID = "0d2f4b6c-5d7f-4a38-9cd3-6e8f0a2b4cf7" // "Campaign Sandbox" on Web Traffic, Marketing: to rebind or overwrite
)

// SeedDemo fills the tenant with the demo content used by
// `powerbi-mcp --sandbox`: three workspaces (two on a Premium capacity, one
// on shared capacity, where exports and enhanced refreshes fail as they do
// in the real service), datasets, reports with named pages, and some My
// workspace content. Everything is fixed, so repeated runs look the same.
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

	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoSalesDatasetID, Name: "Sales",
		ConfiguredBy: "megan.bowen@contoso.com", IsRefreshable: true, CreatedDate: created(4, 9)})
	s.AddDataset(DemoSalesWorkspaceID, Dataset{ID: DemoLiveOrdersDatasetID, Name: "Live Orders",
		ConfiguredBy: "megan.bowen@contoso.com", AddRowsAPIEnabled: true, CreatedDate: created(11, 14)})
	s.AddDataset(DemoFinanceWorkspaceID, Dataset{ID: DemoFinanceKPIsDatasetID, Name: "Finance KPIs",
		ConfiguredBy: "alex.wilber@contoso.com", IsRefreshable: true, TargetStorageMode: "PremiumFiles",
		CreatedDate: created(6, 8)})
	// Its data source has no credentials, the commonest reason real refreshes fail.
	s.AddDataset(DemoMarketingWorkspaceID, Dataset{ID: DemoWebTrafficDatasetID, Name: "Web Traffic",
		ConfiguredBy: "adele.vance@contoso.com", IsRefreshable: true, CreatedDate: created(12, 16),
		RefreshError: "ModelRefreshFailed_CredentialsNotSpecified"})
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
	s.seedDashboards()
	s.seedApps()
}
