package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	osexec "os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/proc"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// Block labels and attribute names.
const (
	typeName       = "exec"
	attrBan        = "ban"
	attrUnban      = "unban"
	attrProlong    = "prolong"
	attrStart      = "start"
	attrStop       = "stop"
	attrTimeout    = "timeout"
	attrEnv        = "env"
	attrRetryFor   = "retry_for"
	defaultTimeout = "30s"
	// defaultRetryFor is how long a failed action is retried by default.
	defaultRetryFor = "1h"
)

// Backoff of retries of a failed action: the first after retryFirst, each
// next one twice as late, at most retryMax apart.
const (
	retryFirst = time.Second
	retryMax   = time.Minute
)

const (
	// waitDelay bounds the wait for a command's output pipes after it has
	// exited or been killed (a background child may hold them open).
	waitDelay = time.Second
	// logValueLimit bounds the command and output lines put in a log record.
	logValueLimit = 1024
)

// Arguments are the attributes of a sink "exec" block. Each command is an
// argv list: the program (a path, or a name looked up in PATH when the
// command runs) and its arguments, never handed to a shell.
type Arguments struct {
	// Ban runs for every ban.
	Ban []string `hcl:"ban"`
	// Unban runs for every unban; nothing runs when it is unset.
	Unban []string `hcl:"unban,optional"`
	// Prolong runs when a running ban is extended; nothing runs when it is
	// unset (the firewall entry of the ban is still in place).
	Prolong []string `hcl:"prolong,optional"`
	// Start runs once when the sink starts, before any action.
	Start []string `hcl:"start,optional"`
	// Stop runs once when the sink stops, after its input has ended.
	Stop []string `hcl:"stop,optional"`
	// Timeout bounds each command ("30s" by default); a command still
	// running then is killed with its whole process group.
	Timeout string `hcl:"timeout,optional"`
	// Env holds extra environment variables for every command, on top of
	// f2b's own environment. Values are literal: placeholders are not
	// expanded here.
	Env map[string]string `hcl:"env,optional"`
	// RetryFor is how long a ban, unban or prolong whose command failed or
	// timed out is retried, with backoff from 1 s to 1 min ("1h" by
	// default; "0s" never retries). A later action for the same host and
	// jail replaces a pending retry, and a ban is not retried past its end.
	RetryFor string `hcl:"retry_for,optional"`
}

// Register adds sink "exec" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "runs a command (argv, no shell) per ban, unban and prolong",
		NewArgs: func() any { return &Arguments{Timeout: defaultTimeout, RetryFor: defaultRetryFor} },
		Build:   engine.Build(New),
	})
}

// command is one configured hook.
type command struct {
	hook string // attribute name: "ban", "start", …
	argv argv
}

// Sink is a running sink "exec".
type Sink struct {
	start, stop, ban, unban, prolong *command

	timeout  time.Duration
	retryFor time.Duration
	env      []string // extra "KEY=value" entries, sorted by key
	logger   *slog.Logger

	commands atomic.Int64
	failed   atomic.Int64
	retried  atomic.Int64
	gaveUp   atomic.Int64
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O and starts nothing.
// Errors are *confval.AttrError values naming the attribute, and for a bad
// argv element its index; all problems are reported, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	s := &Sink{logger: opts.Logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	hook := func(attr string, elems []string, required, allowAction bool) *command {
		if elems == nil && !required {
			return nil
		}
		a, bad := parseArgv(attr, elems, allowAction)
		errs = append(errs, bad...)
		return &command{hook: attr, argv: a}
	}
	s.ban = hook(attrBan, args.Ban, true, true)
	s.unban = hook(attrUnban, args.Unban, false, true)
	s.prolong = hook(attrProlong, args.Prolong, false, true)
	s.start = hook(attrStart, args.Start, false, false)
	s.stop = hook(attrStop, args.Stop, false, false)

	limit := args.Timeout
	if limit == "" {
		limit = defaultTimeout
	}
	d, err := confval.ParseDuration(limit, false)
	switch {
	case err != nil:
		errs = append(errs, confval.AttrErr(attrTimeout, err))
	case d == confval.Permanent:
		errs = append(errs, confval.AttrErr(attrTimeout, errors.New("a command timeout must be a finite duration, e.g. \"30s\"")))
	}
	s.timeout = d

	retryFor := args.RetryFor
	if retryFor == "" {
		retryFor = defaultRetryFor
	}
	rd, err := confval.ParseDuration(retryFor, false)
	switch {
	case err != nil:
		errs = append(errs, confval.AttrErr(attrRetryFor, err))
	case rd == confval.Permanent:
		errs = append(errs, confval.AttrErr(attrRetryFor, errors.New("retries must end: give a finite duration, e.g. \"1h\"")))
	}
	s.retryFor = rd

	for _, k := range slices.Sorted(maps.Keys(args.Env)) {
		v := args.Env[k]
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			errs = append(errs, confval.AttrErr(attrEnv, fmt.Errorf("invalid environment variable name %q", k)))
		case strings.IndexByte(v, 0) >= 0:
			errs = append(errs, confval.AttrErr(attrEnv, fmt.Errorf("the value of %s holds a NUL byte", k)))
		default:
			s.env = append(s.env, k+"="+v)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func attrErr(attr string, index int, err error) error {
	return &confval.AttrError{Attr: attr, Index: index, Err: err}
}

// Run implements engine.Stage. It runs start, then the command of every
// action in the order the actions arrive, one at a time, then stop once in
// is closed. A failing command is logged and counted; the sink goes on.
//
// NOTE: Run never writes to out. When ctx is cancelled (the engine's hard
// stop) the running command is killed and Run returns without reading the
// rest of in; stop still runs, on a context detached from ctx and bounded by
// the timeout, so whatever start set up is torn down.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	if s.start != nil {
		s.run(ctx, s.start, nil)
	}
	if s.stop != nil {
		defer s.run(context.WithoutCancel(ctx), s.stop, nil)
	}
	var (
		retries retryQueue
		timer   *time.Timer
		timerC  <-chan time.Time
		armedAt time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		if n := retries.len(); n > 0 {
			s.logger.Warn("stopping with failed actions not yet applied", "pending", n)
		}
	}()
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped before its input ended: %w", context.Cause(ctx))
		}
		select {
		case ev, ok := <-in:
			if !ok {
				return nil
			}
			if c := s.commandFor(ev); c != nil {
				retries.drop(ev.Action) // a newer action for the host wins
				if !s.run(ctx, c, &ev) && s.retryFor > 0 && ctx.Err() == nil {
					retries.add(c, ev, time.Now(), s.retryFor)
				}
			}
		case <-timerC:
			timerC = nil
			s.retryDue(ctx, &retries, time.Now())
		case <-ctx.Done():
		}
		// Keep one timer for the earliest pending retry.
		if next, ok := retries.next(); ok && (timerC == nil || !next.Equal(armedAt)) {
			d := max(time.Until(next), 0)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			timerC, armedAt = timer.C, next
		}
	}
}

// retryDue runs the retries that are due at now.
func (s *Sink) retryDue(ctx context.Context, q *retryQueue, now time.Time) {
	for _, r := range q.due(now) {
		if r.expired(now) {
			s.gaveUp.Add(1)
			s.logger.Error("giving up on a failed action", s.attrs(r.cmd, &r.ev, nil)...)
			continue
		}
		s.retried.Add(1)
		if s.run(ctx, r.cmd, &r.ev) {
			s.logger.Info("failed action applied on retry", append(s.attrs(r.cmd, &r.ev, nil), "attempts", r.attempts+1)...)
			continue
		}
		r.backoff(now)
		q.put(r)
	}
}

// Stats returns the number of commands run ("commands") and of those that
// failed to start, exited non-zero or timed out ("command_failures").
func (s *Sink) Stats() map[string]int64 {
	return map[string]int64{
		"commands":         s.commands.Load(),
		"command_failures": s.failed.Load(),
		"command_retries":  s.retried.Load(),
		"command_gave_up":  s.gaveUp.Load(),
	}
}

// commandFor returns the hook that ev runs, or nil.
func (s *Sink) commandFor(ev engine.Event) *command {
	if ev.Kind != engine.KindAction || ev.Action == nil {
		return nil
	}
	switch ev.Action.Type {
	case engine.Ban:
		return s.ban
	case engine.Unban:
		return s.unban
	case engine.Prolong:
		return s.prolong
	}
	return nil
}

// run runs c for ev (nil for start and stop), reports a failure, and
// tells whether the command succeeded.
func (s *Sink) run(ctx context.Context, c *command, ev *engine.Event) bool {
	var args []string
	if ev != nil {
		args = c.argv.expand(ev)
	} else {
		args = c.argv.expand(&engine.Event{})
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	cmd := osexec.CommandContext(cctx, args[0], args[1:]...)
	// NOTE: a nil Stdin is /dev/null; Stdout and Stderr are not *os.File, so
	// os/exec copies them through pipes in goroutines that Wait joins.
	cmd.Stdin = nil
	var stdout, stderr proc.Capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if len(s.env) > 0 {
		// Later entries win, so ours override the inherited ones.
		cmd.Env = append(os.Environ(), s.env...)
	}
	proc.KillGroupOnCancel(cmd)
	cmd.WaitDelay = waitDelay

	s.commands.Add(1)
	err := cmd.Run()
	if err == nil || errors.Is(err, osexec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		if s.logger.Enabled(ctx, slog.LevelDebug) {
			s.logger.Debug("command ran", s.attrs(c, ev, args)...)
		}
		return true
	}
	s.failed.Add(1)

	attrs := s.attrs(c, ev, args)
	exitCode := -1
	if cmd.ProcessState != nil {
		exitCode = cmd.ProcessState.ExitCode()
	}
	attrs = append(attrs, "exit_code", exitCode)
	switch {
	case ctx.Err() != nil:
		attrs = append(attrs, "err", "cancelled while running: "+context.Cause(ctx).Error())
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
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
func (s *Sink) attrs(c *command, ev *engine.Event, args []string) []any {
	attrs := []any{"hook", c.hook}
	if args != nil {
		attrs = append(attrs, "command", displayArgv(args))
	}
	if ev != nil && ev.Action != nil {
		attrs = append(attrs, "jail", ev.Action.Jail, "host", sinkfmt.Host(ev.Action))
	}
	return attrs
}

// displayArgv writes args for a log record: plain elements as they are,
// others Go-quoted, cut at logValueLimit bytes.
func displayArgv(args []string) string {
	var b []byte
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if a != "" && !strings.ContainsFunc(a, func(r rune) bool {
			return r <= ' ' || r == '"' || r == '\'' || r == '\\' || r == 0x7f || !strconv.IsPrint(r)
		}) {
			b = append(b, a...)
		} else {
			b = strconv.AppendQuote(b, a)
		}
		if len(b) > logValueLimit {
			return string(b[:logValueLimit]) + "…"
		}
	}
	return string(b)
}

// CheckEnv implements engine.EnvChecker: the program of every hook must be
// installed.
func (s *Sink) CheckEnv() error {
	var errs []error
	for _, c := range []*command{s.start, s.ban, s.unban, s.prolong, s.stop} {
		if c == nil {
			continue
		}
		if _, err := lookpath.Find(c.argv.expand(&engine.Event{})[0]); err != nil {
			errs = append(errs, &confval.AttrError{Attr: c.hook, Index: 0, Err: err})
		}
	}
	return errors.Join(errs...)
}

// ReadsMatches implements engine.MatchesReader: only a command line with
// {matches} reads them.
func (s *Sink) ReadsMatches() bool {
	for _, c := range []*command{s.start, s.stop, s.ban, s.unban, s.prolong} {
		if c == nil {
			continue
		}
		for _, t := range c.argv {
			for _, seg := range t.segs {
				if seg.kind == matches {
					return true
				}
			}
		}
	}
	return false
}
