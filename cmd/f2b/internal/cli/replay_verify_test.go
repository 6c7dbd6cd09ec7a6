package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/internal/loggen"
)

// TestReplayMatchesBruteForceWindow replays a generated auth.log with a
// 5-in-10-minutes window and checks every ban and unban against a
// brute-force exact sliding window computed here, independently of the
// counter's code: for each failure, count the same host's failures (since
// its last ban) with times in [t-10m, t].
func TestReplayMatchesBruteForceWindow(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "auth.log")
	var buf bytes.Buffer
	if err := loggen.SSHD(&buf, loggen.Options{Seed: 42, Lines: 30000, Attackers: 400, FailureRatio: 0.3, Step: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(logPath, buf.Bytes(), 0o644)
	pipeline := filepath.Join(dir, "pipeline.hcl")
	os.WriteFile(pipeline, []byte(`
source "file" "auth" {
  paths = ["/nonexistent"]
}
matcher "regex" "sshd" {
  inputs = [source.auth]
  fail = <<-RE
    ^\S+ sshd\[\d+\]: Failed password for (?:invalid user )?\S+ from <HOST> port \d+ ssh2$
    ^\S+ sshd\[\d+\]: Invalid user \S+ from <HOST> port \d+$
  RE
}
counter "window" "sshd" {
  inputs    = [matcher.sshd]
  max_retry = 5
  find_time = "10m"
  ban_time  = "1h"
}
`), 0o644)

	code, stdout, stderr := run(t, "replay", logPath, "--config", pipeline, "--dry-run", "--json", "--now", "2026-06-01T00:00:00Z")
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var ev struct {
			Event, Time, Host string
			Failures          int
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event == "summary" {
			continue
		}
		got = append(got, fmt.Sprintf("%s %s %s %d", ev.Time, ev.Event, ev.Host, ev.Failures))
	}

	want := bruteForce(t, buf.String(), 5, 10*time.Minute, time.Hour)
	if len(want) < 20 {
		t.Fatalf("the generated log gives only %d events; the check would prove little", len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("replay and brute force differ:\n%s", diffLines(got, want))
	}
}

func bruteForce(t *testing.T, log string, maxRetry int, findTime, banTime time.Duration) []string {
	t.Helper()
	failRE := regexp.MustCompile(`^(\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: (?:Failed password for (?:invalid user )?\S+|Invalid user \S+) from (\S+) port \d+(?: ssh2)?$`)
	stampRE := regexp.MustCompile(`^(\w{3} [ \d]\d \d\d:\d\d:\d\d) `)
	history := map[netip.Addr][]time.Time{}
	banned := map[netip.Addr]time.Time{}
	var out []string
	var last time.Time
	type unban struct {
		at       time.Time
		host     netip.Addr
		failures int
	}
	var unbans []unban
	flush := func(now time.Time) {
		slices.SortStableFunc(unbans, func(a, b unban) int { return a.at.Compare(b.at) })
		for len(unbans) > 0 && unbans[0].at.Before(now) {
			u := unbans[0]
			unbans = unbans[1:]
			delete(banned, u.host)
			out = append(out, fmt.Sprintf("%s unban %s %d", u.at.UTC().Format(time.RFC3339), u.host, u.failures))
		}
	}
	for _, line := range strings.Split(log, "\n") {
		sm := stampRE.FindStringSubmatch(line)
		if sm == nil {
			continue
		}
		ts, err := time.ParseInLocation("2006 Jan _2 15:04:05", "2026 "+sm[1], time.Local)
		if err != nil {
			t.Fatal(err)
		}
		if ts.After(last) {
			last = ts
		}
		flush(ts)
		m := failRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		host := netip.MustParseAddr(m[2]).Unmap()
		if _, isBanned := banned[host]; isBanned {
			continue
		}
		h := append(history[host], ts)
		var inWindow int
		for _, ft := range h {
			if !ft.Before(ts.Add(-findTime)) {
				inWindow++
			}
		}
		if inWindow >= maxRetry {
			end := ts.Add(banTime)
			banned[host] = end
			unbans = append(unbans, unban{at: end, host: host, failures: inWindow})
			history[host] = nil
			out = append(out, fmt.Sprintf("%s ban %s %d", ts.UTC().Format(time.RFC3339), host, inWindow))
			continue
		}
		history[host] = h
	}
	// Unbans come out in time order on the log's clock; the replay prints
	// the timeline sorted by time, so sort the same way (stable).
	slices.SortStableFunc(out, func(a, b string) int { return strings.Compare(a[:20], b[:20]) })
	return out
}

func diffLines(got, want []string) string {
	var b strings.Builder
	n := max(len(got), len(want))
	shown := 0
	for i := 0; i < n && shown < 20; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "#%d got  %q\n#%d want %q\n", i, g, i, w)
			shown++
		}
	}
	fmt.Fprintf(&b, "(%d got, %d want)", len(got), len(want))
	return b.String()
}
