package failregex

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file parses regular expressions in Python's syntax (the dialect of
// fail2ban's filters) into a small tree, and prints that tree in the
// dialects of the two engines: Go's RE2 when the regex needs nothing RE2
// lacks, the .NET dialect of github.com/dlclark/regexp2 otherwise, plus an
// RE2 "gate" for the latter (see pyTranslation).

// pyFlags are Python's regex flags.
type pyFlags uint8

const (
	pfIgnoreCase pyFlags = 1 << iota // i
	pfMultiline                      // m
	pfDotAll                         // s
	pfVerbose                        // x
	pfASCII                          // a
)

// pyKind is the kind of a pyNode.
type pyKind uint8

const (
	pyLit       pyKind = iota // one rune
	pyAny                     // .
	pyBegin                   // ^
	pyEnd                     // $
	pyBeginText               // \A
	pyEndText                 // \Z
	pyWordB                   // \b
	pyNonWordB                // \B
	pyClass                   // [...] or a class escape such as \d
	pyBackref                 // \1, (?P=name)
	pyConcat
	pyAlt
	pyGroup  // capturing or not, possibly with scoped flags
	pyLook   // lookahead / lookbehind
	pyAtomic // (?>...)
	pyCond   // (?(group)yes|no)
	pyRepeat
	pyEmpty // matches the empty string (an empty branch)
)

// pyNode is one node of a parsed Python regex.
type pyNode struct {
	kind  pyKind
	r     rune         // pyLit
	cls   *pyCharClass // pyClass
	multi bool         // pyBegin, pyEnd: MULTILINE in effect
	final bool         // pyEnd: the last token of the regex (see markFinalEnd)
	ascii bool         // pyWordB, pyNonWordB: ASCII flag in effect
	subs  []*pyNode

	group  int    // pyGroup: capture number (0: none); pyBackref, pyCond: referenced group
	name   string // pyGroup: group name ("" for unnamed)
	on     pyFlags
	off    pyFlags // pyGroup: scoped flags (only i and s are printed)
	behind bool    // pyLook
	neg    bool    // pyLook

	min, max   int // pyRepeat; max -1 = unbounded
	lazy       bool
	possessive bool
}

// pyCharClass is a character class: the union of ranges and class escapes,
// possibly negated.
type pyCharClass struct {
	neg    bool
	ranges []rune   // pairs lo, hi
	escs   []byte   // class escapes: 'd', 'D', 'w', 'W', 's', 'S'
	ascii  bool     // the ASCII flag was in effect for the escapes
	uni    []string // RE2-style Unicode classes (\p{L}, \PL), printed as written
}

// pyRegex is a parsed regex.
type pyRegex struct {
	root   *pyNode
	flags  pyFlags  // global flags
	groups []string // capture names by number (index 0 unused; "" = unnamed)
	// Constructs RE2 cannot run, with the first one's description.
	backtrack string
	// hasWordB: \b or \B outside the ASCII flag; RE2's are ASCII-only.
	hasWordB bool
}

// pyParser is a recursive-descent parser following Python's sre_parse.
type pyParser struct {
	src   string
	pos   int
	flags pyFlags // flags in effect
	re    *pyRegex
	refs  []pyRef // references to check once all groups are known
	uni   string  // the last Unicode class read by classItem
	open  map[int]bool
	depth int
}

type pyRef struct {
	name string
	num  int
	pos  int
}

// pySyntaxError is a syntax error in a Python regex. Messages use the
// words of Go's regexp/syntax where it has the same error ("missing
// closing )"), Python's otherwise.
type pySyntaxError struct {
	msg string
	pos int
}

// Error returns e.g. "invalid regex: missing closing ) at position 4".
func (e *pySyntaxError) Error() string {
	return fmt.Sprintf("invalid regex: %s at position %d", e.msg, e.pos)
}

// parsePython parses src with the initial flags.
func parsePython(src string, flags pyFlags) (*pyRegex, error) {
	p := &pyParser{src: src, flags: flags, re: &pyRegex{groups: []string{""}}, open: map[int]bool{}}
	root, err := p.parseAlt()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		// Only a ')' stops the top-level alternation early.
		return nil, p.errorf(p.pos, "unexpected )")
	}
	for _, r := range p.refs {
		if r.name != "" {
			found := false
			for _, n := range p.re.groups {
				if n == r.name {
					found = true
				}
			}
			if !found {
				return nil, p.errorf(r.pos, "unknown group name '%s'", r.name)
			}
		} else if r.num >= len(p.re.groups) {
			return nil, p.errorf(r.pos, "invalid group reference %d", r.num)
		}
	}
	p.re.root = root
	markFinalEnd(root)
	p.re.flags = p.flags &^ (pfVerbose) // the flags at the end are the global ones
	return p.re, nil
}

// nullable reports whether n can match the empty string.
func nullable(n *pyNode) bool {
	switch n.kind {
	case pyLit, pyAny, pyClass:
		return false
	case pyConcat:
		for _, s := range n.subs {
			if !nullable(s) {
				return false
			}
		}
		return true
	case pyAlt:
		for _, s := range n.subs {
			if nullable(s) {
				return true
			}
		}
		return false
	case pyGroup, pyAtomic, pyRaw:
		return nullable(n.subs[0])
	case pyCond:
		return len(n.subs) < 2 || nullable(n.subs[0]) || nullable(n.subs[1])
	case pyRepeat:
		return n.min == 0 || nullable(n.subs[0])
	}
	return true // anchors, look-arounds, back-references, empty
}

// hasCapture reports a capture group in n.
func hasCapture(n *pyNode) bool {
	if n.kind == pyGroup && n.group > 0 {
		return true
	}
	for _, s := range n.subs {
		if hasCapture(s) {
			return true
		}
	}
	return false
}

// markFinalEnd marks a $ that is the last token of the regex, outside
// any capture group. RE2 prints it as an exact equivalent of Python's $
// (see printer.print).
func markFinalEnd(n *pyNode) {
	for {
		switch {
		case n.kind == pyConcat || n.kind == pyAlt:
			n = n.subs[len(n.subs)-1]
		case n.kind == pyGroup && n.group == 0:
			n = n.subs[0]
		case n.kind == pyEnd && !n.multi:
			n.final = true
			return
		default:
			return
		}
	}
}

func (p *pyParser) errorf(pos int, format string, args ...any) error {
	return &pySyntaxError{msg: fmt.Sprintf(format, args...), pos: pos}
}

func (p *pyParser) markBacktrack(what string, pos int) {
	if p.re.backtrack == "" {
		p.re.backtrack = fmt.Sprintf("%s at position %d", what, pos)
	}
}

// skipVerbose skips blanks and comments in verbose mode.
func (p *pyParser) skipVerbose() {
	if p.flags&pfVerbose == 0 {
		return
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *pyParser) parseAlt() (*pyNode, error) {
	var alts []*pyNode
	for {
		seq, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, seq)
		if p.pos < len(p.src) && p.src[p.pos] == '|' {
			p.pos++
			continue
		}
		break
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &pyNode{kind: pyAlt, subs: alts}, nil
}

func (p *pyParser) parseConcat() (*pyNode, error) {
	var items []*pyNode
	for {
		p.skipVerbose()
		if p.pos >= len(p.src) {
			break
		}
		c := p.src[p.pos]
		if c == '|' || c == ')' {
			if c == ')' && p.depth == 0 {
				return nil, p.errorf(p.pos, "unexpected )")
			}
			break
		}
		start := p.pos
		atom, err := p.parseAtom()
		if err != nil {
			return nil, err
		}
		if atom == nil { // global flags or a comment
			continue
		}
		for {
			p.skipVerbose()
			q, ok, err := p.parseQuantifier()
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			switch atom.kind {
			case pyBegin, pyEnd, pyBeginText, pyEndText, pyWordB, pyNonWordB:
				return nil, p.errorf(start, "missing argument to repetition operator")
			case pyRepeat:
				return nil, p.errorf(start, "invalid nested repetition operator")
			}
			q.subs = []*pyNode{atom}
			if q.max != 0 && q.max != 1 && nullable(atom) && hasCapture(atom) {
				// RE2 skips an empty last iteration that Python (and the
				// backtracking engine) makes, which changes the group.
				p.markBacktrack("capture group in a repetition that can match empty", start)
			}
			atom = q
		}
		items = append(items, atom)
	}
	switch len(items) {
	case 0:
		return &pyNode{kind: pyEmpty}, nil
	case 1:
		return items[0], nil
	}
	return &pyNode{kind: pyConcat, subs: items}, nil
}

// parseQuantifier reads a quantifier at p.pos, if there is one.
func (p *pyParser) parseQuantifier() (*pyNode, bool, error) {
	if p.pos >= len(p.src) {
		return nil, false, nil
	}
	q := &pyNode{kind: pyRepeat}
	start := p.pos
	switch p.src[p.pos] {
	case '*':
		q.min, q.max = 0, -1
		p.pos++
	case '+':
		q.min, q.max = 1, -1
		p.pos++
	case '?':
		q.min, q.max = 0, 1
		p.pos++
	case '{':
		lo, hi, n, ok := parseBraces(p.src[p.pos:])
		if !ok {
			return nil, false, nil // a literal '{'
		}
		if hi >= 0 && hi < lo {
			return nil, false, p.errorf(start, "invalid repeat count")
		}
		q.min, q.max = lo, hi
		p.pos += n
	default:
		return nil, false, nil
	}
	if p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '?':
			q.lazy = true
			p.pos++
		case '+':
			q.possessive = true
			p.markBacktrack("possessive quantifier", start)
			p.pos++
		}
	}
	return q, true, nil
}

// parseBraces reads {m}, {m,}, {,n} or {m,n} at the start of s. ok is false
// when s does not start with a valid repeat (Python then reads '{' as a
// literal).
func parseBraces(s string) (lo, hi, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, 0, 0, false
	}
	body := s[1:end]
	a, b, comma := strings.Cut(body, ",")
	if a == "" && (!comma || b == "") {
		if !comma {
			return 0, 0, 0, false
		}
		// "{,}" is {0,} in Python.
	}
	digits := func(x string) bool {
		for i := 0; i < len(x); i++ {
			if x[i] < '0' || x[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(a) || !digits(b) {
		return 0, 0, 0, false
	}
	var err error
	if a != "" {
		if lo, err = strconv.Atoi(a); err != nil {
			return 0, 0, 0, false
		}
	}
	switch {
	case !comma:
		hi = lo
	case b == "":
		hi = -1
	default:
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, 0, false
		}
	}
	return lo, hi, end + 1, true
}

// parseAtom parses one atom. It returns nil, nil for constructs that
// produce no node (global flags, comments).
func (p *pyParser) parseAtom() (*pyNode, error) {
	c := p.src[p.pos]
	switch c {
	case '.':
		p.pos++
		// DOTALL is printed as a flag (global or scoped), '.' as is.
		return &pyNode{kind: pyAny}, nil
	case '^':
		p.pos++
		return &pyNode{kind: pyBegin, multi: p.flags&pfMultiline != 0}, nil
	case '$':
		p.pos++
		return &pyNode{kind: pyEnd, multi: p.flags&pfMultiline != 0}, nil
	case '[':
		return p.parseClass()
	case '\\':
		return p.parseEscape()
	case '(':
		return p.parseGroup()
	case '*', '+', '?':
		return nil, p.errorf(p.pos, "missing argument to repetition operator")
	case '{':
		if _, _, _, ok := parseBraces(p.src[p.pos:]); ok {
			return nil, p.errorf(p.pos, "missing argument to repetition operator")
		}
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += size
	return &pyNode{kind: pyLit, r: r}, nil
}

// parseEscape parses a backslash escape outside a class.
func (p *pyParser) parseEscape() (*pyNode, error) {
	start := p.pos
	if p.pos+1 >= len(p.src) {
		return nil, p.errorf(start, "trailing backslash at end of expression")
	}
	c := p.src[p.pos+1]
	switch c {
	case 'A':
		p.pos += 2
		return &pyNode{kind: pyBeginText}, nil
	case 'Z', 'z': // \z is RE2's spelling, accepted too
		p.pos += 2
		return &pyNode{kind: pyEndText}, nil
	case 'b', 'B':
		p.pos += 2
		ascii := p.flags&pfASCII != 0
		if !ascii {
			p.re.hasWordB = true
		}
		if c == 'b' {
			return &pyNode{kind: pyWordB, ascii: ascii}, nil
		}
		return &pyNode{kind: pyNonWordB, ascii: ascii}, nil
	case 'd', 'D', 'w', 'W', 's', 'S':
		p.pos += 2
		return &pyNode{kind: pyClass, cls: &pyCharClass{escs: []byte{c}, ascii: p.flags&pfASCII != 0}}, nil
	case 'p', 'P':
		u, err := p.unicodeClass()
		if err != nil {
			return nil, err
		}
		return &pyNode{kind: pyClass, cls: &pyCharClass{uni: []string{u}}}, nil
	}
	if c >= '1' && c <= '9' || c == '0' {
		// \0, \ooo: octal; \1..\99: a back-reference.
		j := p.pos + 1
		for j < len(p.src) && j < p.pos+4 && p.src[j] >= '0' && p.src[j] <= '9' {
			j++
		}
		digits := p.src[p.pos+1 : j]
		if c == '0' || (len(digits) == 3 && isOctal(digits)) {
			k := p.pos + 1
			for k < len(p.src) && k < p.pos+4 && p.src[k] >= '0' && p.src[k] <= '7' {
				k++
			}
			v, _ := strconv.ParseUint(p.src[p.pos+1:k], 8, 32)
			if v > 0o377 {
				return nil, p.errorf(start, "octal escape value %s outside of range 0-0o377", p.src[p.pos:k])
			}
			p.pos = k
			return &pyNode{kind: pyLit, r: rune(v)}, nil
		}
		if len(digits) > 2 {
			digits = digits[:2]
		}
		n, _ := strconv.Atoi(digits)
		p.pos += 1 + len(digits)
		if p.open[n] {
			return nil, p.errorf(start, "cannot refer to an open group")
		}
		p.refs = append(p.refs, pyRef{num: n, pos: start})
		p.markBacktrack("backreference "+p.src[start:p.pos], start)
		return &pyNode{kind: pyBackref, group: n}, nil
	}
	r, err := p.charEscape(false)
	if err != nil {
		return nil, err
	}
	return &pyNode{kind: pyLit, r: r}, nil
}

func isOctal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// charEscape parses an escape that stands for one character, at p.pos.
func (p *pyParser) charEscape(inClass bool) (rune, error) {
	start := p.pos
	c := p.src[p.pos+1]
	p.pos += 2
	switch c {
	case 'a':
		return '\a', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'v':
		return '\v', nil
	case 'b':
		if inClass {
			return '\b', nil
		}
	case 'x', 'u', 'U':
		if c == 'x' && p.pos < len(p.src) && p.src[p.pos] == '{' {
			// RE2's \x{10FFFF}, accepted too.
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return 0, p.errorf(start, "incomplete escape %s", p.src[start:])
			}
			v, err := strconv.ParseUint(p.src[p.pos+1:p.pos+end], 16, 32)
			if err != nil || v > unicode.MaxRune {
				return 0, p.errorf(start, "invalid escape sequence: %s", p.src[start:p.pos+end+1])
			}
			p.pos += end + 1
			return rune(v), nil
		}
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if p.pos+n > len(p.src) {
			return 0, p.errorf(start, "incomplete escape %s", p.src[start:])
		}
		v, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
		if err != nil {
			return 0, p.errorf(start, "incomplete escape %s", p.src[start:p.pos+n])
		}
		p.pos += n
		if v > unicode.MaxRune {
			return 0, p.errorf(start, "invalid escape sequence: %s", p.src[start:p.pos])
		}
		return rune(v), nil
	case 'N':
		return 0, p.errorf(start, `\N{...} named characters are not supported`)
	}
	if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return 0, p.errorf(start, "invalid escape sequence: \\%c", c)
	}
	// An escaped non-alphanumeric character stands for itself.
	p.pos -= 1
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += size
	return r, nil
}

// unicodeClass reads RE2's \pL, \p{Greek}, \P{L} at p.pos (not Python
// syntax: accepted for regexes written for RE2), and returns its text.
func (p *pyParser) unicodeClass() (string, error) {
	start := p.pos
	if p.pos+2 >= len(p.src) {
		return "", p.errorf(start, "invalid escape sequence: %s", p.src[start:])
	}
	name := p.src[p.pos+2 : p.pos+3]
	end := p.pos + 3
	if name == "{" {
		j := strings.IndexByte(p.src[p.pos:], '}')
		if j < 0 {
			return "", p.errorf(start, "missing } in %s", p.src[start:])
		}
		name, end = p.src[p.pos+3:p.pos+j], p.pos+j+1
	}
	neg := p.src[p.pos+1] == 'P'
	if strings.HasPrefix(name, "^") {
		neg, name = !neg, name[1:]
	}
	if unicode.Categories[name] == nil && unicode.Scripts[name] == nil {
		return "", p.errorf(start, "unknown Unicode class %s", p.src[start:end])
	}
	p.pos = end
	if neg {
		return `\P{` + name + `}`, nil
	}
	return `\p{` + name + `}`, nil
}

// parseClass parses [...] at p.pos.
func (p *pyParser) parseClass() (*pyNode, error) {
	start := p.pos
	p.pos++
	cls := &pyCharClass{ascii: p.flags&pfASCII != 0}
	if p.pos < len(p.src) && p.src[p.pos] == '^' {
		cls.neg = true
		p.pos++
	}
	first := true
	for {
		if p.pos >= len(p.src) {
			return nil, p.errorf(start, "missing closing ]")
		}
		c := p.src[p.pos]
		if c == ']' && !first {
			p.pos++
			break
		}
		first = false
		// A POSIX class as Go writes it ([:alpha:]) is kept for
		// compatibility with regexes written for RE2; Python reads it as
		// a plain set of characters (and warns).
		if c == '[' && p.pos+1 < len(p.src) && p.src[p.pos+1] == ':' {
			if j := strings.Index(p.src[p.pos+2:], ":]"); j >= 0 {
				name := p.src[p.pos+2 : p.pos+2+j]
				if rs, ok := posixClasses[strings.TrimPrefix(name, "^")]; ok {
					if strings.HasPrefix(name, "^") {
						rs = complementRanges(rs)
					}
					cls.ranges = append(cls.ranges, rs...)
					p.pos += j + 4
					continue
				}
			}
		}
		lo, esc, err := p.classItem()
		if err != nil {
			return nil, err
		}
		if esc == 'u' {
			cls.uni = append(cls.uni, p.uni)
			continue
		}
		if esc != 0 {
			cls.escs = append(cls.escs, esc)
			if p.pos+1 < len(p.src) && p.src[p.pos] == '-' && p.src[p.pos+1] != ']' {
				return nil, p.errorf(p.pos, "invalid character class range")
			}
			continue
		}
		hi := lo
		if p.pos+1 < len(p.src) && p.src[p.pos] == '-' && p.src[p.pos+1] != ']' {
			rangePos := p.pos
			p.pos++
			h, esc2, err := p.classItem()
			if err != nil {
				return nil, err
			}
			if esc2 != 0 || h < lo {
				return nil, p.errorf(rangePos, "invalid character class range")
			}
			hi = h
		}
		cls.ranges = append(cls.ranges, lo, hi)
	}
	return &pyNode{kind: pyClass, cls: cls}, nil
}

// classItem reads one character or class escape inside a class.
func (p *pyParser) classItem() (r rune, esc byte, err error) {
	c := p.src[p.pos]
	if c != '\\' {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
		return r, 0, nil
	}
	if p.pos+1 >= len(p.src) {
		return 0, 0, p.errorf(p.pos, "trailing backslash at end of expression")
	}
	switch n := p.src[p.pos+1]; n {
	case 'd', 'D', 'w', 'W', 's', 'S':
		p.pos += 2
		return 0, n, nil
	case 'p', 'P':
		u, err := p.unicodeClass()
		if err != nil {
			return 0, 0, err
		}
		p.uni = u
		return 0, 'u', nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		j := p.pos + 1
		for j < len(p.src) && j < p.pos+4 && p.src[j] >= '0' && p.src[j] <= '7' {
			j++
		}
		v, _ := strconv.ParseUint(p.src[p.pos+1:j], 8, 32)
		if v > 0o377 {
			return 0, 0, p.errorf(p.pos, "octal escape value outside of range 0-0o377")
		}
		p.pos = j
		return rune(v), 0, nil
	}
	r, err = p.charEscape(true)
	return r, 0, err
}

// parseGroup parses a parenthesised construct at p.pos.
func (p *pyParser) parseGroup() (*pyNode, error) {
	start := p.pos
	rest := p.src[p.pos:]
	node := &pyNode{kind: pyGroup}
	savedFlags := p.flags
	switch {
	case strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?<") && !strings.HasPrefix(rest, "(?<=") && !strings.HasPrefix(rest, "(?<!"):
		// Named group; (?<name> is Go's and .NET's spelling, accepted too.
		open := len("(?P<")
		if !strings.HasPrefix(rest, "(?P<") {
			open = len("(?<")
		}
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return nil, p.errorf(start, "missing >, unterminated name")
		}
		name := rest[open:end]
		if !isIdentifier(name) {
			return nil, p.errorf(start, "bad character in group name '%s'", name)
		}
		for _, n := range p.re.groups {
			if n == name {
				return nil, &dupGroupError{name: name, pos: start}
			}
		}
		p.re.groups = append(p.re.groups, name)
		node.group, node.name = len(p.re.groups)-1, name
		p.pos += end + 1
	case strings.HasPrefix(rest, "(?P="):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, p.errorf(start, "missing ), unterminated name")
		}
		name := rest[4:end]
		if !isIdentifier(name) {
			return nil, p.errorf(start, "bad character in group name '%s'", name)
		}
		p.pos += end + 1
		num := -1
		for i, n := range p.re.groups {
			if n == name {
				num = i
			}
		}
		if num < 0 {
			return nil, p.errorf(start, "unknown group name '%s'", name)
		}
		if p.open[num] {
			return nil, p.errorf(start, "cannot refer to an open group")
		}
		p.markBacktrack("backreference (?P=", start)
		return &pyNode{kind: pyBackref, group: num}, nil
	case strings.HasPrefix(rest, "(?#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, p.errorf(start, "missing ), unterminated comment")
		}
		p.pos += end + 1
		return nil, nil
	case strings.HasPrefix(rest, "(?:"):
		p.pos += 3
	case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"):
		node.kind, node.neg = pyLook, rest[2] == '!'
		p.markBacktrack(map[bool]string{false: "lookahead (?=", true: "negative lookahead (?!"}[node.neg], start)
		p.pos += 3
	case strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
		node.kind, node.neg, node.behind = pyLook, rest[3] == '!', true
		p.markBacktrack(map[bool]string{false: "lookbehind (?<=", true: "negative lookbehind (?<!"}[node.neg], start)
		p.pos += 4
	case strings.HasPrefix(rest, "(?>"):
		node.kind = pyAtomic
		p.markBacktrack("atomic group (?>", start)
		p.pos += 3
	case strings.HasPrefix(rest, "(?("):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, p.errorf(start, "missing ), unterminated name")
		}
		ref := rest[3:end]
		node.kind = pyCond
		if n, err := strconv.Atoi(ref); err == nil {
			if n <= 0 {
				return nil, p.errorf(start, "bad group number")
			}
			node.group = n
			p.refs = append(p.refs, pyRef{num: n, pos: start})
		} else {
			if !isIdentifier(ref) {
				return nil, p.errorf(start, "bad character in group name '%s'", ref)
			}
			p.refs = append(p.refs, pyRef{name: ref, pos: start})
			node.name = ref
		}
		p.markBacktrack("conditional (?(", start)
		p.pos += end + 1
	case strings.HasPrefix(rest, "(?"):
		// Flags: (?aiLmsux) global, (?flags:...) or (?flags-flags:...) scoped.
		j := 2
		var on, off pyFlags
		neg := false
		for j < len(rest) {
			c := rest[j]
			if c == '-' && !neg {
				neg = true
				j++
				continue
			}
			f, ok := flagOf(c)
			if !ok {
				break
			}
			if neg {
				off |= f
			} else {
				on |= f
			}
			j++
		}
		if j >= len(rest) {
			return nil, p.errorf(start, "missing -, : or )")
		}
		switch rest[j] {
		case ')':
			if neg || j == 2 {
				return nil, p.errorf(start, "unknown extension %s", rest[:min(len(rest), 3)])
			}
			// Global flags. Python 3.11 accepts them only at the start; older
			// versions applied them to the whole regex wherever they stood,
			// which is what this does.
			p.flags |= on
			p.pos += j + 1
			return nil, nil
		case ':':
			if on&off != 0 {
				return nil, p.errorf(start, "bad inline flags: flag turned on and off")
			}
			node.on, node.off = on, off
			p.flags = (p.flags | on) &^ off
			p.pos += j + 1
		default:
			if j == 2 {
				return nil, p.errorf(start, "unknown extension %s", rest[:min(len(rest), 3)])
			}
			return nil, p.errorf(start, "missing -, : or )")
		}
	default:
		p.re.groups = append(p.re.groups, "")
		node.group = len(p.re.groups) - 1
		p.pos++
	}
	if node.group > 0 {
		p.open[node.group] = true
	}
	p.depth++
	body, err := p.parseAlt()
	p.depth--
	if err != nil {
		return nil, err
	}
	if p.pos >= len(p.src) || p.src[p.pos] != ')' {
		return nil, p.errorf(start, "missing closing )")
	}
	p.pos++
	if node.group > 0 {
		delete(p.open, node.group)
	}
	// Scoped flags end with the group; global flags set inside it stay.
	if node.kind == pyGroup && (node.on|node.off) != 0 {
		p.flags = (p.flags &^ (node.on | node.off)) | (savedFlags & (node.on | node.off))
	}
	if node.kind == pyCond {
		yes, no := body, (*pyNode)(nil)
		if body.kind == pyAlt {
			if len(body.subs) > 2 {
				return nil, p.errorf(start, "conditional backref with more than two branches")
			}
			yes, no = body.subs[0], body.subs[1]
		}
		node.subs = []*pyNode{yes}
		if no != nil {
			node.subs = append(node.subs, no)
		}
		return node, nil
	}
	node.subs = []*pyNode{body}
	return node, nil
}

func flagOf(c byte) (pyFlags, bool) {
	switch c {
	case 'i':
		return pfIgnoreCase, true
	case 'm':
		return pfMultiline, true
	case 's':
		return pfDotAll, true
	case 'x':
		return pfVerbose, true
	case 'a':
		return pfASCII, true
	case 'u', 'L':
		return 0, true
	}
	return 0, false
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r) {
			continue
		}
		return false
	}
	return true
}

// posixClasses are the POSIX classes Go's RE2 accepts in brackets, as
// sorted range pairs.
var posixClasses = map[string][]rune{
	"alnum": {'0', '9', 'A', 'Z', 'a', 'z'}, "alpha": {'A', 'Z', 'a', 'z'}, "ascii": {0, 0x7f},
	"blank": {'\t', '\t', ' ', ' '}, "cntrl": {0, 0x1f, 0x7f, 0x7f}, "digit": {'0', '9'},
	"graph": {'!', '~'}, "lower": {'a', 'z'}, "print": {' ', '~'},
	"punct": {'!', '/', ':', '@', '[', '`', '{', '~'}, "space": {'\t', '\r', ' ', ' '},
	"upper": {'A', 'Z'}, "word": {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}, "xdigit": {'0', '9', 'A', 'F', 'a', 'f'},
}

// Python's class escapes in str patterns. \w is what str.isalnum() accepts
// plus '_' (Unicode letters and numbers), \s the characters str.isspace()
// accepts, \d Unicode decimal digits. With the ASCII flag they are the
// ASCII sets.
const (
	pySpaceRanges = `\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`
	pyWordRanges  = `\p{L}\p{N}_`
	pyDigitRanges = `\p{Nd}`
	asSpaceRanges = `\t-\r `
	asWordRanges  = `0-9A-Za-z_`
	asDigitRanges = `0-9`
)

// Complements as range lists, for a negated escape inside a class (where
// "not in the set" cannot be written as a union item).
var (
	pySpaceTable = &unicode.RangeTable{R16: []unicode.Range16{
		{Lo: 0x09, Hi: 0x0d, Stride: 1}, {Lo: 0x1c, Hi: 0x20, Stride: 1}, {Lo: 0x85, Hi: 0x85, Stride: 1},
		{Lo: 0xa0, Hi: 0xa0, Stride: 1}, {Lo: 0x1680, Hi: 0x1680, Stride: 1}, {Lo: 0x2000, Hi: 0x200a, Stride: 1},
		{Lo: 0x2028, Hi: 0x2029, Stride: 1}, {Lo: 0x202f, Hi: 0x202f, Stride: 1}, {Lo: 0x205f, Hi: 0x205f, Stride: 1},
		{Lo: 0x3000, Hi: 0x3000, Stride: 1},
	}}
)

// escRanges returns the ranges of a class escape as sorted pairs.
func escRanges(esc byte, ascii bool) []rune {
	var pos []rune
	switch esc | 0x20 { // lower case
	case 'd':
		if ascii {
			pos = []rune{'0', '9'}
		} else {
			pos = tableRanges(unicode.Nd)
		}
	case 's':
		if ascii {
			pos = []rune{'\t', '\r', ' ', ' '}
		} else {
			pos = tableRanges(pySpaceTable)
		}
	case 'w':
		if ascii {
			pos = []rune{'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}
		} else {
			pos = normalizeRanges(append(append(tableRanges(unicode.L), tableRanges(unicode.N)...), '_', '_'))
		}
	}
	if esc >= 'A' && esc <= 'Z' {
		return complementRanges(pos)
	}
	return pos
}

func tableRanges(t *unicode.RangeTable) []rune {
	var out []rune
	for _, r := range t.R16 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, rune(r.Lo), rune(r.Hi))
				break
			}
			out = append(out, c, c)
		}
	}
	for _, r := range t.R32 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, rune(r.Lo), rune(r.Hi))
				break
			}
			out = append(out, c, c)
		}
	}
	return normalizeRanges(out)
}

// normalizeRanges sorts and merges range pairs.
func normalizeRanges(rs []rune) []rune {
	type pair struct{ lo, hi rune }
	ps := make([]pair, 0, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		ps = append(ps, pair{rs[i], rs[i+1]})
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.lo, b.lo) })
	var out []rune
	for _, p := range ps {
		if n := len(out); n > 0 && p.lo <= out[n-1]+1 {
			if p.hi > out[n-1] {
				out[n-1] = p.hi
			}
			continue
		}
		out = append(out, p.lo, p.hi)
	}
	return out
}

func complementRanges(rs []rune) []rune {
	var out []rune
	next := rune(0)
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i] > next {
			out = append(out, next, rs[i]-1)
		}
		next = rs[i+1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, next, unicode.MaxRune)
	}
	return out
}

// pyTranslation is a Python regex printed for the engines.
type pyTranslation struct {
	re     *pyRegex
	re2    string // RE2 syntax; "" when the regex needs the backtracking engine
	eol    bool   // re2 ends in an extra capture group (see printer.print)
	net    string // regexp2 (.NET) syntax, always set
	gate   string // for backtracking regexes: an RE2 regex matching a superset
	groups []string
	// gmap is set when re2 is a rewrite of a backtracking regex (see
	// rewriteRE2) whose capture groups are all unnamed: the Python group
	// of each RE2 group (gmap[0] = 0), several RE2 groups possibly sharing
	// one Python group.
	gmap []int
	// parts, when set, are re2 split into regexes tried in order, each
	// with its gmap (see splitAnchored).
	parts []string
	pmaps [][]int
}

// translatePython parses a Python regex and prints it for both engines.
func translatePython(src string, flags pyFlags) (*pyTranslation, error) {
	re, err := parsePython(src, flags)
	if err != nil {
		return nil, err
	}
	t := &pyTranslation{re: re, groups: re.groups}
	var b strings.Builder
	pr := printer{re: re, b: &b}
	pr.target = targetNet
	pr.print(re.root)
	t.net = netGlobalFlags(re.flags) + b.String()
	b.Reset()
	if re.backtrack == "" {
		pr.target = targetRE2
		pr.print(re.root)
		t.re2 = re2GlobalFlags(re.flags) + b.String()
		t.eol = pr.eol
	} else {
		pr.target = targetGate
		pr.print(re.root)
		t.gate = re2GlobalFlags(re.flags) + b.String()
		if root, _ := rewriteRE2(re); root != nil {
			b.Reset()
			pr.target = targetRE2
			pr.gmap = []int{0}
			pr.print(root)
			t.re2 = re2GlobalFlags(re.flags) + b.String()
			t.gmap = pr.gmap
			for _, v := range splitAnchored(root) {
				b.Reset()
				pr.gmap = []int{0}
				pr.print(v)
				t.parts = append(t.parts, re2GlobalFlags(re.flags)+b.String())
				t.pmaps = append(t.pmaps, pr.gmap)
			}
		}
	}
	return t, nil
}

func re2GlobalFlags(f pyFlags) string {
	s := ""
	if f&pfIgnoreCase != 0 {
		s += "i"
	}
	if f&pfDotAll != 0 {
		s += "s"
	}
	if s == "" {
		return ""
	}
	return "(?" + s + ")"
}

func netGlobalFlags(f pyFlags) string { return re2GlobalFlags(f) }

type target uint8

const (
	targetRE2 target = iota
	targetNet
	targetGate
)

type printer struct {
	re     *pyRegex
	b      *strings.Builder
	target target
	eol    bool  // the RE2 regex ends in the extra group of a final $
	gmap   []int // when set, RE2 groups are printed unnamed and their Python numbers recorded
}

func (pr *printer) print(n *pyNode) {
	b := pr.b
	switch n.kind {
	case pyEmpty:
	case pyRaw:
		if pr.target == targetNet {
			pr.print(n.subs[0])
		} else {
			b.WriteString(n.name)
		}
	case pyLit:
		pr.literal(n.r)
	case pyAny:
		b.WriteByte('.')
	case pyBegin:
		if n.multi {
			b.WriteString(`(?m:^)`)
		} else {
			b.WriteString(`^`)
		}
	case pyEnd:
		switch {
		case n.multi:
			b.WriteString(`(?m:$)`)
		case pr.target == targetNet:
			b.WriteString(`$`) // .NET's $ is Python's: at the end or before a final newline
		case n.final && pr.target == targetRE2:
			// Python's $: at the end, or before a newline that ends the
			// text. The newline is captured by an extra group, the last one,
			// so that the match can be cut back to end before it.
			b.WriteString(`(?:(\n)?\z)`)
			if pr.gmap != nil {
				// A rewrite may hold several: each is marked -1.
				pr.gmap = append(pr.gmap, -1)
			} else {
				pr.eol = true
			}
		default:
			// RE2's $ is only the end of the text. (?m:$) also holds before
			// a newline, which is Python's $ as long as the only newline is
			// the last character, as in fail2ban's one-line buffers.
			b.WriteString(`(?m:$)`)
		}
	case pyBeginText:
		b.WriteString(`\A`)
	case pyEndText:
		b.WriteString(`\z`)
	case pyWordB:
		b.WriteString(`\b`)
	case pyNonWordB:
		b.WriteString(`\B`)
	case pyClass:
		pr.class(n.cls)
	case pyBackref:
		switch pr.target {
		case targetNet:
			b.WriteString(`\k<` + pr.netName(n.group) + `>`)
		default:
			b.WriteString(`(?s:.*)`)
		}
	case pyConcat:
		for _, s := range n.subs {
			pr.print(s)
		}
	case pyAlt:
		for i, s := range n.subs {
			if i > 0 {
				b.WriteByte('|')
			}
			pr.print(s)
		}
	case pyGroup:
		switch {
		case n.group > 0 && pr.target == targetNet:
			b.WriteString(`(?<` + pr.netName(n.group) + `>`)
		case n.group > 0 && pr.target == targetRE2 && pr.gmap != nil:
			b.WriteByte('(')
			pr.gmap = append(pr.gmap, n.group)
		case n.group > 0 && pr.target == targetRE2:
			if n.name != "" {
				b.WriteString(`(?P<` + n.name + `>`)
			} else {
				b.WriteByte('(')
			}
		default:
			b.WriteString(`(?` + flagString(n.on, n.off) + `:`)
		}
		pr.print(n.subs[0])
		b.WriteByte(')')
	case pyLook:
		if pr.target != targetNet {
			b.WriteString(`(?:)`)
			return
		}
		b.WriteString(`(?`)
		if n.behind {
			b.WriteByte('<')
		}
		if n.neg {
			b.WriteByte('!')
		} else {
			b.WriteByte('=')
		}
		pr.print(n.subs[0])
		b.WriteByte(')')
	case pyAtomic:
		if pr.target == targetNet {
			b.WriteString(`(?>`)
		} else {
			b.WriteString(`(?:`)
		}
		pr.print(n.subs[0])
		b.WriteByte(')')
	case pyCond:
		if pr.target == targetNet {
			ref := n.name
			if ref == "" {
				ref = pr.netName(n.group)
			}
			b.WriteString(`(?(` + ref + `)`)
		} else {
			b.WriteString(`(?:`)
		}
		pr.print(n.subs[0])
		b.WriteByte('|')
		if len(n.subs) > 1 {
			pr.print(n.subs[1])
		}
		b.WriteByte(')')
	case pyRepeat:
		poss := n.possessive && pr.target == targetNet
		if poss {
			b.WriteString(`(?>`)
		}
		sub := n.subs[0]
		// A quantified node must print as one atom.
		wrap := sub.kind == pyConcat || sub.kind == pyAlt || sub.kind == pyEmpty || sub.kind == pyRepeat
		if wrap {
			b.WriteString(`(?:`)
		}
		pr.print(sub)
		if wrap {
			b.WriteByte(')')
		}
		switch {
		case n.min == 0 && n.max == -1:
			b.WriteByte('*')
		case n.min == 1 && n.max == -1:
			b.WriteByte('+')
		case n.min == 0 && n.max == 1:
			b.WriteByte('?')
		case n.max == -1:
			fmt.Fprintf(b, "{%d,}", n.min)
		case n.min == n.max:
			fmt.Fprintf(b, "{%d}", n.min)
		default:
			fmt.Fprintf(b, "{%d,%d}", n.min, n.max)
		}
		if n.lazy {
			b.WriteByte('?')
		}
		if poss {
			b.WriteByte(')')
		}
	}
}

// netName is the .NET name of capture group g: its Python name, or a
// generated one. Every group is named in the .NET regex because .NET
// numbers unnamed groups before named ones, unlike Python.
func (pr *printer) netName(g int) string {
	if g < len(pr.re.groups) && pr.re.groups[g] != "" {
		return pr.re.groups[g]
	}
	return "__g" + strconv.Itoa(g)
}

func flagString(on, off pyFlags) string {
	s := ""
	if on&pfIgnoreCase != 0 {
		s += "i"
	}
	if on&pfDotAll != 0 {
		s += "s"
	}
	o := ""
	if off&pfIgnoreCase != 0 {
		o += "i"
	}
	if off&pfDotAll != 0 {
		o += "s"
	}
	if o != "" {
		s += "-" + o
	}
	return s
}

// literal prints one rune as a literal for the target.
func (pr *printer) literal(r rune) {
	b := pr.b
	if r < utf8.RuneSelf {
		if strings.IndexByte(`\.+*?()|[]{}^$#`, byte(r)) >= 0 {
			b.WriteByte('\\')
			b.WriteByte(byte(r))
			return
		}
		if r < ' ' || r == 0x7f {
			pr.hexRune(r)
			return
		}
		b.WriteByte(byte(r))
		return
	}
	if !unicode.IsPrint(r) || r == utf8.RuneError {
		pr.hexRune(r)
		return
	}
	b.WriteRune(r)
}

func (pr *printer) hexRune(r rune) {
	if pr.target == targetNet {
		if r <= 0xff {
			fmt.Fprintf(pr.b, `\x%02x`, r)
		} else if r <= 0xffff {
			fmt.Fprintf(pr.b, `\u%04x`, r)
		} else {
			pr.b.WriteRune(r) // .NET escapes are UTF-16; regexp2 reads the rune itself
		}
		return
	}
	fmt.Fprintf(pr.b, `\x{%x}`, r)
}

// classRune prints a rune inside a class.
func (pr *printer) classRune(r rune) {
	b := pr.b
	if r < utf8.RuneSelf {
		if r == '-' {
			// NOTE: regexp2 misreads "\-" as the end of a range ("[ -\-]"
			// is "range in reverse order" to it); a hex escape reads the
			// same on both engines.
			b.WriteString(`\x2d`)
			return
		}
		if strings.IndexByte(`\]^[`, byte(r)) >= 0 {
			b.WriteByte('\\')
			b.WriteByte(byte(r))
			return
		}
		if r < ' ' || r == 0x7f {
			pr.hexRune(r)
			return
		}
		b.WriteByte(byte(r))
		return
	}
	if !unicode.IsPrint(r) || r == utf8.RuneError {
		pr.hexRune(r)
		return
	}
	b.WriteRune(r)
}

// class prints a character class.
func (pr *printer) class(c *pyCharClass) {
	b := pr.b
	negEsc := false
	for _, e := range c.escs {
		if e >= 'A' && e <= 'Z' {
			negEsc = true
		}
	}
	// A lone escape: \d \w \s and their negations print as one class.
	if len(c.uni) > 0 && len(c.ranges) == 0 && len(c.escs) == 0 && !c.neg && len(c.uni) == 1 {
		b.WriteString(c.uni[0])
		return
	}
	if len(c.ranges) == 0 && len(c.escs) == 1 && !c.neg && len(c.uni) == 0 {
		e := c.escs[0]
		if e >= 'A' && e <= 'Z' {
			b.WriteString(`[^` + escClass(e|0x20, c.ascii) + `]`)
		} else {
			b.WriteString(`[` + escClass(e, c.ascii) + `]`)
		}
		return
	}
	if len(c.ranges) == 0 && len(c.escs) == 1 && c.neg && len(c.uni) == 0 {
		e := c.escs[0]
		if e >= 'A' && e <= 'Z' { // [^\S] is \s
			b.WriteString(`[` + escClass(e|0x20, c.ascii) + `]`)
		} else {
			b.WriteString(`[^` + escClass(e, c.ascii) + `]`)
		}
		return
	}
	b.WriteByte('[')
	if c.neg {
		b.WriteByte('^')
	}
	if negEsc {
		// Union with a complement: print explicit ranges.
		rs := append([]rune(nil), c.ranges...)
		for _, e := range c.escs {
			rs = append(rs, escRanges(e, c.ascii)...)
		}
		rs = normalizeRanges(rs)
		for i := 0; i+1 < len(rs); i += 2 {
			pr.classRange(rs[i], rs[i+1])
		}
		for _, u := range c.uni {
			b.WriteString(u)
		}
		b.WriteByte(']')
		return
	}
	for i := 0; i+1 < len(c.ranges); i += 2 {
		pr.classRange(c.ranges[i], c.ranges[i+1])
	}
	for _, e := range c.escs {
		b.WriteString(escClass(e, c.ascii))
	}
	for _, u := range c.uni {
		b.WriteString(u)
	}
	b.WriteByte(']')
}

func (pr *printer) classRange(lo, hi rune) {
	pr.classRune(lo)
	if hi != lo {
		if hi > lo+1 {
			pr.b.WriteByte('-')
		}
		pr.classRune(hi)
	}
}

// escClass is the body (for use inside brackets) of a positive class escape.
func escClass(e byte, ascii bool) string {
	switch e {
	case 'd':
		if ascii {
			return asDigitRanges
		}
		return pyDigitRanges
	case 's':
		if ascii {
			return asSpaceRanges
		}
		return pySpaceRanges
	case 'w':
		if ascii {
			return asWordRanges
		}
		return pyWordRanges
	}
	panic("failregex: bad class escape")
}

// dupGroupError reports a group name used twice.
type dupGroupError struct {
	name string
	pos  int
}

// Error returns e.g. "redefinition of group name 'a' at position 8".
func (e *dupGroupError) Error() string {
	return fmt.Sprintf("redefinition of group name '%s' at position %d", e.name, e.pos)
}

// Unwrap lets errors.Is(err, ErrSyntax) hold.
func (e *pySyntaxError) Unwrap() error { return ErrSyntax }
