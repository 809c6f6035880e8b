package swaggercheck

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Collector checks exchanges as a test suite makes them and remembers which
// operations were seen and what departed from the definition. It is safe for
// concurrent use: servers call Add from their handler goroutines.
type Collector struct {
	checker *Checker

	mu       sync.Mutex
	covered  map[string]int // operationId -> exchanges
	problems map[string]int // problem -> times seen
	seen     int
}

// NewCollector loads the definition; it panics if the embedded copy is
// unreadable, which no test run could recover from.
func NewCollector() *Collector {
	c, err := New()
	if err != nil {
		panic(err)
	}
	return &Collector{checker: c, covered: map[string]int{}, problems: map[string]int{}}
}

// Add checks one exchange.
func (col *Collector) Add(x Exchange) {
	id, problems := col.checker.Check(x)
	col.mu.Lock()
	defer col.mu.Unlock()
	col.seen++
	if id != "" {
		col.covered[id]++
	}
	for _, p := range problems {
		col.problems[p]++
	}
}

// Covered returns the operationIds seen, sorted.
func (col *Collector) Covered() []string {
	col.mu.Lock()
	defer col.mu.Unlock()
	out := make([]string, 0, len(col.covered))
	for id := range col.covered {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Problems returns each distinct departure from the definition, sorted.
func (col *Collector) Problems() []string {
	col.mu.Lock()
	defer col.mu.Unlock()
	out := make([]string, 0, len(col.problems))
	for p := range col.problems {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Report writes the covered operations and every problem to w and reports
// whether there were none.
func (col *Collector) Report(w io.Writer, suite string) bool {
	covered, problems := col.Covered(), col.Problems()
	col.mu.Lock()
	seen := col.seen
	col.mu.Unlock()
	fmt.Fprintf(w, "swagger conformance (%s): %d exchanges, %d of %d operations covered: %s\n",
		suite, seen, len(covered), len(col.checker.ops), strings.Join(covered, " "))
	for _, p := range problems {
		fmt.Fprintf(w, "swagger conformance (%s): FAIL %s\n", suite, p)
	}
	return len(problems) == 0
}
