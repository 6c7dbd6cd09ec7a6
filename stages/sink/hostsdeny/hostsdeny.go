package hostsdeny

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Block labels and attribute names.
const (
	typeName       = "hostsdeny"
	attrPath       = "path"
	attrDaemonList = "daemon_list"

	defaultPath = "/etc/hosts.deny"
)

// Arguments are the attributes of a sink "hostsdeny" block.
type Arguments struct {
	// Path is the file; /etc/hosts.deny by default.
	Path string `hcl:"path,optional"`
	// DaemonList is the daemons a line denies the host to: "ALL" (the
	// default), or e.g. "sshd" or "sshd, vsftpd".
	DaemonList string `hcl:"daemon_list,optional"`
	// FlushOnStop removes the sink's lines when it stops.
	FlushOnStop bool `hcl:"flush_on_stop,optional"`
}

// Register adds sink "hostsdeny" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "denies banned hosts in a hosts.deny file (TCP wrappers)",
		NewArgs: func() any { return &Arguments{} },
		Build: func(opts engine.Options, args any) (engine.Stage, error) {
			a, ok := args.(*Arguments)
			if !ok {
				return nil, fmt.Errorf("sink %q: arguments are %T, want *hostsdeny.Arguments", typeName, args)
			}
			s, err := New(opts, a)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	})
}

// Sink is a running sink "hostsdeny".
type Sink struct {
	path        string
	daemons     string
	ledger      string // the file naming the sink's lines; "" without a state directory
	flushOnStop bool
	logger      *slog.Logger
	clock       engine.Clock

	// Test hooks: shorter driver timings.
	restoreIdle time.Duration
	staleGrace  time.Duration
	retryFirst  time.Duration

	driver atomic.Pointer[fwsync.Driver]
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	s := &Sink{path: args.Path, daemons: strings.TrimSpace(args.DaemonList), flushOnStop: args.FlushOnStop, logger: opts.Logger, clock: opts.Clock}
	if s.path == "" {
		s.path = defaultPath
	}
	if !filepath.IsAbs(s.path) {
		errs = append(errs, confval.AttrErr(attrPath, fmt.Errorf("%q is not an absolute path", s.path)))
	}
	if s.daemons == "" {
		s.daemons = "ALL"
	}
	if strings.ContainsAny(s.daemons, ":\n\r#\\") {
		errs = append(errs, confval.AttrErr(attrDaemonList, fmt.Errorf("%q is not a daemon list such as \"ALL\" or \"sshd, vsftpd\" (no ':', '#', '\\' or line break)", s.daemons)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.StateDir != "" {
		s.ledger = filepath.Join(opts.StateDir, "hostsdeny-"+fileSafe(opts.Name)+".lines")
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// fileSafe keeps the letters, digits, '_', '-' and '.' of name.
func fileSafe(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "sink"
	}
	return b.String()
}

// CheckEnv implements engine.EnvChecker: the file's directory must exist.
func (s *Sink) CheckEnv() error {
	dir := filepath.Dir(s.path)
	if _, err := statDir(dir); err != nil {
		return confval.AttrErr(attrPath, fmt.Errorf("sink %q: the directory of %s: %w", typeName, s.path, err))
	}
	return nil
}

// Stats returns the sink's counts: hostsdeny_batches (file rewrites),
// hostsdeny_elements_added, hostsdeny_elements_deleted, hostsdeny_errors.
func (s *Sink) Stats() map[string]int64 {
	if d := s.driver.Load(); d != nil {
		return d.Stats()
	}
	return fwsync.New(fwsync.Config{Type: typeName}, nil).Stats()
}

// Run implements engine.Stage: it keeps the file's lines in line with the
// actions it reads until in is closed. It never writes to out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	b := &backend{s: s}
	d := fwsync.New(fwsync.Config{
		Type:        typeName,
		Groups:      []string{""},
		FlushOnStop: s.flushOnStop,
		Logger:      s.logger,
		Clock:       s.clock,
		RestoreIdle: s.restoreIdle,
		StaleGrace:  s.staleGrace,
		RetryFirst:  s.retryFirst,
	}, b)
	s.driver.Store(d)
	return d.Run(ctx, in)
}
