// Package file is the `source "file"` stage: it reads log files named by
// paths and glob patterns.
//
// # Replay: reading once
//
// In replay (Options.Replay) globs are expanded when the stage runs and the
// matches read in sorted order; files ending in .gz are decompressed. When
// more than one file is read, their lines are merged in time order (each
// line's timestamp found by the default date detection; a line without one
// keeps the time of the line before it in the same file), so a log and its
// rotated siblings (auth.log, auth.log.1, auth.log.2.gz) replay as one
// timeline. A missing or unreadable file is logged with its name and the
// others go on. The stage ends after the last line.
//
// # Daemon: following
//
// Otherwise the stage follows its files until it is stopped, as `tail -F`
// does. Globs are evaluated again whenever a watched directory changes and
// every poll_interval, and a file that appears later is read from its
// start. A new line is sent as soon as it is read: with the inotify
// backend (fsnotify on the files' directories) within milliseconds of the
// write, with the polling backend within poll_interval. A line without its
// newline yet is held until the newline comes (or the file is rotated
// away). Rotation is found by device and inode, never by name: after
// rename+create the old file is read to its end (and for a short grace
// while its writer may still be writing to it) and the new one from its
// start; a file that shrinks (copytruncate, truncation) or whose first line
// changed is read again from its start; a deleted file is followed again
// once it is created. A renamed file that the globs also match keeps its
// position, so `auth.log*` does not read auth.log.1 twice. Compressed
// (.gz) files are not followed.
//
// The follower is our own, on fsnotify and a stat loop, and not
// nxadm/tail: that package has known races between rotation
// (copytruncate, reopen) and reading that lose or repeat lines, and its
// polling mode does not find rotation by inode. Both backends here share
// the same reading and rotation code; they differ only in what wakes it.
//
// # Positions
//
// With a state store (Options.Store) the position of each file (device,
// inode, offset, line number, a hash of the first line, and a few
// checkpoints of when which offset was read) is saved about once a second
// while lines move and when the stage stops. On start a file that is still
// the same file resumes at its position; a file rotated while f2b was down
// is found by its inode in the same directory and its rest read before the
// new file; a file that changed otherwise is read from its start. With
// Options.Rewind, a resumed file starts at the checkpoint Rewind ago and
// the lines before the saved position are marked Line.Recount, so counters
// rebuild the failure windows the restart lost. A crash (no save on stop)
// may repeat up to a second of lines; a clean stop neither loses nor
// repeats any.
//
// # First start
//
// A file without a saved position is read from its end (from = "end", the
// default), whole (from = "start"), or from its recent lines (from =
// "recent"): from the first line dated at or after now - Options.Rewind,
// what fail2ban does for a logpath without `tail`, so that failures of
// the last find_time before the start count. That line is found by a
// binary search over byte offsets: each probe reads one chunk, skips to
// the next line start and takes the first line with a date (the default
// date detection, as the merge of replay uses; undated lines are
// skipped). The undated lines between the last older line and that line
// are read too, as fail2ban does (they continue the older line); undated
// lines that end a file of only older lines are not. Dates that do not
// grow through the file (several writers, a clock step) make the search
// err towards reading earlier: from the line found it walks back over
// the lines dated up to a minute before the cutoff and takes in any at or
// after it. Without a line with a date, or without a Rewind, "recent"
// reads from the end. The lines read are new lines, not Recount: nothing
// of them was counted before. Files that appear later are read from
// their start whatever `from` says.
package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// Arguments configure a file source.
type Arguments struct {
	// Paths are file names or glob patterns (filepath.Match syntax).
	Paths []string `hcl:"paths"`
	// Backend is how the daemon learns that a file changed: "inotify"
	// (file system notifications), "polling" (a stat of every file each
	// poll_interval) or "auto" (inotify, polling when inotify cannot be
	// set up).
	Backend string `hcl:"backend,optional"`
	// From is where a file without a saved position is read from on the
	// first start: "end" (only new lines), "start" (the whole file) or
	// "recent" (from the first line dated at or after now minus the
	// longest find_time of the pipeline's counters, found by a binary
	// search; as "end" when no line has a date or no counter has a
	// find_time). Files that appear while f2b runs are always read from
	// their start.
	From string `hcl:"from,optional"`
	// PollInterval is how often the polling backend looks at the files,
	// and how often the inotify backend evaluates the globs again as a
	// safety net.
	PollInterval string `hcl:"poll_interval,optional"`
}

// Attribute names, for errors.
const (
	attrPaths        = "paths"
	attrBackend      = "backend"
	attrFrom         = "from"
	attrPollInterval = "poll_interval"
)

// Backends and start points.
const (
	BackendAuto    = "auto"
	BackendInotify = "inotify"
	BackendPolling = "polling"
	FromEnd        = "end"
	FromStart      = "start"
	FromRecent     = "recent"
)

// minPollInterval keeps a mistyped interval from turning the poll loop
// into a busy loop.
const minPollInterval = 10 * time.Millisecond

// Register adds source "file" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "source",
		Type:    "file",
		Out:     engine.KindLine,
		Summary: "reads log files named by paths and globs",
		NewArgs: func() any { return DefaultArguments() },
		Build:   engine.Build(New),
	})
}

// DefaultArguments returns Arguments with every optional attribute at its
// default.
func DefaultArguments() *Arguments {
	return &Arguments{Backend: BackendAuto, From: FromEnd, PollInterval: "1s"}
}

// Source reads files once (replay) or follows them (daemon).
type Source struct {
	opts    engine.Options
	paths   []string
	backend string
	from    string // FromEnd, FromStart or FromRecent
	poll    time.Duration
	stats   Counts

	mu    sync.Mutex
	files []string // what Files reports

	// ready, when set (tests), is called once the files are open and
	// their start positions fixed.
	ready func()
}

var (
	_ engine.Stage      = (*Source)(nil)
	_ engine.Stats      = (*Source)(nil)
	_ engine.FileLister = (*Source)(nil)
)

// New checks args and returns the stage. Empty optional attributes take
// their defaults.
func New(opts engine.Options, args *Arguments) (*Source, error) {
	def := DefaultArguments()
	var errs []error
	if len(args.Paths) == 0 {
		errs = append(errs, confval.AttrErr(attrPaths, errors.New("no paths given; name at least one file or glob")))
	}
	for i, p := range args.Paths {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, &confval.AttrError{Attr: attrPaths, Index: i, Err: errors.New("empty path")})
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, &confval.AttrError{Attr: attrPaths, Index: i, Err: fmt.Errorf("bad glob pattern %q: %w", p, err)})
		}
	}
	backend := orDefault(args.Backend, def.Backend)
	if !slices.Contains([]string{BackendAuto, BackendInotify, BackendPolling}, backend) {
		errs = append(errs, confval.AttrErr(attrBackend, fmt.Errorf("unknown backend %q; use %q, %q or %q", backend, BackendAuto, BackendInotify, BackendPolling)))
	}
	from := orDefault(args.From, def.From)
	if !slices.Contains([]string{FromEnd, FromStart, FromRecent}, from) {
		errs = append(errs, confval.AttrErr(attrFrom, fmt.Errorf("unknown start %q; use %q, %q or %q", from, FromEnd, FromStart, FromRecent)))
	}
	poll, err := confval.ParseDuration(orDefault(args.PollInterval, def.PollInterval), false)
	switch {
	case err != nil:
		errs = append(errs, confval.AttrErr(attrPollInterval, err))
	case poll == confval.Permanent:
		errs = append(errs, confval.AttrErr(attrPollInterval, errors.New("cannot be permanent; write an interval such as \"1s\"")))
	case poll < minPollInterval:
		errs = append(errs, confval.AttrErr(attrPollInterval, fmt.Errorf("%v is too short; the shortest is %v", poll, minPollInterval)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = engine.WallClock{}
	}
	return &Source{opts: opts, paths: args.Paths, backend: backend, from: from, poll: poll}, nil
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return strings.TrimSpace(s)
}

// Counts are the source's statistics.
type Counts struct {
	Lines       atomic.Int64 // lines emitted, recounted ones excluded
	Recount     atomic.Int64 // lines emitted again to rebuild windows (Line.Recount)
	Skipped     atomic.Int64 // overlong lines skipped
	Errors      atomic.Int64 // files that could not be opened or read
	Rotations   atomic.Int64 // files replaced or removed under their name
	Truncations atomic.Int64 // files that shrank or were rewritten in place
}

// Stats implements engine.Stats.
func (s *Source) Stats() map[string]int64 {
	return map[string]int64{
		"lines":       s.stats.Lines.Load(),
		"recount":     s.stats.Recount.Load(),
		"skipped":     s.stats.Skipped.Load(),
		"read_errors": s.stats.Errors.Load(),
		"rotations":   s.stats.Rotations.Load(),
		"truncations": s.stats.Truncations.Load(),
	}
}

// Files implements engine.FileLister: the files being followed (before
// Run, what the paths match now).
func (s *Source) Files() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		return Expand(s.paths, slog.New(slog.DiscardHandler))
	}
	return slices.Clone(s.files)
}

func (s *Source) setFiles(files []string) {
	s.mu.Lock()
	s.files = files
	s.mu.Unlock()
}

// Run implements engine.Stage. In replay it reads every matching file once
// and returns; otherwise it follows the files until ctx is done.
func (s *Source) Run(ctx context.Context, _ <-chan engine.Event, out chan<- engine.Event) error {
	if s.opts.Replay {
		files := Expand(s.paths, s.opts.Logger)
		return ReadMerged(ctx, files, nil, s.opts.Logger, &s.stats, out)
	}
	return s.follow(ctx, out)
}
