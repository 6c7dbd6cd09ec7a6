package failregex

import (
	"fmt"
	"regexp"
	"strings"
)

// Rewriting Python-only constructs into RE2.
//
// Two constructs that fail2ban's stock filters use with the backtracking
// engine have exact RE2 equivalents in the contexts they appear in:
//
//   - A conditional (?(g)yes|no) whose group g is decided by an earlier
//     part of the same concatenation: an optional group (X)? (or X??), or
//     an alternation one of whose branches holds g. Backtracking tries the
//     alternatives of that part in order, each followed by the rest of the
//     concatenation, so
//
//     (X)? R   ≡  (X) R | R        (X)?? R  ≡  R | (X) R
//     (A|B) R  ≡  A R | B R       (?P<n>A|B) R ≡ (?P<n>A) R | (?P<n>B) R
//
//     in leftmost-first order, which RE2 keeps too. In every copy of R the
//     state of g is known, and the conditional becomes its branch. Capture
//     groups copied this way are printed unnamed and mapped back to their
//     Python number (the copies lie in different branches, so at most one
//     takes part in a match). Not done inside a repetition (a group set in
//     an earlier iteration stays set in Python).
//
//   - A "tempered" run (?:(?!L).)* or (?:(?!L).)*?, L a literal, followed
//     either by L itself or by the end of the text ($). The run cannot
//     consume a position where L starts, so followed by L it ends exactly
//     at the first L after its start, and followed by $ it is the rest of
//     the line, which must not contain L: given its start, the run has one
//     possible end, whatever the laziness, and the set of runs is the
//     regular language read off the KMP automaton of L (printed in RE2 by
//     state elimination).
//
// A regex is rewritten only when nothing needing the backtracking engine
// is left; otherwise it stays on regexp2.

// pyRaw is a node printed as raw RE2 syntax (rewrite only); subs[0] is the
// Python node it replaces.
const pyRaw pyKind = 200

// maxRewriteNodes bounds the size of a rewritten regex.
const maxRewriteNodes = 4000

type rewriter struct {
	re     *pyRegex
	failed bool
	dist   bool // a distribution copied part of the regex
}

// rewriteRE2 returns a copy of re's tree without the constructs RE2 lacks,
// and whether capture groups must be mapped back (see rewriter), or nil.
func rewriteRE2(re *pyRegex) (root *pyNode, remap bool) {
	if re.flags&(pfIgnoreCase|pfDotAll) != 0 || scopedFlags(re.root) {
		return nil, false
	}
	w := &rewriter{re: re}
	n := w.walk(re.root, map[int]bool{}, false)
	if w.failed || countNodes(n) > maxRewriteNodes {
		return nil, false
	}
	n = w.runs(n, "", false)
	if w.failed || needsBacktrack(n) {
		return nil, false
	}
	// Every copy of a $ that ends the regex is printed exact (see
	// printer.print).
	clearFinal(n)
	markFinalAll(n)
	return n, w.dist
}

func scopedFlags(n *pyNode) bool {
	if n.kind == pyGroup && (n.on|n.off)&(pfIgnoreCase|pfDotAll) != 0 {
		return true
	}
	for _, s := range n.subs {
		if scopedFlags(s) {
			return true
		}
	}
	return false
}

func countNodes(n *pyNode) int {
	c := 1
	for _, s := range n.subs {
		c += countNodes(s)
	}
	return c
}

// needsBacktrack reports a construct left that RE2 cannot run.
func needsBacktrack(n *pyNode) bool {
	switch n.kind {
	case pyRaw:
		return false
	case pyLook, pyCond, pyBackref, pyAtomic:
		return true
	case pyRepeat:
		if n.possessive || (n.max != 0 && n.max != 1 && nullable(n.subs[0]) && hasCapture(n.subs[0])) {
			return true
		}
	}
	for _, s := range n.subs {
		if needsBacktrack(s) {
			return true
		}
	}
	return false
}

func (w *rewriter) condGroup(n *pyNode) int {
	if n.name == "" {
		return n.group
	}
	for g, name := range w.re.groups {
		if g > 0 && name == n.name {
			return g
		}
	}
	return -1
}

// walk returns a fresh copy of n with the conditionals on known groups
// resolved and the distributions made.
func (w *rewriter) walk(n *pyNode, known map[int]bool, inRepeat bool) *pyNode {
	switch n.kind {
	case pyCond:
		if v, ok := known[w.condGroup(n)]; ok {
			if v {
				return w.walk(n.subs[0], known, inRepeat)
			}
			if len(n.subs) > 1 {
				return w.walk(n.subs[1], known, inRepeat)
			}
			return &pyNode{kind: pyEmpty}
		}
	case pyConcat:
		return w.concat(n.subs, known, inRepeat)
	case pyRepeat:
		inRepeat = true
	}
	c := *n
	c.subs = make([]*pyNode, len(n.subs))
	for i, s := range n.subs {
		c.subs[i] = w.walk(s, known, inRepeat)
	}
	return &c
}

func mkConcat(items []*pyNode) *pyNode {
	var flat []*pyNode
	for _, it := range items {
		switch it.kind {
		case pyConcat:
			flat = append(flat, it.subs...)
		case pyEmpty:
		default:
			flat = append(flat, it)
		}
	}
	switch len(flat) {
	case 0:
		return &pyNode{kind: pyEmpty}
	case 1:
		return flat[0]
	}
	return &pyNode{kind: pyConcat, subs: flat}
}

func (w *rewriter) concat(elems []*pyNode, known map[int]bool, inRepeat bool) *pyNode {
	var out []*pyNode
	for i, e := range elems {
		rest := elems[i+1:]
		if !inRepeat && len(rest) > 0 {
			caps := map[int]bool{}
			captures(e, caps)
			if len(caps) > 0 && w.condsOn(rest, caps, known) {
				if vs := w.variants(e); len(vs) >= 2 {
					w.dist = true
					alt := &pyNode{kind: pyAlt}
					for _, v := range vs {
						k2 := make(map[int]bool, len(known)+len(v.known))
						for g, b := range known {
							k2[g] = b
						}
						for g, b := range v.known {
							k2[g] = b
						}
						head := w.walk(v.node, known, false)
						alt.subs = append(alt.subs, mkConcat([]*pyNode{head, w.concat(rest, k2, false)}))
					}
					out = append(out, &pyNode{kind: pyGroup, subs: []*pyNode{alt}})
					return mkConcat(out)
				}
			}
		}
		out = append(out, w.walk(e, known, inRepeat))
	}
	return mkConcat(out)
}

// captures collects the capture groups in n.
func captures(n *pyNode, into map[int]bool) {
	if n.kind == pyGroup && n.group > 0 {
		into[n.group] = true
	}
	for _, s := range n.subs {
		captures(s, into)
	}
}

// condsOn reports a conditional in ns on one of the groups, not yet known.
func (w *rewriter) condsOn(ns []*pyNode, groups, known map[int]bool) bool {
	for _, n := range ns {
		if n.kind == pyCond {
			g := w.condGroup(n)
			if _, k := known[g]; !k && groups[g] {
				return true
			}
		}
		if w.condsOn(n.subs, groups, known) {
			return true
		}
	}
	return false
}

// definite collects the capture groups set whenever n matches.
func definite(n *pyNode, into map[int]bool) {
	switch n.kind {
	case pyGroup:
		if n.group > 0 {
			into[n.group] = true
		}
		definite(n.subs[0], into)
	case pyConcat:
		for _, s := range n.subs {
			definite(s, into)
		}
	case pyRepeat:
		if n.min >= 1 {
			definite(n.subs[0], into)
		}
	}
}

type variant struct {
	node  *pyNode
	known map[int]bool
}

// variants splits n into the alternatives a backtracking engine tries in
// order, with what each tells about capture groups; nil when n is not one
// of the shapes handled.
func (w *rewriter) variants(n *pyNode) []variant {
	switch n.kind {
	case pyRepeat:
		if n.min != 0 || n.max != 1 || n.possessive || nullable(n.subs[0]) {
			return nil
		}
		take := variant{n.subs[0], map[int]bool{}}
		definite(n.subs[0], take.known)
		skip := variant{&pyNode{kind: pyEmpty}, map[int]bool{}}
		all := map[int]bool{}
		captures(n.subs[0], all)
		for g := range all {
			skip.known[g] = false
		}
		if n.lazy {
			return []variant{skip, take}
		}
		return []variant{take, skip}
	case pyAlt:
		var vs []variant
		for i, b := range n.subs {
			v := variant{b, map[int]bool{}}
			for j, o := range n.subs {
				if j != i {
					all := map[int]bool{}
					captures(o, all)
					for g := range all {
						v.known[g] = false
					}
				}
			}
			definite(b, v.known)
			vs = append(vs, v)
		}
		return vs
	case pyGroup:
		vs := w.variants(n.subs[0])
		for i := range vs {
			c := *n
			c.subs = []*pyNode{vs[i].node}
			vs[i].node = &c
			if n.group > 0 {
				vs[i].known[n.group] = true
			}
		}
		return vs
	}
	return nil
}

// runs replaces the tempered runs it can prove equivalent. follow is a
// literal the text after n starts with; atEnd that n is followed by the
// end of the text.
func (w *rewriter) runs(n *pyNode, follow string, atEnd bool) *pyNode {
	switch n.kind {
	case pyConcat:
		for i := len(n.subs) - 1; i >= 0; i-- {
			f, end := "", false
			j := i + 1
			for ; j < len(n.subs) && n.subs[j].kind == pyLit; j++ {
				f += string(n.subs[j].r)
			}
			if j == len(n.subs) {
				f += follow
				end = atEnd && i == len(n.subs)-1
			} else if j == i+1 {
				k := n.subs[j].kind
				end = (k == pyEnd && !n.subs[j].multi) || k == pyEndText
			}
			n.subs[i] = w.runs(n.subs[i], f, end)
		}
		return n
	case pyGroup:
		n.subs[0] = w.runs(n.subs[0], follow, atEnd)
		return n
	case pyAlt:
		for i := range n.subs {
			n.subs[i] = w.runs(n.subs[i], follow, atEnd)
		}
		return n
	case pyRepeat:
		if lit, ok := temperedRun(n); ok {
			var raw string
			switch {
			case atEnd:
				raw = avoidRegex(lit, false)
			case strings.HasPrefix(follow, lit):
				raw = avoidRegex(lit, true)
			default:
				return n
			}
			return &pyNode{kind: pyRaw, subs: []*pyNode{n}, name: raw}
		}
	}
	for i := range n.subs {
		n.subs[i] = w.runs(n.subs[i], "", false)
	}
	return n
}

// temperedRun matches (?:(?!L).)* and (?:(?!L).)*? and returns L.
func temperedRun(n *pyNode) (string, bool) {
	if n.min != 0 || n.max != -1 || n.possessive {
		return "", false
	}
	s := n.subs[0]
	for s.kind == pyGroup && s.group == 0 && s.on|s.off == 0 {
		s = s.subs[0]
	}
	if s.kind != pyConcat || len(s.subs) != 2 || s.subs[1].kind != pyAny {
		return "", false
	}
	look := s.subs[0]
	if look.kind != pyLook || !look.neg || look.behind {
		return "", false
	}
	lit, ok := literalOf(look.subs[0])
	if !ok || lit == "" || strings.ContainsRune(lit, '\n') {
		return "", false
	}
	return lit, true
}

func literalOf(n *pyNode) (string, bool) {
	switch n.kind {
	case pyLit:
		return string(n.r), true
	case pyGroup:
		if n.group == 0 && n.on|n.off == 0 {
			return literalOf(n.subs[0])
		}
	case pyConcat:
		var b strings.Builder
		for _, s := range n.subs {
			l, ok := literalOf(s)
			if !ok {
				return "", false
			}
			b.WriteString(l)
		}
		return b.String(), true
	}
	return "", false
}

// avoidRegex returns an RE2 regex for the runs of non-newline characters
// in which L starts at no position: all such strings (the run is followed
// by the end of the text) or, when followedByL, those s such that s+L
// holds L only at its end.
func avoidRegex(lit string, followedByL bool) string {
	l := []rune(lit)
	m := len(l)
	var syms []rune
	seen := map[rune]bool{}
	for _, r := range l {
		if !seen[r] {
			seen[r] = true
			syms = append(syms, r)
		}
	}
	// KMP automaton: states 0..m, m = L just read.
	pi := make([]int, m)
	for i, k := 1, 0; i < m; i++ {
		for k > 0 && l[i] != l[k] {
			k = pi[k-1]
		}
		if l[i] == l[k] {
			k++
		}
		pi[i] = k
	}
	var delta func(q int, c rune) int
	delta = func(q int, c rune) int {
		if q < m && l[q] == c {
			return q + 1
		}
		if q == 0 {
			return 0
		}
		return delta(pi[q-1], c)
	}
	final := make([]bool, m)
	for q := 0; q < m; q++ {
		if !followedByL {
			final[q] = true
			continue
		}
		s, ok := q, true
		for k := 0; k < m; k++ {
			s = delta(s, l[k])
			if s == m && k < m-1 {
				ok = false
				break
			}
		}
		final[q] = ok && s == m
	}
	// State elimination over nodes 0..m-1, start m, end m+1.
	const none = "\x00"
	n := m + 2
	start, end := m, m+1
	R := make([][]string, n)
	for i := range R {
		R[i] = make([]string, n)
		for j := range R[i] {
			R[i][j] = none
		}
	}
	other := "[^"
	for _, r := range syms {
		other += fmt.Sprintf(`\x{%x}`, r)
	}
	other += `\n]`
	for q := 0; q < m; q++ {
		by := map[int][]rune{}
		for _, c := range syms {
			if t := delta(q, c); t < m {
				by[t] = append(by[t], c)
			}
		}
		for t := 0; t < m; t++ {
			if rs := by[t]; len(rs) > 0 {
				cls := "["
				for _, r := range rs {
					cls += fmt.Sprintf(`\x{%x}`, r)
				}
				R[q][t] = cls + "]"
			}
		}
		R[q][0] = alt(R[q][0], other, none)
		if final[q] {
			R[q][end] = "(?:)"
		}
	}
	R[start][0] = "(?:)"
	for k := m - 1; k >= 0; k-- {
		loop := ""
		if R[k][k] != none {
			loop = "(?:" + R[k][k] + ")*"
		}
		for p := 0; p < n; p++ {
			if p == k || R[p][k] == none {
				continue
			}
			for q := 0; q < n; q++ {
				if q == k || R[k][q] == none {
					continue
				}
				R[p][q] = alt(R[p][q], "(?:"+R[p][k]+")"+loop+"(?:"+R[k][q]+")", none)
			}
		}
		for p := 0; p < n; p++ {
			R[p][k], R[k][p] = none, none
		}
	}
	if R[start][end] == none {
		return `[^\x00-\x{10ffff}]` // matches nothing
	}
	return "(?:" + R[start][end] + ")"
}

func alt(a, b, none string) string {
	if a == none {
		return b
	}
	return "(?:" + a + "|" + b + ")"
}

func clearFinal(n *pyNode) {
	n.final = false
	for _, s := range n.subs {
		clearFinal(s)
	}
}

// markFinalAll marks the $ that end the regex, in every branch.
func markFinalAll(n *pyNode) {
	switch {
	case n.kind == pyConcat:
		markFinalAll(n.subs[len(n.subs)-1])
	case n.kind == pyAlt:
		for _, s := range n.subs {
			markFinalAll(s)
		}
	case n.kind == pyGroup && n.group == 0:
		markFinalAll(n.subs[0])
	case n.kind == pyEnd && !n.multi:
		n.final = true
	}
}

// maxSplit bounds the number of regexes a rewrite is split into.
const maxSplit = 16

// splitAnchored splits a rewritten regex anchored at the start of the text
// (^ without MULTILINE, or \A) into regexes tried in order, the first that
// matches giving the match: P (A|B) R ≡ P A R | P B R when P matches in
// one way at most (literals, and runs of a class followed by a literal
// outside it), and an anchored regex has one start. Smaller regexes run
// on RE2's fast backtracker rather than its NFA. It returns nil when the
// regex does not split.
func splitAnchored(root *pyNode) []*pyNode {
	items := []*pyNode{root}
	if root.kind == pyConcat {
		items = root.subs
	}
	if len(items) == 0 || !((items[0].kind == pyBegin && !items[0].multi) || items[0].kind == pyBeginText) {
		return nil
	}
	var out []*pyNode
	if !splitItems(items, &out) || len(out) < 2 {
		return nil
	}
	return out
}

func splitItems(items []*pyNode, out *[]*pyNode) bool {
	for i, it := range items {
		var next *pyNode
		if i+1 < len(items) {
			next = items[i+1]
		}
		if it.kind == pyGroup && it.group == 0 && it.on|it.off == 0 && it.subs[0].kind == pyConcat {
			// (?:a b) c is a b c.
			spliced := append(append(append([]*pyNode{}, items[:i]...), it.subs[0].subs...), items[i+1:]...)
			return splitItems(spliced, out)
		}
		if deterministic(it, next) {
			continue
		}
		var vs []variant
		switch it.kind {
		case pyAlt, pyGroup:
			vs = (&rewriter{}).variants(it)
		}
		if len(vs) < 2 {
			break
		}
		for _, v := range vs {
			rest := append(append([]*pyNode{}, items[:i]...), v.node)
			rest = append(rest, items[i+1:]...)
			rest = mkConcat(rest).subs
			if !splitItems(rest, out) {
				return false
			}
			if len(*out) > maxSplit {
				return false
			}
		}
		return true
	}
	*out = append(*out, mkConcat(items))
	return true
}

// deterministic reports whether n matches in one way at most from a given
// position, when followed by next (nil: unknown).
func deterministic(n, next *pyNode) bool {
	switch n.kind {
	case pyLit, pyBegin, pyBeginText, pyEmpty:
		return true
	case pyGroup:
		if n.subs[0].kind == pyConcat {
			for _, s := range n.subs[0].subs {
				if s.kind != pyLit {
					return false
				}
			}
			return true
		}
		return deterministic(n.subs[0], next)
	case pyRepeat:
		// A run of one character class that the next literal stops.
		s := n.subs[0]
		if next == nil || next.kind != pyLit || n.possessive {
			return false
		}
		var cls string
		switch s.kind {
		case pyClass:
			var b strings.Builder
			pr := printer{b: &b, target: targetRE2}
			pr.class(s.cls)
			cls = b.String()
		case pyAny:
			cls = "."
		case pyLit:
			return s.r != next.r
		default:
			return false
		}
		re, err := regexp.Compile(`\A` + cls + `\z`)
		return err == nil && !re.MatchString(string(next.r))
	}
	return false
}
