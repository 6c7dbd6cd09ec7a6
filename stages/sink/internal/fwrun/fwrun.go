// Package fwrun runs the firewall programs that the firewall sinks
// (nftables, iptables, route, fwcmd) drive: with a time limit that kills the whole
// process group, messages in English, and the program's standard error in
// the error it returns, so a failure is logged with what the tool said.
package fwrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"slices"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/proc"
)

// StderrLimit bounds the part of a program's standard error put in an
// error.
const StderrLimit = 2048

// DefaultTimeout bounds one program run when a Runner sets none.
const DefaultTimeout = 30 * time.Second

// Error is a failed program run: the command, how it failed and what it
// wrote on its standard error.
type Error struct {
	Argv   []string
	Err    error
	Stderr string
}

// Error implements error.
func (e *Error) Error() string {
	name := "command"
	if len(e.Argv) > 0 {
		name = strings.Join(e.Argv, " ")
		if len(name) > 200 {
			name = name[:200] + "…"
		}
	}
	if e.Stderr == "" {
		return name + ": " + e.Err.Error()
	}
	return name + ": " + e.Err.Error() + ": " + e.Stderr
}

// Unwrap returns the underlying error (an *exec.ExitError, a timeout).
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns the exit status of a program that ran and failed, or
// -1 for any other error.
func ExitCode(err error) int {
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// Runner runs programs. The zero value is ready to use.
type Runner struct {
	// Wrap is put before every command; the tests set it to
	// `ip netns exec NAME` so the programs act on a namespace of theirs.
	Wrap []string
	// Timeout bounds one run; DefaultTimeout when zero.
	Timeout time.Duration
}

// Run runs argv with stdin (none when empty) and returns its standard
// output. A failure is an *Error holding the program's standard error.
func (r *Runner) Run(ctx context.Context, stdin string, argv ...string) ([]byte, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	all := append(slices.Clip(r.Wrap), argv...)
	cmd := osexec.CommandContext(ctx, all[0], all[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout bytes.Buffer
	var stderr proc.Capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The tools' messages (strerror) in English, whatever the locale.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	proc.KillGroupOnCancel(cmd)
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(string(stderr.Buf))
		if len(msg) > StderrLimit {
			msg = msg[:StderrLimit] + "…"
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", timeout, err)
		}
		return stdout.Bytes(), &Error{Argv: argv, Err: err, Stderr: msg}
	}
	return stdout.Bytes(), nil
}
