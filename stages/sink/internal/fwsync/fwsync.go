// Package fwsync is the engine of the firewall sinks that keep a set of
// banned addresses in some target (nftables sets, ipset sets, iptables
// chains, a hosts.deny file, blackhole routes, a firewall tool): it turns
// the actions a sink reads into batches of element changes that a Backend
// applies, reconciles the target with the restored bans at start, and
// retries failures with backoff, so that each sink only knows how to
// read, set up and change its target.
//
// What it does, in the order of a Run:
//
//   - The restored bans that come first are collected as one burst: it
//     ends at the first action that is not a restored one, or RestoreIdle
//     after the last restored one.
//   - The groups (a jail's sets or chain; one group for a target shared by
//     every jail) of the burst are synced, with those the backend finds in
//     the target (the sets nftables' chain refers to): the backend sets up
//     their structures and says what they hold; elements the bans want and
//     the target lacks are added, those whose timeout is more than 5 s off
//     the ban's end are updated, those that match are left untouched.
//     Elements no ban wants are deleted StaleGrace after the start (unless
//     a late ban claims them by then), so a counter slower to restore its
//     bans never leaves a gap.
//   - Then the actions are applied in batches: the backend applies one
//     batch while the next one gathers every action that arrives
//     meanwhile (up to MaxBatch elements). A group's first action syncs
//     that group first; its changes go into the batch.
//   - A batch that fails as a whole is logged with the tool's message and
//     counted; the driver then resyncs (reads the target again and
//     applies every difference), with backoff from RetryFirst to RetryMax
//     while that fails. A resync whose changes fail is split in halves
//     until the changes the target refuses are found; those are logged
//     and retried with the backoff. Elements a backend reports as failed
//     on their own (PartialError) are retried with the backoff too. New
//     actions go on in their own batches meanwhile.
//   - Every CheckInterval, between batches, a backend that is a Checker
//     says whether the structures it set up are still there: something
//     outside f2b may have removed them (`nft flush ruleset`,
//     `iptables -F`, a firewall service's reload), and with them every
//     ban, while no new ban comes to fail and call for a resync. When
//     some are missing, the driver resyncs at once, which sets them up
//     again and puts every ban back.
//   - When the input ends (or ctx is done), the batch in flight lands and,
//     with FlushOnStop, the backend removes what it set up.
package fwsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Defaults of the Config tunings.
const (
	DefaultMaxBatch    = 5000
	DefaultRestoreIdle = 200 * time.Millisecond
	DefaultStaleGrace  = 10 * time.Second
	DefaultRetryFirst  = time.Second
	DefaultRetryMax    = time.Minute
	// DefaultCheckInterval is the CheckInterval that Stage.Run gives a
	// driver: bans lost to a firewall reload are back within it, for
	// the price of a few cheap listings (no elements) per interval.
	DefaultCheckInterval = 30 * time.Second

	// reconcileSlack is how far an element's timeout read from the target
	// may be from the wanted end and still be left as it is.
	reconcileSlack = 5 * time.Second
	// bisectBudget bounds the backend calls one search for refused
	// changes makes, so a target that refuses everything costs little.
	bisectBudget = 64
)

// Elem is what the target holds for one element.
type Elem struct {
	// End is when the target's own timeout removes the element; zero for
	// none.
	End time.Time
	// Approx marks an element read back from the target, whose timeouts
	// are whole seconds.
	Approx bool
}

// Key names one element: an address or network of a group.
type Key struct {
	Group string
	Net   netip.Prefix
}

// OpKind is what a change does to an element.
type OpKind uint8

// Kinds of changes.
const (
	// Add puts an element the target lacks.
	Add OpKind = iota + 1
	// Update changes the timeout of an element the target holds.
	Update
	// Delete removes an element the target holds.
	Delete
)

// Op is one element change.
type Op struct {
	Kind OpKind
	Key  Key
	// End is the timeout the element has after an Add or Update: zero for
	// none (always zero without Config.Timeout).
	End time.Time
}

// Backend is what a sink knows of its target.
type Backend interface {
	// Sync sets up the structures of groups in the target (sets, chains,
	// a file) where they are missing, and returns the elements each holds
	// (a backend that cannot read its target returns none). It must not
	// remove elements. It may return groups beyond those asked for: groups
	// of the sink it found in the target (the sets of a jail that no
	// longer sends bans), which the driver then keeps in line too.
	Sync(ctx context.Context, groups []string) (map[string]map[netip.Prefix]Elem, error)
	// Apply applies ops, whose groups Sync has set up. A failure that
	// concerns some ops only is a *PartialError; any other error means
	// the target is to be read again.
	Apply(ctx context.Context, ops []Op) error
	// Teardown removes what Sync set up for groups (flush_on_stop).
	Teardown(ctx context.Context, groups []string) error
}

// Checker is a Backend that can tell cheaply whether what Sync set up is
// still in the target. A backend that cannot (or whose target nobody
// else changes) need not implement it.
type Checker interface {
	// Check returns what is missing of the structures Sync set up for
	// groups and of those every group shares (a table, chains, jumps,
	// sets), as short descriptions for the log ("chain inet f2b
	// input_drop"); none when all is there. It must cost little and
	// change nothing: it lists no elements, except for a backend whose
	// elements are its only structures (routes, hosts.deny lines), which
	// reads them in one listing or one file read. A tool's failure that means a
	// structure is missing is such a description; an error is a check
	// that could not tell.
	Check(ctx context.Context, groups []string) (missing []string, err error)
}

// PartialError is Apply's error when some ops failed on their own and
// the others were applied.
type PartialError struct {
	Failed []Op
	Err    error
}

// Error implements error.
func (e *PartialError) Error() string {
	return fmt.Sprintf("%d of the changes failed: %v", len(e.Failed), e.Err)
}

// Unwrap returns the cause.
func (e *PartialError) Unwrap() error { return e.Err }

// Config is what a driver needs of its sink.
type Config struct {
	// Type is the sink type: the prefix of the Stats keys.
	Type string
	// Prefix is the network length per family (IPv4, IPv6) an element
	// covers; 0 for one address.
	Prefix [2]int
	// GroupOf maps a jail to its group; nil puts every jail in group "".
	GroupOf func(jail string) string
	// Timeout, when the target keeps timeouts, maps the wanted end of an
	// element (zero: permanent) at now to the end the target can hold
	// (zero: none, e.g. past the longest timeout it takes). Nil: the
	// target keeps no timeouts, so a held element is never updated.
	Timeout func(end, now time.Time) time.Time
	// Groups are synced at start even when no restored ban names them, so
	// their stale elements go: the one group of a target that all jails
	// share ("" with a nil GroupOf).
	Groups []string
	// Discover makes the driver call Sync at start and Teardown at the end
	// even with no group to name: the backend finds its groups in the
	// target and sets up what all groups share (nftables' table and
	// chain).
	Discover bool
	// FlushOnStop makes the driver call Backend.Teardown at the end.
	FlushOnStop bool
	Logger      *slog.Logger
	// Clock is the time bans are weighed on; the wall clock when nil or
	// when it gives no time (a replay).
	Clock engine.Clock

	MaxBatch    int
	RestoreIdle time.Duration
	StaleGrace  time.Duration
	RetryFirst  time.Duration
	RetryMax    time.Duration
	// CheckInterval is how often, between batches, a backend that is a
	// Checker is asked whether its structures are still there (a
	// resync sets up those that are not and re-applies every ban). Zero
	// or negative: never (Stage.Run gives DefaultCheckInterval).
	CheckInterval time.Duration
}

func (c *Config) groupOf(jail string) string {
	if c.GroupOf == nil {
		return ""
	}
	return c.GroupOf(jail)
}

// Driver applies a sink's actions through its Backend.
type Driver struct {
	cfg     Config
	backend Backend
	checker Checker // nil: no periodic check

	batches, added, deleted, errors atomic.Int64
}

// New returns a driver of b; zero tunings take their defaults.
func New(cfg Config, b Backend) *Driver {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.RestoreIdle <= 0 {
		cfg.RestoreIdle = DefaultRestoreIdle
	}
	if cfg.StaleGrace <= 0 {
		cfg.StaleGrace = DefaultStaleGrace
	}
	if cfg.RetryFirst <= 0 {
		cfg.RetryFirst = DefaultRetryFirst
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = engine.WallClock{}
	}
	d := &Driver{cfg: cfg, backend: b}
	if c, ok := b.(Checker); ok && cfg.CheckInterval > 0 {
		d.checker = c
	}
	return d
}

// Stats returns the backend calls that applied changes (TYPE_batches),
// the elements added and deleted (TYPE_elements_added,
// TYPE_elements_deleted; an update counts as one of each) and the failed
// backend calls (TYPE_errors; a check that could not tell is one).
func (d *Driver) Stats() map[string]int64 {
	return stats(d.cfg.Type, d.batches.Load(), d.added.Load(), d.deleted.Load(), d.errors.Load())
}

func stats(typ string, batches, added, deleted, errors int64) map[string]int64 {
	p := typ + "_"
	return map[string]int64{
		p + "batches":          batches,
		p + "elements_added":   added,
		p + "elements_deleted": deleted,
		p + "errors":           errors,
	}
}

// now is the time bans are weighed on (see Now).
func (d *Driver) now() time.Time { return Now(d.cfg.Clock) }

// runner is the state of one Run.
type runner struct {
	d     *Driver
	cfg   *Config
	st    *state
	ready map[string]bool // groups Sync has set up
	fresh map[string]bool // groups of actions taken that were not ready

	flight *flight // the batch the backend is applying, or nil

	// resyncAt is when the next full resync is due (zero: none);
	// resyncWait its backoff.
	resyncAt   time.Time
	resyncWait time.Duration

	// retry holds the elements whose changes failed on their own; they
	// are marked dirty again at retryAt.
	retry     map[Key]struct{}
	retryAt   time.Time
	retryWait time.Duration

	// checkAt is when the next check of the structures is due (zero:
	// none).
	checkAt time.Time

	// started is when the start sync ran; stale are target elements no
	// restored ban stood for then, deleted at staleAt unless a ban claims
	// them by then.
	started time.Time
	stale   []Key
	staleAt time.Time
}

// flight is one batch being applied.
type flight struct {
	ops  []Op
	done chan error
}

// Run reads actions from in until it is closed (or ctx is done) and keeps
// the target in line with them. It never writes to an output: the
// backend applies batches in the background while Run keeps reading, so
// the next batch holds every action that came meanwhile.
func (d *Driver) Run(ctx context.Context, in <-chan engine.Event) error {
	r := &runner{d: d, cfg: &d.cfg, st: newState(&d.cfg), ready: map[string]bool{}, fresh: map[string]bool{}, retry: map[Key]struct{}{}}
	defer func() {
		// Never leave a backend call behind.
		if r.flight != nil {
			<-r.flight.done
		}
	}()
	for _, g := range d.cfg.Groups {
		r.st.group(g)
	}
	first, open := r.restore(ctx, in)
	if ctx.Err() != nil {
		return r.stopped(ctx)
	}
	r.started = time.Now()
	r.staleAt = r.started.Add(r.cfg.StaleGrace)
	r.sync(ctx, r.allGroups())
	if r.d.checker != nil {
		r.checkAt = time.Now().Add(r.cfg.CheckInterval)
	}
	if first != nil {
		r.take(*first)
	}
	if !open {
		in = nil
	}
	return r.loop(ctx, in)
}

// restore reads the restored bans that come first and returns the first
// other action (nil when none came) and whether in is still open.
func (r *runner) restore(ctx context.Context, in <-chan engine.Event) (*engine.Event, bool) {
	timer := time.NewTimer(r.cfg.RestoreIdle)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				return nil, false
			}
			if ev.Kind != engine.KindAction || ev.Action == nil {
				continue
			}
			if !ev.Action.Restored {
				return &ev, true
			}
			r.take(ev)
			timer.Reset(r.cfg.RestoreIdle)
		case <-timer.C:
			return nil, true
		case <-ctx.Done():
			return nil, true
		}
	}
}

// take records one event's action.
func (r *runner) take(ev engine.Event) {
	if ev.Kind != engine.KindAction || ev.Action == nil {
		return
	}
	g, ok := r.st.apply(ev.Action)
	switch {
	case !ok:
		r.cfg.Logger.Warn("action without a valid address skipped", "jail", ev.Action.Jail, "host", ev.Action.HostText)
	case !r.ready[g]:
		r.fresh[g] = true
	}
}

func (r *runner) allGroups() []string {
	out := make([]string, 0, len(r.st.groups))
	for g := range r.st.groups {
		out = append(out, g)
	}
	return out
}

func (r *runner) loop(ctx context.Context, in <-chan engine.Event) error {
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	defer wake.Stop()
	for {
		if r.flight == nil && ctx.Err() == nil {
			r.due(ctx)
			r.launch(ctx)
		}
		if in == nil && r.flight == nil && len(r.st.dirty) == 0 {
			return r.finish(ctx)
		}
		var done chan error
		if r.flight != nil {
			done = r.flight.done
		}
		// What nextWake names runs between batches only (in due): while
		// one is in flight its landing wakes the loop, and a wake that
		// is past would spin it.
		if next := r.nextWake(); !next.IsZero() && r.flight == nil {
			wake.Reset(max(time.Until(next), 0))
		}
		select {
		case ev, ok := <-in:
			if !ok {
				in = nil
				break
			}
			r.take(ev)
			// Take what else is waiting, so it goes into the next batch.
		drain:
			for n := 1; n < r.cfg.MaxBatch; n++ {
				select {
				case ev, ok := <-in:
					if !ok {
						in = nil
						break drain
					}
					r.take(ev)
				default:
					break drain
				}
			}
		case err := <-done:
			r.landed(ctx, err)
		case <-wake.C:
		case <-ctx.Done():
			return r.stopped(ctx)
		}
		wake.Stop()
	}
}

// due runs what is due now: the deletion of stale elements, a resync,
// the check of the structures, the retries. It runs between batches
// only, so a check never meets a batch half applied.
func (r *runner) due(ctx context.Context) {
	now := time.Now()
	if len(r.stale) > 0 && !now.Before(r.staleAt) {
		for _, k := range r.stale {
			r.st.dirty[k] = struct{}{}
		}
		r.stale = nil
	}
	if !r.resyncAt.IsZero() && !now.Before(r.resyncAt) {
		r.sync(ctx, r.allGroups())
	}
	if !r.checkAt.IsZero() && !now.Before(r.checkAt) {
		r.check(ctx)
	}
	if !r.retryAt.IsZero() && !now.Before(r.retryAt) {
		for k := range r.retry {
			r.st.dirty[k] = struct{}{}
		}
		clear(r.retry)
		r.retryAt = time.Time{}
	}
}

// nextWake is the earliest of the pending resync, retries, check and
// stale deletion.
func (r *runner) nextWake() time.Time {
	var t time.Time
	for _, c := range []time.Time{r.resyncAt, r.retryAt, r.checkAt} {
		if !c.IsZero() && (t.IsZero() || c.Before(t)) {
			t = c
		}
	}
	if len(r.stale) > 0 && (t.IsZero() || r.staleAt.Before(t)) {
		t = r.staleAt
	}
	return t
}

// launch syncs the groups that dirty elements name for the first time,
// then starts the backend on the next batch.
func (r *runner) launch(ctx context.Context) {
	if len(r.st.dirty) == 0 {
		return
	}
	var fresh []string
	for g := range r.fresh {
		if !r.ready[g] {
			fresh = append(fresh, g)
		}
	}
	// Synced now, or (when that fails) by the resync it schedules.
	clear(r.fresh)
	if len(fresh) > 0 {
		r.syncFresh(ctx, fresh)
	}
	ops := r.st.takeDirty(r.d.now(), r.cfg.MaxBatch, r.ready)
	if len(ops) == 0 {
		return
	}
	f := &flight{ops: ops, done: make(chan error, 1)}
	r.flight = f
	go func() { f.done <- r.apply(ctx, ops) }()
}

// landed records the result of the batch in flight.
func (r *runner) landed(ctx context.Context, err error) {
	f := r.flight
	r.flight = nil
	var pe *PartialError
	switch {
	case err == nil:
		r.commit(f.ops)
		if len(r.retry) == 0 {
			r.retryWait = 0
		}
	case errors.As(err, &pe):
		r.partial(f.ops, pe)
	default:
		// The message names the sink type: "nft batch failed" says what
		// failed without the attributes.
		r.cfg.Logger.Warn(r.cfg.Type+" batch failed; reading the target again", "sink", r.cfg.Type, "elements", len(f.ops), "err", err)
		// Its elements are redone by a resync, which reads the target
		// first: at once after a first failure, with backoff while
		// failures go on. New actions go on meanwhile.
		if r.resyncAt.IsZero() && ctx.Err() == nil {
			r.sync(ctx, r.allGroups())
		}
	}
}

// partial commits the ops of a batch that did not fail and schedules the
// failed ones for a retry.
func (r *runner) partial(ops []Op, pe *PartialError) {
	failed := make(map[Key]bool, len(pe.Failed))
	for _, o := range pe.Failed {
		failed[o.Key] = true
	}
	var okOps []Op
	for _, o := range ops {
		if !failed[o.Key] {
			okOps = append(okOps, o)
		}
	}
	r.commit(okOps)
	r.cfg.Logger.Warn("changes failed; retrying them", "sink", r.cfg.Type, "failed", len(pe.Failed), "elements", len(ops), "err", pe.Err)
	r.retryLater(pe.Failed)
}

// retryLater schedules ops' elements for another try with backoff.
func (r *runner) retryLater(ops []Op) {
	for _, o := range ops {
		r.retry[o.Key] = struct{}{}
	}
	if r.retryAt.IsZero() {
		r.retryWait = min(max(r.retryWait*2, r.cfg.RetryFirst), r.cfg.RetryMax)
		r.retryAt = time.Now().Add(r.retryWait)
	}
}

func (r *runner) commit(ops []Op) {
	r.st.commit(ops)
	a, d := counts(ops)
	r.d.added.Add(a)
	r.d.deleted.Add(d)
}

// apply is one backend call that changes elements.
func (r *runner) apply(ctx context.Context, ops []Op) error {
	r.d.batches.Add(1)
	err := r.d.backend.Apply(ctx, ops)
	if err != nil {
		r.d.errors.Add(1)
	}
	return err
}

// sync sets up groups, reads what they hold and brings every element of
// them in line with the bans, synchronously. Within StaleGrace of the
// start, elements no ban wants are kept until then. On failure it
// schedules a resync of every group with backoff.
func (r *runner) sync(ctx context.Context, groups []string) {
	if len(groups) == 0 && !r.cfg.Discover {
		r.resyncAt, r.resyncWait = time.Time{}, 0
		return
	}
	if ops, ok := r.resync(ctx, groups); ok {
		added, deleted := counts(ops)
		r.cfg.Logger.Info("target in line with the bans", "sink", r.cfg.Type, "groups", len(groups),
			"added", added, "deleted", deleted, "stale_pending", len(r.stale))
	}
}

// resync is sync's work: it returns the changes it applied, and false
// when it failed and has scheduled a resync with backoff.
func (r *runner) resync(ctx context.Context, groups []string) ([]Op, bool) {
	ops, ok := r.read(ctx, groups)
	if !ok {
		return nil, false
	}
	if len(ops) > 0 {
		budget := bisectBudget
		if !r.applyAll(ctx, ops, &budget) {
			r.resyncFailed()
			return ops, false
		}
	}
	r.resyncAt, r.resyncWait = time.Time{}, 0
	return ops, true
}

// check asks the Checker whether the structures of the groups set up
// are still in the target, and resyncs every group when some are
// missing: that sets them up again and puts back every ban the target
// lost with them. A resync already pending does that anyway, so no check
// runs then.
func (r *runner) check(ctx context.Context) {
	r.checkAt = time.Now().Add(r.cfg.CheckInterval)
	groups := make([]string, 0, len(r.ready))
	for g := range r.ready {
		groups = append(groups, g)
	}
	if !r.resyncAt.IsZero() || len(groups) == 0 && !r.cfg.Discover {
		return
	}
	slices.Sort(groups)
	missing, err := r.d.checker.Check(ctx, groups)
	if err != nil {
		r.d.errors.Add(1)
		r.cfg.Logger.Warn("cannot check the target", "sink", r.cfg.Type, "err", err)
		return
	}
	if len(missing) == 0 {
		return
	}
	lost := strings.Join(missing, ", ")
	ops, ok := r.resync(ctx, r.allGroups())
	if !ok {
		r.cfg.Logger.Warn("structures of the sink were removed from the target; setting them up again failed, retrying",
			"sink", r.cfg.Type, "missing", lost)
		return
	}
	added, _ := counts(ops)
	r.cfg.Logger.Warn("structures of the sink were removed from the target; set them up again and restored the bans",
		"sink", r.cfg.Type, "missing", lost, "restored", added)
}

// syncFresh sets up the groups of first actions and reads what they
// hold; their changes go into the next batch, with the other actions'.
func (r *runner) syncFresh(ctx context.Context, groups []string) {
	ops, _ := r.read(ctx, groups)
	for _, o := range ops {
		r.st.dirty[o.Key] = struct{}{}
	}
}

// read sets up groups, takes what they hold as what the target holds, and
// returns the changes that bring them in line with the bans (those that
// delete stale elements within StaleGrace of the start are kept for
// then). Only on failure, when it has scheduled a resync, is ok false.
func (r *runner) read(ctx context.Context, groups []string) (ops []Op, ok bool) {
	// Every element of these groups gets compared, so their marks go.
	in := make(map[string]bool, len(groups))
	for _, g := range groups {
		in[g] = true
	}
	for k := range r.st.dirty {
		if in[k.Group] {
			delete(r.st.dirty, k)
		}
	}
	held, err := r.d.backend.Sync(ctx, groups)
	if err != nil {
		r.d.errors.Add(1)
		r.cfg.Logger.Error("cannot set up or read the target", "sink", r.cfg.Type, "err", err)
		r.resyncFailed()
		return nil, false
	}
	groups = slices.Clip(groups)
	for name := range held {
		if !in[name] {
			// A group the backend found in the target: the sink's too.
			groups = append(groups, name)
		}
	}
	now := r.d.now()
	deferStale := time.Now().Before(r.staleAt)
	for _, name := range groups {
		g := r.st.group(name)
		g.applied = make(map[netip.Prefix]Elem, len(held[name]))
		for n, e := range held[name] {
			g.applied[n] = e
		}
		r.ready[name] = true
		for _, k := range r.st.keys(name) {
			o, ok := r.st.diff(k, now)
			switch {
			case !ok:
			case deferStale && o.Kind == Delete:
				r.stale = append(r.stale, k)
			default:
				ops = append(ops, o)
			}
		}
	}
	return ops, true
}

// applyAll applies ops in batches of MaxBatch; a batch that fails is
// split in halves until the changes the target refuses are found (within
// budget backend calls), which are scheduled for a retry. It reports
// whether every change was applied.
func (r *runner) applyAll(ctx context.Context, ops []Op, budget *int) bool {
	ok := true
	for len(ops) > 0 {
		n := min(len(ops), r.cfg.MaxBatch)
		if !r.bisect(ctx, ops[:n], budget) {
			ok = false
		}
		ops = ops[n:]
	}
	return ok
}

func (r *runner) bisect(ctx context.Context, ops []Op, budget *int) bool {
	if *budget <= 0 || ctx.Err() != nil {
		r.retryLater(ops)
		return false
	}
	*budget--
	err := r.apply(ctx, ops)
	var pe *PartialError
	switch {
	case err == nil:
		r.commit(ops)
		return true
	case errors.As(err, &pe):
		r.partial(ops, pe)
		return false
	case len(ops) == 1:
		r.cfg.Logger.Error("the target refuses a change", "sink", r.cfg.Type, "group", ops[0].Key.Group,
			"element", ops[0].Key.Net.String(), "err", err)
		r.retryLater(ops)
		return false
	}
	a := r.bisect(ctx, ops[:len(ops)/2], budget)
	b := r.bisect(ctx, ops[len(ops)/2:], budget)
	return a && b
}

// resyncFailed schedules the next resync with backoff.
func (r *runner) resyncFailed() {
	r.resyncWait = min(max(r.resyncWait*2, r.cfg.RetryFirst), r.cfg.RetryMax)
	r.resyncAt = time.Now().Add(r.resyncWait)
}

// finish runs once the input has ended and every batch has landed: a
// last try of a pending resync and of pending retries, then the teardown
// when asked for.
func (r *runner) finish(ctx context.Context) error {
	if !r.resyncAt.IsZero() {
		r.sync(ctx, r.allGroups())
	}
	if len(r.retry) > 0 {
		var ops []Op
		now := r.d.now()
		for k := range r.retry {
			if o, ok := r.st.diff(k, now); ok && r.ready[k.Group] {
				ops = append(ops, o)
			}
		}
		clear(r.retry)
		budget := bisectBudget
		r.applyAll(ctx, ops, &budget)
	}
	if !r.resyncAt.IsZero() || len(r.retry) > 0 {
		r.cfg.Logger.Warn("stopping with the target not in line with the bans; the next start reconciles it", "sink", r.cfg.Type)
	}
	if r.cfg.FlushOnStop {
		r.teardown(ctx)
	}
	return nil
}

// stopped ends a Run that was told to stop hard: the batch in flight is
// waited for (its program was killed), and FlushOnStop still applies.
func (r *runner) stopped(ctx context.Context) error {
	if r.flight != nil {
		r.landed(ctx, <-r.flight.done)
	}
	if r.cfg.FlushOnStop {
		r.teardown(context.WithoutCancel(ctx))
	}
	return fmt.Errorf("stopped before its input ended: %w", context.Cause(ctx))
}

func (r *runner) teardown(ctx context.Context) {
	var groups []string
	for g := range r.ready {
		groups = append(groups, g)
	}
	if len(groups) == 0 && !r.cfg.Discover {
		return
	}
	if err := r.d.backend.Teardown(ctx, groups); err != nil {
		r.d.errors.Add(1)
		r.cfg.Logger.Error("flush_on_stop: cannot remove what the sink set up", "sink", r.cfg.Type, "err", err)
		return
	}
	r.cfg.Logger.Info("flush_on_stop: removed what the sink set up", "sink", r.cfg.Type, "groups", len(groups))
}
