package failregex

import (
	"sync/atomic"
	"time"
)

// RegexpOptions tune CompilePython.
type RegexpOptions struct {
	// Multiline is Python's re.MULTILINE: ^ and $ also match at line
	// breaks inside the text (fail2ban compiles its regexes so when
	// maxlines > 1).
	Multiline bool
	// MatchTimeout bounds one match on the backtracking engine; zero means
	// DefaultMatchTimeout and a negative value no bound.
	MatchTimeout time.Duration
	// NoDFA runs the RE2 form on Go's regexp package alone, without the
	// DFA that finds its matches faster (the results are the same: tests
	// compare the two).
	NoDFA bool
}

// Regexp is a regular expression in Python's syntax, compiled for the
// fastest engine that can run it: Go's linear-time RE2 whenever the
// regex needs nothing RE2 lacks, the backtracking regexp2 engine (under a
// time budget) for lookahead, lookbehind, back-references, conditionals,
// atomic groups and possessive quantifiers. Capture groups are numbered
// as in Python whatever the engine. It holds no placeholder expansion:
// fail2ban's <HOST> and friends must be expanded before (see Compile for
// the Set that does).
//
// A Regexp is safe for concurrent use.
type Regexp struct {
	src      string
	c        compiled
	names    []string
	pre      []clause
	needles  [][]needle
	head     []byteSet // sets of the first bytes of every match (anchored regexes)
	timeouts atomic.Uint64
}

// CompilePython compiles a regex written in Python's re syntax.
//
// Differences from Python: \b and \B are ASCII-only on RE2 (a line with
// non-ASCII text is then matched by the backtracking engine, whose \b is
// Unicode-aware); $ without MULTILINE also matches before a newline that
// is not the last character on RE2 (Python only before the last one),
// which never matters for single log lines; RE2-style POSIX classes such
// as [[:alpha:]] are read as RE2 reads them; \N{name} is not supported.
func CompilePython(expr string, opts RegexpOptions) (*Regexp, error) {
	var flags pyFlags
	if opts.Multiline {
		flags |= pfMultiline
	}
	timeout := opts.MatchTimeout
	if timeout < 0 {
		timeout = time.Duration(1<<63 - 1)
	}
	c, err := compileEngine(expr, flags, timeout)
	if err != nil {
		return nil, err
	}
	if e, ok := c.eng.(*re2); ok && opts.NoDFA {
		e.noDFA = true
	}
	r := &Regexp{src: expr, c: c, names: c.eng.names()}
	if c.litSyntax != "" {
		if !opts.Multiline {
			r.head = headSets(c.litSyntax)
		}
		r.pre = choose(requiredLiterals(c.litSyntax))
		if len(r.pre) > maxClauses {
			r.pre = r.pre[:maxClauses]
		}
		for _, cl := range r.pre {
			var ns []needle
			for _, lit := range cl {
				ns = append(ns, newNeedle(lit))
			}
			r.needles = append(r.needles, ns)
		}
	}
	return r, nil
}

// String returns the regex as given to CompilePython.
func (r *Regexp) String() string { return r.src }

// Syntax returns the regex as translated for the engine that runs it:
// RE2 syntax, or regexp2's .NET syntax when Backtracking reports true.
func (r *Regexp) Syntax() string {
	if r.c.backtrack != "" {
		return r.c.tr.net
	}
	return r.c.tr.re2
}

// Backtracking reports whether the regex runs on the backtracking engine,
// and why (for example "negative lookahead (?! at position 12").
func (r *Regexp) Backtracking() (bool, string) { return r.c.backtrack != "", r.c.backtrack }

// SubexpNames returns the names of the capture groups in Python's
// numbering; element 0 is the whole match and unnamed groups are "".
func (r *Regexp) SubexpNames() []string { return r.names }

// NumSubexp returns the number of capture groups.
func (r *Regexp) NumSubexp() int { return len(r.names) - 1 }

// SubexpIndex returns the number of the group with the given name, or -1.
func (r *Regexp) SubexpIndex(name string) int {
	for i, n := range r.names {
		if i > 0 && n == name {
			return i
		}
	}
	return -1
}

// Literals returns the literal clauses the regex's prefilter checks: every
// text the regex matches contains at least one literal of each clause.
func (r *Regexp) Literals() [][]string {
	var out [][]string
	for _, c := range r.pre {
		out = append(out, append([]string(nil), c...))
	}
	return out
}

// Timeouts returns how many matches ran out of time since CompilePython.
func (r *Regexp) Timeouts() uint64 { return r.timeouts.Load() }

// prefilter reports whether s holds one literal of every clause.
func (r *Regexp) prefilter(s string) bool {
	if !headOK(r.head, s) {
		return false
	}
	for _, c := range r.needles {
		ok := false
		for i := range c {
			if c[i].in(s) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// CanStartWith reports whether a text that starts with byte c may match:
// false only for a regex anchored at the start of the text (\A, or ^
// without MULTILINE) whose matches never start with c.
func (r *Regexp) CanStartWith(c byte) bool { return len(r.head) == 0 || r.head[0].has(c) }

// MayMatch reports whether s passes the regex's cheap literal checks
// (the first bytes of an anchored regex, its required literals): when it
// returns false, s does not match. It costs a few byte scans and no
// allocation.
func (r *Regexp) MayMatch(s string) bool { return r.prefilter(s) }

// FindStringSubmatchIndex returns the leftmost match of r in s as pairs of
// byte offsets, like regexp.Regexp.FindStringSubmatchIndex (the match a
// backtracking engine such as Python's finds), or nil. The error is
// ErrTimeout when the backtracking engine ran out of time; the text is then
// taken as not matching. A text without the regex's required literals
// costs a few byte scans and no allocation.
func (r *Regexp) FindStringSubmatchIndex(s string) ([]int, error) {
	if !r.prefilter(s) {
		return nil, nil
	}
	loc, err := r.c.eng.submatch(s)
	if err != nil {
		r.timeouts.Add(1)
		return nil, err
	}
	return loc, nil
}

// MatchString reports whether s contains a match of r. The error is
// ErrTimeout when the backtracking engine ran out of time.
func (r *Regexp) MatchString(s string) (bool, error) {
	if !r.prefilter(s) {
		return false, nil
	}
	ok, err := r.c.eng.match(s)
	if err != nil {
		r.timeouts.Add(1)
		return false, err
	}
	return ok, nil
}

// Matcher runs a Regexp with caches of its own (the lazily built DFA that
// runs its RE2 program on ASCII text), which the Regexp's own methods
// share through a pool; results are the Regexp's. A Matcher is not safe
// for concurrent use: give each goroutine its own.
type Matcher struct {
	r  *Regexp
	e  *re2 // the RE2 engine; nil on the backtracking engine
	sc dfaScratch
	// dfa is the DFA that runs the regex on a single line when it is
	// anchored at the start of the text, nil otherwise. It mostly turns a
	// line away within its first bytes, about as fast as the literal
	// checks would, and they are lost time on a line that matches: while
	// the regex matches more often than not (score >= 0), it runs without
	// them.
	dfa     *dfa
	decided bool
	score   int8
}

// Matcher returns a new Matcher of r.
func (r *Regexp) Matcher() *Matcher {
	m := &Matcher{r: r}
	m.e, _ = r.c.eng.(*re2)
	return m
}

// Regexp returns the regex the Matcher runs.
func (m *Matcher) Regexp() *Regexp { return m.r }

// decide sets m.dfa.
func (m *Matcher) decide() {
	m.decided = true
	if m.e == nil {
		return
	}
	full, tail := m.e.dfas(&m.sc)
	if m.e.tail != nil {
		full = tail // the same start as the whole regex
	}
	if full != nil && full.p.anchored {
		m.dfa = full
	}
}

// pass reports whether s passes the literal checks the Matcher runs.
func (m *Matcher) pass(s string) bool {
	if !m.decided {
		m.decide()
	}
	if m.dfa != nil && !m.dfa.off && m.score >= 0 {
		return true
	}
	return m.r.prefilter(s)
}

// learn counts a search that ran, matched or not, in the score.
func (m *Matcher) learn(matched bool) {
	switch {
	case m.dfa == nil:
	case matched && m.score < 8:
		m.score++
	case !matched && m.score > -8:
		m.score--
	}
}

// Submatch is Regexp.FindStringSubmatchIndex with the result stored in dst
// when it has room (and in a new slice otherwise).
func (m *Matcher) Submatch(s string, dst []int) ([]int, error) {
	if !m.pass(s) {
		return nil, nil
	}
	return m.SubmatchChecked(s, dst)
}

// SubmatchChecked is Submatch without the literal checks, for a caller
// that ran checks of its own (a Screen): its result is right on any text,
// the checks only save time.
func (m *Matcher) SubmatchChecked(s string, dst []int) ([]int, error) {
	var (
		loc []int
		err error
	)
	if m.e != nil {
		loc, err = m.e.submatchInto(&m.sc, s, dst)
	} else {
		loc, err = m.r.c.eng.submatch(s)
	}
	if err != nil {
		m.r.timeouts.Add(1)
		return nil, err
	}
	m.learn(loc != nil)
	return loc, nil
}

// SubmatchLast is Submatch for a caller that needs the whole match and
// the last group at once and the other groups maybe later: when done is
// false it filled only those, and Complete fills the rest. fail2ban's
// prefregex is so: its last group, the content, is all that is needed
// of a line that no failregex matches, and finding the others is half
// the cost of the prefregex.
func (m *Matcher) SubmatchLast(s string, dst []int) (loc []int, done bool, err error) {
	if !m.pass(s) {
		return nil, true, nil
	}
	if m.e != nil {
		loc, done, err = m.e.lastFirst(&m.sc, s, dst)
	} else {
		loc, err = m.r.c.eng.submatch(s)
		done = true
	}
	if err != nil {
		m.r.timeouts.Add(1)
		return nil, true, err
	}
	m.learn(loc != nil)
	return loc, done, nil
}

// Complete fills the groups of loc that SubmatchLast left out; the
// Matcher must have run nothing since.
func (m *Matcher) Complete(loc []int) []int { return m.e.complete(&m.sc, loc) }

// MatchString is Regexp.MatchString.
func (m *Matcher) MatchString(s string) (bool, error) {
	if !m.pass(s) {
		return false, nil
	}
	var (
		ok  bool
		err error
	)
	if m.e != nil {
		ok, err = m.e.matchWith(&m.sc, s)
	} else {
		ok, err = m.r.c.eng.match(s)
	}
	if err != nil {
		m.r.timeouts.Add(1)
		return false, err
	}
	m.learn(ok)
	return ok, nil
}
