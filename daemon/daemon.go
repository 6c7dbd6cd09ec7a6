// Package daemon runs a compiled pipeline as a long-lived service: it
// starts the graph with the ban store, swaps in a new graph on reload only
// once the new one has compiled, answers the control socket's requests and
// purges old ban history.
//
// A reload stops the old graph cleanly (sources save their positions,
// counters have recorded every ban) and starts the new one, which restores
// the running bans of the jails it still has from the store and re-reads
// the last find_time of each log (Options.Rewind) to rebuild the failure
// windows. So a reload, a restart and a crash recover the same way, through
// one tested path.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Config is what a daemon needs.
type Config struct {
	// Compile loads the pipeline files and compiles them with bo. It is
	// called on start and on every reload; its error should describe every
	// problem found (the diagnostics).
	Compile func(bo engine.BuildOptions) (*engine.Graph, error)
	// Store keeps bans and positions; nil keeps nothing.
	Store engine.Store
	// Logger receives the daemon's own logs; the graph's nodes log through
	// it too.
	Logger *slog.Logger
	// Notify reports state changes to the service manager (sd_notify); nil
	// for none.
	Notify func(state string)
	// Grace bounds how long a stopping graph may drain (default 10 s).
	Grace time.Duration
	// HistoryAge is how long ended bans are kept as history for repeat
	// offenders (default 7 days); PurgeEvery how often old ones are
	// deleted (default 1 hour).
	HistoryAge, PurgeEvery time.Duration
	// Clock is the wall clock (tests may pin it).
	Clock engine.Clock
}

// purger is implemented by stores that can delete old history.
type purger interface {
	Purge(before time.Time) (int, error)
}

// Daemon is a running service. Its methods are safe for concurrent use.
type Daemon struct {
	cfg Config
	log *slog.Logger

	mu  sync.Mutex
	cur *instance // the running graph; nil before start and after stop

	reloadReq chan chan error
	stopReq   chan struct{}
	stopOnce  sync.Once
	// ready is closed once the first pipeline runs; requests wait for it,
	// so a client that pinged the daemon finds its jails.
	ready chan struct{}
}

// instance is one running graph.
type instance struct {
	g       *engine.Graph
	cancel  context.CancelFunc
	done    chan error // receives Run's result once
	jails   map[string]engine.Jail
	sources map[string]sourceList // jail → what its sources read
	names   []string              // jail names, sorted
}

// New returns a daemon for cfg; Run starts it.
func New(cfg Config) *Daemon {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Notify == nil {
		cfg.Notify = func(string) {}
	}
	if cfg.Grace == 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.HistoryAge == 0 {
		cfg.HistoryAge = 7 * 24 * time.Hour
	}
	if cfg.PurgeEvery == 0 {
		cfg.PurgeEvery = time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = engine.WallClock{}
	}
	return &Daemon{
		cfg:       cfg,
		log:       cfg.Logger,
		reloadReq: make(chan chan error),
		stopReq:   make(chan struct{}),
		ready:     make(chan struct{}),
	}
}

// ErrStopped is returned by Reload once the daemon is stopping.
var ErrStopped = errors.New("f2b is stopping")

// Run compiles and starts the pipeline, then serves until ctx is done, Stop
// is called, or the pipeline ends by itself. It returns the compile error
// when the pipeline does not start, and the pipeline's errors when it ends.
func (d *Daemon) Run(ctx context.Context) error {
	inst, err := d.start(ctx)
	if err != nil {
		return err
	}
	d.setCurrent(inst)
	close(d.ready)
	d.cfg.Notify("READY=1")
	d.log.Info("f2b running", "jails", strings.Join(inst.names, ","))
	d.purge()

	purge := time.NewTicker(d.cfg.PurgeEvery)
	defer purge.Stop()
	for {
		select {
		case <-ctx.Done():
			return d.shutdown("signal")
		case <-d.stopReq:
			return d.shutdown("stop command")
		case reply := <-d.reloadReq:
			reply <- d.reload(ctx)
		case err := <-d.current().done:
			// The pipeline ended by itself (its sources ended, or every
			// stage failed): the daemon has nothing left to do.
			d.setCurrent(nil)
			if err != nil {
				return fmt.Errorf("pipeline stopped: %w", err)
			}
			d.log.Info("pipeline ended: its sources have no more input")
			return nil
		case <-purge.C:
			d.purge()
		}
	}
}

// Reload compiles the pipeline again and, if it is valid, replaces the
// running graph with it. An invalid pipeline leaves the running one alone
// and is returned as the error.
func (d *Daemon) Reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case d.reloadReq <- reply:
	case <-d.stopReq:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop asks Run to stop the pipeline and return.
func (d *Daemon) Stop() {
	d.stopOnce.Do(func() { close(d.stopReq) })
}

func (d *Daemon) current() *instance {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

func (d *Daemon) setCurrent(inst *instance) {
	d.mu.Lock()
	d.cur = inst
	d.mu.Unlock()
}

// buildOptions are the options of a daemon graph: the wall clock, the
// store, and the rewind.
func (d *Daemon) buildOptions(rewind time.Duration) engine.BuildOptions {
	return engine.BuildOptions{
		Logger: d.log,
		Clock:  d.cfg.Clock,
		Now:    d.cfg.Clock.Now,
		Store:  d.cfg.Store,
		Rewind: rewind,
	}
}

// compile builds the graph twice: once to learn the longest find_time of
// its counters (how far sources re-read on start), once with that rewind.
// Build is pure, so the first graph is simply dropped.
func (d *Daemon) compile() (*engine.Graph, error) {
	g, err := d.cfg.Compile(d.buildOptions(0))
	if err != nil {
		return nil, err
	}
	var rewind time.Duration
	if d.cfg.Store != nil {
		for _, id := range g.Nodes() {
			st, _ := g.Stage(id)
			if w, ok := st.(engine.Windowed); ok {
				rewind = max(rewind, w.FindTime())
			}
		}
	}
	if rewind == 0 {
		return g, nil
	}
	return d.cfg.Compile(d.buildOptions(rewind))
}

// start compiles and starts a graph.
func (d *Daemon) start(ctx context.Context) (*instance, error) {
	g, err := d.compile()
	if err != nil {
		return nil, err
	}
	return d.launch(ctx, g), nil
}

// launch runs g in its own goroutine.
func (d *Daemon) launch(ctx context.Context, g *engine.Graph) *instance {
	// NOTE: the graph outlives neither the daemon's context nor its own
	// cancel; cancelling stops its sources and the rest drains.
	gctx, cancel := context.WithCancel(ctx)
	inst := &instance{g: g, cancel: cancel, done: make(chan error, 1)}
	inst.index()
	go func() {
		inst.done <- g.Run(gctx, engine.RunOptions{Grace: d.cfg.Grace})
	}()
	return inst
}

// sourceList is what the sources behind a jail read, as status shows it.
type sourceList struct {
	files   []string // the files of file sources
	journal []string // the matches of each journal source; nil when none
}

// index finds the jails of the graph and the sources behind each.
func (inst *instance) index() {
	inst.jails = map[string]engine.Jail{}
	inst.sources = map[string]sourceList{}
	for _, id := range inst.g.Nodes() {
		st, _ := inst.g.Stage(id)
		j, ok := st.(engine.Jail)
		if !ok {
			continue
		}
		name := strings.TrimPrefix(id, "counter.")
		inst.jails[name] = j
		inst.names = append(inst.names, name)
		var l sourceList
		inst.sourcesOf(id, map[string]bool{}, &l)
		slices.Sort(l.files)
		l.files = slices.Compact(l.files)
		inst.sources[name] = l
	}
	slices.Sort(inst.names)
}

// sourcesOf walks upstream from id to the sources and collects what they
// read into l.
func (inst *instance) sourcesOf(id string, seen map[string]bool, l *sourceList) {
	for _, up := range inst.g.Inputs(id) {
		if seen[up] {
			continue
		}
		seen[up] = true
		st, _ := inst.g.Stage(up)
		fl, isFiles := st.(engine.FileLister)
		jr, isJournal := st.(engine.JournalReader)
		switch {
		case isFiles:
			l.files = append(l.files, fl.Files()...)
		case isJournal:
			l.journal = append(l.journal, jr.JournalMatches())
		default:
			inst.sourcesOf(up, seen, l)
		}
	}
}

// stop cancels inst's sources and waits for its graph to drain.
func (inst *instance) stop() error {
	inst.cancel()
	return <-inst.done
}

// reload swaps in a freshly compiled graph.
func (d *Daemon) reload(ctx context.Context) error {
	d.cfg.Notify("RELOADING=1")
	defer d.cfg.Notify("READY=1")
	g, err := d.compile()
	if err != nil {
		d.log.Error("reload refused: the pipeline is invalid; the running one stays", "err", err)
		return fmt.Errorf("reload refused, the running pipeline stays: %w", err)
	}
	old := d.current()
	d.setCurrent(nil)
	if old != nil {
		if err := old.stop(); err != nil {
			d.log.Warn("old pipeline stopped with errors", "err", err)
		}
	}
	inst := d.launch(ctx, g)
	d.setCurrent(inst)
	d.log.Info("pipeline reloaded", "jails", strings.Join(inst.names, ","))
	return nil
}

// shutdown stops the running graph.
func (d *Daemon) shutdown(why string) error {
	d.cfg.Notify("STOPPING=1")
	d.log.Info("stopping", "reason", why)
	inst := d.current()
	d.setCurrent(nil)
	if inst == nil {
		return nil
	}
	return inst.stop()
}

// purge deletes ended bans older than the history age.
func (d *Daemon) purge() {
	p, ok := d.cfg.Store.(purger)
	if !ok {
		return
	}
	n, err := p.Purge(d.cfg.Clock.Now().Add(-d.cfg.HistoryAge))
	if err != nil {
		d.log.Error("purging old bans failed", "err", err)
		return
	}
	if n > 0 {
		d.log.Info("purged old bans", "count", n)
	}
}
