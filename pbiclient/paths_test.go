package pbiclient_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// TestIDsThatWouldChangeThePathAreNeverSent: an id that is empty, "." or "..", or holds a
// separator, would make the URL name another operation once a proxy normalises it
// (DELETE .../datasources/{d}/users/.. deletes the data source). Each is refused with an
// *InvalidIDError before anything reaches the wire, token request included.
func TestIDsThatWouldChangeThePathAreNeverSent(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	const (
		ws     = pbitest.DemoSalesWorkspaceID
		report = "5f0c7a43-8b8e-4c39-a0a3-3c7f1f5b2d10"
	)
	gw, ds := pbitest.DemoGatewayID, pbitest.DemoSalesGatewayDatasourceID
	ops := []struct {
		name   string
		call   func(id string) error
		opaque bool // the id may hold "/" (export ids are base64)
	}{
		{"DeleteGatewayDatasourceUser", func(id string) error { return c.DeleteGatewayDatasourceUser(ctx, gw, ds, id) }, false},
		{"DeleteGatewayDatasourceUser gateway", func(id string) error { return c.DeleteGatewayDatasourceUser(ctx, id, ds, "a@contoso.com") }, false},
		{"CancelDataflowTransaction", func(id string) error {
			_, err := c.CancelDataflowTransaction(ctx, ws, id)
			return err
		}, false},
		{"DeleteGroupUser", func(id string) error { return c.DeleteGroupUser(ctx, ws, id) }, false},
		{"DeleteRows", func(id string) error { return c.DeleteRows(ctx, ws, pbitest.DemoSalesDatasetID, id) }, false},
		{"GetDataset workspace", func(id string) error {
			_, err := c.GetDataset(ctx, id, pbitest.DemoSalesDatasetID)
			return err
		}, false},
		{"GetExport", func(id string) error {
			_, err := c.GetExport(ctx, ws, report, id)
			return err
		}, true},
		{"DownloadExport", func(id string) error {
			_, err := c.DownloadExport(ctx, ws, report, id, io.Discard)
			return err
		}, true},
	}
	refused := []string{"..", ".", `a\b`, `..\x`}
	for _, op := range ops {
		values := refused
		if op.opaque {
			values = append(values, "a/..", "./a", "a/../b")
		} else {
			values = append(values, "a/b", "../x", "/")
		}
		for _, id := range values {
			before := len(srv.WirePaths())
			err := op.call(id)
			var inv *pbiclient.InvalidIDError
			if !errors.As(err, &inv) || inv.ID != id {
				t.Errorf("%s(%q): got %v, want an *InvalidIDError for %q", op.name, id, err, id)
				continue
			}
			if !strings.Contains(err.Error(), "nothing was sent") {
				t.Errorf("%s(%q): the error must say nothing was sent: %v", op.name, id, err)
			}
			if got := srv.WirePaths()[before:]; len(got) != 0 {
				t.Errorf("%s(%q) sent %v, want nothing", op.name, id, got)
			}
		}
	}

	// Values that are odd but keep the path's shape are sent, escaped into one segment, with no
	// dot segment even for a server that decodes every escape.
	for _, tc := range []struct {
		name, id, want string
		call           func(id string) error
	}{
		{"DeleteGatewayDatasourceUser", "%2e%2e", "/users/%252e%252e", ops[0].call},
		{"GetExport", "Mi9C5419i/+x=PS4=", "/exports/Mi9C5419i%2F%2Bx%3DPS4%3D", ops[6].call},
		{"DownloadExport", "a//b", "/exports/a%2F%2Fb/file", ops[7].call},
	} {
		before := len(srv.WirePaths())
		err := tc.call(tc.id)
		var inv *pbiclient.InvalidIDError
		if errors.As(err, &inv) {
			t.Errorf("%s(%q) was refused: %v", tc.name, tc.id, err)
			continue
		}
		var sent []string
		for _, p := range srv.WirePaths()[before:] {
			if strings.HasPrefix(p, apiPrefix) {
				sent = append(sent, p)
			}
		}
		if len(sent) != 1 || !strings.HasSuffix(sent[0], tc.want) || pbitest.HasDotSegment(sent[0]) {
			t.Errorf("%s(%q) sent %v, want one path ending %s", tc.name, tc.id, sent, tc.want)
		}
	}
}
