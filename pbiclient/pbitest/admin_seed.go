package pbitest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Ids of the admin view SeedDemo creates: workspaces the service principal
// is not a member of, and the tenant's capacities.
const (
	DemoFabricCapacityID = "7c9e1a3b-5d7f-4b2c-8e4a-6f8b0d2c4e61" // "Contoso Fabric F64", encrypted with a customer key
	DemoTenantKeyID      = "8d0f2b4c-6e8a-4c3d-9f5b-7a9c1e3d5f72" // the customer-managed key of the Fabric capacity

	DemoHRWorkspaceID       = "9e1a3c5d-7f9b-4d4e-8a6c-8b0d2f4a6c83" // "HR Confidential": members only, not the service principal
	DemoOrphanedWorkspaceID = "af2b4d6e-8a0c-4e5f-9b7d-9c1e3a5b7d94" // "Orphaned Project": no Admin left
	DemoDeletedWorkspaceID  = "b03c5e7f-9b1d-4f6a-8c8e-0d2f4b6c8ea5" // "Old Intranet", state Deleted
	DemoPersonalWorkspaceID = "c14d6f8a-0c2e-4a7b-9d9f-1e3a5c7d9fb6" // "PersonalWorkspace Megan Bowen", type PersonalGroup

	DemoSalesSubscriptionID = "d25f7a9c-1e3b-4c5d-8f7a-9b1c3d5e7f02" // Megan Bowen's daily subscription to Sales Overview, also sent to Lee Gu

	// DemoAdminWorkspaceCount is how many workspaces the admin APIs list
	// after SeedDemo: the four of the ordinary API, the four above and the
	// regional ones.
	DemoAdminWorkspaceCount = 6 + 4 + demoRegionalWorkspaces
)

// demoRegionalWorkspaces is the number of generated "Region NN" workspaces,
// enough that listing every workspace takes several pages.
const demoRegionalWorkspaces = 32

// deterministicGUID derives a stable version 4 style GUID from a string, for
// seeded ids that must not change between runs.
func deterministicGUID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// seedAdmin adds what only a tenant administrator sees: capacities and
// workspaces the service principal does not belong to.
func (s *Server) seedAdmin() {
	stamp := time.Date(2024, time.February, 1, 8, 0, 0, 0, time.UTC)
	s.AddCapacity(Capacity{ID: DemoCapacityID, DisplayName: "Contoso Premium P1", SKU: "P1",
		Admins: []string{"admin@contoso.onmicrosoft.com"}, Region: "West Europe",
		Workloads: []Workload{
			{Name: "Dataflows", State: "Enabled", MaxMemoryPercentageSetByUser: 20},
			{Name: "PaginatedReports", State: "Enabled", MaxMemoryPercentageSetByUser: 20},
			{Name: "AI", State: "Disabled"},
		}})
	s.AddCapacity(Capacity{ID: DemoFabricCapacityID, DisplayName: "Contoso Fabric F64", SKU: "F64",
		Admins: []string{"admin@contoso.onmicrosoft.com", "megan.bowen@contoso.com"}, Region: "North Europe",
		TenantKeyID: DemoTenantKeyID, TenantKey: &TenantKey{
			ID:                    DemoTenantKeyID,
			Name:                  "contoso-byok",
			KeyVaultKeyIdentifier: "https://contoso-vault.vault.azure.net/keys/powerbi-byok/1f2e3d4c5b6a79880f1e2d3c4b5a6978",
			IsDefault:             true,
			CreatedAt:             serviceTime(stamp),
			UpdatedAt:             serviceTime(stamp),
		}})

	megan := WorkspaceUser{Identifier: "megan.bowen@contoso.com", AccessRight: "Admin", DisplayName: "Megan Bowen"}
	s.AddAdminWorkspace(AdminWorkspace{
		Workspace:   Workspace{ID: DemoHRWorkspaceID, Name: "HR Confidential", IsOnDedicatedCapacity: true, CapacityID: DemoFabricCapacityID},
		Description: "Salaries and reviews; members only",
		Users: []WorkspaceUser{
			{Identifier: "alex.wilber@contoso.com", AccessRight: "Admin", DisplayName: "Alex Wilber"},
			{Identifier: "d25e7a9b-1d3f-4b8c-8a0b-2f4b6d8e0ac7", PrincipalType: "Group", AccessRight: "Viewer", DisplayName: "HR Team"},
		},
		Datasets: []Dataset{{ID: deterministicGUID("dataset:hr"), Name: "Headcount", ConfiguredBy: "alex.wilber@contoso.com",
			IsRefreshable: true, CreatedDate: stamp}},
		Reports:    []Report{{ID: deterministicGUID("report:hr"), Name: "Headcount Review", DatasetID: deterministicGUID("dataset:hr")}},
		Dashboards: []Dashboard{{ID: deterministicGUID("dashboard:hr"), DisplayName: "HR Pulse"}},
	})
	s.AddAdminWorkspace(AdminWorkspace{
		Workspace:   Workspace{ID: DemoOrphanedWorkspaceID, Name: "Orphaned Project"},
		Description: "Its only admin left the company",
		Users:       []WorkspaceUser{{Identifier: "lee.gu@contoso.com", AccessRight: "Viewer", DisplayName: "Lee Gu"}},
		Datasets: []Dataset{{ID: deterministicGUID("dataset:orphaned"), Name: "Project Tracker",
			ConfiguredBy: "former.pm@contoso.com", IsRefreshable: true, CreatedDate: stamp}},
	})
	s.AddAdminWorkspace(AdminWorkspace{
		Workspace: Workspace{ID: DemoDeletedWorkspaceID, Name: "Old Intranet"},
		State:     "Deleted",
	})
	s.AddAdminWorkspace(AdminWorkspace{
		Workspace: Workspace{ID: DemoPersonalWorkspaceID, Name: "PersonalWorkspace Megan Bowen", Type: "PersonalGroup"},
		Users:     []WorkspaceUser{megan},
		Reports:   []Report{{ID: deterministicGUID("report:megan"), Name: "My Scratchpad"}},
	})
	s.seedAdminAccess(stamp)
	regions := []string{"North", "South", "East", "West"}
	for i := 1; i <= demoRegionalWorkspaces; i++ {
		name := fmt.Sprintf("Region %02d %s", i, regions[i%len(regions)])
		w := AdminWorkspace{
			Workspace: Workspace{ID: deterministicGUID("workspace:" + name), Name: name},
			Users:     []WorkspaceUser{{Identifier: fmt.Sprintf("manager%02d@contoso.com", i), AccessRight: "Admin"}},
		}
		if i%4 == 0 {
			w.IsOnDedicatedCapacity, w.CapacityID, w.DefaultDatasetStorageFormat = true, DemoCapacityID, "Small"
		}
		if i%3 == 0 {
			ds := Dataset{ID: deterministicGUID("dataset:" + name), Name: name + " Sales",
				ConfiguredBy: w.Users[0].Identifier, IsRefreshable: true, CreatedDate: stamp.AddDate(0, 0, i)}
			w.Datasets = []Dataset{ds}
			w.Reports = []Report{{ID: deterministicGUID("report:" + name), Name: name + " Overview", DatasetID: ds.ID}}
		}
		s.AddAdminWorkspace(w)
	}
}

// seedAdminAccess adds who reaches what beyond workspace roles: wide shares, direct shares, an
// app's audience, capacity and pipeline users, subscriptions, and when items were last opened.
func (s *Server) seedAdminAccess(stamp time.Time) {
	s.AddWideShare(WideShare{ItemID: DemoMarketingReportID, PublishToWeb: true, Sharer: "adele.vance@contoso.com"})
	s.AddWideShare(WideShare{ItemID: DemoSalesReportID, Sharer: "megan.bowen@contoso.com"})
	s.ShareItem(deterministicGUID("report:hr"), ItemUser{Identifier: "lee.gu@contoso.com", AccessRight: "Read", DisplayName: "Lee Gu"})
	s.ShareItem(DemoSalesAppID, ItemUser{Identifier: DemoSalesTeamGroupID, PrincipalType: "Group", AccessRight: "ReadExplore", DisplayName: "Sales Team"})
	s.ShareItem(DemoSalesAppID, ItemUser{Identifier: "lee.gu@contoso.com", AccessRight: "Read", DisplayName: "Lee Gu"})
	s.ShareItem(DemoCapacityID, ItemUser{Identifier: "megan.bowen@contoso.com", AccessRight: "Assign", DisplayName: "Megan Bowen"})

	// Opened long ago: unused. Sales Overview was opened lately.
	s.SetLastAccessed(deterministicGUID("dataset:orphaned"), stamp.AddDate(0, 1, 0))
	s.SetLastAccessed(DemoCampaignDraftReportID, stamp.AddDate(0, 2, 0))
	s.SetLastAccessed(DemoSalesReportID, time.Now().Add(-2*time.Hour))

	s.AddSubscription(Subscription{ID: DemoSalesSubscriptionID, Title: "Sales Overview every morning", ArtifactID: DemoSalesReportID,
		Page: "Overview", Enabled: true, Start: stamp, End: stamp.AddDate(1, 0, 0), AttachmentFormat: "PNG",
		Owner: "megan.bowen@contoso.com", Recipients: []string{"megan.bowen@contoso.com", "lee.gu@contoso.com"}})
	s.AddSubscription(Subscription{ID: deterministicGUID("subscription:sales-pulse"), Title: "Sales Pulse weekly", ArtifactID: DemoSalesDashboardID,
		Enabled: true, Frequency: "Weekly", Start: stamp, End: stamp.AddDate(1, 0, 0), Owner: "megan.bowen@contoso.com"})
	s.AddSubscription(Subscription{ID: deterministicGUID("subscription:monthly-close"), Title: "Monthly Close", ArtifactID: DemoFinanceReportID,
		Start: stamp, End: stamp.AddDate(0, 6, 0), AttachmentFormat: "PDF", Owner: "alex.wilber@contoso.com"})
}
