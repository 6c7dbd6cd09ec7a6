package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/f2bproject/f2b/control"
)

// daemon is one `f2b run` in a directory of its own.
type daemon struct {
	cmd     *exec.Cmd
	dir     string
	sock    string
	logFile string
	exited  chan error
	// ready is the time from exec to the first answered ping.
	ready time.Duration
}

// startDaemon runs `f2b run PIPELINE` with its socket, state and log in
// dir and waits until the control socket answers ping.
func (s *suite) startDaemon(ctx context.Context, dir, pipeline string) (*daemon, error) {
	d := &daemon{
		dir:     dir,
		sock:    filepath.Join(dir, "f2b.sock"),
		logFile: filepath.Join(dir, "f2b.log"),
		exited:  make(chan error, 1),
	}
	d.cmd = exec.Command(s.bin, "run", pipeline, "--socket", d.sock, "--state-dir", filepath.Join(dir, "state"), "--log-file", d.logFile)
	d.cmd.Env = childEnv()
	start := time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.exited <- d.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := control.Call(pctx, d.sock, control.Request{Command: control.CmdPing})
		cancel()
		if err == nil && resp.OK {
			d.ready = time.Since(start)
			return d, nil
		}
		select {
		case werr := <-d.exited:
			d.cmd = nil
			return nil, fmt.Errorf("f2b run %s exited at start: %v\n%s", pipeline, werr, d.logTail())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.stop()
			return nil, fmt.Errorf("f2b run %s did not answer ping: %v\n%s", pipeline, err, d.logTail())
		}
		// Polled often: the start-up time is read from this loop.
		time.Sleep(500 * time.Microsecond)
	}
}

// stop ends the daemon: SIGTERM, SIGKILL when it takes over 10 s.
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

// memory reads the daemon's VmRSS and VmHWM.
func (d *daemon) memory() (rss, hwm int64, err error) {
	st, err := procStatus(d.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	return st["VmRSS"], st["VmHWM"], nil
}

// jail returns the status of the daemon's only jail.
func (d *daemon) jail(ctx context.Context) (control.JailStatus, error) {
	var js control.JailStatus
	resp, err := control.Call(ctx, d.sock, control.Request{Command: control.CmdStatus})
	if err != nil {
		return js, err
	}
	var ov control.Overview
	if err := resp.Decode(&ov); err != nil {
		return js, err
	}
	if len(ov.Jails) != 1 {
		return js, fmt.Errorf("the daemon runs jails %v, want one", ov.Jails)
	}
	if resp, err = control.Call(ctx, d.sock, control.Request{Command: control.CmdStatus, Args: ov.Jails}); err != nil {
		return js, err
	}
	return js, resp.Decode(&js)
}

func (d *daemon) logTail() string {
	b, _ := os.ReadFile(d.logFile)
	return tail(string(b), 2000)
}

var pathsRE = regexp.MustCompile(`paths\s*=\s*\[[^\]]*\]`)

// examplePipeline writes examples/NAME with its file source reading only
// log, from its start, into dir and returns the new file's path.
func (s *suite) examplePipeline(name, log, dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.repo, "examples", name))
	if err != nil {
		return "", err
	}
	if !pathsRE.Match(b) {
		return "", fmt.Errorf("examples/%s: no paths = [...] to point at the log", name)
	}
	b = pathsRE.ReplaceAll(b, fmt.Appendf(nil, "paths = [%q]\n  from  = \"start\"", log))
	out := filepath.Join(dir, name)
	return out, os.WriteFile(out, b, 0o644)
}

// fifoPipeline is e2e's latency and burst pipeline: bans on the maxRetry-th
// failure within 10 minutes, written as JSON lines into a named pipe so
// each ban is seen the moment the sink writes it.
func fifoPipeline(log, fifo string, maxRetry int) string {
	return fmt.Sprintf(`
source "file" "auth" {
  paths = [%q]
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
  ban_time  = "1h"
}
sink "log" "fifo" {
  inputs = [counter.sshd]
  path   = %q
  format = "json"
}
`, log, maxRetry, fifo)
}

// fifoDaemon starts a daemon on fifoPipeline in a new directory under
// s.dir and returns it, the followed (empty) log and the read end of the
// sink's pipe.
func (s *suite) fifoDaemon(ctx context.Context, name string, maxRetry int) (*daemon, string, *os.File, error) {
	dir, err := os.MkdirTemp(s.dir, name)
	if err != nil {
		return nil, "", nil, err
	}
	log, fifo, pipeline := filepath.Join(dir, "auth.log"), filepath.Join(dir, "bans.fifo"), filepath.Join(dir, "pipeline.hcl")
	if err := os.WriteFile(log, nil, 0o640); err != nil {
		return nil, "", nil, err
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return nil, "", nil, fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	// Read-write: the open does not wait for the sink, and reads can time
	// out (a pipe is polled by the runtime).
	r, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		return nil, "", nil, err
	}
	if err := os.WriteFile(pipeline, []byte(fifoPipeline(log, fifo, maxRetry)), 0o644); err != nil {
		r.Close()
		return nil, "", nil, err
	}
	d, err := s.startDaemon(ctx, dir, pipeline)
	if err != nil {
		r.Close()
		return nil, "", nil, err
	}
	return d, log, r, nil
}

// errTimeout reports a ban that did not come.
var errTimeout = errors.New("no ban within the time limit")
