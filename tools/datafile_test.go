package tools

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenDataFileStaysInsideTheDataDirectory(t *testing.T) {
	base := t.TempDir()
	dataDir := filepath.Join(base, "data")
	os.MkdirAll(filepath.Join(dataDir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dataDir, "sub", "rows.csv"), []byte("a,b\n1,2\n"), 0o600)
	os.WriteFile(filepath.Join(base, "secret.txt"), []byte("outside"), 0o600)
	os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dataDir, "link.txt"))
	d := Deps{DataDir: dataDir}

	f, info, err := openDataFile(d, "sub/rows.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "a,b\n1,2\n" || info.Size() != 8 {
		t.Fatalf("%q %d", b, info.Size())
	}
	for _, name := range []string{"../secret.txt", filepath.Join(base, "secret.txt"), "link.txt", "sub/../../secret.txt"} {
		if f, _, err := openDataFile(d, name); err == nil {
			f.Close()
			t.Errorf("%s: a file outside the data directory was opened", name)
		} else if !strings.Contains(err.Error(), dataDir) {
			t.Errorf("%s: the error must name the data directory: %v", name, err)
		}
	}
	for _, name := range []string{"missing.csv", "sub", ""} {
		if _, _, err := openDataFile(d, name); err == nil || !strings.Contains(err.Error(), dataDir) {
			t.Errorf("%q: %v", name, err)
		}
	}
}
