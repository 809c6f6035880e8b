// Command baremcp is the reference that powerbi-mcp's start-up is measured against: a bare
// mcp-go server on stdio that answers initialize and tools/list with the definitions and
// instructions it is given, and does nothing else. It is the floor for a Go MCP server of this
// design serving the same tools.
//
// Usage: baremcp definitions.json, where the file holds {"instructions": "...", "tools": [...]}
// as powerbi-mcp's initialize and tools/list answers give them.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var defs struct {
		Instructions string            `json:"instructions"`
		Tools        []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(data, &defs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := server.NewMCPServer("powerbi-mcp", "bare", server.WithTitle("Power BI"), server.WithToolCapabilities(false),
		server.WithInstructions(defs.Instructions))
	for _, raw := range defs.Tools {
		// The schemas stay raw JSON, as a server with its definitions generated ahead of time
		// would hold them.
		var t struct {
			Name        string             `json:"name"`
			Description string             `json:"description"`
			Input       json.RawMessage    `json:"inputSchema"`
			Output      json.RawMessage    `json:"outputSchema"`
			Annotations mcp.ToolAnnotation `json:"annotations"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tool := mcp.Tool{Name: t.Name, Description: t.Description, RawInputSchema: t.Input, RawOutputSchema: t.Output, Annotations: t.Annotations}
		s.AddTool(tool, func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError("not served"), nil
		})
	}
	if err := server.ServeStdio(s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
