package pbitest

import "time"

// Ids of the lineage SeedDemo gives Finance: a dataflow feeding the Finance KPIs model, and a
// data source whose gateway binding is broken.
const (
	DemoFinanceLedgerDataflowID = "d6f8a0c2-7b9d-4e1f-8a3c-5e7f9b1d3f06" // "Finance Ledger": Finance KPIs reads its KPI entity
	// DemoFinanceAdjustmentsSourceID is a source of Finance Ledger bound to the Branch Office
	// Gateway, which holds no such data source: the scanner reports it misconfigured.
	DemoFinanceAdjustmentsSourceID = "e7a9b1d3-8c0e-4f2a-9b4d-6f8a0c2e4a17"
)

// seedLineage makes Finance a workspace whose lineage is worth scanning: Finance KPIs loads
// its KPI table from the Finance Ledger dataflow and its budget from the Planning database
// through the demo gateway (the data source Forecast uses too), and Forecast is a composite
// model over Finance KPIs. Every operation that reports lineage reads it from this state:
// the datasources and upstream dataflow lists, and the scanner.
func (s *Server) seedLineage() {
	s.AddDataflow(DemoFinanceWorkspaceID, Dataflow{ObjectID: DemoFinanceLedgerDataflowID, Name: "Finance Ledger",
		Description: "Monthly revenue and cost from the general ledger", ConfiguredBy: "alex.wilber@contoso.com",
		ModifiedTime: time.Date(2024, time.March, 5, 6, 30, 0, 0, time.UTC),
		Entities: []DataflowEntity{{Name: "KPI", Description: "Revenue and cost per month", Attributes: []DataflowAttribute{
			{"Month", "string"}, {"Revenue", "double"}, {"Cost", "double"}}}},
		Datasources: []Datasource{
			{DatasourceType: "Sql", ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Ledger"}},
			{DatasourceType: "File", ConnectionDetails: DatasourceConnectionDetails{Path: `\\branch-fs01\finance\Adjustments.xlsx`},
				DatasourceID: DemoFinanceAdjustmentsSourceID, GatewayID: DemoUnreachableGatewayID},
		}})
	s.mu.Lock()
	defer s.mu.Unlock()
	fin := s.state.workspace(DemoFinanceWorkspaceID)
	kpis := &fin.dataset(DemoFinanceKPIsDatasetID).info
	kpis.UpstreamDataflows = append(kpis.UpstreamDataflows, UpstreamDataflow{DataflowID: DemoFinanceLedgerDataflowID, WorkspaceID: DemoFinanceWorkspaceID})
	kpis.Datasources = append(kpis.Datasources, Datasource{DatasourceType: "Sql",
		ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Planning"},
		DatasourceID:      DemoFinanceGatewayDatasourceID, GatewayID: DemoGatewayID})
	forecast := &fin.dataset(DemoForecastDatasetID).info
	forecast.UpstreamDatasets = append(forecast.UpstreamDatasets, UpstreamDataset{DatasetID: DemoFinanceKPIsDatasetID, WorkspaceID: DemoFinanceWorkspaceID})
}
