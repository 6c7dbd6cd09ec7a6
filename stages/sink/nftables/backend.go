package nftables

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Run implements engine.Stage. It collects the burst of restored bans,
// reconciles the kernel with them, then applies the actions it reads in
// batches (one nft transaction each) until in is closed.
//
// NOTE: Run never writes to out. nft runs in the background while Run
// keeps reading, so the next batch holds every action that came meanwhile.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	nft := s.nftName
	if s.fw.Wrap == nil {
		p, err := findNft(s.nftName)
		if err != nil {
			return err
		}
		nft = p
	}
	b := &backend{cfg: &s.cfg, logger: s.fw.Logger, clock: s.fw.Clock, run: s.fw.Runner(), nft: nft, known: map[string]bool{}}
	return s.fw.Run(ctx, in, fwsync.Config{
		Prefix:  s.cfg.prefix,
		GroupOf: setBase,
		// The element's timeout is the ban's end; the script caps it at
		// maxTimeout.
		Timeout: func(end, _ time.Time) time.Time { return end },
		// The table and chains are set up at start even without bans,
		// and the sets the chains refer to are the sink's (a jail of a former
		// run whose elements are to go).
		Discover:    true,
		FlushOnStop: s.cfg.flushOnStop,
	}, b)
}

// backend is the fwsync.Backend of one Run: the sink's chains (one per
// hook) and its jails' sets (the groups: set bases) in the table, changed through
// `nft -f -`, one transaction per call.
type backend struct {
	cfg    *config
	logger *slog.Logger
	clock  engine.Clock
	run    *fwrun.Runner
	nft    string

	// The fields below are only used by the driver's goroutines, one at
	// a time.

	// known are the set bases the chains' rules cover.
	known map[string]bool
	// listed are the sets of the last listing of the table; nil before
	// one.
	listed map[string]bool
	// pending declares the sets and rules of jails whose first bans come:
	// it goes into the transaction of their elements.
	pending string
}

// apply runs one nft transaction.
func (b *backend) apply(ctx context.Context, text string) error {
	_, err := b.run.Run(ctx, text, b.nft, "-f", "-")
	return err
}

func (b *backend) list(ctx context.Context) (*snapshot, error) {
	return listTable(ctx, b.run, b.nft, b.cfg.table, b.cfg.ownChains(), fwsync.Now(b.clock))
}

// Sync implements fwsync.Backend: it reads the table, creates the table,
// chains and sets where missing and repairs those not as configured,
// removes the chains of hooks no longer configured, and replaces the
// chains' rules by the configured ones, in one transaction. It returns
// the elements of the sets of groups, and of the sets the chains refer
// to that the sink did not know (a jail of a former run).
func (b *backend) Sync(ctx context.Context, groups []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	if held, ok := b.declare(groups); ok {
		return held, nil
	}
	b.pending = ""
	snap, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	b.listed = make(map[string]bool, len(snap.sets))
	for name := range snap.sets {
		b.listed[name] = true
	}
	take := map[string]bool{}
	for _, g := range groups {
		take[g] = true
	}
	for g := range snap.owned {
		if !b.known[g] {
			take[g] = true
		}
	}
	sc := &script{cfg: b.cfg}
	held := b.setup(sc, snap, take)
	if err := b.apply(ctx, sc.String()); err != nil {
		return nil, fmt.Errorf("setting up table inet %s: %w", b.cfg.table, err)
	}
	maps.Copy(b.known, take)
	return held, nil
}

// declare handles the first bans of jails whose sets the last listing of
// the table did not hold, as a start of the sink without them finds them:
// their sets and the chains' rules go into the transaction of their
// elements, and the sets hold nothing yet. The chains are declared too,
// so one deleted behind the sink's back comes back with its rules. So a jail's first ban costs no
// listing and no transaction of its own. Should the sets be there after
// all (an admin made them), that transaction fails and the driver's
// resync lists the table and repairs it.
func (b *backend) declare(groups []string) (map[string]map[netip.Prefix]fwsync.Elem, bool) {
	if b.listed == nil || len(groups) == 0 {
		return nil, false
	}
	for _, g := range groups {
		if b.known[g] || b.listed[g+famSuffix[famV4]] || b.listed[g+famSuffix[famV6]] {
			return nil, false
		}
	}
	sc := &script{cfg: b.cfg}
	sc.b.WriteString(b.pending)
	if b.pending == "" {
		sc.table()
		sc.chains()
	}
	held := make(map[string]map[netip.Prefix]fwsync.Elem, len(groups))
	for _, g := range slices.Sorted(slices.Values(groups)) {
		held[g] = map[netip.Prefix]fwsync.Elem{}
		b.known[g] = true
		sc.set(g, famV4)
		sc.set(g, famV6)
	}
	sc.flushChains()
	sc.rules(slices.Sorted(maps.Keys(b.known)))
	b.pending = sc.String()
	return held, true
}

// setup writes the table, chains, sets of take and rules into sc,
// repairing what is not as the configuration says, and returns the
// elements of the sets of take that stay.
func (b *backend) setup(sc *script, snap *snapshot, take map[string]bool) map[string]map[netip.Prefix]fwsync.Elem {
	// What is there and as configured is not declared again, so a restart
	// shows no change in `nft monitor` but the rules'.
	if !snap.exists {
		sc.table()
	}
	for _, hc := range b.cfg.chains {
		c, ok := snap.chains[hc.name]
		if ok && (c.typ != "filter" || c.hook != hc.hook || c.prio != b.cfg.priority || c.policy != "accept") {
			// nft cannot change a base chain's hook or priority in place.
			sc.deleteChain(hc.name)
			ok = false
		}
		if !ok {
			sc.chain(hc)
		}
		sc.flushChain(hc.name)
	}
	for _, hc := range b.cfg.unused {
		// A chain of a hook the configuration dropped would go on
		// blocking there, and keep its sets from being replaced.
		if _, ok := snap.chains[hc.name]; ok {
			b.logger.Info("removing the chain of a hook no longer configured", "chain", hc.name, "hook", hc.hook)
			sc.deleteChain(hc.name)
		}
	}
	held := make(map[string]map[netip.Prefix]fwsync.Elem, len(take))
	for _, base := range slices.Sorted(maps.Keys(take)) {
		h := map[netip.Prefix]fwsync.Elem{}
		held[base] = h
		for fam, suf := range famSuffix {
			name := base + suf
			si := snap.sets[name]
			switch {
			case si == nil:
			case si.typ != b.cfg.setType(fam) || !slices.Equal(slices.Sorted(slices.Values(si.flags)), b.cfg.setFlags(fam)):
				b.logger.Warn("replacing a set whose type or flags are not the configured ones", "set", name, "type", si.typ, "flags", si.flags)
				sc.line("delete set inet", b.cfg.table, name)
				si = nil
			case !b.fits(si, fam):
				b.logger.Warn("flushing a set whose elements do not have the configured prefix length", "set", name)
				sc.line("flush set inet", b.cfg.table, name)
				si = nil
			}
			if si != nil {
				maps.Copy(h, si.elems)
			} else {
				sc.set(base, fam)
			}
		}
	}
	bases := maps.Clone(take)
	maps.Copy(bases, b.known)
	sc.rules(slices.Sorted(maps.Keys(bases)))
	return held
}

// fits reports whether every element of si is what the sink would write
// for family fam: addresses, or networks of the configured length.
func (b *backend) fits(si *setInfo, fam int) bool {
	if si.unknown > 0 {
		return false
	}
	for p := range si.elems {
		want := p.Addr().BitLen()
		if b.cfg.prefix[fam] != 0 {
			want = b.cfg.prefix[fam]
		}
		if fwsync.Family(p.Addr()) != fam || p.Bits() != want {
			return false
		}
	}
	return true
}

// Apply implements fwsync.Backend: one nft transaction, which applies
// whole or not at all.
func (b *backend) Apply(ctx context.Context, ops []fwsync.Op) error {
	sc := &script{cfg: b.cfg}
	sc.b.WriteString(b.pending)
	sc.ops(ops, fwsync.Now(b.clock))
	if err := b.apply(ctx, sc.String()); err != nil {
		return err
	}
	b.pending = ""
	return nil
}

// Teardown implements fwsync.Backend: it removes the sink's chains and
// sets, and the table when nothing else is left in it (flush_on_stop).
func (b *backend) Teardown(ctx context.Context, groups []string) error {
	snap, err := b.list(ctx)
	if err != nil {
		return err
	}
	if !snap.exists {
		return nil
	}
	bases := maps.Clone(snap.owned)
	maps.Copy(bases, b.known)
	for _, g := range groups {
		bases[g] = true
	}
	sc := &script{cfg: b.cfg}
	if snap.others == 0 {
		// Only this sink's chains and sets are there: the table goes.
		sc.line("delete table inet", b.cfg.table)
	} else {
		for _, name := range b.cfg.ownChains() {
			if _, ok := snap.chains[name]; ok {
				sc.deleteChain(name)
			}
		}
		for _, base := range slices.Sorted(maps.Keys(bases)) {
			for _, suf := range famSuffix {
				if snap.sets[base+suf] != nil {
					sc.line("delete set inet", b.cfg.table, base+suf)
				}
			}
		}
	}
	if sc.b.Len() == 0 {
		return nil
	}
	if err := b.apply(ctx, sc.String()); err != nil {
		return fmt.Errorf("removing the sink's chains and sets from table inet %s: %w", b.cfg.table, err)
	}
	b.logger.Info("flush_on_stop: removed the sink's chains and sets", "table", b.cfg.table, "table_removed", snap.others == 0)
	return nil
}
