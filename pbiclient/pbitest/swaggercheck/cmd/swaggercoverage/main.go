// Command swaggercoverage counts the Power BI REST operations the test suites covered together:
// each suite's swaggercheck.Main writes the operations it exchanged to a directory when
// PBI_SWAGGER_COVERAGE_DIR names one, and this reads them all. Group and My-workspace variants
// of an operation count once (Operation.Distinct); Fabric's operations and the preview ones the
// published definition does not hold yet are counted apart.
//
// Usage: swaggercoverage [-min N] [-list] DIR
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest/swaggercheck"
)

func main() {
	min := flag.Int("min", 0, "fail when fewer distinct Power BI operations are covered")
	list := flag.Bool("list", false, "list the distinct operations not covered")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: swaggercoverage [-min N] [-list] DIR")
		os.Exit(2)
	}
	covered, suites, err := readCovered(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "swaggercoverage:", err)
		os.Exit(1)
	}
	c, err := swaggercheck.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "swaggercoverage:", err)
		os.Exit(1)
	}
	all, hit := map[string]bool{}, map[string]bool{}
	fabric, fabricHit, preview, previewHit := 0, 0, 0, 0
	for _, op := range c.Operations() {
		switch {
		case op.IsFabric():
			fabric++
			if covered[op.ID] {
				fabricHit++
			}
			continue
		case op.IsPreview():
			preview++
			if covered[op.ID] {
				previewHit++
			}
			continue
		}
		all[op.Distinct()] = true
		if covered[op.ID] {
			hit[op.Distinct()] = true
		}
	}
	fmt.Printf("swagger coverage (%s): %d of %d distinct Power BI operations; %d of %d Fabric operations; %d of %d preview operations\n",
		strings.Join(suites, ", "), len(hit), len(all), fabricHit, fabric, previewHit, preview)
	if *list {
		var missing []string
		for d := range all {
			if !hit[d] {
				missing = append(missing, d)
			}
		}
		sort.Strings(missing)
		for _, d := range missing {
			fmt.Println("  not covered:", d)
		}
	}
	if len(hit) < *min {
		fmt.Printf("swagger coverage: below the required %d\n", *min)
		os.Exit(1)
	}
}

// readCovered reads every suite's file in dir.
func readCovered(dir string) (map[string]bool, []string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.covered"))
	if err != nil || len(files) == 0 {
		return nil, nil, fmt.Errorf("no suite wrote its coverage to %s (run go test with %s set)", dir, swaggercheck.EnvCoverageDir)
	}
	covered := map[string]bool{}
	var suites []string
	for _, f := range files {
		suites = append(suites, strings.TrimSuffix(filepath.Base(f), ".covered"))
		fh, err := os.Open(f)
		if err != nil {
			return nil, nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if id := strings.TrimSpace(sc.Text()); id != "" {
				covered[id] = true
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, nil, err
		}
	}
	return covered, suites, nil
}
