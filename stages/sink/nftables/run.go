package nftables

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// runner is the state of one Run.
type runner struct {
	s     *Sink
	cfg   *config
	argv  []string
	st    *state
	ready map[string]bool // set bases whose sets and rules the kernel holds

	flight *flight // the batch nft is applying, or nil

	// resyncAt is when the next full resync is due (zero: none); resyncWait
	// its backoff.
	resyncAt   time.Time
	resyncWait time.Duration

	// stale are kernel elements no restored ban stood for at start; they
	// are deleted at staleAt unless a ban claims them by then.
	stale   []elemKey
	staleAt time.Time
}

// flight is one batch being applied by an nft process.
type flight struct {
	ops      []op
	newBases []string
	done     chan error
}

// Run implements engine.Stage. It collects the burst of restored bans,
// reconciles the kernel with them, then applies the actions it reads in
// batches (one nft transaction each) until in is closed.
//
// NOTE: Run never writes to out. nft runs in the background while Run
// keeps reading, so the next batch holds every action that came meanwhile.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	argv := s.nftArgv
	if argv == nil {
		p, err := findNft(s.nftName)
		if err != nil {
			return err
		}
		argv = []string{p}
	}
	r := &runner{s: s, cfg: &s.cfg, argv: argv, st: newState(s.cfg.prefix), ready: map[string]bool{}}
	defer func() {
		// Never leave an nft process behind.
		if r.flight != nil {
			<-r.flight.done
		}
	}()

	first, open := r.restore(ctx, in)
	if ctx.Err() != nil {
		return r.stopped(ctx)
	}
	r.resync(ctx, true)
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
	timer := time.NewTimer(r.s.restoreIdle)
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
			timer.Reset(r.s.restoreIdle)
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
	if !r.st.apply(ev.Action) {
		r.s.logger.Warn("action without a valid address skipped", "jail", ev.Action.Jail, "host", ev.Action.HostText)
	}
}

func (r *runner) loop(ctx context.Context, in <-chan engine.Event) error {
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	defer wake.Stop()
	for {
		if r.flight == nil && ctx.Err() == nil {
			now := time.Now()
			if !r.staleAt.IsZero() && !now.Before(r.staleAt) {
				for _, k := range r.stale {
					r.st.dirty[k] = struct{}{}
				}
				r.stale, r.staleAt = nil, time.Time{}
			}
			if !r.resyncAt.IsZero() && !now.Before(r.resyncAt) {
				r.resync(ctx, false)
			}
			r.launch(ctx)
		}
		if in == nil && r.flight == nil && len(r.st.dirty) == 0 {
			return r.finish(ctx)
		}
		var done chan error
		if r.flight != nil {
			done = r.flight.done
		}
		if next := r.nextWake(); !next.IsZero() {
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
			for n := 1; n < maxBatch; n++ {
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

// stopped ends a Run that was told to stop hard: the batch in flight is
// waited for (its nft was killed), and flush_on_stop still applies.
func (r *runner) stopped(ctx context.Context) error {
	r.land(ctx)
	if r.cfg.flushOnStop {
		r.teardown(context.WithoutCancel(ctx))
	}
	return fmt.Errorf("stopped before its input ended: %w", context.Cause(ctx))
}

// nextWake is the earliest of the pending resync and the stale deletion.
func (r *runner) nextWake() time.Time {
	t := r.resyncAt
	if !r.staleAt.IsZero() && (t.IsZero() || r.staleAt.Before(t)) {
		t = r.staleAt
	}
	return t
}

// finish runs once the input has ended and every batch has landed: a last
// try of a pending resync, then the teardown when asked for.
func (r *runner) finish(ctx context.Context) error {
	if !r.resyncAt.IsZero() {
		r.resync(ctx, false)
		if !r.resyncAt.IsZero() {
			r.s.logger.Warn("stopping with the kernel's sets not in line with the bans; the next start reconciles them")
		}
	}
	if r.cfg.flushOnStop {
		r.teardown(ctx)
	}
	return nil
}

// launch starts nft on the next batch of dirty elements.
func (r *runner) launch(ctx context.Context) {
	if len(r.st.dirty) == 0 {
		return
	}
	now := r.s.now()
	ops := r.st.takeDirty(now, maxBatch)
	if len(ops) == 0 {
		return
	}
	sc := &script{cfg: r.cfg}
	var newBases []string
	for _, o := range ops {
		if !r.ready[o.key.base] && !slices.Contains(newBases, o.key.base) {
			newBases = append(newBases, o.key.base)
		}
	}
	if len(newBases) > 0 {
		// A jail's first ban: its sets, and the chain's rules with its own.
		sc.tableChain()
		for _, b := range newBases {
			sc.sets(b)
		}
		bases := slices.Collect(maps.Keys(r.ready))
		sc.rules(slices.Sorted(slices.Values(append(bases, newBases...))))
	}
	sc.ops(ops, now)
	f := &flight{ops: ops, newBases: newBases, done: make(chan error, 1)}
	r.flight = f
	text := sc.String()
	go func() { f.done <- r.apply(ctx, text) }()
}

// land waits for the batch in flight, if any, and records its result.
func (r *runner) land(ctx context.Context) {
	if r.flight != nil {
		r.landed(ctx, <-r.flight.done)
	}
}

// landed records the result of the batch in flight.
func (r *runner) landed(ctx context.Context, err error) {
	f := r.flight
	r.flight = nil
	if err == nil {
		r.st.commit(f.ops)
		r.count(f.ops)
		for _, b := range f.newBases {
			r.ready[b] = true
		}
		return
	}
	r.s.logger.Warn("nft batch failed; resyncing the table", "elements", len(f.ops), "err", err)
	// The transaction changed nothing. Its elements are redone by a resync,
	// which reads the kernel first: at once after a first failure, with
	// backoff while failures go on. New actions go on meanwhile.
	if r.resyncAt.IsZero() && ctx.Err() == nil {
		r.resync(ctx, false)
	}
}

// apply runs one nft transaction.
func (r *runner) apply(ctx context.Context, text string) error {
	r.s.batches.Add(1)
	_, err := nft(ctx, r.argv, text, "-f", "-")
	if err != nil {
		r.s.nftErrors.Add(1)
	}
	return err
}

func (r *runner) count(ops []op) {
	a, d := counts(ops)
	r.s.added.Add(a)
	r.s.deleted.Add(d)
}

// resync reads the table, sets up the table, chain, sets and rules, and
// brings every element of the sink's sets in line with the bans, in one
// transaction. At start (deferStale), elements no ban wants are kept for
// staleGrace first. On failure it schedules itself again with backoff.
func (r *runner) resync(ctx context.Context, deferStale bool) {
	now := r.s.now()
	snap, err := listTable(ctx, r.argv, r.cfg.table, r.cfg.chain, now)
	if err != nil {
		r.s.nftErrors.Add(1)
		r.resyncFailed(err)
		return
	}
	setup := &script{cfg: r.cfg}
	bases := r.setup(setup, snap)
	// Every element gets compared, so the marks of the dirty ones go.
	clear(r.st.dirty)
	var ops []op
	var stale []elemKey
	for _, base := range bases {
		for _, k := range r.st.keys(base) {
			o, ok := r.st.diff(k, now)
			switch {
			case !ok:
			case deferStale && o.kind == opDelete:
				stale = append(stale, k)
			default:
				ops = append(ops, o)
			}
		}
	}
	sc := &script{cfg: r.cfg}
	sc.b.WriteString(setup.String())
	sc.ops(ops, now)
	if err := r.apply(ctx, sc.String()); err != nil {
		r.s.logger.Error("nft could not set up or reconcile the table", "table", r.cfg.table, "elements", len(ops), "err", err)
		if len(ops) > 0 && r.apply(ctx, setup.String()) == nil {
			// The table is fine; some element is refused: apply the rest.
			r.markReady(bases)
			r.bisect(ctx, ops, now)
		}
		r.resyncFailed(nil)
		return
	}
	r.markReady(bases)
	r.st.commit(ops)
	r.count(ops)
	if deferStale && len(stale) > 0 {
		r.stale, r.staleAt = stale, time.Now().Add(r.s.staleGrace)
	}
	r.resyncAt, r.resyncWait = time.Time{}, 0
	added, deleted := counts(ops)
	r.s.logger.Info("nftables table in line with the bans", "table", r.cfg.table, "chain", r.cfg.chain,
		"jails", len(bases), "added", added, "deleted", deleted, "stale_pending", len(stale))
}

func (r *runner) markReady(bases []string) {
	clear(r.ready)
	for _, b := range bases {
		r.ready[b] = true
	}
}

// resyncFailed schedules the next resync with backoff.
func (r *runner) resyncFailed(err error) {
	r.resyncWait = min(max(r.resyncWait*2, r.s.retryFirst), retryMax)
	r.resyncAt = time.Now().Add(r.resyncWait)
	if err != nil {
		r.s.logger.Error("cannot read the nftables table", "table", r.cfg.table, "err", err, "retry_in", r.resyncWait)
	}
}

// bisect applies ops in halves until the elements nft refuses are found;
// it commits the rest and logs the refused ones.
func (r *runner) bisect(ctx context.Context, ops []op, now time.Time) {
	sc := &script{cfg: r.cfg}
	sc.ops(ops, now)
	err := r.apply(ctx, sc.String())
	switch {
	case err == nil:
		r.st.commit(ops)
		r.count(ops)
	case len(ops) == 1:
		j := r.st.jails[ops[0].key.base]
		r.s.logger.Error("nft refuses an element", "jail", j.name, "element", elemText(ops[0].key.net), "err", err)
	case ctx.Err() == nil:
		r.bisect(ctx, ops[:len(ops)/2], now)
		r.bisect(ctx, ops[len(ops)/2:], now)
	}
}

// setup writes the table, chain, sets and rules into sc, repairing what is
// not as the configuration says, and takes the kernel's elements of the
// sink's sets as what it holds. It returns the set bases of the sink: the
// jails it has seen and those its chain refers to.
func (r *runner) setup(sc *script, snap *snapshot) []string {
	bases := map[string]bool{}
	for b := range snap.owned {
		bases[b] = true
	}
	for b := range r.st.jails {
		bases[b] = true
	}
	sorted := slices.Sorted(maps.Keys(bases))

	// What is there and as configured is not declared again, so a restart
	// shows no change in `nft monitor` but the rules'.
	if !snap.exists {
		sc.line("add table inet", r.cfg.table)
	}
	c := snap.chain
	if c != nil && (c.typ != "filter" || c.hook != "input" || c.prio != r.cfg.priority || c.policy != "accept") {
		// nft cannot change a base chain's hook or priority in place.
		sc.line("flush chain inet", r.cfg.table, r.cfg.chain)
		sc.line("delete chain inet", r.cfg.table, r.cfg.chain)
		c = nil
	}
	if c == nil {
		sc.line("add chain inet", r.cfg.table, r.cfg.chain, r.cfg.chainDecl())
	}
	// Flushed before any set is replaced: a set a rule refers to cannot go.
	sc.line("flush chain inet", r.cfg.table, r.cfg.chain)
	for _, base := range sorted {
		j := r.st.jail(base, "")
		j.applied = map[netip.Prefix]elemState{}
		for fam, suf := range famSuffix {
			name := base + suf
			si := snap.sets[name]
			switch {
			case si == nil:
			case si.typ != r.cfg.setType(fam) || !slices.Equal(sortedCopy(si.flags), r.cfg.setFlags(fam)):
				r.s.logger.Warn("replacing a set whose type or flags are not the configured ones", "set", name, "type", si.typ, "flags", si.flags)
				sc.line("delete set inet", r.cfg.table, name)
				si = nil
			case !r.fits(si, fam):
				r.s.logger.Warn("flushing a set whose elements do not have the configured prefix length", "set", name)
				sc.line("flush set inet", r.cfg.table, name)
				si = nil
			}
			if si != nil {
				maps.Copy(j.applied, si.elems)
			} else {
				sc.line("add set inet", r.cfg.table, name, r.cfg.setDecl(fam))
			}
		}
	}
	for _, base := range sorted {
		for _, rule := range r.cfg.rules(base) {
			sc.line("add rule inet", r.cfg.table, r.cfg.chain, rule)
		}
	}
	return sorted
}

// fits reports whether every element of si is what the sink would write
// for family fam: addresses, or networks of the configured length.
func (r *runner) fits(si *setInfo, fam int) bool {
	if si.unknown > 0 {
		return false
	}
	for p := range si.elems {
		want := p.Addr().BitLen()
		if r.cfg.prefix[fam] != 0 {
			want = r.cfg.prefix[fam]
		}
		if famOf(p.Addr()) != fam || p.Bits() != want {
			return false
		}
	}
	return true
}

func sortedCopy(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

// teardown removes the sink's chain and sets, and the table when nothing
// else is left in it (flush_on_stop).
func (r *runner) teardown(ctx context.Context) {
	now := r.s.now()
	snap, err := listTable(ctx, r.argv, r.cfg.table, r.cfg.chain, now)
	if err != nil {
		r.s.logger.Error("flush_on_stop: cannot read the table", "table", r.cfg.table, "err", err)
		return
	}
	if !snap.exists {
		return
	}
	bases := map[string]bool{}
	for b := range snap.owned {
		bases[b] = true
	}
	for b := range r.ready {
		bases[b] = true
	}
	sc := &script{cfg: r.cfg}
	if snap.others == 0 {
		// Only this sink's chain and sets are there: the table goes.
		sc.line("delete table inet", r.cfg.table)
	} else {
		if snap.chain != nil {
			sc.line("flush chain inet", r.cfg.table, r.cfg.chain)
			sc.line("delete chain inet", r.cfg.table, r.cfg.chain)
		}
		for _, b := range slices.Sorted(maps.Keys(bases)) {
			for _, suf := range famSuffix {
				if snap.sets[b+suf] != nil {
					sc.line("delete set inet", r.cfg.table, b+suf)
				}
			}
		}
	}
	if sc.b.Len() == 0 {
		return
	}
	if err := r.apply(ctx, sc.String()); err != nil {
		r.s.logger.Error("flush_on_stop: cannot remove the sink's chain and sets", "table", r.cfg.table, "err", err)
		return
	}
	r.s.logger.Info("flush_on_stop: removed the sink's chain and sets", "table", r.cfg.table, "table_removed", snap.others == 0)
}
