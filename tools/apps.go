package tools

// appTools returns the tools for installed apps.
func appTools(d Deps) []Tool {
	return nil
}
