package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run executes the command line and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(t.Context(), args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// repoRoot is where examples/ and testdata/ live.
const repoRoot = "../../../.."

// stableJSON drops the keys of a replay's JSON output that change from
// run to run (timings).
func stableJSON(t *testing.T, out string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line is not JSON: %q: %v", line, err)
		}
		if m["event"] == "summary" {
			delete(m, "seconds")
			delete(m, "lines_per_second")
			enc, _ := json.Marshal(m)
			line = string(enc)
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}

func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/f2b/internal/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (check, then run with -update):\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// TestExamples validates every example pipeline and replays its sample log
// against a golden timeline.
func TestExamples(t *testing.T) {
	pipelines, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "*.hcl"))
	if len(pipelines) < 2 {
		t.Fatalf("found %d example pipelines, want at least 2", len(pipelines))
	}
	for _, p := range pipelines {
		name := strings.TrimSuffix(filepath.Base(p), ".hcl")
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, "validate", p)
			if code != 0 {
				t.Fatalf("validate %s: exit %d\n%s", p, code, stderr)
			}
			sample := strings.TrimSuffix(p, ".hcl") + ".log"
			if _, err := os.Stat(sample); err != nil {
				t.Fatalf("example %s has no sample log: %v", p, err)
			}
			code, stdout, stderr := run(t, "replay", sample, "--config", p, "--dry-run", "--json", "--now", "2026-06-01T00:00:00Z")
			if code != 0 {
				t.Fatalf("replay: exit %d\n%s", code, stderr)
			}
			compareGolden(t, filepath.Join(repoRoot, "testdata", "examples", name+".golden"), stableJSON(t, stdout))
		})
	}
}

// TestReplayCases runs testdata/replay/*.txtar: each holds pipeline.hcl,
// one or more *.log files, optionally args (extra flags, one per line) and
// want (the JSON timeline).
func TestReplayCases(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "replay", "*.txtar"))
	if len(cases) == 0 {
		t.Fatal("no replay cases")
	}
	for _, c := range cases {
		name := strings.TrimSuffix(filepath.Base(c), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(c)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var logs []string
			var want string
			extra := []string{}
			for _, f := range ar.Files {
				switch {
				case f.Name == "want":
					want = string(f.Data)
					continue
				case f.Name == "args":
					extra = strings.Fields(string(f.Data))
					continue
				case strings.HasSuffix(f.Name, ".log"):
					logs = append(logs, filepath.Join(dir, f.Name))
				}
				if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"replay"}, logs...)
			args = append(args, "--config", filepath.Join(dir, "pipeline.hcl"), "--dry-run", "--json", "--now", "2026-06-01T00:00:00Z")
			args = append(args, extra...)
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if got := stableJSON(t, stdout); got != want {
				t.Errorf("timeline differs:\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func TestValidateExitCodesAndJSON(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte(`source "file" "a" {
  paths = ["/x"]
}
matcher "regex" "m" {
  inputs = [source.b]
  fail   = ["x <HOST>"]
}
counter "window" "c" {
  inputs    = [matcher.m]
  find_time = "10x"
  ban_time  = "1q"
}
sink "log" "l" {
  inputs = [counter.c]
}
`), 0o644)

	code, _, stderr := run(t, "validate", bad)
	if code != ExitInvalid {
		t.Fatalf("exit = %d, want %d", code, ExitInvalid)
	}
	for _, want := range []string{
		"Error: " + bad + ":5:13: Reference to undeclared source",
		"Error: " + bad + ":10:15: Invalid find_time",
		"Error: " + bad + ":11:15: Invalid ban_time",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	code, stdout, _ := run(t, "validate", "--format", "json", bad)
	if code != ExitInvalid {
		t.Fatalf("json: exit = %d, want %d", code, ExitInvalid)
	}
	var rep struct {
		Valid       bool `json:"valid"`
		Diagnostics []struct {
			Severity, Summary, Detail, File string
			Line, Column                    int
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("json output: %v\n%s", err, stdout)
	}
	if rep.Valid || len(rep.Diagnostics) != 3 {
		t.Fatalf("report = %+v, want invalid with 3 diagnostics", rep)
	}
	if d := rep.Diagnostics[0]; d.Severity != "error" || d.File != bad || d.Line != 5 || d.Column != 13 {
		t.Errorf("first diagnostic = %+v", d)
	}

	if code, _, _ := run(t, "validate"); code != ExitUsage {
		t.Errorf("validate without args: exit %d, want %d", code, ExitUsage)
	}
	if code, _, _ := run(t, "validate", "--format", "yaml", bad); code != ExitUsage {
		t.Errorf("validate --format yaml: exit %d, want %d", code, ExitUsage)
	}
	if code, _, _ := run(t, "validate", filepath.Join(dir, "missing.hcl")); code != ExitInvalid {
		t.Errorf("validate missing file: exit %d, want %d", code, ExitInvalid)
	}
}

func TestReplayFlags(t *testing.T) {
	if code, _, stderr := run(t, "replay", "x.log"); code != ExitUsage || !strings.Contains(stderr, "--config is required") {
		t.Errorf("replay without --config: exit %d, %s", code, stderr)
	}
	p := filepath.Join(repoRoot, "examples", "sshd.hcl")
	if code, _, stderr := run(t, "replay", "x.log", "--config", p, "--source", "nope"); code != ExitUsage || !strings.Contains(stderr, `--source "nope"`) {
		t.Errorf("replay --source nope: exit %d, %s", code, stderr)
	}
	if code, _, _ := run(t, "replay", "x.log", "--config", p, "--now", "yesterday"); code != ExitUsage {
		t.Errorf("replay --now yesterday: exit %d", code)
	}
	// A missing log: an error naming it, exit 1, the summary still printed.
	missing := filepath.Join(t.TempDir(), "gone.log")
	code, stdout, stderr := run(t, "replay", missing, "--config", p, "--dry-run")
	if code != ExitError || !strings.Contains(stderr, missing) || !strings.Contains(stdout, "0 lines") {
		t.Errorf("replay of a missing log: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "f2b ") {
		t.Fatalf("version: exit %d, %q", code, stdout)
	}
}

func TestReplayStdin(t *testing.T) {
	dir := t.TempDir()
	pipeline := filepath.Join(dir, "p.hcl")
	os.WriteFile(pipeline, []byte(`
source "stdin" "in" {}
matcher "regex" "m" {
  inputs = [source.in]
  fail   = ["^\\S+ x: fail from <HOST>$"]
}
counter "window" "c" {
  inputs    = [matcher.m]
  max_retry = 2
}
`), 0o644)
	in := "2026-03-01T06:00:00Z h x: fail from 192.0.2.7\n2026-03-01T06:00:01Z h x: fail from 192.0.2.7\n"
	var out, errOut bytes.Buffer
	code := Main(t.Context(), []string{"replay", "-", "--config", pipeline, "--dry-run", "--json"}, IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errOut})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"event":"ban","time":"2026-03-01T06:00:01Z","jail":"c","host":"192.0.2.7","failures":2`) {
		t.Fatalf("no ban in %s", out.String())
	}
}
