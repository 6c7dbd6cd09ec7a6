package failfilter_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/conformance"
	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/failfilter"
)

// fail2banRoot returns Debian's fail2ban package, unpacked into a cache
// outside the repository (scripts/fetch-fail2ban.sh). Without network the
// test skips, unless F2B_REQUIRE_FAIL2BAN (or CI) is set.
func fail2banRoot(t testing.TB) string {
	t.Helper()
	root, err := conformance.Fetch("")
	if err != nil {
		if os.Getenv("F2B_REQUIRE_FAIL2BAN") != "" || os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("!!! SKIPPED: %v", err)
	}
	return root
}

// stockDefinitions reads every stock filter of the package with its
// default options.
func stockDefinitions(t testing.TB, root string) map[string]failfilter.Definition {
	t.Helper()
	cfg, err := fail2ban.Load(filepath.Join(root, "etc", "fail2ban"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "etc", "fail2ban", "filter.d", "*.conf"))
	defs := map[string]failfilter.Definition{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".conf")
		flt, err := cfg.Filter(name, nil)
		if err != nil || len(flt.FailRegex) == 0 {
			continue // common.conf and other includes
		}
		def := failfilter.Definition{PrefRegex: flt.PrefRegex.Text, MaxLines: flt.MaxLines, LogTimeZone: flt.LogTimeZone, UseDNS: flt.UseDNS}
		for _, v := range flt.FailRegex {
			if strings.TrimSpace(v.Text) != "" {
				def.FailRegex = append(def.FailRegex, v.Text)
			}
		}
		for _, v := range flt.IgnoreRegex {
			if strings.TrimSpace(v.Text) != "" {
				def.IgnoreRegex = append(def.IgnoreRegex, v.Text)
			}
		}
		for _, v := range flt.DatePattern {
			def.DatePattern = append(def.DatePattern, v.Text)
		}
		defs[name] = def
	}
	if len(defs) < 80 {
		t.Fatalf("only %d stock filters", len(defs))
	}
	return defs
}

// sampleLines returns the lines of fail2ban's sample log of a filter, and
// a slice of every other sample log (the lines a filter should not take).
func sampleLines(root, name string, others []string) []string {
	dir := filepath.Join(root, "usr", "lib", "python3", "dist-packages", "fail2ban", "tests", "files", "logs")
	data, _ := os.ReadFile(filepath.Join(dir, name))
	lines := strings.Split(string(data), "\n")
	return append(lines, others...)
}

func mixedSample(root string) []string {
	dir := filepath.Join(root, "usr", "lib", "python3", "dist-packages", "fail2ban", "tests", "files", "logs")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(files)
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := bytes.Split(data, []byte("\n"))
		for i := 0; i < len(lines); i += 7 { // a slice of each
			out = append(out, string(lines[i]))
		}
	}
	return out
}

// outcome is what a filter made of a line.
type outcome struct {
	fails    []failfilter.Failure
	template string
	last     time.Time
}

func sequential(f *failfilter.Filter, lines []string) ([]outcome, failfilter.Stats) {
	out := make([]outcome, len(lines))
	for i, l := range lines {
		out[i] = outcome{fails: f.ProcessLine(l), template: f.DateTemplate(), last: f.LastDate()}
	}
	return out, f.Stats()
}

func piped(t *testing.T, f *failfilter.Filter, lines []string) ([]outcome, failfilter.Stats) {
	t.Helper()
	out := make([]outcome, 0, len(lines))
	i := 0
	next := func() (string, int64, error) {
		if i == len(lines) {
			return "", 0, io.EOF
		}
		i++
		return lines[i-1], int64(i), nil
	}
	err := f.ProcessAll(next, func(line string, no int64, fails []failfilter.Failure) error {
		if int(no) != len(out)+1 || line != lines[no-1] {
			return fmt.Errorf("line %d handed over as %d %q", len(out)+1, no, line)
		}
		out = append(out, outcome{fails: append([]failfilter.Failure(nil), fails...), template: f.DateTemplate(), last: f.LastDate()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, f.Stats()
}

// TestStockFiltersThreeWays runs every stock filter over its sample log
// and a slice of all the others three ways: line by line on Go's regexp
// package alone, line by line with the DFA, and through ProcessAll (the
// dates and regexes on another goroutine). Every failure (all fields),
// date template, last date and counter must be the same.
func TestStockFiltersThreeWays(t *testing.T) {
	root := fail2banRoot(t)
	defs := stockDefinitions(t, root)
	mixed := mixedSample(root)
	loc, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2005, 8, 14, 12, 0, 0, 0, loc)
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		for k, base := range []failfilter.Options{
			{CheckAllRegex: true, ReturnRawHost: true, KeepPending: true},
			{},
		} {
			lines := sampleLines(root, name, nil)
			if k == 0 {
				lines = sampleLines(root, name, mixed)
			}
			base.Location, base.Now = loc, func() time.Time { return now }
			mk := func(plain bool) *failfilter.Filter {
				o := base
				o.PlainRegexp = plain
				f, err := failfilter.New(defs[name], o)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return f
			}
			want, wantSt := sequential(mk(true), lines)
			got, gotSt := sequential(mk(false), lines)
			pipe, pipeSt := piped(t, mk(false), lines)
			for i := range lines {
				for way, o := range map[string]outcome{"DFA": got[i], "ProcessAll": pipe[i]} {
					if !reflect.DeepEqual(o, want[i]) {
						t.Fatalf("%s (check all %v), line %q, %s:\n%+v\nwant %+v", name, base.CheckAllRegex, lines[i], way, o, want[i])
					}
				}
				total += len(want[i].fails)
			}
			if gotSt != wantSt || pipeSt != wantSt {
				t.Fatalf("%s: stats %+v and %+v, want %+v", name, gotSt, pipeSt, wantSt)
			}
		}
	}
	t.Logf("%d filters, %d mixed lines, %d failures each way", len(names), len(mixed), total)
	if total < 1000 {
		t.Errorf("only %d failures over all filters: the comparison saw little", total)
	}
}

// TestProcessAllErrors: an error of next or of emit ends ProcessAll with
// it, and the Filter works on after.
func TestProcessAllErrors(t *testing.T) {
	f, err := failfilter.New(failfilter.Definition{FailRegex: []string{`^x <HOST>$`}}, failfilter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	n := 0
	next := func() (string, int64, error) {
		if n++; n > 1000 {
			return "", 0, boom
		}
		return "x 192.0.2.1", int64(n), nil
	}
	seen := 0
	err = f.ProcessAll(next, func(string, int64, []failfilter.Failure) error { seen++; return nil })
	if !errors.Is(err, boom) || seen != 1000 {
		t.Fatalf("next's error: %v after %d lines", err, seen)
	}
	n, seen = 0, 0
	err = f.ProcessAll(next, func(_ string, no int64, fails []failfilter.Failure) error {
		if seen++; no == 300 {
			return boom
		}
		if len(fails) != 1 {
			return fmt.Errorf("line %d: %d failures", no, len(fails))
		}
		return nil
	})
	if !errors.Is(err, boom) || seen != 300 {
		t.Fatalf("emit's error: %v after %d lines", err, seen)
	}
	if fails := f.ProcessLine("x 192.0.2.7"); len(fails) != 1 || fails[0].ID != "192.0.2.7" {
		t.Fatalf("after ProcessAll: %+v", fails)
	}
}
