package pbiclient

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathsAreBuiltInOnePlace: a request path is checked only if it is made by pathOf and
// its methods, so no file but client.go may write a call or an apiPath literal.
func TestPathsAreBuiltInOnePlace(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				typ, ok := lit.Type.(*ast.Ident)
				if !ok || (typ.Name != "call" && typ.Name != "apiPath") || len(lit.Elts) == 0 {
					return true
				}
				if name != "client.go" || fn.Name.Name != "newCall" {
					t.Errorf("%s: %s builds a %s by hand; use pathOf and newCall", fset.Position(lit.Pos()), fn.Name.Name, typ.Name)
				}
				return true
			})
		}
	}
}

// TestLocationsGoThroughTheSameChecks: a Location the service sends back is followed only when
// it is under the base URL and its segments pass the same checks as ids.
func TestLocationsGoThroughTheSameChecks(t *testing.T) {
	c := &Client{baseURL: "https://api.powerbi.com/v1.0/myorg"}
	for loc, want := range map[string]string{
		c.baseURL + "/admin/workspaces/scanStatus/e7d03602-4873-4760-b37e-1563ef5358e3": "/admin/workspaces/scanStatus/e7d03602-4873-4760-b37e-1563ef5358e3",
		c.baseURL + "/admin/workspaces/scanResult/a%40b":                                "/admin/workspaces/scanResult/a%40b",
		c.baseURL + "/admin/workspaces/scanStatus/..":                                   "",
		c.baseURL + "/admin/workspaces/scanStatus/%2e%2e":                               "",
		c.baseURL + "/admin/workspaces/scanStatus/a%2Fb":                                "",
		c.baseURL + "/admin/workspaces/scanStatus/a%5Cb":                                "",
		c.baseURL + "/admin/workspaces//scanStatus":                                     "",
		c.baseURL + "/admin/workspaces/scanStatus/x?y=1":                                "",
		c.baseURL + "/admin/workspaces/scanStatus/%zz":                                  "",
		"https://elsewhere.example/v1.0/myorg/admin/workspaces/scanStatus/x":            "",
	} {
		if got := c.relative(loc); got.escaped != want || got.err != nil {
			t.Errorf("relative(%q) = %q (err %v), want %q", loc, got.escaped, got.err, want)
		}
	}
}

func TestPathSegmentChecks(t *testing.T) {
	for _, c := range []struct {
		p    apiPath
		want string // escaped path, or "" when refused
	}{
		{pathOf("gateways", "g", "datasources", "d", "users", "john.doe@contoso.com"), "/gateways/g/datasources/d/users/john.doe%40contoso.com"},
		{pathOf("groups", "g", "users", ".."), ""},
		{pathOf("groups", "g", "users", "."), ""},
		{pathOf("groups", "g", "users", ""), ""},
		{pathOf("groups", "g", "users", "a/b"), ""},
		{pathOf("groups", "g", "users", `a\b`), ""},
		{pathOf("groups", "..", "users"), ""},
		{pathOf("groups", "g", "users", "%2e%2e"), "/groups/g/users/%252e%252e"},
		{pathOf("groups", "g", "users", "..."), "/groups/g/users/..."},
		{pathOf("reports", "r", "exports").joinOpaque("Mi9C5419i/+x=PS4=").join("file"), "/reports/r/exports/Mi9C5419i%2F%2Bx%3DPS4%3D/file"},
		{pathOf("reports", "r", "exports").joinOpaque("a/.."), ""},
		{pathOf("reports", "r", "exports").joinOpaque(".."), ""},
		{pathOf("reports", "r", "exports").joinOpaque(`a\b`), ""},
		{pathOf("reports", "..", "exports").joinOpaque("abc"), ""},
		{workspacePath("", "datasets"), "/datasets"},
		{workspacePath("g", "datasets", "d"), "/groups/g/datasets/d"},
		{workspacePath("..", "datasets"), ""},
	} {
		_, err := newCall("GET", c.p, "")
		var inv *InvalidIDError
		switch {
		case c.want == "" && !errors.As(err, &inv):
			t.Errorf("path %q: newCall gave %v, want an *InvalidIDError", c.p.escaped, err)
		case c.want != "" && (err != nil || c.p.escaped != c.want):
			t.Errorf("path %q (err %v), want %q", c.p.escaped, err, c.want)
		}
	}
}
