package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its two ends: what a program writes to the
// terminal end is read from the other.
func openPTY(t *testing.T) (reader, terminal *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no pseudo-terminals here:", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skip("cannot unlock the pseudo-terminal:", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skip("cannot name the pseudo-terminal:", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip("cannot open the pseudo-terminal:", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptmx, tty
}

// Someone at a terminal sees a long call's progress on stderr; a script that reads stderr
// from a pipe does not (TestCallExportReportWritesTheFile: stderr names the file only).
func TestCallShowsProgressOnATerminal(t *testing.T) {
	reader, tty := openPTY(t)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(reader)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var stdout strings.Builder
	code := run(t.Context(), []string{"call", "export_report", "workspace=Sales Analytics", "report=Sales Overview", "format=PDF",
		"--sandbox", "--export-dir", t.TempDir()}, env(nil), strings.NewReader(""), &stdout, tty)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s", code, stdout.String())
	}
	fmt.Fprintln(tty, "end of test")
	var progress []string
	for line := range lines {
		if strings.Contains(line, "end of test") {
			break
		}
		if strings.HasPrefix(line, "progress") {
			progress = append(progress, line)
		}
	}
	if len(progress) == 0 {
		t.Error("no progress on the terminal")
	}
	t.Logf("%d progress lines, the first %q", len(progress), append(progress, "")[0])
}
