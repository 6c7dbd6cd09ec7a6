package fwsync

import (
	"net/netip"
	"slices"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// The driver keeps what it wants in the target (the bans in force) apart
// from what it knows the target holds, and sends the backend the
// difference of the elements that actions touched. So actions that cancel
// out within a batch cost nothing, a failed batch is redone from the bans
// as they are by then (a newer action wins by itself), and the
// reconciliation at start is the same difference over every element.

// ban is one host banned by one jail, until end (zero: permanent).
type ban struct {
	jail string
	host netip.Addr
	end  time.Time
}

// group is what the driver knows of one group's elements.
type group struct {
	// bans are the bans in force that each element stands for: the
	// element stays while it holds one. Most elements hold one ban (two
	// jails banning a host, or hosts of a network, make more), so a short
	// list is all they need: 20,000 bans in a burst cost no map each.
	bans map[netip.Prefix][]ban
	// applied is what the target holds, as far as the driver knows.
	applied map[netip.Prefix]Elem
}

// state is the wanted and the applied elements of every group.
type state struct {
	cfg    *Config
	groups map[string]*group
	dirty  map[Key]struct{} // elements actions touched since the last batch
	// groupOf caches Config.GroupOf, which may check a name with a
	// regular expression, for each action.
	groupOf map[string]string
}

func newState(cfg *Config) *state {
	return &state{cfg: cfg, groups: map[string]*group{}, dirty: map[Key]struct{}{}, groupOf: map[string]string{}}
}

func (st *state) group(name string) *group {
	g := st.groups[name]
	if g == nil {
		g = &group{bans: map[netip.Prefix][]ban{}, applied: map[netip.Prefix]Elem{}}
		st.groups[name] = g
	}
	return g
}

// netOf is the element that stands for host: the host itself, or its
// network when a prefix length is configured for its family.
func (st *state) netOf(host netip.Addr) netip.Prefix {
	fam := 0
	if !host.Is4() {
		fam = 1
	}
	if bits := st.cfg.Prefix[fam]; bits != 0 {
		return netip.PrefixFrom(host, bits).Masked()
	}
	return netip.PrefixFrom(host, host.BitLen())
}

// apply records action a, marks its element dirty and returns its
// group; ok is false for an action it cannot use (no valid address).
func (st *state) apply(a *engine.Action) (group string, ok bool) {
	host := a.Host.Unmap().WithZone("")
	if !host.IsValid() {
		return "", false
	}
	name, ok := st.groupOf[a.Jail]
	if !ok {
		name = st.cfg.groupOf(a.Jail)
		st.groupOf[a.Jail] = name
	}
	g := st.group(name)
	net := st.netOf(host)
	bans := g.bans[net]
	i := slices.IndexFunc(bans, func(b ban) bool { return b.host == host && b.jail == a.Jail })
	switch a.Type {
	case engine.Ban, engine.Prolong:
		end := a.End
		if a.BanTime == engine.Permanent {
			end = time.Time{}
		}
		if i >= 0 {
			bans[i].end = end
		} else {
			g.bans[net] = append(bans, ban{a.Jail, host, end})
		}
	case engine.Unban:
		switch {
		case i < 0:
		case len(bans) == 1:
			delete(g.bans, net)
		default:
			g.bans[net] = slices.Delete(bans, i, i+1)
		}
	default:
		return "", false
	}
	st.dirty[Key{name, net}] = struct{}{}
	return name, true
}

// want returns the end the element net of g should have at now: the
// latest end of its bans (zero when one is permanent), or false when none
// is in force at now.
func (st *state) want(g *group, net netip.Prefix, now time.Time) (time.Time, bool) {
	var (
		found bool
		end   time.Time
	)
	for _, b := range g.bans[net] {
		e := b.end
		switch {
		case e.IsZero():
			return time.Time{}, true
		case e.Sub(now) >= time.Second/2 && (!found || e.After(end)):
			// Less than half a second left: the counter's unban is due.
			found, end = true, e
		}
	}
	return end, found
}

// same reports whether the element the target holds (have) serves the
// wanted one. Without timeouts in the target any held element does. One
// read back from the target is left alone when its end is within
// reconcileSlack of the wanted end: the counter's unban removes it at the
// ban's end anyway, and rewriting 20,000 elements on every restart for a
// second's difference would be churn.
func (st *state) same(want time.Time, have Elem) bool {
	if st.cfg.Timeout == nil {
		return true
	}
	if want.IsZero() || have.End.IsZero() {
		return want.IsZero() && have.End.IsZero()
	}
	if have.Approx {
		d := want.Sub(have.End)
		return d <= reconcileSlack && d >= -reconcileSlack
	}
	return want.Equal(have.End)
}

// diff returns the change that brings key's element in the target to what
// the bans want at now, or false when none is needed.
func (st *state) diff(key Key, now time.Time) (Op, bool) {
	g := st.groups[key.Group]
	if g == nil {
		return Op{}, false
	}
	end, wanted := st.want(g, key.Net, now)
	if wanted && st.cfg.Timeout != nil {
		end = st.cfg.Timeout(end, now)
	} else {
		end = time.Time{}
	}
	have, held := g.applied[key.Net]
	switch {
	case !wanted && !held:
		return Op{}, false
	case !wanted:
		return Op{Kind: Delete, Key: key}, true
	case !held:
		return Op{Kind: Add, Key: key, End: end}, true
	case st.same(end, have):
		return Op{}, false
	}
	return Op{Kind: Update, Key: key, End: end}, true
}

// commit records that the target applied ops.
func (st *state) commit(ops []Op) {
	for _, o := range ops {
		g := st.groups[o.Key.Group]
		if g == nil {
			continue
		}
		if o.Kind == Delete {
			delete(g.applied, o.Key.Net)
		} else {
			g.applied[o.Key.Net] = Elem{End: o.End}
		}
	}
}

// takeDirty returns up to limit changes of dirty elements of the groups
// ready says are set up, at now, and clears their marks (including those
// needing no change).
func (st *state) takeDirty(now time.Time, limit int, ready map[string]bool) []Op {
	var ops []Op
	// Most keys are of one group: its readiness is looked up once.
	group, isReady := "", ready[""]
	for k := range st.dirty {
		if len(ops) >= limit {
			break
		}
		if k.Group != group {
			group, isReady = k.Group, ready[k.Group]
		}
		if !isReady {
			continue
		}
		delete(st.dirty, k)
		if o, ok := st.diff(k, now); ok {
			ops = append(ops, o)
		}
	}
	return ops
}

// keys returns every element of the group that the bans or the target
// hold.
func (st *state) keys(name string) []Key {
	g := st.groups[name]
	if g == nil {
		return nil
	}
	out := make([]Key, 0, len(g.bans)+len(g.applied))
	for n := range g.bans {
		out = append(out, Key{name, n})
	}
	for n := range g.applied {
		if _, ok := g.bans[n]; !ok {
			out = append(out, Key{name, n})
		}
	}
	return out
}

// counts returns the elements ops add and delete (an update is both).
func counts(ops []Op) (added, deleted int64) {
	for _, o := range ops {
		switch o.Kind {
		case Add:
			added++
		case Update:
			added++
			deleted++
		case Delete:
			deleted++
		}
	}
	return added, deleted
}
