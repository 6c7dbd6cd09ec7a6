package command

import (
	"context"
	"errors"
	"log/slog"
	osexec "os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/proc"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

const (
	// waitDelay bounds the wait for a command's output pipes after it has
	// exited or been killed (a background child may hold them open).
	waitDelay = time.Second
	// logValueLimit bounds the script, argument and output text put in a
	// log record.
	logValueLimit = 1024
)

// execScript runs sc as /bin/sh -c text args… and reports whether it
// exited 0 within the timeout. Standard input is /dev/null; on timeout
// the command's whole process group is killed.
func (s *Sink) execScript(r *runner, h hook, fam string, t *ticket, sc script) bool {
	ctx, cancel := context.WithTimeout(r.ctx, s.timeout)
	defer cancel()
	argv := sc.argv()
	cmd := osexec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr proc.Capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	proc.KillGroupOnCancel(cmd)
	cmd.WaitDelay = waitDelay

	s.commands.Add(1)
	err := cmd.Run()
	if err == nil || errors.Is(err, osexec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		if s.logger.Enabled(ctx, slog.LevelDebug) {
			s.logger.Debug("command ran", s.attrs(h, fam, t, sc)...)
		}
		return true
	}
	s.failures.Add(1)
	attrs := s.attrs(h, fam, t, sc)
	exitCode := -1
	if cmd.ProcessState != nil {
		exitCode = cmd.ProcessState.ExitCode()
	}
	attrs = append(attrs, "exit_code", exitCode)
	switch {
	case r.ctx.Err() != nil:
		attrs = append(attrs, "err", "cancelled while running: "+context.Cause(r.ctx).Error())
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		attrs = append(attrs, "err", "timed out after "+s.timeout.String()+"; killed its process group")
	default:
		attrs = append(attrs, "err", err.Error())
	}
	if line := proc.FirstLine(stderr.Buf, logValueLimit); line != "" {
		attrs = append(attrs, "stderr", line)
	} else if line := proc.FirstLine(stdout.Buf, logValueLimit); line != "" {
		attrs = append(attrs, "stdout", line)
	}
	s.logger.Warn("command failed", attrs...)
	return false
}

// attrs are the log attributes that name a command run.
func (s *Sink) attrs(h hook, fam string, t *ticket, sc script) []any {
	attrs := []any{"hook", h.String()}
	if fam != "" {
		attrs = append(attrs, "family", fam)
	}
	if t != nil && t.a != nil {
		attrs = append(attrs, "jail", t.a.Jail, "host", sinkfmt.Host(t.a))
	}
	attrs = append(attrs, "script", cut(sc.text))
	if len(sc.args) > 0 {
		q := make([]string, len(sc.args))
		for i, a := range sc.args {
			q[i] = strconv.Quote(a)
		}
		attrs = append(attrs, "args", cut(strings.Join(q, " ")))
	}
	return attrs
}

// cut shortens s to logValueLimit bytes.
func cut(s string) string {
	if len(s) > logValueLimit {
		return s[:logValueLimit] + "…"
	}
	return s
}
