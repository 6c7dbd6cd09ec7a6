package fail2ban_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/txtar"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/all"
)

// A case in testdata/import/*.txtar (at the repository's root) is a
// comment, an optional "options" file ("all" for ImportOptions.All), the
// files of a fail2ban configuration directory, and the golden "want.hcl"
// (Result.Joined) and "warnings" (one per line). The configuration
// directory is written as $CONFDIR in both. go test -update rewrites the
// golden files. Every case's output must validate.
func TestImportCases(t *testing.T) {
	cases, _ := filepath.Glob("../../testdata/import/*.txtar")
	if len(cases) == 0 {
		t.Fatal("no import cases")
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			t.Parallel()
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "etc")
			var opts fail2ban.ImportOptions
			for _, f := range a.Files {
				switch f.Name {
				case "want.hcl", "warnings":
					continue
				case "options":
					opts.All = strings.TrimSpace(f.Data) == "all"
					continue
				}
				p := filepath.Join(dir, f.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f.Data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := fail2ban.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			res, err := fail2ban.Import(cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			gotHCL := strings.ReplaceAll(string(res.Joined()), dir, "$CONFDIR")
			var wb strings.Builder
			for _, w := range res.Warnings {
				wb.WriteString(strings.ReplaceAll(w.String(), dir, "$CONFDIR") + "\n")
				if w.File == "" {
					t.Errorf("warning without a file: %v", w)
				}
			}
			gotWarn := wb.String()
			if *update {
				a.Set("want.hcl", gotHCL)
				a.Set("warnings", gotWarn)
				if err := os.WriteFile(path, []byte(a.Format()), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				want, _ := a.Get("want.hcl")
				if gotHCL != want {
					t.Errorf("HCL differs (-update rewrites it):\n%s", lineDiff(want, gotHCL))
				}
				want, _ = a.Get("warnings")
				if gotWarn != want {
					t.Errorf("warnings differ (-update rewrites them):\n%s", lineDiff(want, gotWarn))
				}
			}
			validateImport(t, res)
		})
	}
}

// lineDiff shows the first differing lines of want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + wl + "\n  got: " + gl
		}
	}
	return "(same lines)"
}

// validateImport writes the result into a directory, loads it with the
// real language and every stage, and compiles it as replay does: it must
// hold no error. Every diagnostic is printed on failure.
func validateImport(t *testing.T, res *fail2ban.Result) (*dsl.Pipeline, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pipeline")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if err := os.WriteFile(filepath.Join(out, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := all.Registry()
	p, diags := dsl.Load([]string{out}, reg)
	if p.Decoded() {
		_, d := p.Compile(p.Spec, reg, engine.BuildOptions{Replay: true, Clock: engine.LogClock{}})
		diags = append(diags, d...)
	}
	if diags.HasErrors() || !p.Decoded() {
		var b bytes.Buffer
		dsl.SortDiagnostics(diags)
		_ = dsl.WriteDiagnostics(&b, p.Files, diags)
		t.Errorf("the imported pipeline does not validate; all diagnostics:\n%s", b.String())
	}
	return p, out
}
