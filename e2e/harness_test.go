// Package e2e starts the real f2b binary in temporary directories and
// checks what users see: bans in the sink's output, the control socket's
// answers, state kept across SIGTERM, kill -9 and reload.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/f2bproject/f2b/control"
)

// f2bBin is the binary built once for all tests.
var f2bBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "f2b-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f2bBin = filepath.Join(dir, "f2b")
	flag.Parse()
	args := []string{"build", "-o", f2bBin}
	if b := flag.Lookup("test.bench"); b == nil || b.Value.String() == "" {
		// Tests run the daemon with the race detector; benchmarks without.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/f2b")...)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building f2b:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one daemon's world: its directory, pipeline, log, state and
// socket.
type env struct {
	t        testing.TB
	dir      string
	log      string // the followed log file
	bans     string // the JSON sink's output
	f2bLog   string // the fail2ban-format sink's output
	state    string
	sock     string
	pipeline string
	cmd      *exec.Cmd
	stderr   *syncBuffer
	waitErr  chan error
}

// pipelineText is a small sshd-like jail: maxRetry failures within 10
// minutes ban for banTime; bans go to a JSON log and a fail2ban-format log.
func pipelineText(e *env, maxRetry int, banTime string, paths ...string) string {
	if len(paths) == 0 {
		paths = []string{e.log}
	}
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf(`
source "file" "auth" {
  paths = [%s]
  from  = "start"
}

matcher "regex" "sshd" {
  inputs = [source.auth]
  fail   = ["^\\S+ sshd\\[\\d+\\]: Failed password for \\S+ from <HOST> port \\d+ ssh2$"]
}

counter "window" "sshd" {
  inputs    = [matcher.sshd]
  max_retry = %d
  find_time = "10m"
  ban_time  = %q
}

sink "log" "json" {
  inputs = [counter.sshd]
  path   = %q
  format = "json"
}

sink "log" "fail2ban" {
  inputs = [counter.sshd]
  path   = %q
  format = "fail2ban"
}
`, strings.Join(q, ", "), maxRetry, banTime, e.bans, e.f2bLog)
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{
		t:        t,
		dir:      dir,
		log:      filepath.Join(dir, "auth.log"),
		bans:     filepath.Join(dir, "out", "bans.json"),
		f2bLog:   filepath.Join(dir, "out", "fail2ban.txt"),
		state:    filepath.Join(dir, "state"),
		sock:     filepath.Join(dir, "run", "f2b.sock"),
		pipeline: filepath.Join(dir, "pipeline.hcl"),
	}
	if err := os.WriteFile(e.log, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.writePipeline(pipelineText(e, 3, "1h"))
	t.Cleanup(func() { e.kill() })
	return e
}

func (e *env) writePipeline(text string) {
	e.t.Helper()
	if err := os.WriteFile(e.pipeline, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// start runs `f2b run` and waits until the control socket answers.
func (e *env) start() {
	e.t.Helper()
	e.stderr = &syncBuffer{}
	e.cmd = exec.Command(f2bBin, "run", e.pipeline, "--socket", e.sock, "--state-dir", e.state, "--log-level", "debug")
	e.cmd.Stderr = e.stderr
	if err := e.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.waitErr = make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(e.cmd, e.waitErr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := control.Call(ctx, e.sock, control.Request{Command: control.CmdPing})
		cancel()
		if err == nil && resp.OK {
			return
		}
		select {
		case err := <-e.waitErr:
			e.t.Fatalf("f2b run exited at start: %v\n%s", err, e.stderr)
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("f2b run did not answer ping: %v\n%s", err, e.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends sig and waits for the daemon to exit.
func (e *env) stop(sig syscall.Signal) error {
	e.t.Helper()
	if e.cmd == nil {
		return nil
	}
	e.cmd.Process.Signal(sig)
	select {
	case err := <-e.waitErr:
		e.cmd = nil
		return err
	case <-time.After(30 * time.Second):
		e.t.Fatalf("f2b did not exit after %v\n%s", sig, e.stderr)
	}
	return nil
}

func (e *env) kill() {
	if e.cmd != nil {
		e.cmd.Process.Kill()
		<-e.waitErr
		e.cmd = nil
	}
}

// appendLines appends lines to path in one write.
func appendLines(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// failure is one failing sshd line for ip, dated now.
func failure(ip string) string {
	return fmt.Sprintf("%s host sshd[%d]: Failed password for root from %s port 22 ssh2",
		time.Now().Format("2006-01-02 15:04:05"), os.Getpid(), ip)
}

// event is one line of the JSON sink.
type event struct {
	Event    string `json:"event"`
	Jail     string `json:"jail"`
	Host     string `json:"host"`
	Failures int    `json:"failures"`
}

// events reads the JSON sink's output.
func (e *env) events() []event {
	e.t.Helper()
	f, err := os.Open(e.bans)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.t.Fatalf("bad sink line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// count returns how many sink events of kind name host.
func count(evs []event, kind, host string) int {
	n := 0
	for _, ev := range evs {
		if ev.Event == kind && ev.Host == host {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or 10 s pass.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s\nf2b stderr:\n%s", what, e.stderr)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// client runs a client command of the binary against the daemon.
func (e *env) client(args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.Command(f2bBin, append(args, "--socket", e.sock)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// status returns the jail's status through the socket.
func (e *env) status(jail string) control.JailStatus {
	e.t.Helper()
	out, errOut, code := e.client("status", jail, "--json")
	if code != 0 {
		e.t.Fatalf("f2b status %s: exit %d: %s", jail, code, errOut)
	}
	var st control.JailStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("status JSON %q: %v", out, err)
	}
	return st
}

// syncBuffer is a bytes.Buffer safe for the writes of a child's output
// copier and the reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
