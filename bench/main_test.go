package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wantKeys are the rows every run prints, in order.
var wantKeys = []string{
	"regex.f2b_stock_sshd", "regex.fail2ban", "regex.f2b_vs_fail2ban", "regex.grep", "regex.f2b_vs_grep",
	"replay.sshd_small", "replay.nginx_small", "replay.sshd_big", "replay.sshd_big_1cpu", "replay.sshd_flood_1cpu",
	"latency.p50", "latency.p99", "burst.bans", "memory.addresses", "startup", "memory.idle",
}

// fail2banKeys are the rows that need fail2ban's package.
var fail2banKeys = map[string]bool{"regex.f2b_stock_sshd": true, "regex.fail2ban": true, "regex.f2b_vs_fail2ban": true, "regex.f2b_vs_grep": true}

// TestQuickRun runs the whole suite with small sizes against a freshly
// built f2b: every row is printed and written, measured, and judged when
// it has a goal. fail2ban is used when already cached (downloaded only
// with F2B_REQUIRE_ALL=1); without it its rows must say so.
func TestQuickRun(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the suite's own files, removed by it, inside the test's directory
	results := filepath.Join(tmp, "results.json")
	var out, errOut bytes.Buffer
	// Fetching writes a cache outside the test: only where everything is
	// required (CI), as the cli tests of the stock filters do.
	fetch := "-fetch=" + strconv.FormatBool(os.Getenv("F2B_REQUIRE_ALL") == "1")
	code := run(t.Context(), []string{"-quick", fetch, "-markdown", "-json", results}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Quick || rep.Runs != 1 || rep.Date == "" || rep.Go == "" {
		t.Errorf("report header: quick %v, runs %d, date %q, go %q", rep.Quick, rep.Runs, rep.Date, rep.Go)
	}
	if len(rep.Rows) != len(wantKeys) {
		t.Fatalf("%d rows, want %d:\n%s", len(rep.Rows), len(wantKeys), out.String())
	}
	table := out.String()
	for i, r := range rep.Rows {
		if r.Key != wantKeys[i] {
			t.Errorf("row %d is %s, want %s", i, r.Key, wantKeys[i])
		}
		if strings.Count(table, r.Name) != 2 { // the text table and the Markdown one
			t.Errorf("row %q is not printed twice:\n%s", r.Name, table)
		}
		switch {
		case r.Result == NA && fail2banKeys[r.Key] && os.Getenv("F2B_REQUIRE_ALL") != "1":
			if !strings.HasPrefix(r.Figure, "n/a (") {
				t.Errorf("%s: unavailable row prints %q", r.Key, r.Figure)
			}
			t.Logf("%s: %s", r.Key, r.Figure)
		case r.Result == NA || r.Failed:
			t.Errorf("%s: not measured: %s", r.Key, r.Error)
		case r.Value <= 0 || r.Figure == "":
			t.Errorf("%s: figure %q, value %v", r.Key, r.Figure, r.Value)
		case r.Goal != "" && r.Result != Pass && r.Result != Miss:
			t.Errorf("%s: goal %q judged %q", r.Key, r.Goal, r.Result)
		case r.Goal == "" && r.Result != "":
			t.Errorf("%s: no goal but result %q", r.Key, r.Result)
		}
	}
}

func TestParseRegexCounts(t *testing.T) {
	out := []byte("Date template hits:\n`-\n\nLines: 200000 lines, 53130 ignored, 40278 matched, 106592 missed\n[processed in 5.62 sec]\n")
	c, err := parseRegexCounts(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := (regexCounts{200000, 53130, 40278, 106592}); c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if _, err := parseRegexCounts([]byte("Lines: many\n")); err == nil {
		t.Error("a report without counts must fail")
	}
}

func TestParseReplaySummary(t *testing.T) {
	out := []byte(`{"event":"ban","host":"192.0.2.1"}` + "\n" + `{"event":"summary","lines":2000,"matched":17,"bans":3}` + "\n")
	s, err := parseReplaySummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lines != 2000 || s.Matched != 17 || s.Bans != 3 {
		t.Errorf("got %+v", s)
	}
	if _, err := parseReplaySummary([]byte(`{"event":"ban"}` + "\n")); err == nil {
		t.Error("output without a summary must fail")
	}
}

func TestParseProcStatus(t *testing.T) {
	m := parseProcStatus([]byte("Name:\tf2b\nVmHWM:\t   20480 kB\nVmRSS:\t   16384 kB\nThreads:\t7\n"))
	if m["VmHWM"] != 20480<<10 || m["VmRSS"] != 16384<<10 || len(m) != 2 {
		t.Errorf("got %v", m)
	}
	// This process's own status has both fields.
	st, err := procStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st["VmRSS"] <= 0 || st["VmHWM"] < st["VmRSS"] {
		t.Errorf("own status: VmRSS %d, VmHWM %d", st["VmRSS"], st["VmHWM"])
	}
}

func TestGoals(t *testing.T) {
	for _, tc := range []struct {
		g    *goal
		v    float64
		want string
	}{
		{atLeast(">= 50x", 50), 50, Pass},
		{atLeast(">= 50x", 50), 49.9, Miss},
		{below("< 20 MB", 20), 19.9, Pass},
		{below("< 20 MB", 20), 20, Miss},
		{nil, 1, ""},
	} {
		if r := newRow("k", "n", tc.v, "u", "f", tc.g); r.Result != tc.want {
			t.Errorf("%v against %v: %q, want %q", tc.v, tc.g, r.Result, tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{200_000: "200k", 2_000_000: "2M", 1_500_000: "1.5M", 20_000: "20k", 2500: "2.5k", 999: "999", 12345: "12345"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

// The memory row's addresses are all distinct, valid and of both
// families.
func TestDistinctAddr(t *testing.T) {
	const n = 300_000
	seen := make(map[netip.Addr]bool, n)
	v6 := 0
	for i := range n {
		a := distinctAddr(i)
		if !a.IsValid() || seen[a] {
			t.Fatalf("address %d: %v repeats or is invalid", i, a)
		}
		seen[a] = true
		if a.Is6() {
			v6++
		}
	}
	if v6 != n/8 {
		t.Errorf("%d IPv6 addresses, want %d", v6, n/8)
	}
}

// examplePipeline points the example's source at one log, read from its
// start, and keeps the rest.
func TestExamplePipeline(t *testing.T) {
	repo, err := findRepo()
	if err != nil {
		t.Fatal(err)
	}
	s := &suite{repo: repo}
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	p, err := s.examplePipeline("sshd.hcl", log, dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{`paths = ["` + log + `"]`, `from  = "start"`, `counter "window" "sshd"`, `max_retry       = 5`} {
		if !strings.Contains(text, want) {
			t.Errorf("rewritten pipeline lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, `"/var/log/auth.log"`) {
		t.Errorf("rewritten pipeline still reads /var/log/auth.log:\n%s", text)
	}
}
