package tools

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The expected texts are what GNU diff -u prints for the same files, after its two header lines.
func TestUnifiedDiffMatchesDiffU(t *testing.T) {
	cases := []struct{ before, after, want string }{
		{"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n", "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn",
			"@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -11,3 +11,4 @@\n k\n l\n m\n+n\n\\ No newline at end of file\n"},
		{"one\ntwo\nthree\n", "zero\none\nthree\nfour\n",
			"@@ -1,3 +1,4 @@\n+zero\n one\n-two\n three\n+four\n"},
		// Changes six lines apart (twice the context) share one hunk.
		{"1\n2\n3\n4\n5\n6\n7\n8\n", "x\n2\n3\n4\n5\n6\n7\ny\n",
			"@@ -1,8 +1,8 @@\n-1\n+x\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+y\n"},
		{"keep\n", "", "@@ -1 +0,0 @@\n-keep\n"},
	}
	for _, c := range cases {
		got := unifiedDiff("p.tmdl", c.before, c.after, false)
		want := "--- a/p.tmdl\n+++ b/p.tmdl\n" + c.want
		if got != want {
			t.Errorf("diff of %q and %q:\n%s\nwant:\n%s", c.before, c.after, got, want)
		}
	}
	if got := unifiedDiff("p.tmdl", "same\n", "same\n", false); got != "" {
		t.Errorf("equal texts: %q", got)
	}
	if got, want := unifiedDiff("Copilot/new.md", "", "hi\n", true), "--- /dev/null\n+++ b/Copilot/new.md\n@@ -0,0 +1 @@\n+hi\n"; got != want {
		t.Errorf("new part:\n%s\nwant:\n%s", got, want)
	}
}

// Applying the diff of random edits to the first text gives the second, and the diff is no
// longer than needed: its changed lines are exactly those of a shortest edit script.
func TestUnifiedDiffAppliesBack(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		a := randomLines(r, r.IntN(40))
		b := mutate(r, a)
		before, after := strings.Join(a, ""), strings.Join(b, "")
		d := unifiedDiff("f", before, after, false)
		got, err := applyUnified(before, d)
		if err != nil || got != after {
			t.Fatalf("case %d: patch gave %q (%v), want %q\ndiff:\n%s", i, got, err, after, d)
		}
		changed := 0
		for _, op := range diffLines(splitKeepEnds(before), splitKeepEnds(after)) {
			if op.kind != ' ' {
				changed++
			}
		}
		if want := len(a) + len(b) - 2*lcsLen(a, b); changed != want {
			t.Fatalf("case %d: %d lines changed, the shortest script changes %d", i, changed, want)
		}
	}
}

func randomLines(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "l" + strconv.Itoa(r.IntN(6)) + "\n" // few values: many equal lines
	}
	if n > 0 && r.IntN(4) == 0 {
		out[n-1] = strings.TrimSuffix(out[n-1], "\n")
	}
	return out
}

func mutate(r *rand.Rand, a []string) []string {
	b := append([]string(nil), a...)
	for range r.IntN(6) {
		switch i := r.IntN(len(b) + 1); {
		case r.IntN(2) == 0 || len(b) == 0 || i == len(b):
			b = append(b[:i], append([]string{"n" + strconv.Itoa(r.IntN(6)) + "\n"}, b[i:]...)...)
		default:
			b = append(b[:i], b[i+1:]...)
		}
	}
	// A final line without its newline must stay the final line.
	for i := 0; i < len(b)-1; i++ {
		if !strings.HasSuffix(b[i], "\n") {
			b[i] += "\n"
		}
	}
	return b
}

func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// applyUnified applies a unified diff of one file to before, checking every kept and removed
// line against it, as patch does.
func applyUnified(before, diff string) (string, error) {
	if diff == "" {
		return before, nil
	}
	src := splitKeepEnds(before)
	lines := splitKeepEnds(diff)[2:]
	var out []string
	next := 0 // the next line of src not yet copied
	for i := 0; i < len(lines); {
		var aStart, aLen, bStart, bLen int
		h := strings.TrimSuffix(lines[i], "\n")
		if _, err := fmt.Sscanf(normalizeHunk(h), "@@ -%d,%d +%d,%d @@", &aStart, &aLen, &bStart, &bLen); err != nil {
			return "", fmt.Errorf("hunk header %q: %v", h, err)
		}
		if aLen == 0 {
			aStart++
		}
		for next < aStart-1 {
			out = append(out, src[next])
			next++
		}
		var last byte
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@"); i++ {
			l := lines[i]
			if strings.HasPrefix(l, "\\") {
				// The line before has no newline; a removed one is gone anyway.
				if last != '-' {
					out[len(out)-1] = strings.TrimSuffix(out[len(out)-1], "\n")
				}
				continue
			}
			body := l[1:]
			last = l[0]
			switch l[0] {
			case ' ', '-':
				if next >= len(src) || strings.TrimSuffix(src[next], "\n") != strings.TrimSuffix(body, "\n") {
					return "", fmt.Errorf("line %d does not match %q", next+1, body)
				}
				if l[0] == ' ' {
					out = append(out, src[next])
				}
				next++
			case '+':
				out = append(out, body)
			}
		}
	}
	out = append(out, src[next:]...)
	return strings.Join(out, ""), nil
}

// normalizeHunk spells out the lengths diff leaves out when they are 1.
func normalizeHunk(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2 && i < len(f); i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ")
}
