package tools

// daxTools returns the tools for DAX queries and model schemas.
func daxTools(d Deps) []Tool {
	return nil
}
