package swaggercheck

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Collector checks exchanges as a test suite makes them and remembers which
// operations were seen and what departed from the definition. It is safe for
// concurrent use: servers call Add from their handler goroutines.
type Collector struct {
	checker *Checker

	mu       sync.Mutex
	covered  map[string]int  // operationId -> exchanges
	problems map[string]int  // problem -> times seen
	extra    map[string]bool // undocumented response fields
	seen     int
}

// NewCollector loads the definition; it panics if the embedded copy is
// unreadable, which no test run could recover from.
func NewCollector() *Collector {
	c, err := New()
	if err != nil {
		panic(err)
	}
	return &Collector{checker: c, covered: map[string]int{}, problems: map[string]int{}, extra: map[string]bool{}}
}

// Add checks one exchange.
func (col *Collector) Add(x Exchange) {
	id, problems := col.checker.Check(x)
	extra := col.checker.Undocumented(x)
	col.mu.Lock()
	defer col.mu.Unlock()
	col.seen++
	if id != "" {
		col.covered[id]++
	}
	for _, p := range problems {
		col.problems[p]++
	}
	for _, f := range extra {
		col.extra[f] = true
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
// whether there were none. With verbose it also lists the undocumented
// fields pbitest's answers carry, which are allowed.
func (col *Collector) Report(w io.Writer, suite string, verbose bool) bool {
	covered, problems := col.Covered(), col.Problems()
	col.mu.Lock()
	seen := col.seen
	extra := make([]string, 0, len(col.extra))
	for f := range col.extra {
		extra = append(extra, f)
	}
	col.mu.Unlock()
	sort.Strings(extra)
	if verbose {
		for _, f := range extra {
			fmt.Fprintf(w, "swagger conformance (%s): undocumented response field %s\n", suite, f)
		}
	}
	fmt.Fprintf(w, "swagger conformance (%s): %d exchanges, %d of %d operations covered: %s\n",
		suite, seen, len(covered), len(col.checker.ops), strings.Join(covered, " "))
	for _, p := range problems {
		fmt.Fprintf(w, "swagger conformance (%s): FAIL %s\n", suite, p)
	}
	return len(problems) == 0
}

// Benchmarking reports whether the test binary was asked to run benchmarks
// (-test.bench), once flags are parsed. A TestMain then leaves checking out,
// as it would weigh on the measures.
func Benchmarking() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

// Main is a TestMain that checks every Power BI exchange of a package's tests
// against Microsoft's REST definition: what the client sends (method, path,
// query, body) and what the fake answers (status, body). Any departure fails
// the run; the operations covered are printed (with -v, also the
// undocumented fields sent). observe starts passing each exchange to add and
// returns how to stop; it is pbitest.Observe in a form this package can take
// without importing pbitest, whose own tests use it. Benchmarks run
// unchecked.
func Main(m *testing.M, suite string, observe func(add func(Exchange)) (stop func())) {
	flag.Parse()
	if Benchmarking() {
		os.Exit(m.Run())
	}
	col := NewCollector()
	stop := observe(col.Add)
	code := m.Run()
	stop()
	if !col.Report(os.Stdout, suite, testing.Verbose()) && code == 0 {
		code = 1
	}
	if dir := os.Getenv(EnvCoverageDir); dir != "" && code == 0 {
		if err := col.WriteCovered(dir, suite); err != nil {
			fmt.Fprintf(os.Stdout, "swagger conformance (%s): %v\n", suite, err)
			code = 1
		}
	}
	os.Exit(code)
}

// EnvCoverageDir names a directory where each suite's Main writes the operations it covered,
// one file per suite (suite.covered), so that the coverage of all suites together can be
// counted (cmd/swaggercoverage).
const EnvCoverageDir = "PBI_SWAGGER_COVERAGE_DIR"

// WriteCovered writes the covered operation ids to dir/suite.covered, one per line.
func (col *Collector) WriteCovered(dir, suite string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, suite+".covered"), []byte(strings.Join(col.Covered(), "\n")+"\n"), 0o644)
}
