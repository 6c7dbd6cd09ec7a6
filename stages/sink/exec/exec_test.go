package exec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
	"github.com/f2bproject/f2b/stages/sink/internal/notify/notifytest"
)

// helperEnv switches the test binary into a helper command (see helper).
const helperEnv = "F2B_EXEC_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helper(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper is a command the tests run instead of a shell script:
//
//	record FILE ARG…   appends ARG… to FILE as one JSON array line, after
//	                   checking that standard input is empty
//	env FILE NAME      appends NAME's value to FILE as a JSON array line
//	fail CODE TEXT     writes TEXT to standard error and exits with CODE
func helper(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: usage")
		return 2
	}
	switch args[0] {
	case "record", "env":
		in, err := io.ReadAll(os.Stdin)
		if err != nil || len(in) != 0 {
			fmt.Fprintf(os.Stderr, "helper: stdin is not empty: %q %v\n", in, err)
			return 2
		}
		rec := args[2:]
		if args[0] == "env" {
			rec = []string{os.Getenv(args[2])}
		}
		line, _ := json.Marshal(rec)
		f, err := os.OpenFile(args[1], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer f.Close()
		if _, err := f.Write(append(line, '\n')); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		return 0
	case "fail":
		code, _ := strconv.Atoi(args[1])
		if len(args) > 2 {
			fmt.Fprint(os.Stderr, args[2])
		}
		return code
	}
	fmt.Fprintln(os.Stderr, "helper: unknown mode", args[0])
	return 2
}

// helperArgv returns an argv that runs the helper in mode with args.
func helperArgv(mode string, args ...string) []string {
	return append([]string{os.Args[0], mode}, args...)
}

// helperEnvArg is the env attribute that turns the test binary into the
// helper. Under -race, the helper would sleep a second at exit
// (atexit_sleep_ms) without the GORACE setting.
var helperEnvArg = map[string]string{
	helperEnv: "1",
	"GORACE":  strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0"),
}

// records reads the JSON array lines the helper appended to path.
func records(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec []string
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec)
	}
	return out
}

// newSink builds a sink whose warnings go to the returned buffer.
func newSink(t *testing.T, args Arguments) (*Sink, *notifytest.Logs) {
	t.Helper()
	logs := &notifytest.Logs{}
	s, err := New(engine.Options{ID: "sink.test", Logger: slog.New(slog.NewTextHandler(logs, nil))}, &args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, logs
}

func needSh(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
}

// TestRunOrder runs start, every action kind and stop through /bin/sh,
// which appends its arguments to a file.
func TestRunOrder(t *testing.T) {
	t.Parallel()
	needSh(t)
	out := filepath.Join(t.TempDir(), "argv")
	sh := func(args ...string) []string {
		return append([]string{"/bin/sh", "-c", `printf '%s\n' "$*" >> "$0"`, out}, args...)
	}
	s, logs := newSink(t, Arguments{
		Start:   sh("start"),
		Ban:     sh("ban", "{ip}", "{family}", "{jail}", "{failures}", "{time}", "{ban_time}", "{ban_count}"),
		Unban:   sh("unban", "{ip}", "{jail}"),
		Prolong: sh("prolong", "{ip}", "{ban_time}", "{ban_count}"),
		Stop:    sh("stop"),
	})
	evs := []engine.Event{
		banEvent("203.0.113.7", engine.Action{Failures: 5, BanTime: time.Hour, BanCount: 1}),
		banEvent("203.0.113.7", engine.Action{Type: engine.Prolong, Failures: 9, BanTime: 2 * time.Hour, BanCount: 2}),
		{Kind: engine.KindFailure, Watermark: true, Time: t0},
		banEvent("203.0.113.7", engine.Action{Type: engine.Unban}),
		banEvent("2001:db8::1", engine.Action{Failures: 3, BanTime: engine.Permanent, BanCount: 1}),
	}
	if err := notifytest.RunAll(t, s, evs...); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `start
ban 203.0.113.7 inet4 sshd 5 2026-01-02T03:04:05Z 3600 1
prolong 203.0.113.7 7200 2
unban 203.0.113.7 sshd
ban 2001:db8::1 inet6 sshd 3 2026-01-02T03:04:05Z -1 1
stop
`
	if string(got) != want {
		t.Errorf("commands ran:\n%s\nwant:\n%s\nlog:\n%s", got, want, logs)
	}
	if st := s.Stats(); st["commands"] != 6 || st["command_failures"] != 0 {
		t.Errorf("Stats = %v, want 6 commands, 0 failures", st)
	}
}

// TestRunWithoutOptionalHooks: unban and prolong run nothing when unset.
func TestRunWithoutOptionalHooks(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "rec")
	s, _ := newSink(t, Arguments{Ban: helperArgv("record", out, "ban", "{ip}"), Env: helperEnvArg})
	err := notifytest.RunAll(t, s,
		banEvent("192.0.2.1", engine.Action{Type: engine.Prolong}),
		banEvent("192.0.2.1", engine.Action{Type: engine.Unban}),
		banEvent("192.0.2.2", engine.Action{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := records(t, out); !slices.EqualFunc(got, [][]string{{"ban", "192.0.2.2"}}, slices.Equal) {
		t.Errorf("records = %q", got)
	}
	if st := s.Stats(); st["commands"] != 1 {
		t.Errorf("Stats = %v, want 1 command", st)
	}
}

// injections are attacker-controlled strings that a shell would run.
func injections(dir string) (user string, matches []string, pwned []string) {
	for i := range 7 {
		pwned = append(pwned, filepath.Join(dir, "pwned"+strconv.Itoa(i)))
	}
	user = "x; touch " + pwned[0]
	matches = []string{
		"Failed password for invalid user $(touch " + pwned[1] + ") from 203.0.113.7",
		"Failed password for invalid user `touch " + pwned[2] + "` from 203.0.113.7",
		"'; touch " + pwned[3] + "; echo '",
		`"; touch ` + pwned[4] + ` #`,
		"| touch " + pwned[5] + " &",
		"$IFS${IFS}{ip}{{}}\\\n&& touch " + pwned[6],
	}
	return user, matches, pwned
}

func assertNotPwned(t *testing.T, pwned []string) {
	t.Helper()
	for _, p := range pwned {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists (stat err %v): a value was run as a command", p, err)
		}
	}
}

// TestSecurityArgumentsAreInert sends shell syntax through captured fields
// and matched lines to a real program (this test binary) and checks that
// each value arrives as one byte-identical argument and that nothing ran.
func TestSecurityArgumentsAreInert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "rec")
	user, matches, pwned := injections(dir)
	s, logs := newSink(t, Arguments{
		Ban: helperArgv("record", out,
			"{F-USER}", "{matches}", "user={F-USER};", "{F-NAME}", "{ip}"),
		Env: helperEnvArg,
	})
	ev := banEvent("203.0.113.7", engine.Action{
		Failures: 5, BanTime: time.Hour, Matches: matches,
		Fields: map[string]string{"user": user, "name": "$(touch " + pwned[0] + ")"},
	})
	if err := notifytest.RunAll(t, s, ev); err != nil {
		t.Fatal(err)
	}
	got := records(t, out)
	want := [][]string{{user, strings.Join(matches, "\n"), "user=" + user + ";", "$(touch " + pwned[0] + ")", "203.0.113.7"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("arguments received:\n%q\nwant:\n%q\nlog: %s", got, want, logs)
	}
	assertNotPwned(t, pwned)
}

// TestSecurityShellPositional is the same check with /bin/sh as the
// program, getting the values as positional parameters ("$@"), the way a
// user script would: they reach it intact and are not run.
func TestSecurityShellPositional(t *testing.T) {
	t.Parallel()
	needSh(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	user, matches, pwned := injections(dir)
	s, logs := newSink(t, Arguments{
		Ban: []string{"/bin/sh", "-c", `printf '%s\n' "$@" > "$0"`, out, "{F-USER}", "{matches}"},
	})
	ev := banEvent("203.0.113.7", engine.Action{Matches: matches, Fields: map[string]string{"user": user}})
	if err := notifytest.RunAll(t, s, ev); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v; log: %s", err, logs)
	}
	if want := user + "\n" + strings.Join(matches, "\n") + "\n"; string(got) != want {
		t.Errorf("sh received:\n%q\nwant:\n%q", got, want)
	}
	assertNotPwned(t, pwned)
}

func TestEnvAndStdin(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "rec")
	s, logs := newSink(t, Arguments{
		Ban: helperArgv("env", out, "F2B_TEST_VAR"),
		Env: map[string]string{helperEnv: "1", "GORACE": helperEnvArg["GORACE"], "F2B_TEST_VAR": "a b {ip} $HOME"},
	})
	if err := notifytest.RunAll(t, s, banEvent("192.0.2.1", engine.Action{})); err != nil {
		t.Fatal(err)
	}
	if got := records(t, out); len(got) != 1 || got[0][0] != "a b {ip} $HOME" {
		t.Errorf("records = %q, log: %s", got, logs)
	}
}

// TestFailuresAreLoggedAndCounted: a non-zero exit and a missing program
// are warned about and counted, and later actions still run.
func TestFailuresAreLoggedAndCounted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "rec")
	s, logs := newSink(t, Arguments{
		Start: []string{filepath.Join(dir, "no-such-program"), "start"},
		Ban:   helperArgv("fail", "3", "\n  nft: No such file or directory\nsecond line\n"),
		Unban: helperArgv("record", out, "{ip}"),
		Env:   helperEnvArg,
	})
	err := notifytest.RunAll(t, s,
		banEvent("192.0.2.1", engine.Action{}),
		banEvent("192.0.2.1", engine.Action{Type: engine.Unban}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st["commands"] != 3 || st["command_failures"] != 2 {
		t.Errorf("Stats = %v, want 3 commands, 2 failures", st)
	}
	if got := records(t, out); len(got) != 1 || got[0][0] != "192.0.2.1" {
		t.Errorf("the unban after a failed ban did not run: %q", got)
	}
	text := logs.String()
	for _, want := range []string{
		`level=WARN msg="command failed" hook=start`,
		`level=WARN msg="command failed" hook=ban`,
		"exit_code=3",
		"stderr=\"nft: No such file or directory\"\n",
		"jail=sshd host=192.0.2.1",
		"no-such-program",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
}

// TestTimeoutKillsProcessGroup: a command that outlives its timeout is
// killed together with the children it started.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	needSh(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	s, logs := newSink(t, Arguments{
		Ban:     []string{"/bin/sh", "-c", `sleep 10 & echo $! > "$0"; wait`, pidFile},
		Timeout: "300ms",
	})
	start := time.Now()
	if err := notifytest.RunAll(t, s, banEvent("192.0.2.1", engine.Action{})); err != nil {
		t.Fatal(err)
	}
	// The group is killed at 300ms; allow for a slow machine, far below 10s.
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Run took %v with a 300ms timeout", took)
	}
	if st := s.Stats(); st["command_failures"] != 1 {
		t.Errorf("Stats = %v, want 1 failure", st)
	}
	if !strings.Contains(logs.String(), "timed out after 300ms") {
		t.Errorf("log lacks the timeout:\n%s", logs)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	assertDead(t, pid)
}

// assertDead waits briefly for pid to be gone (or a zombie nobody reaped).
func assertDead(t *testing.T, pid string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			t.Skipf("cannot read /proc: %v", err)
		}
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %s still runs: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBackgroundChildHoldingOutput: a command that exits 0 but leaves a
// child holding its output open succeeds once waitDelay has passed.
func TestBackgroundChildHoldingOutput(t *testing.T) {
	t.Parallel()
	needSh(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	s, logs := newSink(t, Arguments{
		Ban: []string{"/bin/sh", "-c", `sleep 5 & echo $! > "$0"`, pidFile},
	})
	start := time.Now()
	if err := notifytest.RunAll(t, s, banEvent("192.0.2.1", engine.Action{})); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > waitDelay+2*time.Second {
		t.Errorf("Run took %v", took)
	}
	if st := s.Stats(); st["commands"] != 1 || st["command_failures"] != 0 {
		t.Errorf("Stats = %v, want 1 command, no failure; log:\n%s", st, logs)
	}
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill() // the sleep this test started
			}
		}
	}
}

// TestCancelKillsAndStops: a hard stop kills the running command, returns,
// and still runs stop.
func TestCancelKillsAndStops(t *testing.T) {
	t.Parallel()
	needSh(t)
	out := filepath.Join(t.TempDir(), "rec")
	s, _ := newSink(t, Arguments{
		Ban:  []string{"/bin/sh", "-c", "sleep 10"},
		Stop: helperArgv("record", out, "stop"),
		Env:  helperEnvArg,
	})
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan engine.Event, 1)
	in <- banEvent("192.0.2.1", engine.Action{})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, nil) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := records(t, out); len(got) != 1 || got[0][0] != "stop" {
		t.Errorf("stop did not run: %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     Arguments
		want     []string // "attr[index]" of each error
		wantText string
	}{
		{name: "no ban", args: Arguments{}, want: []string{"ban[-1]"}, wantText: "the command is empty"},
		{
			name: "unknown placeholder",
			args: Arguments{Ban: []string{"/usr/sbin/nft", "add", "element", "inet", "f2b", "v4", "{ {ipp} }"}},
			want: []string{"ban[6]"}, wantText: `did you mean "{ip}"?`,
		},
		{name: "bad timeout", args: Arguments{Ban: []string{"x"}, Timeout: "soon"}, want: []string{"timeout[-1]"}, wantText: "invalid duration"},
		{name: "permanent timeout", args: Arguments{Ban: []string{"x"}, Timeout: "permanent"}, want: []string{"timeout[-1]"}, wantText: "finite"},
		{name: "bad env", args: Arguments{Ban: []string{"x"}, Env: map[string]string{"A=B": "x", "": "y"}}, want: []string{"env[-1]", "env[-1]"}, wantText: "invalid environment variable name"},
		{
			name: "all at once",
			args: Arguments{
				Ban: []string{"{ip}"}, Unban: []string{"x", "{nope}"}, Prolong: []string{""},
				Start: []string{"x", "{ip}"}, Stop: []string{"x", "{jail}"}, Timeout: "0",
			},
			want: []string{"ban[0]", "unban[1]", "prolong[0]", "start[1]", "stop[1]", "timeout[-1]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(engine.Options{}, &tt.args)
			if err == nil {
				t.Fatalf("New = %+v, want errors %v", s, tt.want)
			}
			var got []string
			collect(err, func(ae *confval.AttrError) {
				got = append(got, fmt.Sprintf("%s[%d]", ae.Attr, ae.Index))
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors at %v, want %v: %v", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

// collect calls f for every *confval.AttrError joined in err.
func collect(err error, f func(*confval.AttrError)) {
	if ae, ok := err.(*confval.AttrError); ok {
		f(ae)
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collect(e, f)
		}
	}
}

// TestRegisterHCL decodes a block body through the registration, as the
// front end does, and builds the stage.
func TestRegisterHCL(t *testing.T) {
	t.Parallel()
	src := `
ban     = ["/usr/sbin/nft", "add", "element", "inet", "f2b", "v4", "{ {ip} }"]
unban   = ["/usr/sbin/nft", "delete", "element", "inet", "f2b", "v4", "{ {ip} }"]
start   = ["/usr/sbin/nft", "add", "table", "inet", "f2b"]
env     = { LC_ALL = "C" }
`
	s := fwtest.Build(t, Register, "exec", src, engine.Options{ID: "sink.nft"}).(*Sink)
	if s.timeout != 30*time.Second || s.prolong != nil || s.stop != nil || !slices.Equal(s.env, []string{"LC_ALL=C"}) {
		t.Errorf("sink = timeout %v prolong %v stop %v env %q", s.timeout, s.prolong, s.stop, s.env)
	}
	ev := banEvent("203.0.113.7", engine.Action{})
	if got := s.ban.argv.expand(&ev); got[6] != "{ 203.0.113.7 }" {
		t.Errorf("ban = %q", got)
	}
	if _, err := New(engine.Options{}, &Arguments{Ban: []string{"x", "{ipp}"}}); err == nil {
		t.Error("New with {ipp}: want error")
	}
}

// TestFailedBanRetried: a ban whose command fails is retried with backoff
// and applied once the command works again; the sink keeps serving other
// actions meanwhile.
func TestFailedBanRetried(t *testing.T) {
	t.Parallel()
	needSh(t)
	dir := t.TempDir()
	script := `n=$(cat "$0/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$0/count"; [ $n -ge 3 ] || exit 1; echo "$1" >> "$0/applied"`
	s, logs := newSink(t, Arguments{
		Ban:   []string{"/bin/sh", "-c", script, dir, "{ip}"},
		Unban: []string{"/bin/sh", "-c", `echo "$1" >> "$0/unbanned"`, dir, "{ip}"},
	})
	in := make(chan engine.Event, 4)
	done := make(chan error, 1)
	go func() { done <- s.Run(t.Context(), in, nil) }()
	in <- banEvent("192.0.2.1", engine.Action{End: time.Now().Add(time.Hour)})
	in <- banEvent("192.0.2.9", engine.Action{Type: engine.Unban})
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "applied"))
		if strings.TrimSpace(string(b)) == "192.0.2.1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ban never applied; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "unbanned")); strings.TrimSpace(string(b)) != "192.0.2.9" {
		t.Errorf("the unban behind the failing ban did not run: %q", b)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st["command_retries"] != 2 || st["command_failures"] != 2 {
		t.Errorf("stats = %v, want 2 retries after 2 failures", st)
	}
	if !strings.Contains(logs.String(), "failed action applied on retry") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestRetryReplacedByNewerAction: an unban of the host drops the pending
// retry of its failed ban.
func TestRetryReplacedByNewerAction(t *testing.T) {
	t.Parallel()
	needSh(t)
	dir := t.TempDir()
	s, _ := newSink(t, Arguments{
		Ban:   []string{"/bin/sh", "-c", `echo x >> "$0/tries"; exit 1`, dir},
		Unban: []string{"/bin/sh", "-c", "exit 0"},
	})
	in := make(chan engine.Event, 4)
	done := make(chan error, 1)
	go func() { done <- s.Run(t.Context(), in, nil) }()
	in <- banEvent("192.0.2.1", engine.Action{End: time.Now().Add(time.Hour)})
	in <- banEvent("192.0.2.1", engine.Action{Type: engine.Unban})
	time.Sleep(1500 * time.Millisecond) // past the first retry's time
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "tries")); strings.Count(string(b), "x") != 1 {
		t.Errorf("ban tried %d times after its unban, want 1", strings.Count(string(b), "x"))
	}
}

// TestReadsMatches: only a command line with {matches} makes counters
// keep the lines behind a ban.
func TestReadsMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args Arguments
		want bool
	}{
		{Arguments{Ban: []string{"/bin/true", "{ip}"}}, false},
		{Arguments{Ban: []string{"/bin/true", "{ip}"}, Unban: []string{"/bin/echo", "lines: {matches}"}}, true},
		{Arguments{Ban: []string{"/bin/true", "{{matches}}"}}, false}, // literal braces
	} {
		s, err := New(engine.Options{}, &tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ReadsMatches(); got != tc.want {
			t.Errorf("%+v: ReadsMatches = %v, want %v", tc.args, got, tc.want)
		}
	}
}
