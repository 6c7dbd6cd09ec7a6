package failfilter

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/f2bproject/f2b/failregex"
)

// tuple is fail2ban's "tuple line": a log line cut around its date as
// (text before the date, the date, text after the date). The regexes see
// before+after.
type tuple [3]string

// text is the line as read.
func (t tuple) text() string { return t[0] + t[1] + t[2] }

// joined is the line without its date, as the regexes see it.
func (t tuple) joined() string { return t[0] + t[2] }

// complex is an <F-ALT_*> or <F-TUPLE_*> group and the field it fills.
type complex struct {
	group int    // capture group number
	name  string // the group's name
	field string // the field it fills
	nkey  fkey   // keys of name and field
	fkey  fkey
}

// regex is one compiled failregex, ignoreregex or prefregex.
type regex struct {
	src    string // as configured, tags not expanded
	re     *failregex.Regexp
	names  []string // group names by number ("" unnamed)
	keys   []fkey   // their keys
	named  []int    // numbers of the named groups
	alts   []complex
	tuples []complex
	skip   []int // numbers of the skiplinesN groups, in N order
	// failure-id groups and the prefregex's content; -1 when absent
	fid, ip4, ip6, dns, mlfid, content int
	id                                 int // index in Filter.mats
}

// Errors reported for a definition.
var (
	// ErrNoFailureID reports a failregex without a failure-id group (<HOST>
	// or another address tag, <F-ID>, or <F-MLFID>), in itself or in the
	// prefregex.
	ErrNoFailureID = errors.New("no failure-id group (<HOST>, <ADDR>, <F-ID>, <F-MLFID>…)")
	// ErrEmptyRegex reports an empty regex.
	ErrEmptyRegex = errors.New("empty regex")
)

// compileRegex expands the tags of src and compiles it.
func compileRegex(src, useDNS string, multiline bool, timeout time.Duration, noDFA bool) (*regex, error) {
	expr := ExpandTags(src, useDNS)
	if strings.TrimLeft(expr, " \t\n\r\f\v") == "" {
		return nil, ErrEmptyRegex
	}
	expr = failregex.LocalizeFlags(expr)
	re, err := failregex.CompilePython(expr, failregex.RegexpOptions{Multiline: multiline, MatchTimeout: timeout, NoDFA: noDFA})
	if err != nil {
		return nil, err
	}
	r := &regex{src: src, re: re, names: re.SubexpNames(), fid: -1, ip4: -1, ip6: -1, dns: -1, mlfid: -1, content: -1}
	r.keys = make([]fkey, len(r.names))
	for g, n := range r.names {
		if g > 0 && n != "" {
			r.keys[g] = keyOf(n)
		}
	}
	skips := map[int]int{}
	for g, n := range r.names {
		if g == 0 || n == "" {
			continue
		}
		r.named = append(r.named, g)
		switch n {
		case "fid":
			r.fid = g
		case "ip4":
			r.ip4 = g
		case "ip6":
			r.ip6 = g
		case "dns":
			r.dns = g
		case "mlfid":
			r.mlfid = g
		case "content":
			r.content = g
		}
		if k, ok := strings.CutPrefix(n, "skiplines"); ok {
			var num int
			if _, err := fmt.Sscanf(k, "%d", &num); err == nil && fmt.Sprint(num) == k {
				skips[num] = g
			}
		}
		if len(n) > len("alt_") {
			if kind, field, ok := complexName(n); ok {
				c := complex{group: g, name: n, field: field, nkey: keyOf(n), fkey: keyOf(field)}
				if kind == "alt_" {
					r.alts = append(r.alts, c)
				} else {
					r.tuples = append(r.tuples, c)
				}
			}
		}
	}
	// fail2ban reads skiplines0, skiplines1, … until one is missing.
	for n := 0; ; n++ {
		g, ok := skips[n]
		if !ok {
			break
		}
		r.skip = append(r.skip, g)
	}
	less := func(cs []complex) func(i, j int) bool {
		return func(i, j int) bool {
			if cs[i].name != cs[j].name {
				return cs[i].name < cs[j].name
			}
			return cs[i].field < cs[j].field
		}
	}
	sort.Slice(r.alts, less(r.alts))
	sort.Slice(r.tuples, less(r.tuples))
	return r, nil
}

// complexName splits an alt_/tuple_ group name as fail2ban's
// ^(alt_|tuple_)(.*?)(?:_\d+)?$ does, mapping the field like a tag name.
func complexName(n string) (kind, field string, ok bool) {
	switch {
	case strings.HasPrefix(n, "alt_"):
		kind = "alt_"
	case strings.HasPrefix(n, "tuple_"):
		kind = "tuple_"
	default:
		return "", "", false
	}
	rest := n[len(kind):]
	if i := strings.LastIndexByte(rest, '_'); i >= 0 && i+1 < len(rest) && allDigits(rest[i+1:]) {
		rest = rest[:i]
	}
	return kind, fieldName(rest), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// hasFailureID reports a group fail2ban accepts as failure id.
func (r *regex) hasFailureID() bool {
	return r.fid >= 0 || r.ip4 >= 0 || r.ip6 >= 0 || r.dns >= 0 || r.mlfid >= 0
}

// match is the result of one search of a regex in a buffer.
type match struct {
	buf  string // the buffer searched (may live in a scratch area)
	loc  []int
	segs []seg // where the buffer's text comes from (see fill)
}

func (m *match) group(g int) (string, bool) {
	if g < 0 || 2*g >= len(m.loc) || m.loc[2*g] < 0 {
		return "", false
	}
	return m.buf[m.loc[2*g]:m.loc[2*g+1]], true
}

// search runs r on buf; a nil loc means no match. err is
// failregex.ErrTimeout when the backtracking engine ran out of time.
func (r *regex) search(buf string) (match, error) {
	loc, err := r.re.FindStringSubmatchIndex(buf)
	return match{buf: buf, loc: loc}, err
}

// groups fills d with fail2ban's group dict of a match: every named
// group, None for those that did not take part, then the alt_ and tuple_
// merges. Values are copied out of the buffer.
func (r *regex) groups(d *dict, m *match) {
	r.fill(d, m, -1)
	r.merge(d)
}

// merge applies the alt_ and tuple_ merges to a dict of r's groups.
func (r *regex) merge(d *dict) {
	for _, c := range r.alts {
		if v := d.get(c.nkey); v.truthy() && !d.get(c.fkey).truthy() {
			d.set(c.fkey, v)
		}
	}
	for _, c := range r.tuples {
		v := d.get(c.nkey).any()
		if t, ok := d.get(c.fkey).tuple(); ok {
			d.set(c.fkey, box(append(append(pyTuple(nil), t...), v)))
		} else {
			d.set(c.fkey, box(pyTuple{d.get(c.fkey).any(), v}))
		}
	}
}

// fill sets every named group of m in d but skip, None for those that did
// not take part (no alt_ or tuple_ merges). A value is a substring of the
// text the buffer was built from when it lies within one piece of it (see
// seg), else a copy: a short buffer is copied once and such values share
// the copy.
func (r *regex) fill(d *dict, m *match, skip int) {
	var (
		own    string
		copied bool
	)
	for _, g := range r.named {
		if g == skip {
			continue
		}
		v, ok := m.group(g)
		switch {
		case !ok:
			d.setNone(r.keys[g])
		case v == "":
			d.set(r.keys[g], str(""))
		default:
			a, b := m.loc[2*g], m.loc[2*g+1]
			if src, ok := subSeg(m.segs, a, b); ok {
				d.set(r.keys[g], str(src))
				continue
			}
			if len(m.buf) > maxSharedBuf {
				d.set(r.keys[g], str(strings.Clone(v)))
				continue
			}
			if !copied {
				own, copied = strings.Clone(m.buf), true
			}
			d.set(r.keys[g], str(own[a:b]))
		}
	}
}

// maxSharedBuf is the longest buffer whose group values share one copy
// (they keep all of it alive).
const maxSharedBuf = 1024

// simple reports that the regex has no alt_ or tuple_ groups, so its
// group dict is just its named groups.
func (r *regex) simple() bool { return len(r.alts) == 0 && len(r.tuples) == 0 }

// mergedGroups fills d with the group dict of the prefregex match pm
// without its content, updated with the group dict of m.
func mergedGroups(d *dict, pref *regex, pm *match, r *regex, m *match) {
	if !pref.simple() || !r.simple() {
		pref.groups(d, pm)
		d.del(kContent)
		fd := newDict(len(r.named) + 4)
		r.groups(fd, m)
		for _, e := range fd.ents {
			d.set(e.k, e.v)
		}
		return
	}
	pref.fill(d, pm, pref.content) // the content group is left out
	r.fill(d, m, -1)
}

// lines splits a match over a multi-line buffer into the tuple lines it
// covers (fail2ban's matched lines, without those a <SKIPLINES> skipped)
// and the others (unmatched, kept in the buffer), as Regex.search does.
func (r *regex) lines(m *match, org []tuple) (matched, unmatched []tuple) {
	if len(org) <= 1 {
		return org, nil
	}
	s := m.buf
	start, end := m.loc[0], m.loc[1]
	lineStart := strings.LastIndexByte(s[:min(start+1, len(s))], '\n') + 1
	lineEnd := len(s)
	from := pyIndex(end-1, len(s))
	if k := strings.IndexByte(s[from:], '\n'); k >= 0 {
		lineEnd = from + k + 1
	}
	c1 := strings.Count(s[:lineStart], "\n")
	c2 := strings.Count(s[:lineEnd], "\n")
	c1, c2 = min(c1, len(org)), min(c2, len(org))
	if c2 < c1 {
		c2 = c1
	}
	matched = append([]tuple(nil), org[c1:c2]...)
	unmatched = append([]tuple(nil), org[:c1]...)
	n := 0
	for _, skipped := range r.skippedLines(m) {
		for k, t := range matched[n:] {
			if t.joined() == skipped {
				unmatched = append(unmatched, t)
				matched = append(matched[:n+k], matched[n+k+1:]...)
				n += k
				break
			}
		}
	}
	unmatched = append(unmatched, org[c2:]...)
	return matched, unmatched
}

// pyIndex turns a Python start index (possibly negative) into a valid
// offset in a string of length n.
func pyIndex(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			i = 0
		}
	}
	return min(i, n)
}

// skippedLines is the text of all <SKIPLINES> groups, split into lines as
// Python's str.splitlines does.
func (r *regex) skippedLines(m *match) []string {
	var b strings.Builder
	for _, g := range r.skip {
		if v, ok := m.group(g); ok {
			b.WriteString(v)
		}
	}
	return splitLines(b.String())
}

// splitLines is Python's str.splitlines(False).
func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i, size := lineBreak(s)
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i])
		s = s[i+size:]
	}
	return out
}

// lineBreak finds the first line boundary Python's splitlines knows.
func lineBreak(s string) (int, int) {
	for i, r := range s {
		switch r {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			return i, len(string(r))
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				return i, 2
			}
			return i, 1
		}
	}
	return -1, 0
}

// buffer joins tuple lines as fail2ban's Regex._tupleLinesBuf does: the
// lines without their dates, each followed by "\n".
func appendBuffer(dst []byte, lines []tuple) []byte {
	for i, t := range lines {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, t[0]...)
		dst = append(dst, t[2]...)
	}
	return append(dst, '\n')
}

// seg is a piece of a search buffer: the text at offset off is s, a string
// the caller handed over (a line, or a part of one), which does not change.
// A group value within one seg is taken from it instead of being copied.
type seg struct {
	off int
	s   string
}

// segsOf returns the pieces of the buffer appendBuffer makes of lines.
func segsOf(segs []seg, lines []tuple) []seg {
	off := 0
	for i, t := range lines {
		if i > 0 {
			off++
		}
		for _, p := range [2]string{t[0], t[2]} {
			if p != "" {
				segs = append(segs, seg{off: off, s: p})
				off += len(p)
			}
		}
	}
	return segs
}

// clipSegs returns the pieces of the buffer that were [a,b) of the buffer
// of segs.
func clipSegs(dst, segs []seg, a, b int) []seg {
	for _, sg := range segs {
		lo, hi := max(sg.off, a), min(sg.off+len(sg.s), b)
		if lo < hi {
			dst = append(dst, seg{off: lo - a, s: sg.s[lo-sg.off : hi-sg.off]})
		}
	}
	return dst
}

// subSeg returns the text [a,b) of a buffer from its pieces, when it lies
// within one.
func subSeg(segs []seg, a, b int) (string, bool) {
	for _, sg := range segs {
		if a >= sg.off && b <= sg.off+len(sg.s) {
			return sg.s[a-sg.off : b-sg.off], true
		}
	}
	return "", false
}
