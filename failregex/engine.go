package failregex

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// engine is one compiled regular expression. Capture groups are numbered
// as in Python (in the order their "(" appears), whatever the engine.
type engine interface {
	// submatch returns the leftmost-first match of s as index pairs, like
	// regexp.Regexp.FindStringSubmatchIndex, or nil. The error is
	// ErrTimeout when the backtracking engine ran out of time.
	submatch(s string) ([]int, error)
	// match reports whether s contains a match; it may be faster.
	match(s string) (bool, error)
	// names returns the capture group names; names()[0] is the whole match
	// and unnamed groups are "".
	names() []string
}

// ErrTimeout is returned when a match on the backtracking engine took
// longer than its time budget (Options.MatchTimeout).
var ErrTimeout = errors.New("regex match timed out")

// DefaultMatchTimeout is the time a backtracking match may take before it
// is abandoned, when Options.MatchTimeout is zero.
//
// NOTE: the budget is wall time. At 10 ms, lines that match in microseconds
// ran out of it on a loaded 2-core machine (the goroutine was descheduled
// mid-line: 1 to 5 lines of 200,000, a lost failure each time); 100 ms made
// that vanish while a hostile line still costs at most a tenth of a second.
const DefaultMatchTimeout = 100 * time.Millisecond

// re2 is the engine backed by Go's linear-time regexp package, and by a
// DFA that finds the same matches on ASCII text (see dfa.go).
type re2 struct {
	re *lazyRE
	// subNames are re's capture group names (regexp's SubexpNames).
	subNames []string
	// wordB is set when the regex has \b or \B, which are ASCII-only in
	// RE2 but Unicode-aware in Python: a line with non-ASCII text then runs
	// on the backtracking engine, compiled on first use.
	wordB *lazyNet
	// eol is set when the regex ends in Python's $, printed with an extra
	// last group around the optional final newline: a match that took it
	// is cut back to end before it, as in Python.
	eol bool
	// tail is set when the regex ends in (.+)$ (fail2ban's
	// <F-CONTENT>.+</F-CONTENT>$): the regex with that group cut to one
	// character and without the $. See contentTail.
	tail *lazyRE
	// gmap, when set, maps RE2 groups to Python groups (see
	// pyTranslation.gmap); pnames are the Python group names.
	gmap   []int
	pnames []string
	// parts, when set, are what Go's regexp tries in order instead of re,
	// each with its gmap (see pyTranslation.parts); the DFA runs re.
	parts *lazyParts
	pmaps [][]int
	// noDFA runs Go's regexp alone (tests compare the two).
	noDFA bool
	// pool holds DFA caches for submatch and match.
	pool *sync.Pool
}

// lazyRE is a Go regex compiled on first use, from an expression that
// parsed (so it compiles), and its DFA program, also made on first use:
// most regexes of a filter never run on most logs, and compiling the big
// Unicode classes of Python's \d, \w, \s is most of the cost of starting.
type lazyRE struct {
	src     string
	reOnce  sync.Once
	re      *regexp.Regexp
	dfaOnce sync.Once
	prog    *dfaProg
}

func newLazyRE(src string) *lazyRE { return &lazyRE{src: src} }

// eagerRE wraps a compiled regex.
func eagerRE(re *regexp.Regexp) *lazyRE { return &lazyRE{src: re.String(), re: re} }

func (l *lazyRE) get() *regexp.Regexp {
	l.reOnce.Do(func() {
		if l.re == nil {
			l.re = regexp.MustCompile(l.src)
		}
	})
	return l.re
}

// dfa returns the DFA program, nil when the regex cannot run on one.
func (l *lazyRE) dfa() *dfaProg {
	l.dfaOnce.Do(func() { l.prog = newDFAProg(l.src) })
	return l.prog
}

// lazyParts are the parts of a split rewrite, compiled on first use; nil
// when one does not compile (re then runs whole).
type lazyParts struct {
	srcs []string
	once sync.Once
	res  []*regexp.Regexp
}

func (l *lazyParts) get() []*regexp.Regexp {
	if l == nil {
		return nil
	}
	l.once.Do(func() {
		for _, p := range l.srcs {
			re, err := regexp.Compile(p)
			if err != nil {
				l.res = nil
				return
			}
			l.res = append(l.res, re)
		}
	})
	return l.res
}

// singleLine reports whether s has no line break before its last byte, so
// that a final (.+)$ takes all of s after the group's start but a final
// newline.
func singleLine(s string) (end int, ok bool) {
	i := strings.IndexByte(s, '\n')
	switch {
	case i < 0:
		return len(s), true
	case i == len(s)-1:
		return i, true
	}
	return 0, false
}

// dfaScratch holds the DFA caches of one user of an re2 engine (they are
// not safe for concurrent use) and a buffer.
type dfaScratch struct {
	ready      bool
	full, tail *dfa
	raw        []int
	lastEnd    int // where lastFirst's match ended
}

// dfas returns the DFA caches of sc for e (nil when there is no DFA),
// made on first use.
func (e *re2) dfas(sc *dfaScratch) (full, tail *dfa) {
	if !sc.ready {
		sc.ready = true
		if e.noDFA {
			return nil, nil
		}
		if p := e.re.dfa(); p != nil {
			sc.full = newDFA(p)
		}
		if e.tail != nil {
			if p := e.tail.dfa(); p != nil {
				sc.tail = newDFA(p)
			}
		}
	}
	return sc.full, sc.tail
}

func (e *re2) submatch(s string) ([]int, error) {
	sc := e.getScratch()
	loc, err := e.submatchInto(sc, s, nil)
	e.putScratch(sc)
	return loc, err
}

func (e *re2) getScratch() *dfaScratch {
	if e.pool == nil {
		return new(dfaScratch)
	}
	return e.pool.Get().(*dfaScratch)
}

func (e *re2) putScratch(sc *dfaScratch) {
	if e.pool != nil {
		e.pool.Put(sc)
	}
}

// find runs re (or its DFA) on s, the result in dst when the DFA ran.
func find(re *lazyRE, d *dfa, s string, dst []int) []int {
	if d != nil {
		if loc, ok := d.submatch(s, dst); ok {
			return loc
		}
	}
	return re.get().FindStringSubmatchIndex(s)
}

// lastFirst is submatchInto for a caller that needs the whole match and
// the last group now, the others maybe later. For a regex that ends in
// (.+)$ and runs on the DFA from the start of a single line, it fills
// only those (the last group of the cut regex is its last character:
// where the match ended, less one) and leaves the walk back for complete;
// otherwise it is submatchInto and done is true.
func (e *re2) lastFirst(sc *dfaScratch, s string, dst []int) (loc []int, done bool, err error) {
	_, tail := e.dfas(sc)
	if e.tail == nil || tail == nil || !tail.p.anchored || (e.wordB != nil && !isASCII(s)) {
		loc, err = e.submatchInto(sc, s, dst)
		return loc, true, err
	}
	end, ok := singleLine(s)
	if !ok {
		loc, err = e.submatchInto(sc, s, dst)
		return loc, true, err
	}
	last, ran := tail.forward(s)
	if !ran {
		loc, err = e.submatchInto(sc, s, dst)
		return loc, true, err
	}
	if last < 0 {
		return nil, true, nil
	}
	n := tail.p.ncap
	if cap(dst) < n {
		dst = make([]int, n)
	}
	loc = dst[:n]
	for i := range loc {
		loc[i] = -1
	}
	loc[0], loc[1] = 0, end
	loc[n-2], loc[n-1] = last-1, end
	sc.lastEnd = last
	return loc, false, nil
}

// complete fills the groups lastFirst left out, as submatchInto would
// have; the DFA must have run nothing since.
func (e *re2) complete(sc *dfaScratch, loc []int) []int {
	end := loc[1]
	loc = sc.tail.back(sc.lastEnd, loc)
	loc[1], loc[len(loc)-1] = end, end
	return loc
}

// submatchInto is submatch with the DFA caches of sc, the result in dst
// when it has room (it must not be sc.raw).
func (e *re2) submatchInto(sc *dfaScratch, s string, dst []int) ([]int, error) {
	if e.wordB != nil && !isASCII(s) {
		return e.wordB.get().submatch(s)
	}
	full, tail := e.dfas(sc)
	if e.tail != nil {
		if end, ok := singleLine(s); ok {
			loc := find(e.tail, tail, s, dst)
			if loc != nil {
				loc[1], loc[len(loc)-1] = end, end
			}
			return loc, nil
		}
	}
	var (
		loc []int
		ran bool
	)
	if full != nil {
		buf := dst
		if e.gmap != nil {
			buf = sc.raw[:0]
		}
		// The DFA runs the whole regex, even when it is split in parts.
		if loc, ran = full.submatch(s, buf); ran && e.gmap != nil && loc != nil {
			sc.raw = loc
		}
	}
	if !ran {
		if parts := e.parts.get(); parts != nil {
			for i, re := range parts {
				if loc := re.FindStringSubmatchIndex(s); loc != nil {
					return e.remap(loc, e.pmaps[i], dst), nil
				}
			}
			return nil, nil
		}
		loc = e.re.get().FindStringSubmatchIndex(s)
	}
	if e.eol && loc != nil {
		n := len(loc) - 2
		if loc[n] >= 0 {
			loc[1] = loc[n]
		}
		loc = loc[:n]
	}
	if e.gmap != nil && loc != nil {
		loc = e.remap(loc, e.gmap, dst)
	}
	return loc, nil
}

// remap turns the groups of a rewritten regex into Python's (see
// pyTranslation.gmap), in dst when it has room.
func (e *re2) remap(loc []int, gmap []int, dst []int) []int {
	n := 2 * len(e.pnames)
	out := dst[:0]
	if cap(out) < n {
		out = make([]int, n)
	}
	out = out[:n]
	for i := range out {
		out[i] = -1
	}
	out[0], out[1] = loc[0], loc[1]
	for i := 1; 2*i < len(loc); i++ {
		g := gmap[i]
		if g < 0 {
			if loc[2*i] >= 0 {
				out[1] = loc[2*i] // a final $ took a newline
			}
			continue
		}
		if loc[2*i] >= 0 && out[2*g] < 0 {
			out[2*g], out[2*g+1] = loc[2*i], loc[2*i+1]
		}
	}
	return out
}

func (e *re2) match(s string) (bool, error) {
	sc := e.getScratch()
	ok, err := e.matchWith(sc, s)
	e.putScratch(sc)
	return ok, err
}

// matches runs re (or its DFA) on s.
func matches(re *lazyRE, d *dfa, s string) bool {
	if d != nil {
		if m, ok := d.matchEnd(s); ok {
			return m
		}
	}
	return re.get().MatchString(s)
}

// matchWith is match with the DFA caches of sc.
func (e *re2) matchWith(sc *dfaScratch, s string) (bool, error) {
	if e.wordB != nil && !isASCII(s) {
		return e.wordB.get().match(s)
	}
	full, tail := e.dfas(sc)
	if e.tail != nil {
		if _, ok := singleLine(s); ok {
			return matches(e.tail, tail, s), nil
		}
	}
	if full != nil {
		if m, ok := full.matchEnd(s); ok {
			return m, nil
		}
	}
	if parts := e.parts.get(); parts != nil {
		for _, re := range parts {
			if re.MatchString(s) {
				return true, nil
			}
		}
		return false, nil
	}
	return e.re.get().MatchString(s), nil
}

func (e *re2) names() []string {
	if e.gmap != nil {
		return e.pnames
	}
	n := e.subNames
	if n == nil {
		n = e.re.get().SubexpNames()
	}
	if e.eol {
		n = n[:len(n)-1]
	}
	return n
}

// lazyNet compiles the .NET form of a regex on first use.
type lazyNet struct {
	once sync.Once
	tr   *pyTranslation
	to   time.Duration
	eng  *backtrack
}

func (l *lazyNet) get() *backtrack {
	l.once.Do(func() {
		// The translation compiled as RE2 already; a failure here would be
		// a bug in the .NET printer, which then falls back to no match.
		l.eng, _ = newBacktrack(l.tr, nil, l.to)
		if l.eng == nil {
			l.eng = &backtrack{}
		}
	})
	return l.eng
}

// backtrack is the engine backed by regexp2, for the Python constructs RE2
// lacks. An RE2 gate that matches a superset of the regex's matches
// rejects most lines in linear time before the backtracking engine runs.
type backtrack struct {
	gate  *regexp.Regexp
	re    *regexp2.Regexp
	nums  []int // .NET group number of each Python group
	gname []string
}

// timeoutCheckPeriod is how often regexp2's clock looks at its deadlines
// (its default, 100 ms, would let a budget run far over). The
// clock goroutine only runs while matches with a deadline are under way
// (and for a second after).
const timeoutCheckPeriod = 2 * time.Millisecond

// setClock sets regexp2's clock period once, before the first backtracking
// regex exists (so before any match can start the clock).
var setClock sync.Once

func newBacktrack(tr *pyTranslation, gate *regexp.Regexp, timeout time.Duration) (*backtrack, error) {
	setClock.Do(func() { regexp2.SetTimeoutCheckPeriod(timeoutCheckPeriod) })
	re, err := regexp2.Compile(tr.net, regexp2.None)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		re.MatchTimeout = timeout
	}
	e := &backtrack{gate: gate, re: re, gname: tr.groups}
	e.nums = make([]int, len(tr.groups))
	for g := 1; g < len(tr.groups); g++ {
		name := tr.groups[g]
		if name == "" {
			name = "__g" + fmt.Sprint(g)
		}
		e.nums[g] = re.GroupNumberFromName(name)
	}
	return e, nil
}

func (e *backtrack) submatch(s string) ([]int, error) {
	if e.re == nil || (e.gate != nil && !e.gate.MatchString(s)) {
		return nil, nil
	}
	runes, offs := toRunes(s)
	defer putRunes(runes)
	m, err := e.re.FindRunesMatch(runes)
	if err != nil {
		return nil, ErrTimeout
	}
	if m == nil {
		return nil, nil
	}
	loc := make([]int, 2*len(e.nums))
	for k, num := range e.nums {
		g := m.GroupByNumber(num)
		if g == nil || len(g.Captures) == 0 {
			loc[2*k], loc[2*k+1] = -1, -1
			continue
		}
		a, b := g.Index, g.Index+g.Length
		if offs != nil {
			a, b = offs[a], offs[b]
		}
		loc[2*k], loc[2*k+1] = a, b
	}
	return loc, nil
}

func (e *backtrack) match(s string) (bool, error) {
	if e.re == nil || (e.gate != nil && !e.gate.MatchString(s)) {
		return false, nil
	}
	runes, _ := toRunes(s)
	defer putRunes(runes)
	ok, err := e.re.MatchRunes(runes)
	if err != nil {
		return false, ErrTimeout
	}
	return ok, nil
}

func (e *backtrack) names() []string { return e.gname }

// runePool recycles the rune copies of texts matched by regexp2. NOTE:
// a copy goes back to the pool once the match's offsets are read; regexp2
// keeps no reference to it that is used later (a pooled runner's stale
// reference is overwritten before use).
var runePool = sync.Pool{New: func() any { return new([]rune) }}

func putRunes(r []rune) {
	if cap(r) <= 4096 {
		r = r[:0]
		runePool.Put(&r)
	}
}

// toRunes converts s for regexp2, which works on runes. offs maps rune
// indexes to byte offsets; it is nil when s is ASCII (they are equal).
func toRunes(s string) (runes []rune, offs []int) {
	p := runePool.Get().(*[]rune)
	runes = (*p)[:0]
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			runes = append(runes, rune(s[i]))
		}
		return runes, nil
	}
	offs = make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		runes = append(runes, r)
		offs = append(offs, i)
		i += size
	}
	offs = append(offs, len(s))
	return runes, offs
}

// isASCII reports whether s has only ASCII bytes, eight at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// compiled is a regex ready to run: its engine, how it was chosen, and the
// RE2 syntax its literal prefilter is derived from.
type compiled struct {
	eng       engine
	tr        *pyTranslation
	backtrack string // why the backtracking engine runs it; "" for RE2
	litSyntax string // RE2 regex whose required literals every match has
}

// compileEngine translates a Python regex (placeholders already expanded)
// and compiles it on RE2 when RE2 can run it, on the backtracking engine
// otherwise.
func compileEngine(expr string, flags pyFlags, timeout time.Duration) (compiled, error) {
	tr, err := translatePython(expr, flags)
	if err != nil {
		return compiled{}, err
	}
	if timeout == 0 {
		timeout = DefaultMatchTimeout
	}
	if tr.re2 != "" {
		// Parsing is all regexp.Compile checks; compiling waits for the
		// first use.
		parsed, err := parseRE2(tr.re2)
		if err == nil {
			e := &re2{re: newLazyRE(tr.re2), subNames: parsed.CapNames(), eol: tr.eol}
			if tr.gmap != nil {
				e.gmap, e.pnames = tr.gmap, tr.groups
				if len(tr.parts) > 0 {
					e.parts, e.pmaps = &lazyParts{srcs: tr.parts}, tr.pmaps
				}
			} else if cut := contentTail(tr.re2, tr.eol); cut != "" {
				e.tail = newLazyRE(cut)
			}
			if tr.re.hasWordB {
				e.wordB = &lazyNet{tr: tr, to: timeout}
			}
			e.pool = &sync.Pool{New: func() any { return new(dfaScratch) }}
			return compiled{eng: e, tr: tr, litSyntax: tr.re2}, nil
		}
		// RE2's own limits (repeat counts above 1000, program size) are
		// no reason to refuse a regex Python accepts.
		var se *syntax.Error
		if tr.gmap != nil {
			// A rewrite RE2 cannot take: the backtracking engine runs the
			// regex, for the reason it had.
			tr.re2, tr.eol, tr.gmap = "", false, nil
		} else if !errors.As(err, &se) || (se.Code != syntax.ErrInvalidRepeatSize && se.Code != syntax.ErrLarge && se.Code != syntax.ErrNestingDepth) {
			return compiled{}, tidySyntaxError(err)
		}
		if se != nil && tr.re.backtrack == "" {
			tr.re.backtrack = "beyond RE2's limits (" + string(se.Code) + ")"
		}
	}
	var gate *regexp.Regexp
	if tr.gate != "" {
		gate, _ = regexp.Compile(tr.gate) // no gate if RE2 cannot take it either
	}
	e, err := newBacktrack(tr, gate, timeout)
	if err != nil {
		return compiled{}, fmt.Errorf("invalid regex: %w", err)
	}
	lit := ""
	if gate != nil {
		lit = tr.gate
	}
	return compiled{eng: e, tr: tr, backtrack: tr.re.backtrack, litSyntax: lit}, nil
}

// tidySyntaxError drops the offending fragment from a regexp syntax error
// when it holds our expansion of a placeholder, which would only confuse
// the user reading their own regex; errors.As still finds the
// *syntax.Error inside.
func tidySyntaxError(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) && strings.Contains(se.Expr, hostGroup) {
		return &syntaxError{se}
	}
	return err
}

// syntaxError is a regexp syntax error told without the offending fragment
// (which holds the expansion of a placeholder); errors.As still finds the
// *syntax.Error inside.
type syntaxError struct{ err *syntax.Error }

// Error returns "invalid regex: " and the error code.
func (e *syntaxError) Error() string { return "invalid regex: " + string(e.err.Code) }

// Unwrap returns the *syntax.Error.
func (e *syntaxError) Unwrap() error { return e.err }
