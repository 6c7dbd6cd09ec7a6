package hostsdeny

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
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
	fwconf.Register(r, typeName, "denies banned hosts in a hosts.deny file (TCP wrappers)",
		func() *Arguments { return &Arguments{} }, New)
}

// Sink is a running sink "hostsdeny".
type Sink struct {
	path        string
	daemons     string
	ledger      string // the file naming the sink's lines; "" without a state directory
	flushOnStop bool
	fw          fwsync.Stage
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	s := &Sink{path: args.Path, daemons: strings.TrimSpace(args.DaemonList), flushOnStop: args.FlushOnStop}
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
	s.fw.Init(typeName, opts)
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
func (s *Sink) Stats() map[string]int64 { return s.fw.Stats() }

// Run implements engine.Stage: it keeps the file's lines in line with the
// actions it reads until in is closed. It never writes to out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	return s.fw.Run(ctx, in, fwsync.Config{Groups: []string{""}, FlushOnStop: s.flushOnStop}, &backend{s: s})
}

// ReadsMatches implements engine.MatchesReader: this sink never shows the
// lines behind a ban, so counters need not keep them for it.
func (s *Sink) ReadsMatches() bool { return false }
