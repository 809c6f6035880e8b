package tools

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// fileLink returns the one resource_link of a tool result, after its text.
func fileLink(t *testing.T, res *mcp.CallToolResult) mcp.ResourceLink {
	t.Helper()
	var links []mcp.ResourceLink
	for i, c := range res.Content {
		if l, ok := c.(mcp.ResourceLink); ok {
			if i == 0 {
				t.Errorf("the resource_link comes before the text")
			}
			links = append(links, l)
		}
	}
	if len(links) != 1 {
		t.Fatalf("%d resource links in %+v", len(links), res.Content)
	}
	return links[0]
}

// readResource reads uri through c and returns its one content item.
func readResource(t *testing.T, c *client.Client, uri string) mcp.ResourceContents {
	t.Helper()
	res, err := c.ReadResource(context.Background(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
	if err != nil {
		t.Fatalf("resources/read %s: %v", uri, err)
	}
	if len(res.Contents) != 1 {
		t.Fatalf("resources/read %s: %d contents", uri, len(res.Contents))
	}
	return res.Contents[0]
}

// blobOf decodes a blob resource of the MIME type.
func blobOf(t *testing.T, c mcp.ResourceContents, mimeType string) []byte {
	t.Helper()
	blob, ok := c.(mcp.BlobResourceContents)
	if !ok {
		t.Fatalf("not a blob: %T", c)
	}
	if blob.MIMEType != mimeType {
		t.Errorf("MIME type %s, want %s", blob.MIMEType, mimeType)
	}
	data, err := base64.StdEncoding.DecodeString(blob.Blob)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readFails reads uri through c, which must fail, and returns the error.
func readFails(t *testing.T, c *client.Client, uri string) string {
	t.Helper()
	res, err := c.ReadResource(context.Background(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
	if err == nil {
		t.Fatalf("resources/read %s succeeded: %+v", uri, res)
	}
	return err.Error()
}

// An export's result links the file, and resources/read returns its bytes, over the in-process
// transport and streamable HTTP, in both protocol eras: a client on another machine gets the file.
func TestExportIsReadableAsAResource(t *testing.T) {
	st := newStack(t, stackOptions{})
	res := st.call(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PDF"})
	if res.IsError {
		t.Fatal(text(res))
	}
	var out ExportResult
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	link := fileLink(t, res)
	if !strings.HasPrefix(link.URI, "powerbi-mcp://exports/Sales_Overview-") || !strings.HasSuffix(link.URI, ".pdf") ||
		link.MIMEType != "application/pdf" || link.Size == nil || link.Name == "" {
		t.Fatalf("link %+v", link)
	}
	onDisk, err := os.ReadFile(filepath.Join(st.exportDir, link.Name))
	if err != nil {
		t.Fatal(err)
	}
	if *link.Size != int64(len(onDisk)) || !strings.Contains(text(res), link.URI) {
		t.Fatalf("link %+v for %d bytes; result %s", link, len(onDisk), text(res))
	}
	// The structured content names the file the same way, with its path for local use.
	if out.File == nil || out.File.URI != link.URI || out.File.Path != filepath.Join(st.exportDir, link.Name) {
		t.Fatalf("%+v", out.File)
	}

	for _, c := range []struct {
		name   string
		client *client.Client
	}{
		{"in-process", st.client},
		{"HTTP 2026-07-28", st.httpClient(t)},
		{"HTTP 2025-11-25", st.httpClientAt(t, mcp.LATEST_LEGACY_PROTOCOL_VERSION)},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := blobOf(t, readResource(t, c.client, link.URI), "application/pdf")
			if !bytes.Equal(data, onDisk) || !bytes.HasPrefix(data, []byte("%PDF-")) {
				t.Fatalf("read %d bytes starting %q, the file has %d", len(data), data[:min(8, len(data))], len(onDisk))
			}
		})
	}
}

// The .pbix and .rdl downloads are linked as resources too.
func TestDownloadIsReadableAsAResource(t *testing.T) {
	st := newStack(t, stackOptions{})
	for _, c := range []struct{ workspace, report, mimeType, magic string }{
		{"Sales Analytics", "Sales Overview", "application/zip", "PK\x03\x04"},
		{"Finance", "Invoices", "application/xml", "<?xml"},
	} {
		res := st.call(t, "download_report_pbix", map[string]any{"workspace": c.workspace, "report": c.report})
		if res.IsError {
			t.Fatal(text(res))
		}
		link := fileLink(t, res)
		if link.MIMEType != c.mimeType {
			t.Fatalf("link %+v", link)
		}
		var data []byte
		switch r := readResource(t, st.client, link.URI).(type) {
		case mcp.TextResourceContents: // XML is text
			data = []byte(r.Text)
		default:
			data = blobOf(t, r, c.mimeType)
		}
		onDisk, _ := os.ReadFile(filepath.Join(st.exportDir, link.Name))
		if !bytes.HasPrefix(data, []byte(c.magic)) || !bytes.Equal(data, onDisk) {
			t.Fatalf("%s: read %q…, %d bytes; on disk %d", link.Name, data[:min(8, len(data))], len(data), len(onDisk))
		}
	}
}

// Only plain files directly in the export directory are served: no other path, however it is
// spelled, no link out of it, no temporary or hidden file, nothing but a regular file.
func TestReadExportRefusesWhatIsNotAnExport(t *testing.T) {
	st := newStack(t, stackOptions{})
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("not for the client"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(st.exportDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(".export-123.partial", "half a file")
	write(".hidden.csv", "a,b")
	write("ok.csv", "a,b\r\n1,2\r\n")
	if err := os.Mkdir(filepath.Join(st.exportDir, "folder.pdf"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(st.exportDir, "link.txt")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	rel, _ := filepath.Rel(st.exportDir, secret)

	for _, uri := range []string{
		"powerbi-mcp://exports/" + strings.ReplaceAll(rel, "/", "%2F"),
		"powerbi-mcp://exports/..%2F" + filepath.Base(outside) + "%2Fsecret.txt",
		"powerbi-mcp://exports/" + strings.ReplaceAll(secret, "/", "%2F"),
		"powerbi-mcp://exports/..",
		"powerbi-mcp://exports/%2E%2E",
		"powerbi-mcp://exports/ok.csv%00",
		"powerbi-mcp://exports/.export-123.partial",
		"powerbi-mcp://exports/.hidden.csv",
		"powerbi-mcp://exports/folder.pdf",
		"powerbi-mcp://exports/link.txt",
		"powerbi-mcp://exports/missing.pdf",
		"powerbi-mcp://exports/",
		"file://" + secret,
	} {
		msg := readFails(t, st.client, uri)
		if strings.Contains(msg, "not for the client") {
			t.Fatalf("%s: %s", uri, msg)
		}
	}
	// What the refusals say.
	for uri, want := range map[string]string{
		"powerbi-mcp://exports/..%2Fx.pdf":            "only files directly in the export directory",
		"powerbi-mcp://exports/.export-123.partial":   "unfinished",
		"powerbi-mcp://exports/folder.pdf":            "not a regular file",
		"powerbi-mcp://exports/link.txt":              "cannot be opened inside the export directory",
		"powerbi-mcp://exports/missing.pdf":           "resources/list",
		"powerbi-mcp://exports/Sales%20Overview.xlsx": "not found",
	} {
		if msg := readFails(t, st.client, uri); !strings.Contains(msg, want) {
			t.Errorf("%s: %q does not say %q", uri, msg, want)
		}
	}
	// The same over HTTP, in both protocol eras, which report a missing resource differently.
	for _, c := range []*client.Client{st.httpClient(t), st.httpClientAt(t, mcp.LATEST_LEGACY_PROTOCOL_VERSION)} {
		for uri, want := range map[string]string{
			"powerbi-mcp://exports/..%2Fx.pdf":  "only files directly in the export directory",
			"powerbi-mcp://exports/link.txt":    "cannot be opened inside the export directory",
			"powerbi-mcp://exports/missing.pdf": "not found",
		} {
			if msg := readFails(t, c, uri); !strings.Contains(msg, want) {
				t.Errorf("HTTP %s: %q does not say %q", uri, msg, want)
			}
		}
	}
	// The plain file next to them is served, as text.
	if got, ok := readResource(t, st.client, "powerbi-mcp://exports/ok.csv").(mcp.TextResourceContents); !ok || got.Text != "a,b\r\n1,2\r\n" || got.MIMEType != "text/csv" {
		t.Fatalf("%+v", got)
	}
}

// A file over the resource limit is refused with its path, for a client that can reach it there.
func TestReadExportOverTheLimitGivesThePath(t *testing.T) {
	st := newStack(t, stackOptions{})
	big := filepath.Join(st.exportDir, "Big_Report-20260101-000000.pdf")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: the size is what counts, and it is refused before a byte is read.
	if err := f.Truncate(DefaultMaxResourceBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	msg := readFails(t, st.client, exportURI(filepath.Base(big)))
	for _, want := range []string{big, fmt.Sprint(DefaultMaxResourceBytes + 1), fmt.Sprint(DefaultMaxResourceBytes), "--max-resource-bytes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
	// One byte less is served.
	if err := os.Truncate(big, DefaultMaxResourceBytes); err != nil {
		t.Fatal(err)
	}
	if data := blobOf(t, readResource(t, st.client, exportURI(filepath.Base(big))), "application/pdf"); len(data) != DefaultMaxResourceBytes {
		t.Fatalf("%d bytes", len(data))
	}
}

// resources/list is the export directory as it is now, newest first, at most maxListedExports,
// without temporary, hidden or non-regular files.
func TestListExports(t *testing.T) {
	st := newStack(t, stackOptions{})
	list := func(c *client.Client) []mcp.Resource {
		res, err := c.ListResources(context.Background(), mcp.ListResourcesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Resources
	}
	if got := list(st.client); len(got) != 0 {
		t.Fatalf("an empty export directory lists %+v", got)
	}
	base := time.Now().Add(-time.Hour)
	for i := range maxListedExports + 5 {
		p := filepath.Join(st.exportDir, fmt.Sprintf("file-%03d.csv", i))
		if err := os.WriteFile(p, []byte(strings.Repeat("x", i)), 0o600); err != nil {
			t.Fatal(err)
		}
		at := base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{".export-9.partial", ".hidden.pdf"} {
		if err := os.WriteFile(filepath.Join(st.exportDir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(st.exportDir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	var out ExportResult // the newest of all
	st.ok(t, "export_report", map[string]any{"workspace": "Sales Analytics", "report": "Sales Overview", "format": "PPTX"}, &out)

	for name, c := range map[string]*client.Client{"in-process": st.client, "HTTP": st.httpClient(t)} {
		got := list(c)
		if len(got) != maxListedExports {
			t.Fatalf("%s: %d resources listed, want %d", name, len(got), maxListedExports)
		}
		if got[0].URI != out.File.URI || got[0].MIMEType != out.File.MimeType || got[0].Size == nil || *got[0].Size != out.File.Bytes {
			t.Fatalf("%s: first %+v, want the export %+v", name, got[0], out.File)
		}
		for i, r := range got[1:] {
			want := fmt.Sprintf("file-%03d.csv", maxListedExports+4-i)
			if r.Name != want || r.URI != exportURI(want) || r.MIMEType != "text/csv" {
				t.Fatalf("%s: resource %d is %+v, want %s", name, i+1, r, want)
			}
		}
		// Each listed file reads back.
		if got := readResource(t, c, got[1].URI).(mcp.TextResourceContents); got.Text != strings.Repeat("x", maxListedExports+4) {
			t.Fatalf("%s: %q", name, got.Text)
		}
	}
}

// A name outside ASCII travels percent-encoded and reads back, also over HTTP, where the URI
// goes into a header.
func TestExportURIOfANonASCIIName(t *testing.T) {
	st := newStack(t, stackOptions{})
	name := "Übersicht Q1-20260101-000000.csv"
	if err := os.WriteFile(filepath.Join(st.exportDir, name), []byte("Größe\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	uri := exportURI(name)
	if strings.ContainsAny(uri, " Ü") {
		t.Fatalf("%s is not encoded", uri)
	}
	for _, c := range []*client.Client{st.client, st.httpClient(t), st.httpClientAt(t, mcp.LATEST_LEGACY_PROTOCOL_VERSION)} {
		if got := readResource(t, c, uri).(mcp.TextResourceContents); got.Text != "Größe\r\n" {
			t.Fatalf("%q", got.Text)
		}
	}
}
