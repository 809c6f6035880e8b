package auth

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// An az that hangs (waiting for a prompt nobody sees, a proxy that never
// answers) is stopped, and the error says so.
func TestAzureCLITimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in az is a shell script")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	start := time.Now()
	_, err := (&azureCLI{resource: "https://analysis.windows.net/powerbi/api", timeout: 300 * time.Millisecond}).acquire(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 300ms") {
		t.Fatalf("got %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the hanging az was not stopped: %s", took)
	}
}
