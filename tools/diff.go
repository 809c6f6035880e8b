package tools

import (
	"fmt"
	"strings"
)

// A line-based unified diff, as `diff -u` writes it, for showing what an edit of a semantic
// model's definition changes before it is sent. Lines are compared with their line ends, so a
// missing final newline shows up as a change, marked as diff marks it.

// diffContext is how many unchanged lines surround each change, as diff -u's default.
const diffContext = 3

// maxDiffEdits bounds the work of the shortest-edit search (memory grows with its square); two
// texts further apart than this are shown as the first removed and the second added, which is
// still a correct diff, only not the shortest.
const maxDiffEdits = 4000

// diffOp is one line of an edit script: kept (' '), removed ('-') or added ('+').
type diffOp struct {
	kind byte
	line string // with its line end, if it has one
}

// unifiedDiff is the unified diff that turns before into after, labelled with path; "" when
// they are equal. A part that did not exist (created) is diffed from /dev/null.
func unifiedDiff(path, before, after string, created bool) string {
	if before == after && !created {
		return ""
	}
	ops := diffLines(splitKeepEnds(before), splitKeepEnds(after))
	var b strings.Builder
	from := "a/" + path
	if created {
		from = "/dev/null"
	}
	fmt.Fprintf(&b, "--- %s\n+++ b/%s\n", from, path)
	for _, h := range hunks(ops, diffContext) {
		writeHunk(&b, ops[h[0]:h[1]], ops[:h[0]])
	}
	return b.String()
}

// splitKeepEnds splits s into lines, each with its "\n" (the last may have none).
func splitKeepEnds(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// diffLines is the shortest edit script from a to b (Myers' O(ND) algorithm), after the lines
// the two share at the start and the end are set aside.
func diffLines(a, b []string) []diffOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []diffOp
	for _, l := range a[:pre] {
		ops = append(ops, diffOp{' ', l})
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, diffOp{' ', l})
	}
	return ops
}

// myers finds a shortest edit script from a to b. trace[d] holds the furthest x reached on
// each diagonal k in [-d, d] after d edits, at index k+d, for walking the path back.
func myers(a, b []string) []diffOp {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaceAll(a, b)
	}
	var trace [][]int
	prev := []int{0} // diagonal 0 before any edit: x = 0, then the snake below
	x := 0
	for x < n && x < m && a[x] == b[x] {
		x++
	}
	prev[0] = x
	trace = append(trace, prev)
	if x >= n && x >= m {
		return backtrack(a, b, trace)
	}
	for d := 1; d <= n+m && d <= maxDiffEdits; d++ {
		cur := make([]int, 2*d+1)
		at := func(v []int, dd, k int) int { return v[k+dd] }
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && at(prev, d-1, k-1) < at(prev, d-1, k+1)) {
				x = at(prev, d-1, k+1) // down: insert b's line
			} else {
				x = at(prev, d-1, k-1) + 1 // right: delete a's line
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			cur[k+d] = x
			if x >= n && y >= m {
				trace = append(trace, cur)
				return backtrack(a, b, trace)
			}
		}
		trace = append(trace, cur)
		prev = cur
	}
	return replaceAll(a, b)
}

// backtrack walks the search's trace from the end back to the start, collecting the script.
func backtrack(a, b []string, trace [][]int) []diffOp {
	x, y := len(a), len(b)
	var rev []diffOp
	for d := len(trace) - 1; d >= 0; d-- {
		k := x - y
		prevX, prevY := 0, 0
		if d > 0 {
			prev := trace[d-1]
			at := func(k int) int { return prev[k+d-1] }
			prevK := k - 1
			if k == -d || (k != d && at(k-1) < at(k+1)) {
				prevK = k + 1
			}
			prevX = at(prevK)
			prevY = prevX - prevK
			// The snake after the edit, then the edit itself.
			sx, sy := prevX, prevY
			if prevK == k+1 {
				sy++ // an insertion moved down
			} else {
				sx++ // a deletion moved right
			}
			for x > sx && y > sy {
				x, y = x-1, y-1
				rev = append(rev, diffOp{' ', a[x]})
			}
			if prevK == k+1 {
				rev = append(rev, diffOp{'+', b[prevY]})
			} else {
				rev = append(rev, diffOp{'-', a[prevX]})
			}
		} else {
			for x > 0 && y > 0 {
				x, y = x-1, y-1
				rev = append(rev, diffOp{' ', a[x]})
			}
		}
		x, y = prevX, prevY
	}
	ops := make([]diffOp, len(rev))
	for i, op := range rev {
		ops[len(rev)-1-i] = op
	}
	return ops
}

// replaceAll is the script that removes every line of a and adds every line of b.
func replaceAll(a, b []string) []diffOp {
	ops := make([]diffOp, 0, len(a)+len(b))
	for _, l := range a {
		ops = append(ops, diffOp{'-', l})
	}
	for _, l := range b {
		ops = append(ops, diffOp{'+', l})
	}
	return ops
}

// hunks groups the changes of ops, each with up to context kept lines around it, into the
// [start, end) ranges of ops that become hunks; changes closer than twice context share one.
func hunks(ops []diffOp, context int) [][2]int {
	var out [][2]int
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// A run of kept lines: the hunk ends here unless another change follows soon.
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		out = append(out, [2]int{start, end})
		i = end
	}
	return out
}

// writeHunk writes one hunk; before is every op ahead of it, to number its lines.
func writeHunk(b *strings.Builder, ops, before []diffOp) {
	aStart, bStart := 1, 1
	for _, op := range before {
		if op.kind != '+' {
			aStart++
		}
		if op.kind != '-' {
			bStart++
		}
	}
	aLen, bLen := 0, 0
	for _, op := range ops {
		if op.kind != '+' {
			aLen++
		}
		if op.kind != '-' {
			bLen++
		}
	}
	fmt.Fprintf(b, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, op := range ops {
		b.WriteByte(op.kind)
		b.WriteString(op.line)
		if !strings.HasSuffix(op.line, "\n") {
			b.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange is a hunk's line range as diff -u writes it: "start,len", "start" for one line,
// and for none the line before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
