package nftables

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
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

// tableChain writes the table and the chain, both left as they are when
// they exist.
func (s *script) tableChain() {
	s.line("add table inet", s.cfg.table)
	s.line("add chain inet", s.cfg.table, s.cfg.chain, s.cfg.chainDecl())
}

// rules replaces the chain's rules by those of bases, atomically (one
// transaction), so no packet meets the chain without them.
func (s *script) rules(bases []string) {
	s.line("flush chain inet", s.cfg.table, s.cfg.chain)
	for _, base := range bases {
		for _, r := range s.cfg.rules(base) {
			s.line("add rule inet", s.cfg.table, s.cfg.chain, r)
		}
	}
}

// sets declares the two sets of base.
func (s *script) sets(base string) {
	for fam := range famSuffix {
		s.line("add set inet", s.cfg.table, base+famSuffix[fam], s.cfg.setDecl(fam))
	}
}

// elemText is an element as nft reads it: an address, or a network.
func elemText(n netip.Prefix) string {
	if n.Bits() == n.Addr().BitLen() {
		return n.Addr().String()
	}
	return n.String()
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
func (s *script) ops(ops []op, now time.Time) {
	type lists struct{ ensure, del, add []string }
	bySet := map[string]*lists{}
	for _, o := range ops {
		name := o.key.base + famSuffix[famOf(o.key.net.Addr())]
		l := bySet[name]
		if l == nil {
			l = &lists{}
			bySet[name] = l
		}
		e := elemText(o.key.net)
		switch o.kind {
		case opAdd:
			l.add = append(l.add, e+timeoutText(o.want.end, now))
		case opUpdate:
			l.ensure = append(l.ensure, e)
			l.del = append(l.del, e)
			l.add = append(l.add, e+timeoutText(o.want.end, now))
		case opDelete:
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

// counts returns the elements ops add and delete (an update is both).
func counts(ops []op) (added, deleted int64) {
	for _, o := range ops {
		switch o.kind {
		case opAdd:
			added++
		case opUpdate:
			added++
			deleted++
		case opDelete:
			deleted++
		}
	}
	return added, deleted
}
