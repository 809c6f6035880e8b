package pbiclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// DefaultLargeImportSize is the file size from which ImportFile uploads through a temporary
// blob location instead of a multipart POST: the service takes at most 1 GB in the POST and
// 1 to 10 GB files through createTemporaryUploadLocation (Premium only).
const DefaultLargeImportSize = 1 << 30

// blobBlockSize is the size of each Put Block of a large upload. Azure Storage takes blocks
// up to 4000 MiB and at most 50,000 per blob; 100 MiB blocks keep each retry small.
const blobBlockSize = 100 << 20

// ImportRequest describes a file to import into a workspace.
type ImportRequest struct {
	// DisplayName is datasetDisplayName: the name of the created items, with the file's
	// extension (".pbix", ".rdl", ".xlsx", or "model.json" for a dataflow).
	DisplayName string
	// NameConflict is "Ignore" (the service's default), "Abort", "Overwrite",
	// "CreateOrOverwrite" or "GenerateUniqueName"; "" sends none. .rdl files take only Abort
	// and Overwrite, dataflows only Abort and GenerateUniqueName.
	NameConflict string
	// SkipReport imports a .pbix's semantic model without its report.
	SkipReport bool
}

// ImportSource is the content of a file to import. It is read through ReaderAt from the
// start for each attempt, never held in memory; an *os.File fits.
type ImportSource struct {
	io.ReaderAt
	Size int64
}

// Import is the state of an import. Times are kept as sent.
type Import struct {
	ID              string          `json:"id"`
	Name            string          `json:"name,omitempty"`
	ImportState     string          `json:"importState,omitempty"` // "Publishing", "Succeeded" or "Failed"
	CreatedDateTime string          `json:"createdDateTime,omitempty"`
	UpdatedDateTime string          `json:"updatedDateTime,omitempty"`
	Datasets        []ImportDataset `json:"datasets,omitempty"`
	Reports         []ImportReport  `json:"reports,omitempty"`
}

// ImportDataset is a semantic model an import created or replaced.
type ImportDataset struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	WebURL string `json:"webUrl,omitempty"`
}

// ImportReport is a report an import created or replaced.
type ImportReport struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ReportType string `json:"reportType,omitempty"`
	DatasetID  string `json:"datasetId,omitempty"`
	WebURL     string `json:"webUrl,omitempty"`
	EmbedURL   string `json:"embedUrl,omitempty"`
}

// TemporaryUploadLocation is a blob location to upload a large file to before importing it.
type TemporaryUploadLocation struct {
	URL            string `json:"url"`
	ExpirationTime string `json:"expirationTime"`
}

// ImportFile uploads a file and starts importing it, returning the import (its id; the state
// comes from GetImport or WaitImport). Files of at least the client's large-import size go
// through a temporary upload location, which needs a Premium capacity; smaller ones are sent
// as multipart/form-data streamed from src. The POST is sent again only where the service did
// not process it (a renewed token, a 429), from the start of src.
func (c *Client) ImportFile(ctx context.Context, groupID string, req ImportRequest, src ImportSource) (Import, error) {
	if strings.TrimSpace(req.DisplayName) == "" {
		return Import{}, errors.New("pbiclient: ImportFile: DisplayName is required")
	}
	if src.Size >= c.largeImportSize {
		loc, err := c.CreateTemporaryUploadLocation(ctx, groupID)
		if err != nil {
			return Import{}, err
		}
		if err := c.UploadBlob(ctx, loc.URL, src); err != nil {
			return Import{}, err
		}
		return c.ImportFromURL(ctx, groupID, req, loc.URL)
	}
	boundary := newBoundary()
	header := make(textproto.MIMEHeader)
	// One part, as the service's own SDK sends it; the name and file name help other readers.
	header.Set("Content-Disposition", multipart.FileContentDisposition("file", req.DisplayName))
	header.Set("Content-Type", "application/octet-stream")
	// The framing around the file is small and fixed: measured once for Content-Length.
	var frame bytes.Buffer
	mw := multipart.NewWriter(&frame)
	_ = mw.SetBoundary(boundary)
	_, _ = mw.CreatePart(header)
	_ = mw.Close()
	stream := func() io.ReadCloser {
		pr, pw := io.Pipe()
		go func() {
			mw := multipart.NewWriter(pw)
			_ = mw.SetBoundary(boundary)
			part, err := mw.CreatePart(header)
			if err == nil {
				_, err = io.Copy(part, io.NewSectionReader(src, 0, src.Size))
			}
			if err == nil {
				err = mw.Close()
			}
			// A reader that stopped early (the request failed) ends the copy here.
			pw.CloseWithError(err)
		}()
		return pr
	}
	cl, err := newCall(http.MethodPost, workspacePath(groupID, "imports"), encodeQuery(importQuery(req)))
	if err != nil {
		return Import{}, err
	}
	cl.stream, cl.streamLength, cl.streamType = stream, int64(frame.Len())+src.Size, mw.FormDataContentType()
	return c.importCall(ctx, cl)
}

// ImportFromURL imports a file already uploaded to a temporary upload location.
func (c *Client) ImportFromURL(ctx context.Context, groupID string, req ImportRequest, fileURL string) (Import, error) {
	if strings.TrimSpace(req.DisplayName) == "" {
		return Import{}, errors.New("pbiclient: ImportFromURL: DisplayName is required")
	}
	var imp Import
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "imports"), importQuery(req),
		map[string]string{"fileUrl": fileURL}, &imp)
	return imp, err
}

func (c *Client) importCall(ctx context.Context, cl call) (Import, error) {
	resp, err := c.do(ctx, cl)
	if err != nil {
		return Import{}, err
	}
	defer closeBody(resp)
	var imp Import
	if err := json.NewDecoder(resp.Body).Decode(&imp); err != nil {
		return Import{}, fmt.Errorf("pbiclient: POST %s: decode response (RequestId %s): %w", cl.path, resp.Header.Get("RequestId"), err)
	}
	return imp, nil
}

func importQuery(req ImportRequest) url.Values {
	q := url.Values{"datasetDisplayName": {req.DisplayName}}
	if req.NameConflict != "" {
		q.Set("nameConflict", req.NameConflict)
	}
	if req.SkipReport {
		q.Set("skipReport", "true")
	}
	return q
}

// GetImport returns the state of an import.
func (c *Client) GetImport(ctx context.Context, groupID, importID string) (Import, error) {
	if err := needID("import", importID); err != nil {
		return Import{}, err
	}
	var imp Import
	_, err := c.getJSON(ctx, workspacePath(groupID, "imports", importID), nil, &imp)
	return imp, err
}

// ListImports returns the imports of a workspace.
func (c *Client) ListImports(ctx context.Context, groupID string) ([]Import, error) {
	var l list[Import]
	_, err := c.getJSON(ctx, workspacePath(groupID, "imports"), nil, &l)
	return l.Value, err
}

// WaitImport polls an import until it has Succeeded, calling onPoll (if not nil) after each
// poll. A Failed import returns a *JobFailedError. ctx bounds the whole wait.
func (c *Client) WaitImport(ctx context.Context, groupID, importID string, onPoll func(Import)) (Import, error) {
	for n := 0; ; n++ {
		imp, err := c.GetImport(ctx, groupID, importID)
		if err != nil {
			return imp, err
		}
		if onPoll != nil {
			onPoll(imp)
		}
		switch imp.ImportState {
		case "Publishing", "":
		case "Succeeded":
			return imp, nil
		default:
			return imp, &JobFailedError{Operation: "import", ID: importID, Status: imp.ImportState}
		}
		if err := sleep(ctx, pollDelay(n, 0)); err != nil {
			return imp, fmt.Errorf("pbiclient: waiting for import %s: %w", importID, err)
		}
	}
}

// CreateTemporaryUploadLocation returns a blob location for a file of 1 to 10 GB (Premium
// workspaces only). Upload it with UploadBlob, then import it with ImportFromURL.
func (c *Client) CreateTemporaryUploadLocation(ctx context.Context, groupID string) (TemporaryUploadLocation, error) {
	var loc TemporaryUploadLocation
	_, err := c.sendJSON(ctx, http.MethodPost, workspacePath(groupID, "imports", "createTemporaryUploadLocation"), nil, nil, &loc)
	if err == nil && loc.URL == "" {
		err = errors.New("pbiclient: createTemporaryUploadLocation answered no url")
	}
	return loc, err
}

// UploadBlob uploads src to a temporary upload location's shared access signature URL as an
// Azure block blob: blocks read from src one at a time (Put Block), then the list that commits
// them (Put Block List). The URL carries its own authorisation: no Power BI token is sent to
// it. Each block is retried a few times on a failure, since Put Block is idempotent.
func (c *Client) UploadBlob(ctx context.Context, sasURL string, src ImportSource) error {
	u, err := url.Parse(sasURL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return fmt.Errorf("pbiclient: upload location %q is not an https URL", redactQuery(sasURL))
	}
	var ids []string
	for off, n := int64(0), 0; off < src.Size || n == 0; n++ {
		size := min(blobBlockSize, src.Size-off)
		id := blockID(n)
		q := u.Query()
		q.Set("comp", "block")
		q.Set("blockid", id)
		if err := c.putBlob(ctx, withQuery(u, q), "", func() io.Reader { return io.NewSectionReader(src, off, size) }, size); err != nil {
			return err
		}
		ids = append(ids, id)
		off += size
	}
	var list strings.Builder
	list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for _, id := range ids {
		list.WriteString("<Latest>" + id + "</Latest>")
	}
	list.WriteString("</BlockList>")
	q := u.Query()
	q.Set("comp", "blocklist")
	body := list.String()
	return c.putBlob(ctx, withQuery(u, q), "application/xml", func() io.Reader { return strings.NewReader(body) }, int64(len(body)))
}

func (c *Client) putBlob(ctx context.Context, target, contentType string, body func() io.Reader, size int64) error {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt-1)); err != nil {
				return fmt.Errorf("pbiclient: blob upload: %w; last error: %v", err, last)
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, body())
		if err != nil {
			return err
		}
		req.ContentLength = size
		req.Header.Set("x-ms-version", "2021-08-06")
		req.Header.Set("User-Agent", c.userAgent)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("pbiclient: blob upload: %w", err)
			}
			last = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		c.log.Debug().Str("method", "PUT").Str("path", "blob upload").Int("status", resp.StatusCode).Msg("blob request")
		if resp.StatusCode < 300 {
			return nil
		}
		last = fmt.Errorf("status %d: %.300s", resp.StatusCode, msg)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			break
		}
	}
	return fmt.Errorf("pbiclient: blob upload to the temporary upload location failed: %v", last)
}

// blockID is the base64 block id of block n; Azure wants ids of equal length within a blob.
func blockID(n int) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return base64.StdEncoding.EncodeToString(b[:])
}

func withQuery(u *url.URL, q url.Values) string {
	v := *u
	v.RawQuery = q.Encode()
	return v.String()
}

// redactQuery drops a URL's query, where a shared access signature keeps its secret.
func redactQuery(raw string) string {
	base, _, _ := strings.Cut(raw, "?")
	return base
}

func newBoundary() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b[:])
}
