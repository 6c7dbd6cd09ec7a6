package nftables

import (
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// The sink keeps what it wants in the kernel (the bans in force) apart
// from what it knows the kernel holds, and sends nft the difference of
// the elements that actions touched. So actions that cancel out within a
// batch cost nothing, a failed batch is retried from the bans as they are
// by then (a newer action wins by itself), and the reconciliation at start
// is the same difference over every element.

// elemState is one set element: the end of its ban.
type elemState struct {
	end    time.Time // zero: no timeout (a permanent ban)
	approx bool      // read from the kernel, whose timeouts are whole seconds
}

// same reports whether the kernel's element have serves the wanted want.
// An element read from the kernel is left alone when its end is within
// reconcileSlack of the ban's end: the counter's unban removes it at the
// ban's end anyway, and rewriting 20,000 elements on every restart for a
// second's difference would be churn.
func same(want, have elemState) bool {
	if want.end.IsZero() || have.end.IsZero() {
		return want.end.IsZero() && have.end.IsZero()
	}
	if have.approx {
		d := want.end.Sub(have.end)
		return d <= reconcileSlack && d >= -reconcileSlack
	}
	return want.end.Equal(have.end)
}

// jailState is what the sink knows of one jail's sets.
type jailState struct {
	name  string                   // the jail as its counter names it, for logs
	hosts map[netip.Addr]time.Time // bans in force; a zero end is permanent
	// members are the banned hosts of each network, in prefix mode: the
	// network stays in the set while it holds one.
	members map[netip.Prefix]map[netip.Addr]struct{}
	// applied is what the kernel holds, as far as the sink knows.
	applied map[netip.Prefix]elemState
}

// elemKey names one element of one jail's sets.
type elemKey struct {
	base string
	net  netip.Prefix
}

// state is the wanted and the applied elements of every jail.
type state struct {
	prefix [2]int
	jails  map[string]*jailState // by set base name
	dirty  map[elemKey]struct{}  // elements actions touched since the last batch
}

func newState(prefix [2]int) *state {
	return &state{prefix: prefix, jails: map[string]*jailState{}, dirty: map[elemKey]struct{}{}}
}

// jail returns the state of the jail whose sets are named base.
func (st *state) jail(base, name string) *jailState {
	j := st.jails[base]
	if j == nil {
		j = &jailState{
			name:    name,
			hosts:   map[netip.Addr]time.Time{},
			members: map[netip.Prefix]map[netip.Addr]struct{}{},
			applied: map[netip.Prefix]elemState{},
		}
		st.jails[base] = j
	}
	if j.name == "" {
		j.name = name
	}
	return j
}

// netOf is the element that stands for host: the host itself, or its
// network in prefix mode.
func (st *state) netOf(host netip.Addr) netip.Prefix {
	if bits := st.prefix[famOf(host)]; bits != 0 {
		return netip.PrefixFrom(host, bits).Masked()
	}
	return netip.PrefixFrom(host, host.BitLen())
}

// apply records action a and marks its element dirty. It returns false
// for an action it cannot use (no valid address).
func (st *state) apply(a *engine.Action) bool {
	host := a.Host.Unmap().WithZone("")
	if !host.IsValid() {
		return false
	}
	base := setBase(a.Jail)
	j := st.jail(base, a.Jail)
	net := st.netOf(host)
	prefixed := st.prefix[famOf(host)] != 0
	switch a.Type {
	case engine.Ban, engine.Prolong:
		end := a.End
		if a.BanTime == engine.Permanent {
			end = time.Time{}
		}
		j.hosts[host] = end
		if prefixed {
			m := j.members[net]
			if m == nil {
				m = map[netip.Addr]struct{}{}
				j.members[net] = m
			}
			m[host] = struct{}{}
		}
	case engine.Unban:
		delete(j.hosts, host)
		if prefixed {
			if m := j.members[net]; m != nil {
				delete(m, host)
				if len(m) == 0 {
					delete(j.members, net)
				}
			}
		}
	default:
		return false
	}
	st.dirty[elemKey{base, net}] = struct{}{}
	return true
}

// want returns the element that net of j should be at now: the latest end
// of its banned hosts (permanent when one is), or false when none is
// banned at now.
func (st *state) want(j *jailState, net netip.Prefix, now time.Time) (elemState, bool) {
	var (
		found bool
		end   time.Time
	)
	consider := func(e time.Time) {
		switch {
		case e.IsZero():
			found, end = true, time.Time{}
		case found && end.IsZero():
		case e.Sub(now) >= time.Second/2 && (!found || e.After(end)):
			// Less than half a second left: the counter's unban is due.
			found, end = true, e
		}
	}
	if st.prefix[famOf(net.Addr())] == 0 {
		if e, ok := j.hosts[net.Addr()]; ok {
			consider(e)
		}
	} else {
		for h := range j.members[net] {
			consider(j.hosts[h])
		}
	}
	return elemState{end: end}, found
}

// opKind is what a batch does to one element.
type opKind uint8

const (
	opAdd    opKind = iota + 1 // not in the kernel: add it
	opUpdate                   // in the kernel with another timeout: delete and add
	opDelete                   // in the kernel, no longer wanted: delete it
)

// op is one element change.
type op struct {
	kind opKind
	key  elemKey
	want elemState // for add and update: what the kernel holds after it
}

// diff returns the change that brings key's element in the kernel to what
// the bans want at now, or false when none is needed.
func (st *state) diff(key elemKey, now time.Time) (op, bool) {
	j := st.jails[key.base]
	if j == nil {
		return op{}, false
	}
	want, wanted := st.want(j, key.net, now)
	have, held := j.applied[key.net]
	switch {
	case !wanted && !held:
		return op{}, false
	case !wanted:
		return op{kind: opDelete, key: key}, true
	case !held:
		return op{kind: opAdd, key: key, want: want}, true
	case same(want, have):
		return op{}, false
	}
	return op{kind: opUpdate, key: key, want: want}, true
}

// commit records that the kernel applied ops.
func (st *state) commit(ops []op) {
	for _, o := range ops {
		j := st.jails[o.key.base]
		if j == nil {
			continue
		}
		if o.kind == opDelete {
			delete(j.applied, o.key.net)
		} else {
			j.applied[o.key.net] = o.want
		}
	}
}

// takeDirty returns up to limit dirty elements' changes at now and clears
// their marks (including those needing no change).
func (st *state) takeDirty(now time.Time, limit int) []op {
	var ops []op
	for k := range st.dirty {
		if len(ops) >= limit {
			break
		}
		delete(st.dirty, k)
		if o, ok := st.diff(k, now); ok {
			ops = append(ops, o)
		}
	}
	return ops
}

// keys returns every element of base that the bans or the kernel hold.
func (st *state) keys(base string) []elemKey {
	j := st.jails[base]
	if j == nil {
		return nil
	}
	seen := make(map[netip.Prefix]struct{}, len(j.hosts)+len(j.applied))
	var out []elemKey
	add := func(n netip.Prefix) {
		if _, ok := seen[n]; !ok {
			seen[n] = struct{}{}
			out = append(out, elemKey{base, n})
		}
	}
	for h := range j.hosts {
		add(st.netOf(h))
	}
	for n := range j.applied {
		add(n)
	}
	return out
}
