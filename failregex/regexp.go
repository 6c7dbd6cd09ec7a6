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
