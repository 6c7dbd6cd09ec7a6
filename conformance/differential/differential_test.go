package differential

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/internal/loggen"
)

// TestSSHDStock replays one seeded sshd auth.log through f2b and through
// fail2ban 1.0.2 itself and requires the same ban timeline:
//
//   - f2b: Debian's stock /etc/fail2ban with a jail.local enabling [sshd]
//     goes through fail2ban.Import (what `f2b import` writes), and the
//     f2b binary, built for the test, runs `f2b replay LOG --config DIR
//     --dry-run --json --now NOW` over the log;
//   - fail2ban: testdata/f2breplay.py loads the same configuration with
//     fail2ban's own Configurator and Server/Transmitter and hands every
//     line to the jail's Filter.processLineAndAdd on the log's clock, bans
//     through BanManager (see the script's comment).
//
// Every ban (host, time, failures, end), prolong (host, time, failures,
// new end) and unban (host, time = end of the ban) must agree, as must
// the number of failures found and of bans in force at the end.
//
// Both sides purge stale tickets before each line (fail2ban-semantics.md
// section 8), so the live server's timing edges do not apply.
//
// It skips, loudly, when python3 is missing or the fail2ban package cannot
// be fetched; F2B_REQUIRE_FAIL2BAN=1 turns that skip into a failure.
func TestSSHDStock(t *testing.T) {
	python, pyPath, root := fail2banEnv(t)
	dir := t.TempDir()

	// The log: syslog dates without a year, in UTC; the year comes from
	// --now (f2b) and from MyTime (fail2ban).
	start := time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)
	now := start.Add(12 * time.Hour)
	logPath := filepath.Join(dir, "auth.log")
	var logBuf bytes.Buffer
	if err := loggen.SSHD(&logBuf, loggen.Options{
		Seed: 7, Lines: 20000, Start: start, FailureRatio: 0.35, Attackers: 300,
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, logBuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	// The configuration: stock, plus a jail.local.
	confDir := filepath.Join(dir, "fail2ban")
	if err := os.CopyFS(confDir, os.DirFS(filepath.Join(root, "etc/fail2ban"))); err != nil {
		t.Fatal(err)
	}
	jailLocal := fmt.Sprintf(`[sshd]
enabled  = true
backend  = polling
logpath  = %s
maxretry = 5
findtime = 30m
bantime  = 20m
`, logPath)
	if err := os.WriteFile(filepath.Join(confDir, "jail.local"), []byte(jailLocal), 0o644); err != nil {
		t.Fatal(err)
	}

	// f2b's side.
	cfg, err := fail2ban.Load(confDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fail2ban.Import(cfg, fail2ban.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pipeDir := filepath.Join(dir, "pipeline")
	if err := os.Mkdir(pipeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if err := os.WriteFile(filepath.Join(pipeDir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildF2B(t, dir)
	env := append(os.Environ(), "TZ=UTC")
	began := time.Now()
	f2bOut := run(t, env, bin, "replay", logPath, "--config", pipeDir, "--dry-run", "--json", "--now", now.Format(time.RFC3339))
	f2bTime := time.Since(began)
	got, gotSum := parseF2B(t, f2bOut)

	// fail2ban's side.
	began = time.Now()
	pyOut := run(t, append(env, "PYTHONPATH="+pyPath), python, filepath.Join("testdata", "f2breplay.py"),
		confDir, "sshd", logPath, fmt.Sprint(now.Unix()))
	pyTime := time.Since(began)
	want, wantSum := parseFail2ban(t, pyOut)

	t.Logf("%d lines; f2b: %d failures, %d events (%v); fail2ban: %d failures, %d events (%v)",
		gotSum.Lines, gotSum.Matched, len(got), f2bTime.Round(time.Millisecond),
		wantSum.Failures, len(want), pyTime.Round(time.Millisecond))
	t.Logf("fail2ban: %d bans, %d prolongs, %d unbans, %d banned at end",
		count(want, "ban"), count(want, "prolong"), count(want, "unban"), wantSum.Banned)

	if gotSum.Lines != wantSum.Lines || gotSum.Lines != 20000 {
		t.Errorf("lines: f2b %d, fail2ban %d, want 20000", gotSum.Lines, wantSum.Lines)
	}
	if gotSum.Matched != wantSum.Failures {
		t.Errorf("failures found: f2b %d, fail2ban %d", gotSum.Matched, wantSum.Failures)
	}
	if gotSum.BannedAtEnd != wantSum.Banned {
		t.Errorf("banned at end: f2b %d, fail2ban %d", gotSum.BannedAtEnd, wantSum.Banned)
	}
	if count(want, "ban") < 100 || count(want, "unban") < 100 || count(want, "prolong") < 50 {
		t.Errorf("the log makes too few events to compare: %d bans, %d unbans, %d prolongs",
			count(want, "ban"), count(want, "unban"), count(want, "prolong"))
	}
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%d differences (f2b = only in f2b's timeline, fail2ban = only in fail2ban's); the first ones:\n%s",
			len(d), strings.Join(d[:min(len(d), 20)], "\n"))
	}
	if t.Failed() {
		t.Logf("the log is reproducible: loggen.SSHD seed 7; keep it with F2B_DIFF_KEEP=1")
		if os.Getenv("F2B_DIFF_KEEP") != "" {
			keep, _ := os.MkdirTemp("", "f2b-differential-")
			_ = os.CopyFS(keep, os.DirFS(dir))
			_ = os.WriteFile(filepath.Join(keep, "f2b.out"), f2bOut, 0o644)
			_ = os.WriteFile(filepath.Join(keep, "fail2ban.out"), pyOut, 0o644)
			t.Logf("kept in %s", keep)
		}
	}
}

// event is one line of a timeline, in a form both sides give.
type event struct {
	kind     string // ban, prolong, unban
	host     string
	time     int64 // unix seconds; for an unban the end of the ban
	failures int   // 0 for unban
	end      int64 // ban and prolong: the end of the ban
}

func (e event) String() string {
	s := fmt.Sprintf("%s %-7s %s", time.Unix(e.time, 0).UTC().Format(time.RFC3339), e.kind, e.host)
	if e.kind != "unban" {
		s += fmt.Sprintf(" failures=%d end=%s", e.failures, time.Unix(e.end, 0).UTC().Format(time.RFC3339))
	}
	return s
}

func cmpEvent(a, b event) int {
	if c := a.time - b.time; c != 0 {
		return int(c)
	}
	if c := strings.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.host, b.host); c != 0 {
		return c
	}
	if c := a.failures - b.failures; c != 0 {
		return c
	}
	return int(a.end - b.end)
}

func count(evs []event, kind string) int {
	n := 0
	for _, e := range evs {
		if e.kind == kind {
			n++
		}
	}
	return n
}

// diff sorts both timelines (events of one second may come in another
// order) and returns the events that are in only one of them, in time
// order.
func diff(got, want []event) []string {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, cmpEvent)
	slices.SortFunc(want, cmpEvent)
	var out []string
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || i < len(got) && cmpEvent(got[i], want[j]) < 0:
			out = append(out, "  f2b:      "+got[i].String())
			i++
		case i == len(got) || cmpEvent(got[i], want[j]) > 0:
			out = append(out, "  fail2ban: "+want[j].String())
			j++
		default:
			i++
			j++
		}
	}
	return out
}

type f2bSummary struct {
	Lines       int `json:"lines"`
	Matched     int `json:"matched"`
	BannedAtEnd int `json:"banned_at_end"`
}

func parseF2B(t *testing.T, out []byte) ([]event, f2bSummary) {
	t.Helper()
	var evs []event
	var sum f2bSummary
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			Event    string `json:"event"`
			Time     string `json:"time"`
			Host     string `json:"host"`
			Failures int    `json:"failures"`
			End      string `json:"end"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("f2b replay: %v: %s", err, sc.Text())
		}
		switch r.Event {
		case "summary":
			if err := json.Unmarshal(sc.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		case "ban", "prolong", "unban":
		default:
			t.Fatalf("f2b replay: unknown event: %s", sc.Text())
		}
		e := event{kind: r.Event, host: r.Host, time: unix(t, r.Time)}
		if r.Event != "unban" {
			e.failures = r.Failures
			e.end = unix(t, r.End)
		}
		evs = append(evs, e)
	}
	if sum.Lines == 0 {
		t.Fatalf("f2b replay printed no summary:\n%s", out)
	}
	return evs, sum
}

func unix(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("f2b replay: time %q: %v", s, err)
	}
	if tm.Nanosecond() != 0 {
		t.Fatalf("f2b replay: time %q is not a whole second", s)
	}
	return tm.Unix()
}

type fail2banSummary struct {
	Lines    int `json:"lines"`
	Failures int `json:"failures"`
	Banned   int `json:"banned"`
}

func parseFail2ban(t *testing.T, out []byte) ([]event, fail2banSummary) {
	t.Helper()
	var evs []event
	var sum fail2banSummary
	ended := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			Ev       string  `json:"ev"`
			Host     string  `json:"host"`
			Time     float64 `json:"time"`
			End      float64 `json:"end"`
			Failures int     `json:"failures"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("f2breplay.py: %v: %s", err, sc.Text())
		}
		sec := func(f float64) int64 {
			if f != math.Trunc(f) {
				t.Fatalf("f2breplay.py: time %v is not a whole second: %s", f, sc.Text())
			}
			return int64(f)
		}
		switch r.Ev {
		case "end":
			if err := json.Unmarshal(sc.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
			ended = true
		case "ban", "prolong":
			evs = append(evs, event{kind: r.Ev, host: r.Host, time: sec(r.Time), failures: r.Failures, end: sec(r.End)})
		case "unban":
			evs = append(evs, event{kind: r.Ev, host: r.Host, time: sec(r.End)})
		default:
			t.Fatalf("f2breplay.py: unknown event: %s", sc.Text())
		}
	}
	if !ended {
		t.Fatalf("f2breplay.py did not finish:\n%s", out)
	}
	return evs, sum
}

// run runs a command and returns its standard output; standard error is
// shown when it fails.
func run(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// buildF2B builds the f2b command into dir.
func buildF2B(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	bin := filepath.Join(dir, "f2b")
	var stderr bytes.Buffer
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/f2bproject/f2b/cmd/f2b")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v\n%s", err, stderr.String())
	}
	return bin
}

// fail2banEnv returns python3, the PYTHONPATH holding the fail2ban
// package and the unpacked package's root, or skips.
func fail2banEnv(t *testing.T) (python, pyPath, root string) {
	t.Helper()
	err := func() error {
		var err error
		if python, err = exec.LookPath("python3"); err != nil {
			return err
		}
		script, err := filepath.Abs("../../scripts/fetch-fail2ban.sh")
		if err != nil {
			return err
		}
		var stderr bytes.Buffer
		cmd := exec.Command(script)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", script, err, stderr.String())
		}
		root = strings.TrimSpace(string(out))
		pyPath = filepath.Join(root, "usr/lib/python3/dist-packages")
		for _, p := range []string{filepath.Join(pyPath, "fail2ban/server/filter.py"), filepath.Join(root, "etc/fail2ban/jail.conf")} {
			if _, err := os.Stat(p); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		msg := fmt.Sprintf("!!! SKIPPED: differential test against fail2ban: cannot run fail2ban: %v", err)
		if os.Getenv("F2B_REQUIRE_FAIL2BAN") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return python, pyPath, root
}
