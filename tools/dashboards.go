package tools

// dashboardTools returns the tools for dashboards and tiles.
func dashboardTools(d Deps) []Tool {
	return nil
}
