package tools

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Every file a tool writes goes through newExportFile: it appears in the export directory only
// once complete, under a name nothing else has, and never replaces a file that is there, whoever
// made it (another call, another server sharing the directory, the user).

// FileRef is a file a tool wrote into the export directory. The path serves a client on the
// same machine; the URI serves any client, through resources/read (see resources.go).
type FileRef struct {
	Path     string `json:"path" jsonschema:"Absolute path of the file on the machine running the server"`
	Name     string `json:"name"`
	URI      string `json:"uri" jsonschema:"The file as an MCP resource: resources/read returns its content, also to a client on another machine"`
	Bytes    int64  `json:"bytes"`
	MimeType string `json:"mimeType"`
}

// fileRef describes the file at path, a file of the export directory.
func fileRef(path string, bytes int64) FileRef {
	name := filepath.Base(path)
	return FileRef{Path: path, Name: name, URI: exportURI(name), Bytes: bytes, MimeType: mimeTypeOf(name)}
}

// mimeTypes are the types of the files tools write, by extension: every export format, the
// .pbix and .rdl downloads and query results. The table, not the type Power BI sent with a
// download, decides, so that a tool's result and resources/read name the same type.
var mimeTypes = map[string]string{
	".pdf":   "application/pdf",
	".pptx":  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".png":   "image/png",
	".zip":   "application/zip", // a PNG export of several pages
	".xlsx":  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".docx":  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".csv":   "text/csv",
	".xml":   "application/xml",
	".mhtml": "multipart/related", // MHTML is a multipart/related message (RFC 2557)
	".tif":   "image/tiff",
	".tiff":  "image/tiff",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".bmp":   "image/bmp",
	".pbix":  "application/zip", // a Power BI Desktop file is a zip package
	".rdl":   "application/xml", // a paginated report definition is an XML document
	".tmdl":  "text/plain",      // a semantic model definition's part
	".diff":  "text/x-diff",
}

// mimeTypeOf is the MIME type of a file of the export directory, by its extension.
func mimeTypeOf(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if t, ok := mimeTypes[ext]; ok {
		return t
	}
	if t, _, _ := strings.Cut(mime.TypeByExtension(ext), ";"); t != "" {
		return t
	}
	return "application/octet-stream"
}

// A file is written as a hidden temporary file first, named like this.
const partialPrefix, partialSuffix = ".export-", ".partial"

// stalePartialAge is how long a temporary file may go unwritten before it counts as left behind
// by a server that was killed. The bytes go to it as they arrive, so the modification time of one
// that is being written keeps moving. No tool waits on Power BI for longer than its largest
// timeout_seconds (an hour), and a download that has received nothing for that long will not
// resume, so a file untouched for an hour is no one's any more.
// TestStalePartialAgeCoversEveryToolTimeout keeps this in step with the tools' timeouts.
const stalePartialAge = time.Hour

// maxNameTries bounds the numbered names tried for one file.
const maxNameTries = 1000

// linkFile gives a file a second name. It is os.Link, a variable only so that a test can stand
// in for a file system without hard links.
var linkFile = os.Link

// newExportFile writes a new file in the export directory: write fills it, and it is named
// stem+ext, or stem-2+ext, stem-3+ext, ... when that is taken. It returns the absolute path.
// Whatever goes wrong, no half-written file is left under a real name.
func newExportFile(d Deps, stem, ext string, write func(io.Writer) error) (string, error) {
	dir, err := filepath.Abs(d.ExportDir)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return "", userErrorf("The file is ready but the export directory %s cannot be created: %v. Set PBI_MCP_EXPORT_DIR to a writable directory.", d.ExportDir, err)
	}
	removeStalePartials(dir, d.Logger)
	tmp, err := os.CreateTemp(dir, partialPrefix+"*"+partialSuffix)
	if err != nil {
		return "", userErrorf("The file is ready but no file can be written in %s: %v. Set PBI_MCP_EXPORT_DIR to a writable directory.", dir, err)
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return claimName(tmp.Name(), dir, stem, ext)
}

// claimName gives the finished temporary file the first free name; the temporary name is gone
// afterwards, whatever happens. A check that a name is free followed by a rename would let two
// writers take the same name, the second replacing the first's file; a hard link is created only
// if the name does not exist, in one step, so each name goes to exactly one file and nothing
// there is ever replaced.
func claimName(tmp, dir, stem, ext string) (string, error) {
	links := true
	for i := 1; i <= maxNameTries; i++ {
		name := stem + ext
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", stem, i, ext)
		}
		path := filepath.Join(dir, name)
		if links {
			err := linkFile(tmp, path)
			if err == nil {
				os.Remove(tmp) // the file lives on under its real name
				return path, nil
			}
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			// Some file systems have no hard links (FAT, some network shares). There the name is
			// reserved by creating it exclusively, and the file moved onto the reservation.
			links = false
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			f.Close()
			if err = os.Rename(tmp, path); err == nil {
				return path, nil
			}
			os.Remove(path)
		}
		os.Remove(tmp)
		return "", userErrorf("The file is ready but it could not be saved as %s: %v. Check that the export directory is writable and has space (or set PBI_MCP_EXPORT_DIR), then call again.", path, err)
	}
	os.Remove(tmp)
	return "", userErrorf("The export directory %s already holds %s%s and %d numbered copies of it. Move or delete files there, then call again.", dir, stem, ext, maxNameTries-1)
}

// lastSweeps remembers when each export directory was last cleaned of stale temporary files, so
// that the cleaning costs start-up nothing and a directory read at most once per stalePartialAge.
var (
	sweepMu    sync.Mutex
	lastSweeps = map[string]time.Time{}
)

// removeStalePartials deletes the temporary files in dir that no one has written to for
// stalePartialAge: those of a server killed while it downloaded. It is best effort; whatever
// it cannot read or remove stays for the next sweep.
func removeStalePartials(dir string, log zerolog.Logger) {
	now := time.Now()
	sweepMu.Lock()
	due := now.Sub(lastSweeps[dir]) >= stalePartialAge
	if due {
		lastSweeps[dir] = now
	}
	sweepMu.Unlock()
	if !due {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, partialPrefix) || !strings.HasSuffix(name, partialSuffix) {
			continue
		}
		// Lstat, not the directory entry: on Windows the entry's time may lag behind the writes.
		path := filepath.Join(dir, name)
		info, err := os.Lstat(path)
		if err != nil || now.Sub(info.ModTime()) < stalePartialAge {
			continue
		}
		if err := os.Remove(path); err == nil {
			log.Info().Str("file", path).Time("modified", info.ModTime()).Msg("removed a temporary export file left by a server that stopped")
		}
	}
}
