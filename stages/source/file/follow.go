package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/logtime"
)

// saveEvery is how often positions are saved while lines move. A crash
// repeats at most this much.
const saveEvery = time.Second

// minGrace is how long a file rotated away is still read: the writer
// (syslog) may write to it until it is told to reopen its files.
const minGrace = time.Second

// follower is one path followed: a path named in paths, or a file a glob
// matches.
type follower struct {
	path  string // as written or matched; the Origin of its lines
	abs   string
	key   string // store key
	plain bool   // named in paths: followed even while missing
	r     *reader
	// last is the reader most recently detached from the path, whose
	// position is saved for the path while it has no file.
	last *reader
	// problem is the last problem logged, so it is logged once.
	problem string
}

// pattern is a glob of paths.
type pattern struct{ text, abs string }

// mark ties a line of a batch to the position it ends at.
type mark struct {
	r         *reader
	gen       int
	off, line int64
}

// runner is the state of one follow run. All of it belongs to the Run
// goroutine.
type runner struct {
	s      *Source
	ctx    context.Context
	out    chan<- engine.Event
	log    *slog.Logger
	clock  engine.Clock
	store  engine.Store
	rewind time.Duration
	grace  time.Duration

	plain     []string
	patterns  []pattern
	followers map[string]*follower // by path
	byAbs     map[string]*follower
	order     []*follower // sorted by path
	readers   map[fileID]*reader
	detached  []*reader // oldest first

	watcher     *fsnotify.Watcher
	watched     map[string]bool
	watchFailed map[string]bool

	now      time.Time
	buf      []byte
	batch    []engine.Line
	marks    []mark
	dirty    bool // positions moved since the last save
	lastSave time.Time
	saved    map[string]string // key → value last saved
	gone     []string          // keys to delete on the next save

	// det finds the dates of lines for from = "recent"; made on first use.
	det *logtime.Detector

	// Start only: saved positions by file, and the keys that had one.
	byID  map[fileID]*position
	known map[string]bool
}

// follow is Run outside replay.
func (s *Source) follow(ctx context.Context, out chan<- engine.Event) error {
	rn, err := s.newRunner(ctx, out)
	if err != nil {
		return err
	}
	defer rn.close()
	rn.loadPositions()
	rn.rescan(true)
	rn.readRotatedWhileDown()
	rn.byID, rn.known = nil, nil
	if s.ready != nil {
		s.ready()
	}

	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if rn.watcher != nil {
		events, watchErrs = rn.watcher.Events, rn.watcher.Errors
	}
	timer := rn.clock.NewTimer(s.poll)
	defer timer.Stop()
	nextPoll := rn.clock.Now().Add(s.poll)
	pass := true
	for {
		if pass && !rn.readAll() {
			break
		}
		rn.now = rn.clock.Now()
		if rn.dirty && rn.now.Sub(rn.lastSave) >= saveEvery {
			rn.save()
		}
		timer.Reset(max(rn.nextWake(nextPoll).Sub(rn.now), 0))
		pass = false
		rescan := false
		select {
		case <-ctx.Done():
		case ev, ok := <-events:
			if !ok {
				events = nil
				break
			}
			pass, rescan = rn.relevant(ev)
			// Take every queued event before reading: a burst of writes
			// costs one pass.
			for more := true; more; {
				select {
				case ev, ok := <-events:
					if !ok {
						events, more = nil, false
						break
					}
					p, r := rn.relevant(ev)
					pass, rescan = pass || p, rescan || r
				default:
					more = false
				}
			}
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				break
			}
			// An overflow lost events: look at everything.
			rn.log.Warn("file watch error; rescanning", "err", err)
			rescan = true
		case <-timer.C():
			pass = true
		}
		if ctx.Err() != nil {
			break
		}
		rn.now = rn.clock.Now()
		if !rn.now.Before(nextPoll) {
			rescan = true
			nextPoll = rn.now.Add(s.poll)
		}
		if rescan {
			rn.rescan(false)
			pass = true
		}
	}
	rn.now = rn.clock.Now()
	rn.save()
	return nil
}

func (s *Source) newRunner(ctx context.Context, out chan<- engine.Event) (*runner, error) {
	rn := &runner{
		s:           s,
		ctx:         ctx,
		out:         out,
		log:         s.opts.Logger,
		clock:       s.opts.Clock,
		store:       s.opts.Store,
		rewind:      s.opts.Rewind,
		followers:   map[string]*follower{},
		byAbs:       map[string]*follower{},
		readers:     map[fileID]*reader{},
		watched:     map[string]bool{},
		watchFailed: map[string]bool{},
		buf:         make([]byte, 64<<10),
		batch:       make([]engine.Line, 0, BatchSize),
		saved:       map[string]string{},
	}
	rn.now = rn.clock.Now()
	rn.lastSave = rn.now
	for _, p := range s.paths {
		if !strings.ContainsAny(p, "*?[") {
			rn.plain = append(rn.plain, filepath.Clean(p))
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", p, err)
		}
		rn.patterns = append(rn.patterns, pattern{text: p, abs: abs})
	}
	if s.backend != BackendPolling {
		w, err := fsnotify.NewWatcher()
		switch {
		case err == nil:
			rn.watcher = w
		case s.backend == BackendInotify:
			return nil, fmt.Errorf("cannot set up inotify (backend = %q): %w", s.backend, err)
		default:
			rn.log.Warn("inotify is not available; polling the files instead", "poll_interval", s.poll, "err", err)
		}
	}
	rn.grace = minGrace
	if rn.watcher == nil {
		// A poll sees the rotation up to one interval late.
		rn.grace = max(minGrace, 2*s.poll)
	}
	return rn, nil
}

// close closes the watcher and every file. Positions are saved before.
func (rn *runner) close() {
	if rn.watcher != nil {
		rn.watcher.Close()
	}
	for _, r := range rn.readers {
		r.f.Close()
		r.closed = true
	}
}

// nextWake is when the loop must look again without an event: the next
// poll, the next save, or the end of a rotated file's grace.
func (rn *runner) nextWake(nextPoll time.Time) time.Time {
	wake := nextPoll
	if rn.dirty && rn.store != nil {
		wake = earliest(wake, rn.lastSave.Add(saveEvery))
	}
	for _, r := range rn.detached {
		wake = earliest(wake, r.deadline)
	}
	return wake
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// relevant says what a file system event asks for: a read pass (a
// followed file changed) and a rescan (a file came or went under a
// followed name or a glob). Events of other files in the same directories
// ask for nothing.
func (rn *runner) relevant(ev fsnotify.Event) (pass, rescan bool) {
	name := filepath.Clean(ev.Name)
	if rn.watched[name] && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
		// The watch went with the directory; the rescan watches it again
		// once it is back.
		delete(rn.watched, name)
		return true, true
	}
	f := rn.byAbs[name]
	if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if f != nil || rn.matches(name) {
			return true, true
		}
	}
	// A file rotated away has a name no longer known: any write nearby
	// may be its.
	return f != nil || len(rn.detached) > 0, false
}

func (rn *runner) matches(name string) bool {
	for _, p := range rn.patterns {
		if ok, _ := filepath.Match(p.abs, name); ok {
			return true
		}
	}
	return false
}

// watchDirs watches the directories of the followed paths and globs. A
// directory that cannot be watched (missing, or out of inotify watches)
// is still polled every poll_interval.
func (rn *runner) watchDirs() {
	if rn.watcher == nil {
		return
	}
	dirs := map[string]bool{}
	for _, f := range rn.order {
		dirs[filepath.Dir(f.abs)] = true
	}
	for _, p := range rn.patterns {
		dir := filepath.Dir(p.abs)
		if !strings.ContainsAny(dir, "*?[") {
			dirs[dir] = true
			continue
		}
		matches, _ := filepath.Glob(dir)
		for _, m := range matches {
			dirs[m] = true
		}
	}
	for dir := range dirs {
		if rn.watched[dir] {
			continue
		}
		err := rn.watcher.Add(dir)
		switch {
		case err == nil:
			rn.watched[dir] = true
			delete(rn.watchFailed, dir)
		case errors.Is(err, fs.ErrNotExist):
		case !rn.watchFailed[dir]:
			rn.watchFailed[dir] = true
			rn.log.Warn("cannot watch directory; polling it instead", "dir", dir, "poll_interval", rn.s.poll, "err", err)
		}
	}
}
