package failregex

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// Options tunes how placeholders are expanded and hosts accepted.
type Options struct {
	// AllowDNS lets <HOST> match DNS names too (fail2ban's usedns); off by
	// default, so <HOST> == <ADDR>. It also decides whether a <DNS> match
	// that is not an IP address is accepted.
	AllowDNS bool
	// MatchTimeout is the time budget of one line on the backtracking
	// engine (regexes with lookaround, back-references, conditionals,
	// atomic groups or possessive quantifiers); zero means
	// DefaultMatchTimeout, a negative value no budget. A line that
	// exhausts it is counted in Stats.Timeouts and not matched further.
	MatchTimeout time.Duration
}

// Match is a successful (or ignored) match of a failure regex.
type Match struct {
	// Regex is the index of the fail regex that matched.
	Regex int
	// HostText is the host exactly as written in the line, without brackets.
	// It is a substring of the matched line (no copy): it keeps the line's
	// memory alive, so strings.Clone it to keep it for long.
	HostText string
	// Host is the parsed address with IPv4-mapped IPv6 (::ffff:1.2.3.4)
	// unmapped to IPv4; the zero (invalid) Addr for a DNS name.
	Host netip.Addr
	// Fields holds the <F-NAME> captures keyed by lower-case name (<F-USER>
	// is "user", <F-ID/> "id", <F-PORT/> "port"), "cidr" for <CIDR> and
	// <SUBNET>, and (?P<name>…) captures under their own name. Groups that
	// did not take part in the match are absent. Fields is nil when the regex
	// has no named groups. Values are substrings of the line.
	Fields map[string]string
}

// Result is the outcome of Set.Scan.
type Result uint8

const (
	// NoMatch means no fail regex matched.
	NoMatch Result = iota
	// Failure means a fail regex matched with a valid host and no ignore
	// regex matched.
	Failure
	// Ignored means a fail regex matched with a valid host but an ignore
	// regex matched too; the match must be discarded.
	Ignored
	// BadHost means the first fail regex that matched captured a host that
	// is not acceptable: not an IP address (and not an allowed DNS name),
	// absent, or cut out of a longer address. As in fail2ban the first
	// matching regex ends the search; the line is not a failure.
	BadHost
	// TimedOut means the line exhausted its time budget on the
	// backtracking engine before a regex matched; it is not a failure.
	TimedOut
)

// String returns "no match", "failure", "ignored", "bad host" or "timed out".
func (r Result) String() string {
	switch r {
	case NoMatch:
		return "no match"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	case BadHost:
		return "bad host"
	case TimedOut:
		return "timed out"
	}
	return "unknown"
}

// Stats are counters kept by a Set since Compile.
type Stats struct {
	// BadHost counts lines for which a fail regex matched but the host was
	// rejected (Result BadHost), e.g. "999.1.1.1" or "192.030.0.6".
	BadHost uint64
	// Timeouts counts lines that exhausted their time budget on the
	// backtracking engine (Result TimedOut).
	Timeouts uint64
}

// field is a capture group exposed in Match.Fields.
type field struct {
	group int    // capture group number
	key   string // Fields key
	alt   bool   // an alt_X group: fills key only when it is absent or empty
}

// regex is one compiled fail or ignore regex.
type regex struct {
	src    string
	expr   string // the syntax the engine runs
	lit    string // RE2 syntax the prefilter literals come from ("": none)
	why    string // why the backtracking engine runs it ("": RE2)
	eng    engine
	pre    prefilter
	kind   hostKind
	host   int // capture group number of the host; 0 for ignore regexes
	fields []field
}

// prefilter is the literal test run before a regex.
type prefilter struct {
	mask    uint64  // bits of the single-literal clauses with id < 64
	clauses [][]int // literal ids; a clause holds if any of its literals is present
}

// Set is a compiled list of fail regexes and ignore regexes. It is safe for
// concurrent use.
type Set struct {
	fail     []regex
	ignore   []regex
	lits     []needle // literal table, indexed by id
	gate     []int    // literals every fail regex requires
	allowDNS bool
	budget   time.Duration // per line on the backtracking engine
	badHost  atomic.Uint64
	timeouts atomic.Uint64

	noPrefilter bool // benchmarks only
}

// Compile builds a Set from failure regexes and ignore regexes (one regex per
// element, already split). Each fail regex needs exactly one host
// placeholder; ignore regexes may use placeholders but need none. On error
// the Set is nil and the error is an Errors listing every bad regex, so that
// each can be reported against its own line.
func Compile(fail, ignore []string, opts Options) (*Set, error) {
	s := &Set{allowDNS: opts.AllowDNS, budget: opts.MatchTimeout}
	if s.budget == 0 {
		s.budget = DefaultMatchTimeout
	}
	var (
		errs Errors
		lits [2][][]clause // required literals of each compiled regex
	)
	for list, srcs := range [2][]string{fail, ignore} {
		capture := list == 0
		name := "fail"
		if !capture {
			name = "ignore"
		}
		for i, src := range srcs {
			r, err := compileOne(src, opts, capture)
			if err != nil {
				errs = append(errs, &Error{List: name, Index: i, Regex: src, Err: err})
				continue
			}
			var req []clause
			if r.lit != "" {
				req = requiredLiterals(r.lit)
			}
			lits[list] = append(lits[list], req)
			if capture {
				s.fail = append(s.fail, r)
			} else {
				s.ignore = append(s.ignore, r)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// Literals every fail regex needs are checked once per line, first,
	// and get the lowest (memoized) ids.
	ids := map[string]int{}
	gate := gateLiterals(lits[0])
	for _, g := range gate {
		s.gate = append(s.gate, s.intern([]clause{{g}}, ids).clauses[0][0])
	}
	for i := range s.fail {
		s.fail[i].pre = s.intern(withoutGate(lits[0][i], gate), ids)
	}
	for i := range s.ignore {
		s.ignore[i].pre = s.intern(withoutGate(lits[1][i], nil), ids)
	}
	return s, nil
}

func compileOne(src string, opts Options, capture bool) (regex, error) {
	ex, err := expand(src, opts, capture)
	if err != nil {
		return regex{}, err
	}
	if capture && ex.kind == kindNone {
		return regex{}, ErrNoHost
	}
	c, err := compileEngine(LocalizeFlags(ex.expr), 0, opts.MatchTimeout)
	if err != nil {
		var (
			dup *dupGroupError
			pse *pySyntaxError
		)
		if errors.As(err, &pse) && ex.expr != src {
			// The position is in the expanded regex, not the one written.
			return regex{}, fmt.Errorf("%w: %s", ErrSyntax, pse.msg)
		}
		if errors.As(err, &dup) {
			if dup.name == hostGroup {
				return regex{}, fmt.Errorf("group name %s is reserved", hostGroup)
			}
			return regex{}, fmt.Errorf("duplicate field name %q", dup.name)
		}
		return regex{}, err
	}
	eng := c.eng
	expr := c.tr.re2
	if c.backtrack != "" {
		expr = c.tr.net
	}
	r := regex{src: src, expr: expr, lit: c.litSyntax, why: c.backtrack, eng: eng, kind: ex.kind}
	if !capture {
		return r, nil
	}
	seen := map[string]bool{}
	for g, name := range eng.names() {
		if name != "" {
			// Go accepts duplicate group names; Python (and so fail2ban)
			// does not, and a duplicate would make the field ambiguous.
			if seen[name] {
				if name == hostGroup {
					return regex{}, fmt.Errorf("group name %s is reserved", hostGroup)
				}
				return regex{}, fmt.Errorf("duplicate field name %q", name)
			}
			seen[name] = true
		}
		switch {
		case name == "":
		case name == hostGroup:
			r.host = g
		case strings.HasPrefix(name, "alt_") && len(name) > 4:
			key := strings.TrimRight(name[4:], "0123456789")
			if key == "" {
				key = name
			}
			r.fields = append(r.fields, field{group: g, key: key, alt: true})
		default:
			r.fields = append(r.fields, field{group: g, key: name})
		}
	}
	// Plain fields first, so that alt fields see them when filling in.
	var plain, alts []field
	for _, f := range r.fields {
		if f.alt {
			alts = append(alts, f)
		} else {
			plain = append(plain, f)
		}
	}
	if len(r.fields) > 0 {
		r.fields = append(plain, alts...)
	}
	return r, nil
}

// intern assigns literal ids, shared by all regexes of the Set, so that each
// literal is searched at most once per line.
func (s *Set) intern(cs []clause, ids map[string]int) prefilter {
	var p prefilter
	for _, c := range cs {
		var ci []int
		for _, lit := range c {
			id, ok := ids[lit]
			if !ok {
				id = len(s.lits)
				ids[lit] = id
				s.lits = append(s.lits, newNeedle(lit))
			}
			ci = append(ci, id)
		}
		if len(ci) == 1 && ci[0] < 64 {
			p.mask |= 1 << ci[0]
		}
		p.clauses = append(p.clauses, ci)
	}
	return p
}

// memo caches, for one line, which of the first 64 literals are present.
type memo struct{ known, has uint64 }

func (s *Set) contains(id int, text string, m *memo) bool {
	if id >= 64 {
		return s.lits[id].in(text)
	}
	bit := uint64(1) << id
	if m.known&bit != 0 {
		return m.has&bit != 0
	}
	m.known |= bit
	if s.lits[id].in(text) {
		m.has |= bit
		return true
	}
	return false
}

// pass reports whether text satisfies the prefilter p.
func (s *Set) pass(p *prefilter, text string, m *memo) bool {
	if s.noPrefilter {
		return true
	}
	if p.mask&(m.known&^m.has) != 0 { // a required literal is known absent
		return false
	}
	for _, c := range p.clauses {
		if len(c) == 1 {
			if !s.contains(c[0], text, m) {
				return false
			}
			continue
		}
		ok := false
		for _, id := range c {
			if s.contains(id, text, m) {
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

// Match tries the fail regexes in order on text; the first that matches
// wins. If it matched, the ignore regexes are tried on the same text and a
// hit discards the match: matched is then false, ignored true and m still
// describes the discarded match. A match whose host is rejected (see
// BadHost) gives matched=false, ignored=false and is counted in Stats.
// A line that no regex matches does not allocate.
func (s *Set) Match(text string) (m Match, matched bool, ignored bool) {
	switch s.Scan(text, &m) {
	case Failure:
		return m, true, false
	case Ignored:
		return m, false, true
	}
	return Match{}, false, false
}

// Scan is Match with the outcome as a Result. m is overwritten; for
// Failure and Ignored it describes the match, for BadHost only Regex and
// HostText are set (HostText may be empty), for NoMatch it is zeroed.
func (s *Set) Scan(text string, m *Match) Result {
	*m = Match{}
	var (
		mm  memo
		bud budget
	)
	if !s.noPrefilter {
		for _, id := range s.gate {
			if !s.contains(id, text, &mm) {
				return NoMatch
			}
		}
	}
	for i := range s.fail {
		r := &s.fail[i]
		if !s.pass(&r.pre, text, &mm) {
			continue
		}
		loc, ok := s.submatch(r, text, &bud)
		if !ok {
			s.timeouts.Add(1)
			return TimedOut
		}
		if loc == nil {
			continue
		}
		m.Regex = i
		a, b := loc[2*r.host], loc[2*r.host+1]
		if a < 0 { // host inside an optional part that did not match
			s.badHost.Add(1)
			return BadHost
		}
		m.HostText = text[a:b]
		addr, ok := checkHost(text, a, b, r.kind, s.allowDNS)
		if !ok {
			s.badHost.Add(1)
			return BadHost
		}
		m.Host = addr
		if len(r.fields) > 0 {
			m.Fields = r.collect(text, loc)
		}
		for j := range s.ignore {
			g := &s.ignore[j]
			if !s.pass(&g.pre, text, &mm) {
				continue
			}
			hit, ok := s.match(g, text, &bud)
			if !ok {
				s.timeouts.Add(1)
				return TimedOut
			}
			if hit {
				return Ignored
			}
		}
		return Failure
	}
	return NoMatch
}

// budget tracks the time one line spends on the backtracking engine.
type budget struct {
	start time.Time
}

// slow reports whether r runs text on the backtracking engine.
func (r *regex) slow(text string) bool {
	if r.why != "" {
		return true
	}
	e, ok := r.eng.(*re2)
	return ok && e.wordB != nil && !isASCII(text)
}

// allow reports whether the line may still run a backtracking match.
func (s *Set) allow(b *budget) bool {
	if s.budget < 0 {
		return true
	}
	if b.start.IsZero() {
		b.start = time.Now()
		return true
	}
	return time.Since(b.start) < s.budget
}

// submatch runs fail regex r on text; ok is false when the line ran out of
// time.
func (s *Set) submatch(r *regex, text string, b *budget) (loc []int, ok bool) {
	if r.slow(text) && !s.allow(b) {
		return nil, false
	}
	loc, err := r.eng.submatch(text)
	return loc, err == nil
}

// match runs ignore regex r on text; ok is false when the line ran out of
// time.
func (s *Set) match(r *regex, text string, b *budget) (hit, ok bool) {
	if r.slow(text) && !s.allow(b) {
		return false, false
	}
	hit, err := r.eng.match(text)
	return hit, err == nil
}

// collect builds Match.Fields.
func (r *regex) collect(text string, loc []int) map[string]string {
	f := make(map[string]string, len(r.fields))
	for _, fd := range r.fields {
		a, b := loc[2*fd.group], loc[2*fd.group+1]
		if a < 0 {
			continue
		}
		if fd.alt {
			if v := text[a:b]; v != "" && f[fd.key] == "" {
				f[fd.key] = v
			}
			continue
		}
		f[fd.key] = text[a:b]
	}
	return f
}

// Stats returns the Set's counters.
func (s *Set) Stats() Stats { return Stats{BadHost: s.badHost.Load(), Timeouts: s.timeouts.Load()} }

// Backtracking reports whether fail regex i runs on the backtracking
// engine (it uses a construct RE2 lacks), and why, e.g. "negative
// lookahead (?! at position 12" (a position in the regex after the
// expansion of its placeholders).
func (s *Set) Backtracking(i int) (bool, string) { return s.fail[i].why != "", s.fail[i].why }

// IgnoreBacktracking is Backtracking for ignore regex i.
func (s *Set) IgnoreBacktracking(i int) (bool, string) {
	return s.ignore[i].why != "", s.ignore[i].why
}

// NumFail returns the number of fail regexes.
func (s *Set) NumFail() int { return len(s.fail) }

// NumIgnore returns the number of ignore regexes.
func (s *Set) NumIgnore() int { return len(s.ignore) }

// Fail returns fail regex i as given to Compile and as translated for its
// engine (RE2 syntax, or regexp2's .NET syntax when Backtracking(i)).
func (s *Set) Fail(i int) (src, expanded string) { return s.fail[i].src, s.fail[i].expr }

// Ignore returns ignore regex i as given to Compile and as expanded.
func (s *Set) Ignore(i int) (src, expanded string) { return s.ignore[i].src, s.ignore[i].expr }

// Literals returns the required literals that Match checks for fail regex
// i, as clauses: every line the regex matches contains at least one literal
// of each clause. Literals that all fail regexes require (checked once per
// line) come first. It is meant for diagnostics and tests.
func (s *Set) Literals(i int) [][]string {
	var out [][]string
	for _, id := range s.gate {
		out = append(out, []string{s.lits[id].s})
	}
	for _, c := range s.fail[i].pre.clauses {
		var lits []string
		for _, id := range c {
			lits = append(lits, s.lits[id].s)
		}
		out = append(out, lits)
	}
	return out
}
