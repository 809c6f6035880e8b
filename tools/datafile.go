package tools

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// openDataFile opens a file the model names for a tool to read (a .pbix to import, rows to
// push). The name is relative to the data directory, and the file must stay inside it: os.Root
// refuses "..", absolute paths and symbolic links that lead out, so a model can never make the
// server read an arbitrary file. The caller closes the file.
func openDataFile(d Deps, name string) (*os.File, fs.FileInfo, error) {
	if strings.TrimSpace(name) == "" {
		return nil, nil, userErrorf("No file named. Give a file name relative to the data directory %s.", d.DataDir)
	}
	root, err := os.OpenRoot(d.DataDir)
	if err != nil {
		return nil, nil, userErrorf("The data directory %s cannot be opened (%v). The user must create it, put the file there, or set PBI_MCP_DATA_DIR.", d.DataDir, err)
	}
	defer root.Close()
	// Opening a FIFO for reading waits for a writer, in a call no context can cancel, which would
	// hold the tool call and keep the server from stopping. Opened without waiting, anything but
	// a regular file is refused below before it is read.
	f, err := root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|openNonBlocking, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, userErrorf("No file %q in the data directory %s. Tools read files only from there: the user must copy the file into it.", name, d.DataDir)
	case err != nil:
		return nil, nil, userErrorf("The file %q cannot be read from the data directory %s: only files inside it can be used (%v).", name, d.DataDir, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if info.IsDir() {
		f.Close()
		return nil, nil, userErrorf("%q is a directory, not a file, in the data directory %s.", name, d.DataDir)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, userErrorf("%q in the data directory %s is a %s, not a regular file, so it was not read: reading it could wait forever. Tools read only regular files: the user must copy the data into one.",
			name, d.DataDir, fileKind(info.Mode()))
	}
	return f, info, nil
}

// fileKind names a file type that is neither a regular file nor a directory.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return "special file"
	}
}
