package command

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// t0 is the start of the bans in these tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func needSh(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(shell); err != nil {
		t.Skip("no " + shell)
	}
}

// shSink builds a sink whose commands may write to <log> (a file in a new
// temporary directory, also available as <dir>) and returns it with the
// log file's path and the sink's own log.
func shSink(t *testing.T, args Arguments) (*Sink, string, *logBuffer) {
	t.Helper()
	needSh(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "log")
	if args.Tags == nil {
		args.Tags = map[string]string{}
	}
	args.Tags["log"] = logPath
	args.Tags["dir"] = dir
	logs := &logBuffer{}
	s, err := New(engine.Options{ID: "sink.test", Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, &args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, logPath, logs
}

// rec is a command that appends its words to <log>.
func rec(words string) string { return `echo "` + words + `" >> <log>` }

// action returns an action event for host.
func action(typ engine.ActionType, host string, mod ...func(*engine.Action)) engine.Event {
	a := &engine.Action{
		Type: typ, Jail: "sshd", Host: netip.MustParseAddr(host), HostText: host,
		Failures: 5, BanTime: time.Hour, Start: t0, End: t0.Add(time.Hour), BanCount: 1,
	}
	for _, m := range mod {
		m(a)
	}
	return engine.Event{Kind: engine.KindAction, Time: t0, Action: a}
}

// runAll feeds evs to s, closes the input and returns Run's error.
func runAll(t *testing.T, s *Sink, evs ...engine.Event) error {
	t.Helper()
	in := make(chan engine.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	return s.Run(t.Context(), in, nil)
}

// readLog returns the lines written to path.
func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantLog(t *testing.T, path, want string, logs *logBuffer) {
	t.Helper()
	if got := readLog(t, path); got != want {
		t.Errorf("commands ran:\n%s\nwant:\n%s\nsink log:\n%s", got, want, logs)
	}
}

func wantStats(t *testing.T, s *Sink, commands, failures, repairs int64) {
	t.Helper()
	st := s.Stats()
	if st["commands"] != commands || st["command_failures"] != failures || st["repairs"] != repairs {
		t.Errorf("Stats = %v, want %d commands, %d failures, %d repairs", st, commands, failures, repairs)
	}
}

// TestLifecycleFlush: start, bans, an unban, then at the end of the input
// flush (not single unbans) and stop.
func TestLifecycleFlush(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Start:   rec("start <family>"),
		Ban:     rec("ban <ip> <family> <failures> <bantime> <time> <jail.name> <jail.banned>"),
		Unban:   rec("unban <ip> <jail.banned>"),
		Prolong: rec("prolong <ip> <bantime>"),
		Flush:   rec("flush <family> <jail.banned_total>"),
		Stop:    rec("stop <family>"),
	})
	err := runAll(t, s,
		action(engine.Ban, "192.0.2.1"),
		action(engine.Ban, "192.0.2.2", func(a *engine.Action) { a.BanTime = engine.Permanent }),
		action(engine.Prolong, "192.0.2.1", func(a *engine.Action) { a.BanTime = 2 * time.Hour }),
		action(engine.Unban, "192.0.2.1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// As in fail2ban, the start that is not per family runs with an empty
	// <family>, and stop runs for it and for each family that held bans
	// (once when the commands come out the same).
	wantLog(t, log, `start 
ban 192.0.2.1 inet4 5 3600 1767323045.0 sshd 1
ban 192.0.2.2 inet4 5 -1 1767323045.0 sshd 2
prolong 192.0.2.1 7200
unban 192.0.2.1 1
flush inet4 2
stop 
stop inet4
`, logs)
	wantStats(t, s, 8, 0, 0)
}

// TestLifecycleUnbanEach: without flush, every ban still in force is
// unbanned at the end, in the order the bans began, then stop runs.
func TestLifecycleUnbanEach(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Start: rec("start"),
		Ban:   rec("ban <ip>"),
		Unban: rec("unban <ip>"),
		Stop:  rec("stop"),
	})
	err := runAll(t, s,
		action(engine.Ban, "192.0.2.3"),
		action(engine.Ban, "2001:db8::3"),
		action(engine.Ban, "192.0.2.1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, `start
ban 192.0.2.3
ban 2001:db8::3
ban 192.0.2.1
unban 192.0.2.3
unban 2001:db8::3
unban 192.0.2.1
stop
`, logs)
}

// TestOnDemandPerFamily: with a family block, start runs at the first ban
// of each family with that family's command; an unban of a family that
// never held a ban runs nothing; stop runs per started family.
func TestOnDemandPerFamily(t *testing.T) {
	t.Parallel()
	v6start := rec("start6 <family> <set>")
	s, log, logs := shSink(t, Arguments{
		Start: rec("start <family> <set>"),
		Ban:   rec("ban <set> <ip>"),
		Unban: rec("unban <set> <ip>"),
		Stop:  rec("stop <family> <set>"),
		Family: []FamilyArguments{
			{Name: "inet6", Start: &v6start},
		},
		Tags: map[string]string{"set": "v4-<name>", "set?family=inet6": "v6-<name>", "name": "sshd"},
	})
	err := runAll(t, s,
		action(engine.Unban, "2001:db8::9"), // nothing started, nothing held
		action(engine.Ban, "192.0.2.1"),
		action(engine.Unban, "2001:db8::9"), // inet6 not started yet
		action(engine.Ban, "2001:db8::1"),
		action(engine.Ban, "192.0.2.2"),
		action(engine.Unban, "2001:db8::1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, `start inet4 v4-sshd
ban v4-sshd 192.0.2.1
start6 inet6 v6-sshd
ban v6-sshd 2001:db8::1
ban v4-sshd 192.0.2.2
unban v6-sshd 2001:db8::1
unban v4-sshd 192.0.2.1
unban v4-sshd 192.0.2.2
stop inet4 v4-sshd
stop inet6 v6-sshd
`, logs)
}

// TestNotOnDemandFamilies: a family-dependent action started at once
// starts both families; start_on_demand = false without family blocks
// starts once.
func TestNotOnDemandFamilies(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Start:         rec("start <family>"),
		Ban:           rec("ban <ip>"),
		Stop:          rec("stop <family>"),
		Family:        []FamilyArguments{{Name: "inet6"}},
		StartOnDemand: boolp(false),
	})
	if err := runAll(t, s, action(engine.Ban, "2001:db8::1")); err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, "start inet4\nstart inet6\nban 2001:db8::1\nstop inet4\nstop inet6\n", logs)
}

// TestFailingBanCheckRepairRetry: a ban fails, check fails, repair runs,
// check passes, the ban runs again.
func TestFailingBanCheckRepairRetry(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Start:  rec("start") + "; touch <dir>/broken",
		Check:  rec("check") + `; [ ! -e <dir>/broken ]`,
		Repair: rec("repair") + "; rm <dir>/broken",
		Ban:    rec("ban <ip>") + `; [ ! -e <dir>/broken ]`,
		Unban:  rec("unban <ip>"),
		Stop:   rec("stop"),
	})
	if err := runAll(t, s, action(engine.Ban, "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, "start\nban 192.0.2.1\ncheck\nrepair\ncheck\nban 192.0.2.1\nunban 192.0.2.1\nstop\n", logs)
	wantStats(t, s, 8, 2, 1)
	if !strings.Contains(logs.String(), "check failed; restoring a sane environment") {
		t.Errorf("log lacks the repair:\n%s", logs)
	}
}

// TestFailingBanRestartAndReban: without repair, a failed check stops and
// starts the family again (start runs even though it ran for all families
// at first, unlike fail2ban 1.0.2), the ban is retried and the other ban
// in force is put back with reban.
func TestFailingBanRestartAndReban(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Start: rec("start") + "; rm -f <dir>/broken",
		Stop:  rec("stop"),
		Check: rec("check") + `; [ ! -e <dir>/broken ]`,
		Ban:   rec("ban <ip>") + `; if [ "<ip>" = 192.0.2.2 ] && [ ! -e <dir>/failed ]; then touch <dir>/failed <dir>/broken; exit 1; fi`,
		Reban: rec("reban <ip>"),
		Unban: rec("unban <ip>"),
	})
	err := runAll(t, s,
		action(engine.Ban, "192.0.2.1"),
		action(engine.Ban, "192.0.2.2"),
	)
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, `start
ban 192.0.2.1
ban 192.0.2.2
check
stop
start
check
ban 192.0.2.2
reban 192.0.2.1
unban 192.0.2.1
unban 192.0.2.2
stop
`, logs)
	wantStats(t, s, 12, 2, 1)
}

// TestFailingUnbanNoRepair: a failed unban whose check fails is given up
// without repair (fail2ban: "unban is impossible") unless repair_on_unban.
func TestFailingUnbanNoRepair(t *testing.T) {
	t.Parallel()
	for _, onUnban := range []bool{false, true} {
		s, log, logs := shSink(t, Arguments{
			Check:         rec("check") + `; [ ! -e <dir>/broken ]`,
			Repair:        rec("repair") + "; rm <dir>/broken",
			Ban:           rec("ban <ip>") + "; touch <dir>/broken",
			Unban:         rec("unban <ip>") + `; [ ! -e <dir>/broken ]`,
			RepairOnUnban: onUnban,
		})
		if err := runAll(t, s, action(engine.Ban, "192.0.2.1"), action(engine.Unban, "192.0.2.1")); err != nil {
			t.Fatal(err)
		}
		want := "ban 192.0.2.1\nunban 192.0.2.1\ncheck\n"
		if onUnban {
			want += "repair\ncheck\nunban 192.0.2.1\n"
		}
		wantLog(t, log, want, logs)
	}
}

// TestRetryWithoutCheck: with no check, a failed command runs once more.
func TestRetryWithoutCheck(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{Ban: rec("ban <ip>") + "; exit 3"})
	if err := runAll(t, s, action(engine.Ban, "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, "ban 192.0.2.1\nban 192.0.2.1\n", logs)
	wantStats(t, s, 2, 2, 0)
	if !strings.Contains(logs.String(), "exit_code=3") {
		t.Errorf("log lacks the exit code:\n%s", logs)
	}
}

// TestNoRestored: no_restored skips the ban and prolong of a restored ban;
// its unban runs when the family holds bans.
func TestNoRestored(t *testing.T) {
	t.Parallel()
	restored := func(a *engine.Action) { a.Restored = true }
	s, log, logs := shSink(t, Arguments{
		Ban:        rec("ban <ip> <restored>"),
		Prolong:    rec("prolong <ip>"),
		Unban:      rec("unban <ip> <restored>"),
		NoRestored: true,
	})
	err := runAll(t, s,
		action(engine.Ban, "192.0.2.1", restored),
		action(engine.Prolong, "192.0.2.1"),
		action(engine.Ban, "192.0.2.2"),
		action(engine.Unban, "192.0.2.1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, "ban 192.0.2.2 0\nunban 192.0.2.1 1\nunban 192.0.2.2 0\n", logs)
}

// TestRepeatedBanReban: a ban of a host already banned runs reban.
func TestRepeatedBanReban(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{Ban: rec("ban <ip> <bancount>"), Reban: rec("reban <ip> <bancount>")})
	err := runAll(t, s,
		action(engine.Ban, "192.0.2.1"),
		action(engine.Ban, "192.0.2.1", func(a *engine.Action) { a.BanCount = 2 }),
	)
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, log, "ban 192.0.2.1 1\nreban 192.0.2.1 2\n", logs)
}

// TestTimeoutKillsProcessGroup: a command that outlives its timeout is
// killed together with the children it started, and counts as failed
// (then retried once, as any failed command).
func TestTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Ban:     `sleep 10 & echo $! >> <dir>/pids; wait`,
		Timeout: "300ms",
	})
	start := time.Now()
	if err := runAll(t, s, action(engine.Ban, "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run took %v with a 300ms timeout", took)
	}
	wantStats(t, s, 2, 2, 0)
	if !strings.Contains(logs.String(), "timed out after 300ms") {
		t.Errorf("log lacks the timeout:\n%s", logs)
	}
	pids := strings.Fields(readLog(t, filepath.Join(filepath.Dir(log), "pids")))
	if len(pids) != 2 {
		t.Fatalf("pids = %q, want two runs", pids)
	}
	for _, pid := range pids {
		assertDead(t, pid)
	}
}

// assertDead waits briefly for pid to be gone (or a zombie nobody reaped).
func assertDead(t *testing.T, pid string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			t.Skipf("cannot read /proc: %v", err)
		}
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %s still runs: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHardStop: cancelling kills the running command, Run returns, and
// flush and stop still run.
func TestHardStop(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Ban:   rec("ban <ip>") + "; sleep 10",
		Unban: rec("unban <ip>"),
		Flush: rec("flush"),
		Stop:  rec("stop"),
	})
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan engine.Event, 1)
	in <- action(engine.Ban, "192.0.2.1")
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(readLog(t, log), "ban") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The killed ban is not retried to completion: the context is gone, so
	// the retry fails at once; the family holds no ban, so flush has
	// nothing to do, and stop runs for the started family.
	got := readLog(t, log)
	if got != "ban 192.0.2.1\nstop\n" {
		t.Errorf("commands ran:\n%s\nsink log:\n%s", got, logs)
	}
}

// TestHardStopFlushes: after a hard stop with bans in force, flush and stop
// run on a detached context.
func TestHardStopFlushes(t *testing.T) {
	t.Parallel()
	s, log, logs := shSink(t, Arguments{
		Ban:   rec("ban <ip>"),
		Unban: rec("unban <ip>"),
		Flush: rec("flush"),
		Stop:  rec("stop"),
	})
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan engine.Event, 1)
	in <- action(engine.Ban, "192.0.2.1")
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(readLog(t, log), "ban") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	wantLog(t, log, "ban 192.0.2.1\nflush\nstop\n", logs)
}
