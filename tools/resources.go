package tools

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// The files tools write (exports, downloads, query results as CSV) are MCP resources, so that a
// client on another machine than the server's, which cannot open the path a result gives, still
// gets the bytes: each result links its file (resource_link), resources/read returns it, and
// resources/list lists the export directory. Nothing outside that directory is ever served.

// exportsURIPrefix starts the URI of every file of the export directory; the rest is the file's
// name, percent-encoded.
const exportsURIPrefix = "powerbi-mcp://exports/"

// maxListedExports bounds resources/list: the newest files are the ones a client looks for, and
// a directory that has collected years of exports must not make one huge answer.
const maxListedExports = 100

// exportURI is the resource URI of the export directory's file name.
func exportURI(name string) string { return exportsURIPrefix + url.PathEscape(name) }

// addResources offers the export directory's files as resources: the template that reads one,
// and the list. It is all NewServer needs to call.
func addResources(s *server.MCPServer, d Deps) {
	s.AddResourceTemplate(mcp.NewResourceTemplate(exportsURIPrefix+"{name}", "export",
		mcp.WithTemplateTitle("A file this server wrote"),
		mcp.WithTemplateDescription("A file in the server's export directory: a report export, a downloaded .pbix or .rdl, a DAX query result as CSV. "+
			"Tool results link each file they write with its URI.")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return readExport(ctx, d, req.Params.URI)
		})
	// mcp-go lists only resources registered one by one, and the files come and go (other
	// servers may share the directory, users delete files), so the list is the directory as it
	// is at each request, put in place of mcp-go's (empty) list just before it is sent.
	hooks := s.GetHooks()
	if hooks == nil {
		hooks = &server.Hooks{}
		server.WithHooks(hooks)(s)
	}
	hooks.AddAfterListResources(func(_ context.Context, _ any, _ *mcp.ListResourcesRequest, res *mcp.ListResourcesResult) {
		res.Resources, res.NextCursor = listExports(d), ""
	})
}

// resourceLinks links the files a result wrote, for handle to append after the result's text.
func resourceLinks(files []FileRef) []mcp.Content {
	var out []mcp.Content
	for _, f := range files {
		link := mcp.NewResourceLink(f.URI, f.Name, fmt.Sprintf("%s, %d bytes, in the server's export directory (%s); resources/read returns it", f.MimeType, f.Bytes, f.Path), f.MimeType)
		link.Size = &f.Bytes
		out = append(out, link)
	}
	return out
}

// writesFiles is a tool result that wrote files into the export directory; handle links each.
type writesFiles interface {
	writtenFiles() []FileRef
}

// readExport is resources/read of a file of the export directory.
func readExport(ctx context.Context, d Deps, uri string) ([]mcp.ResourceContents, error) {
	name, err := exportName(uri)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(d.ExportDir)
	if err != nil {
		return nil, notFound(ctx, uri, "the export directory cannot be read")
	}
	// os.Root opens the name inside the directory only: a symbolic link that leads out of it
	// is refused as the file is opened, with no moment in between for the link to change.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, notFound(ctx, uri, "the export directory holds no files yet")
	}
	defer root.Close()
	// Stat first: opening a named pipe or a device could block or have effects.
	info, err := root.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, notFound(ctx, uri, "no such file in the export directory; resources/list lists the files there")
	case err != nil:
		return nil, refused(uri, "the file cannot be opened inside the export directory")
	case !info.Mode().IsRegular():
		return nil, refused(uri, "it is not a regular file")
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, refused(uri, "the file cannot be opened inside the export directory")
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, refused(uri, "it is not a regular file")
	}
	path := filepath.Join(dir, name)
	limit := d.maxResourceBytes()
	if info.Size() > limit {
		return nil, refused(uri, fmt.Sprintf("the file is %d bytes, more than the %d this server sends through resources/read (--max-resource-bytes); it is at %s on the machine running the server", info.Size(), limit, path))
	}
	// The file may have grown since Stat: read one byte more than allowed to tell.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, refused(uri, fmt.Sprintf("the file has grown past the %d bytes this server sends through resources/read (--max-resource-bytes); it is at %s on the machine running the server", limit, path))
	}
	mimeType := mimeTypeOf(name)
	if isText(mimeType) && utf8.Valid(data) {
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: mimeType, Text: string(data)}}, nil
	}
	return []mcp.ResourceContents{mcp.BlobResourceContents{URI: uri, MIMEType: mimeType, Blob: base64.StdEncoding.EncodeToString(data)}}, nil
}

// exportName is the file name a resource URI names, if it is one resources/read may serve: a
// plain name in the export directory, not a path, not a temporary file being written, not a
// hidden file.
func exportName(uri string) (string, error) {
	escaped, ok := strings.CutPrefix(uri, exportsURIPrefix)
	if !ok {
		return "", refused(uri, "not a file of the export directory (URIs start "+exportsURIPrefix+")")
	}
	name, err := url.PathUnescape(escaped)
	switch {
	case err != nil || name == "":
		return "", refused(uri, "the URI names no file")
	case strings.ContainsAny(name, `/\`+"\x00") || name == "." || name == "..":
		return "", refused(uri, "the name is a path; only files directly in the export directory are served")
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, partialSuffix):
		return "", refused(uri, "hidden and unfinished files are not served")
	}
	return name, nil
}

// isText says whether files of the MIME type are text, sent as text when they are UTF-8.
func isText(mimeType string) bool {
	return strings.HasPrefix(mimeType, "text/") || mimeType == "application/xml"
}

// listExports lists the newest files of the export directory, at most maxListedExports.
func listExports(d Deps) []mcp.Resource {
	dir, err := filepath.Abs(d.ExportDir)
	if err != nil {
		return []mcp.Resource{}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []mcp.Resource{}
	}
	type file struct {
		name     string
		size     int64
		modified time.Time
	}
	var files []file
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), partialSuffix) {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, file{e.Name(), info.Size(), info.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b file) int {
		if c := b.modified.Compare(a.modified); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	out := make([]mcp.Resource, 0, min(len(files), maxListedExports))
	for _, f := range files[:min(len(files), maxListedExports)] {
		mimeType := mimeTypeOf(f.name)
		out = append(out, mcp.NewResource(exportURI(f.name), f.name,
			mcp.WithMIMEType(mimeType), mcp.WithResourceSize(f.size),
			mcp.WithResourceDescription(fmt.Sprintf("%s, %d bytes, written %s", mimeType, f.size, f.modified.UTC().Format(time.RFC3339))),
			mcp.WithLastModified(f.modified.UTC().Format(time.RFC3339))))
	}
	return out
}

// resourceError is a resources/read the server declines, as a JSON-RPC error with its code.
type resourceError struct {
	code int
	msg  string
}

func (e *resourceError) Error() string { return e.msg }

func (e *resourceError) JSONRPCError() mcp.JSONRPCError {
	return mcp.JSONRPCError{JSONRPC: mcp.JSONRPC_VERSION, Error: mcp.NewJSONRPCErrorDetails(e.code, e.msg, nil)}
}

// refused is a read that is not allowed: invalid params, with why.
func refused(uri, why string) error {
	return server.NewHandlerError(&resourceError{code: mcp.INVALID_PARAMS, msg: fmt.Sprintf("%s is not served: %s.", uri, why)})
}

// notFound is a read of a file that is not there, with the code the request's protocol revision
// uses for it: -32002 up to 2025-11-25, invalid params from 2026-07-28 on.
func notFound(ctx context.Context, uri, why string) error {
	code := mcp.RESOURCE_NOT_FOUND
	if mcp.IsModernProtocol(server.RequestProtocolVersion(ctx)) {
		code = mcp.INVALID_PARAMS
	}
	return server.NewHandlerError(&resourceError{code: code, msg: fmt.Sprintf("%s was not found: %s.", uri, why)})
}
