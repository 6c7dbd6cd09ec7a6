package nftables

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// chunk is how many elements go into one "add element" statement: nft
// reads a few hundred per statement fastest (one per line, or 20,000 in
// one statement, are several times slower).
const chunk = 200

// script builds one nft transaction. Only names checked by nameRE and
// addresses formatted by netip go into it, so nothing needs escaping.
type script struct {
	cfg *config
	b   strings.Builder
}

func (s *script) line(parts ...string) {
	for i, p := range parts {
		if i > 0 {
			s.b.WriteByte(' ')
		}
		s.b.WriteString(p)
	}
	s.b.WriteByte('\n')
}

func (s *script) String() string { return s.b.String() }

// table declares the table (nothing when it exists).
func (s *script) table() { s.line("add table inet", s.cfg.table) }

// chains declares the sink's chains (nothing for those that exist).
func (s *script) chains() {
	for _, hc := range s.cfg.chains {
		s.chain(hc)
	}
}

// chain declares one chain of the sink (nothing when it exists).
func (s *script) chain(hc hookChain) {
	s.line("add chain inet", s.cfg.table, hc.name, s.cfg.chainDecl(hc.hook))
}

// set declares the set of base for family fam.
func (s *script) set(base string, fam int) {
	s.line("add set inet", s.cfg.table, base+famSuffix[fam], s.cfg.setDecl(fam))
}

// flushChains empties the sink's chains. Their rules follow in the same
// transaction, so no packet meets a chain without them; sets may be
// replaced in between (a set a rule refers to cannot go).
func (s *script) flushChains() {
	for _, hc := range s.cfg.chains {
		s.flushChain(hc.name)
	}
}

func (s *script) flushChain(name string) { s.line("flush chain inet", s.cfg.table, name) }

// deleteChain removes a chain of the sink, its rules first.
func (s *script) deleteChain(name string) {
	s.flushChain(name)
	s.line("delete chain inet", s.cfg.table, name)
}

// rules adds each chain's rules for the sets of bases.
func (s *script) rules(bases []string) {
	for _, hc := range s.cfg.chains {
		for _, base := range bases {
			for _, r := range s.cfg.rules(base) {
				s.line("add rule inet", s.cfg.table, hc.name, r)
			}
		}
	}
}

// timeoutText is the " timeout Ns" of an element ending at end, rounded up
// to whole seconds so the kernel never ends a ban early; "" when permanent.
func timeoutText(end, now time.Time) string {
	if end.IsZero() {
		return ""
	}
	d := min(end.Sub(now), maxTimeout)
	secs := max((d+time.Second-1)/time.Second, 1)
	return " timeout " + strconv.FormatInt(int64(secs), 10) + "s"
}

// ops writes the element changes. An update is a delete and an add of the
// element (nft 1.0 cannot change a timeout in place). A delete is preceded
// by an add of the element: nft refuses to delete an element that is not
// there (the kernel's timeout may have ended it), and an add of an element
// that is there does nothing, so the pair always ends with it gone.
func (s *script) ops(ops []fwsync.Op, now time.Time) {
	type lists struct{ ensure, del, add []string }
	bySet := map[string]*lists{}
	for _, o := range ops {
		name := o.Key.Group + famSuffix[fwsync.Family(o.Key.Net.Addr())]
		l := bySet[name]
		if l == nil {
			l = &lists{}
			bySet[name] = l
		}
		e := fwsync.NetText(o.Key.Net)
		switch o.Kind {
		case fwsync.Add:
			l.add = append(l.add, e+timeoutText(o.End, now))
		case fwsync.Update:
			l.ensure = append(l.ensure, e)
			l.del = append(l.del, e)
			l.add = append(l.add, e+timeoutText(o.End, now))
		case fwsync.Delete:
			l.ensure = append(l.ensure, e)
			l.del = append(l.del, e)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(bySet)) {
		l := bySet[name]
		s.elements("add", name, l.ensure)
		s.elements("delete", name, l.del)
		s.elements("add", name, l.add)
	}
}

func (s *script) elements(verb, set string, elems []string) {
	for len(elems) > 0 {
		n := min(len(elems), chunk)
		s.line(verb, "element inet", s.cfg.table, set, "{", strings.Join(elems[:n], ", "), "}")
		elems = elems[n:]
	}
}
