package dsl_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/all"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite golden .diags files")

// TestDiagnostics loads each testdata/diags/*.txtar pipeline (its files
// written to a temp dir) and compares the printed diagnostics with the
// sibling .diags file. Run with -update to rewrite them.
func TestDiagnostics(t *testing.T) {
	cases, _ := filepath.Glob("testdata/diags/*.txtar")
	if len(cases) == 0 {
		t.Fatal("no test cases")
	}
	for _, c := range cases {
		name := strings.TrimSuffix(filepath.Base(c), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(c)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, f := range ar.Files {
				p := filepath.Join(dir, f.Name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := loadDiags(t, dir)
			got = strings.ReplaceAll(got, dir+string(filepath.Separator), "")
			golden := strings.TrimSuffix(c, ".txtar") + ".diags"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./dsl -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func loadDiags(t *testing.T, dir string) string {
	t.Helper()
	reg := all.Registry()
	var buf bytes.Buffer
	p, diags := dsl.Load([]string{dir}, reg)
	if p.Decoded() {
		_, d := p.Compile(p.Spec, reg, engine.BuildOptions{Clock: engine.LogClock{}, Replay: true})
		diags = append(diags, d...)
	}
	dsl.SortDiagnostics(diags)
	if err := dsl.WriteDiagnostics(&buf, p.Files, diags); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
