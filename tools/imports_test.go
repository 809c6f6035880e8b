package tools

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// writeDataFile puts a file in the stack's data directory: a .pbix-like ZIP header, then size
// bytes in all.
func writeDataFile(t testing.TB, st *stack, name string, size int64) {
	t.Helper()
	p := filepath.Join(st.dataDir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("PK\x03\x04"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func importStack(t testing.TB) *stack {
	return newStack(t, stackOptions{tenant: pbitest.Options{ImportDuration: 100 * time.Millisecond}})
}

func TestImportFilePublishesModelAndReport(t *testing.T) {
	st := importStack(t)
	writeDataFile(t, st, "drop/Budget.pbix", 300<<10)
	var res ImportFileResult
	st.ok(t, "import_file", map[string]any{"workspace": "Sales Analytics", "file": "drop/Budget.pbix", "display_name": "Budget v1.2"}, &res)
	if res.ImportState != "Succeeded" || res.Name != "Budget v1.2" || len(res.Datasets) != 1 || len(res.Reports) != 1 ||
		res.Reports[0].DatasetID != res.Datasets[0].ID || res.BytesUploaded != 300<<10 {
		t.Fatalf("%+v", res)
	}
	// The model is now in the workspace, found by name.
	var ds GetDatasetResult
	st.ok(t, "get_dataset", map[string]any{"workspace": "Sales Analytics", "dataset": "Budget v1.2"}, &ds)
	if ds.Dataset.ID != res.Datasets[0].ID {
		t.Errorf("get_dataset found %+v", ds.Dataset)
	}
	if len(st.progressFor("p-import_file")) < 2 {
		t.Errorf("progress: %v", st.progressFor("p-import_file"))
	}

	var got GetImportResult
	st.ok(t, "get_import", map[string]any{"workspace": "Sales Analytics", "import_id": res.ID}, &got)
	if got.ImportState != "Succeeded" || len(got.Datasets) != 1 {
		t.Errorf("get_import: %+v", got)
	}
	var list ListImportsResult
	st.ok(t, "list_imports", map[string]any{"workspace": "Sales Analytics"}, &list)
	// After the seeded import that published Sales.
	if list.Count != 2 || list.Imports[0].ID != pbitest.DemoSalesImportID || list.Imports[1].ID != res.ID {
		t.Errorf("list_imports: %+v", list)
	}
}

func TestImportFileRefusals(t *testing.T) {
	st := importStack(t)
	writeDataFile(t, st, "Sales.pbix", 1000)
	writeDataFile(t, st, "Invoice.rdl", 1000)
	writeDataFile(t, st, "notes.txt", 10)
	os.WriteFile(filepath.Join(filepath.Dir(st.dataDir), "outside.pbix"), []byte("PK\x03\x04"), 0o600)
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"file": "notes.txt"}, "not a file Power BI imports"},
		{map[string]any{"file": "missing.pbix"}, "No file"},
		{map[string]any{"file": "../outside.pbix"}, "only files inside it"},
		{map[string]any{"file": "Invoice.rdl", "name_conflict": "Ignore"}, "Abort, Overwrite"},
		{map[string]any{"file": "Invoice.rdl", "skip_report": true}, "only to .pbix"},
		// Abort on the seeded Sales model: Power BI refuses it.
		{map[string]any{"workspace": "Sales Analytics", "file": "Sales.pbix", "name_conflict": "Abort"}, "DuplicatePackageNameError"},
	} {
		if msg := st.fails(t, "import_file", c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %s", c.args, msg)
		}
	}
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/imports") + st.tenant.Count("POST /v1.0/myorg/imports"); n != 1 {
		t.Errorf("%d imports posted, want only the Abort one", n)
	}
}

// Overwriting replaces a model users depend on: only with the user's agreement.
func TestImportFileOverwriteNeedsConfirmation(t *testing.T) {
	st := importStack(t)
	writeDataFile(t, st, "Sales.pbix", 1000)
	args := map[string]any{"workspace": "Sales Analytics", "file": "Sales.pbix", "name_conflict": "Overwrite"}
	msg := st.fails(t, "import_file", args)
	if !strings.Contains(msg, "ask the user") || !strings.Contains(msg, "Nothing was changed") {
		t.Errorf("%s", msg)
	}
	if n := st.tenant.Count("POST /v1.0/myorg/groups/{groupId}/imports"); n != 0 {
		t.Fatalf("uploaded without confirmation (%d)", n)
	}
	args["confirm"] = true
	var res ImportFileResult
	st.ok(t, "import_file", args, &res)
	if len(res.Datasets) != 1 || res.Datasets[0].ID != pbitest.DemoSalesDatasetID {
		t.Fatalf("overwrite: %+v", res)
	}
}

// BenchmarkImportLargeFile imports a 300 MB .pbix from the data directory through import_file
// and reports how much the process's peak resident memory grew: the upload must stream from
// the file, never sit in memory, on the client's side and the fake tenant's (both in-process).
// Run it with -benchtime=1x.
func BenchmarkImportLargeFile(b *testing.B) {
	const size = 300 << 20
	st := newStack(b, stackOptions{tenant: pbitest.Options{ImportDuration: 10 * time.Millisecond}})
	writeDataFile(b, st, "Large.pbix", size)
	args := map[string]any{"workspace": "Sales Analytics", "file": "Large.pbix", "name_conflict": "GenerateUniqueName"}
	var growth float64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		before := resetPeakRSS(b)
		var res ImportFileResult
		st.ok(b, "import_file", args, &res)
		growth = float64(procStatus(b, "VmHWM")-before) / (1 << 20)
		if res.BytesUploaded != size || res.ImportState != "Succeeded" {
			b.Fatalf("%+v", res)
		}
	}
	b.ReportMetric(growth, "MB-peak-RSS-growth")
	b.ReportMetric(float64(size)/(1<<20), "MB-imported")
}
