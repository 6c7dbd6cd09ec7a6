package failfilter

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/f2bproject/f2b/failregex"
	"github.com/f2bproject/f2b/logtime"
)

// Definition is a filter as fail2ban's filter.d files define it, with the
// tags (<HOST>, <F-USER>…) not yet expanded.
type Definition struct {
	// FailRegex are the failure regexes, one per element.
	FailRegex []string
	// IgnoreRegex are regexes that discard a failure their line matches.
	IgnoreRegex []string
	// PrefRegex, when set, must match a line before the failregexes are
	// tried; its <F-CONTENT>…</F-CONTENT> replaces the text they see.
	PrefRegex string
	// DatePattern are fail2ban datepattern values, one per element (an
	// element holding several lines is split). Empty means the default
	// templates.
	DatePattern []string
	// MaxLines is the number of lines the multi-line buffer holds (0 and 1
	// mean single lines).
	MaxLines int
	// LogTimeZone is the zone of timestamps that carry none ("UTC",
	// "UTC+0200", "CET"…); empty means Options.Location.
	LogTimeZone string
	// UseDNS is fail2ban's usedns: "yes", "warn" (the default when empty),
	// "no" (<HOST> matches addresses only) or "raw" (host names are kept as
	// written, never resolved).
	UseDNS string
}

// Options tune a Filter beyond its definition.
type Options struct {
	// Location is the zone of timestamps that carry none when the
	// definition sets no LogTimeZone (nil = time.Local).
	Location *time.Location
	// Now is the clock: the reference for year-less dates, for lines
	// without date, and for the multi-line id cache (nil = time.Now).
	Now func() time.Time
	// CheckAllRegex tries every failregex on a line instead of stopping at
	// the first that matches (fail2ban-regex and fail2ban's tests do), and
	// reports helper matches (NoFail) and pending ones.
	CheckAllRegex bool
	// ReturnRawHost keeps a host name as written instead of resolving it,
	// as usedns=raw does.
	ReturnRawHost bool
	// KeepPending reports failures whose connection has no address yet
	// (Pending), which fail2ban's daemon drops (fail2ban-regex keeps them).
	KeepPending bool
	// CheckFindTime applies fail2ban's daemon rules on the time of a line:
	// in operation (InOperation) a line dated more than a minute from now
	// is taken as happening now; otherwise lines older than FindTime are
	// dropped. Off, times are taken as the log gives them.
	CheckFindTime bool
	// InOperation: see CheckFindTime.
	InOperation bool
	// FindTime: see CheckFindTime.
	FindTime time.Duration
	// MatchTimeout is the time budget of a line on the backtracking regex
	// engine; zero means failregex.DefaultMatchTimeout, negative none. A
	// line that exhausts it is counted in Stats.TimedOut and yields no
	// failure.
	MatchTimeout time.Duration
	// RejectAmbiguous drops a failure whose line the same failregex would
	// also match with another host in place of the one it found: a line
	// holding two addresses where the regex allows either, which is how
	// attacker-controlled text (a user name, a URL) gets another address
	// banned. fail2ban has no such check (it reports the first); it is off
	// for conformance and on in f2b's own use. Dropped lines are counted in
	// Stats.Ambiguous.
	RejectAmbiguous bool
	// TrimDateBlanks drops the blanks after a date that starts the line,
	// so that "^" in a regex anchors at what follows the date (the host
	// name of a syslog line). fail2ban keeps them (its stock regexes start
	// with \s*); f2b's own pipelines trim them.
	TrimDateBlanks bool
	// PlainRegexp runs the regexes on Go's regexp package alone, without
	// the DFA that finds the same matches faster: for comparing the two,
	// and for debugging.
	PlainRegexp bool
	// NoDetails leaves Failure.Fields, Users and Lines empty (Attempts is
	// still set), for a caller that only counts failures: building them is
	// most of the cost of a failure.
	NoDetails bool
	// CompactFields leaves Failure.Fields nil and sets Names and Values
	// instead (the same captures, without building a map), for a caller
	// that reads the captures of few failures. Values and Lines are then
	// cut from blocks shared by many failures: a caller that keeps them
	// long should copy them (one kept keeps its block).
	CompactFields bool
	// Resolve turns a host name (a <HOST> that is no address, with usedns
	// yes or warn) into addresses; each gives one failure. Nil keeps the
	// name: one failure with an invalid Host and the name as ID.
	Resolve func(name string) []netip.Addr
}

// DefError is a mistake in one field of a Definition: Field is fail2ban's
// option name ("failregex", "prefregex", "datepattern"…) and Index the
// element of a list, or -1.
type DefError struct {
	Field string
	Index int
	Err   error
}

func (e *DefError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("%s[%d]: %v", e.Field, e.Index, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

func (e *DefError) Unwrap() error { return e.Err }

// Failure is one failure found in the log, as fail2ban's filter reports it.
type Failure struct {
	// Regex is the index of the failregex that matched.
	Regex int
	// Time is the time of the line; zero when the line had no date and
	// none could be assumed.
	Time time.Time
	// ID is the failure id as fail2ban keys it: the host as written in the
	// log ("192.0.2.1", "2001:db8::1", a host name, "192.030.0.6"), the
	// subnet for a <SUBNET> with a prefix length ("192.0.2.0/24"), or the
	// text of <F-ID> when the regex has one.
	ID string
	// Host is the address of the failure (IPv4-mapped IPv6 unmapped), the
	// masked network address for a subnet; invalid when ID is no address
	// (a host name, a raw id, a malformed address).
	Host netip.Addr
	// Bits is the prefix length of a subnet id, or -1.
	Bits int
	// HostText is the host (or <F-ID>) exactly as written in the line.
	HostText string
	// Fields holds the named groups that took part in the match (those of
	// the prefregex too, the failregex's winning), merged over the
	// connection for multi-line ids: "user", "ip4", "mlfid", "fid"…
	// <F-ALT_X> groups fill "x"; <F-TUPLE_X> groups make "x" a Python
	// tuple literal.
	Fields map[string]string
	// Names and Values replace Fields with Options.CompactFields: Values[i]
	// is the field named Names[i]. Names is shared by many failures and
	// must not be changed; it is empty but not nil when no field is set.
	Names, Values []string
	// Users are the user names seen on the connection (<F-USER>), sorted.
	Users []string
	// Attempts is the number of lines behind the failure (fail2ban's
	// matches): above 1 when a multi-line id gathered several.
	Attempts int
	// Lines are the matched lines, as read.
	Lines []string
	// NoFail marks a helper match (<F-NOFAIL>, <F-MLFGAINED>) reported
	// only with CheckAllRegex; it is no failure.
	NoFail bool
	// Pending marks a match whose connection has no address yet, reported
	// only with CheckAllRegex or KeepPending; it is no failure.
	Pending bool
}

// Stats are counters kept by a Filter.
type Stats struct {
	// Lines counts the lines processed.
	Lines uint64
	// Failures counts the failures reported (not NoFail, not Pending).
	Failures uint64
	// Ignored counts matches discarded by an ignoreregex.
	Ignored uint64
	// NoDate counts lines without a date.
	NoDate uint64
	// TimedOut counts lines that exhausted their time budget on the
	// backtracking regex engine.
	TimedOut uint64
	// Ambiguous counts failures dropped by Options.RejectAmbiguous.
	Ambiguous uint64
}

// Filter applies a Definition to log lines one at a time, keeping
// fail2ban's per-file state: the last date (for lines without one), the
// multi-line buffer and the multi-line id cache. A Filter must be used by
// one goroutine at a time (one per log file or journal is the natural
// use); its compiled regexes are safe to share, see Clone.
type Filter struct {
	def  Definition
	opts Options

	fail   []*regex
	ignore []*regex
	pref   *regex
	dates  *logtime.Detector
	none   bool // datepattern {NONE}
	raw    bool // ids are kept raw (usedns=raw or ReturnRawHost)
	budget time.Duration
	// first[c] has bit i set when failregex i (of the first 64) may match
	// a buffer that starts with byte c; nil when every one may.
	first *[256]uint64
	// screen runs the literal checks of the first 64 failregexes at once.
	screen *failregex.Screen

	// State.
	matchBuf     []tuple // a failure's matches list (see findFailure)
	lastDate     time.Time
	lastTimeText string
	lineBuf      []tuple // the multi-line buffer
	mlfid        *idCache
	stats        Stats

	// Per regex (by regex.id): its matcher (DFA caches of this Filter) and
	// the buffer of its last match.
	mats []*failregex.Matcher
	locs [][]int

	// ProcessAll's: the other goroutine's matchers, the matches it found
	// for the current line, its date template.
	pipeMats     []*failregex.Matcher
	memo         []memoEnt
	pipeBuf      *string // the line's text as the regexes see it
	pipeSkip     bool    // findFailure has nothing to do on the line
	piped        bool
	pipeTemplate string

	// Scratch space of the current line: the buffer the regexes search,
	// where its text comes from, the failure dict.
	scratch, scratch2 []byte
	segPref, segFail  []seg
	dict              *dict
	content           [1]tuple  // the line buffer after a prefregex's content
	one               [1]tuple  // the line buffer of single-line filters
	lineStart         time.Time // budget accounting of the current line
	// line is the line ProcessLineInto is working on ("" elsewhere): a
	// matched tuple made of its pieces in place is this string, so its
	// text needs no copy.
	line     string
	timedOut bool
	// names are the Failure.Names handed out so far (CompactFields), for
	// each set of keys: failures mostly share a few.
	names []nameSet
	// slab is where CompactFields failures' Values and Lines are cut
	// from: one allocation for hundreds of failures.
	slab []string
}

// New compiles a definition. Every bad regex is reported, each error
// naming the list and index ("failregex[2]: …").
func New(def Definition, opts Options) (*Filter, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	useDNS := strings.ToLower(strings.TrimSpace(def.UseDNS))
	switch useDNS {
	case "":
		useDNS = "warn"
	case "yes", "warn", "no", "raw":
	default:
		useDNS = "no" // fail2ban's "safe" fallback
	}
	def.UseDNS = useDNS
	f := &Filter{def: def, opts: opts, raw: useDNS == "raw" || opts.ReturnRawHost, budget: opts.MatchTimeout}
	if f.budget == 0 {
		f.budget = failregex.DefaultMatchTimeout
	}
	var errs []error
	if def.MaxLines < 0 {
		errs = append(errs, &DefError{Field: "maxlines", Index: -1, Err: fmt.Errorf("must be at least 1, not %d", def.MaxLines)})
	}
	cs := compileAll(def, useDNS, opts)
	if strings.TrimSpace(def.PrefRegex) != "" {
		r, err := cs.pref.r, cs.pref.err
		if err != nil {
			errs = append(errs, &DefError{Field: "prefregex", Index: -1, Err: err})
		} else {
			f.pref = r
		}
	}
	for i := range def.FailRegex {
		r, err := cs.fail[i].r, cs.fail[i].err
		if err != nil {
			errs = append(errs, &DefError{Field: "failregex", Index: i, Err: err})
			continue
		}
		if !r.hasFailureID() && (f.pref == nil || !f.pref.hasFailureID()) {
			errs = append(errs, &DefError{Field: "failregex", Index: i, Err: ErrNoFailureID})
			continue
		}
		f.fail = append(f.fail, r)
	}
	f.first = firstBytes(f.fail)
	res := make([]*failregex.Regexp, len(f.fail))
	for i, r := range f.fail {
		res[i] = r.re
	}
	f.screen = failregex.NewScreen(res)
	for i := range def.IgnoreRegex {
		r, err := cs.ignore[i].r, cs.ignore[i].err
		if err != nil {
			errs = append(errs, &DefError{Field: "ignoreregex", Index: i, Err: err})
			continue
		}
		f.ignore = append(f.ignore, r)
	}
	loc := opts.Location
	if tz := strings.TrimSpace(def.LogTimeZone); tz != "" {
		l, err := logtime.FixedZone(tz)
		if err != nil {
			errs = append(errs, &DefError{Field: "logtimezone", Index: -1, Err: err})
		} else {
			loc = l
		}
	}
	var patterns []string
	for _, p := range def.DatePattern {
		for _, l := range strings.Split(p, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				patterns = append(patterns, l)
			}
		}
	}
	if len(patterns) == 1 && strings.EqualFold(patterns[0], "{NONE}") {
		f.none = true
	} else {
		d, err := logtime.New(logtime.Options{Patterns: patterns, Location: loc, Now: opts.Now, WholeSeconds: true})
		if err != nil {
			errs = append(errs, &DefError{Field: "datepattern", Index: -1, Err: err})
		} else {
			f.dates = d
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	f.numberRegexes()
	f.newMatchers()
	return f, nil
}

// compiled is one regex of a definition compiled, or why not.
type compiled struct {
	r   *regex
	err error
}

// compiledSet is the regexes of a definition, compiled.
type compiledSet struct {
	pref         compiled
	fail, ignore []compiled
}

// compileAll compiles the regexes of a definition on all CPUs: reading
// the big Unicode classes of Python's \d and \w is most of the cost of
// starting.
func compileAll(def Definition, useDNS string, opts Options) *compiledSet {
	cs := &compiledSet{fail: make([]compiled, len(def.FailRegex)), ignore: make([]compiled, len(def.IgnoreRegex))}
	type job struct {
		dst       *compiled
		src       string
		multiline bool
	}
	var jobs []job
	if strings.TrimSpace(def.PrefRegex) != "" {
		jobs = append(jobs, job{&cs.pref, def.PrefRegex, false})
	}
	for i, src := range def.FailRegex {
		jobs = append(jobs, job{&cs.fail[i], src, def.MaxLines > 1})
	}
	for i, src := range def.IgnoreRegex {
		jobs = append(jobs, job{&cs.ignore[i], src, false})
	}
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range min(runtime.GOMAXPROCS(0), (len(jobs)+3)/4) {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(jobs) {
					return
				}
				j := jobs[k]
				j.dst.r, j.dst.err = compileRegex(j.src, useDNS, j.multiline, opts.MatchTimeout, opts.PlainRegexp)
			}
		})
	}
	wg.Wait()
	return cs
}

// numberRegexes gives each regex its index in Filter.mats.
func (f *Filter) numberRegexes() {
	n := 0
	if f.pref != nil {
		f.pref.id, n = n, n+1
	}
	for _, r := range f.fail {
		r.id, n = n, n+1
	}
	for _, r := range f.ignore {
		r.id, n = n, n+1
	}
}

// newMatchers gives the Filter matchers of its own.
func (f *Filter) newMatchers() {
	var all []*regex
	if f.pref != nil {
		all = append(all, f.pref)
	}
	all = append(append(all, f.fail...), f.ignore...)
	f.mats = make([]*failregex.Matcher, len(all))
	f.locs = make([][]int, len(all))
	for _, r := range all {
		f.mats[r.id] = r.re.Matcher()
	}
}

// Clone returns a Filter with the same compiled definition and fresh
// state, for another goroutine or another log.
func (f *Filter) Clone() *Filter {
	g := &Filter{def: f.def, opts: f.opts, fail: f.fail, ignore: f.ignore, pref: f.pref,
		none: f.none, raw: f.raw, budget: f.budget, first: f.first, screen: f.screen}
	if f.dates != nil {
		g.dates = f.dates.Clone()
	}
	g.newMatchers()
	return g
}

// Stats returns the Filter's counters.
func (f *Filter) Stats() Stats { return f.stats }

// DateTemplate names the date template that found the last date ("" when
// no line had one yet, or with datepattern {NONE}).
func (f *Filter) DateTemplate() string {
	if f.piped {
		return f.pipeTemplate
	}
	if f.dates == nil {
		return ""
	}
	return f.dates.LastTemplate()
}

// LastDate returns the date of the last line that carried one (zero
// before the first): the log's clock as this filter has read it.
func (f *Filter) LastDate() time.Time { return f.lastDate }

// NumFail returns the number of failregexes.
func (f *Filter) NumFail() int { return len(f.fail) }

// FailRegex returns failregex i as defined and as it runs after fail2ban's
// tags were expanded (Python syntax).
func (f *Filter) FailRegex(i int) (src, expanded string) {
	return f.fail[i].src, f.fail[i].re.String()
}

// Backtracking reports whether failregex i runs on the backtracking
// engine, and why.
func (f *Filter) Backtracking(i int) (bool, string) { return f.fail[i].re.Backtracking() }

// PrefBacktracking reports it for the prefregex (false without one).
func (f *Filter) PrefBacktracking() (bool, string) {
	if f.pref == nil {
		return false, ""
	}
	return f.pref.re.Backtracking()
}

// IgnoreBacktracking reports it for ignoreregex i.
func (f *Filter) IgnoreBacktracking(i int) (bool, string) { return f.ignore[i].re.Backtracking() }

// fresh reports whether t is less than a minute before now, fail2ban's
// test for "the last date is still current".
func (f *Filter) fresh(t, now time.Time) bool {
	return !t.IsZero() && t.After(now.Add(-time.Minute))
}

// ProcessLine finds the date of a line, cuts it out and looks for
// failures in the rest, as fail2ban's Filter.processLine does. The line
// must not hold its line break. The Filter and the failures may keep
// substrings of line (the last date's text, the multi-line buffer,
// Failure.Lines), so a line made from a reused buffer without copying
// (unsafe.String) must be copied first.
func (f *Filter) ProcessLine(line string) []Failure {
	return f.ProcessLineInto(line, nil)
}

// ProcessLineInto is ProcessLine appending the failures to dst, which
// saves an allocation per failure to a caller that reuses its slice.
func (f *Filter) ProcessLineInto(line string, dst []Failure) []Failure {
	now := f.opts.Now()
	var h dateHit
	if !f.none {
		h.t, h.s, h.e, h.ok = f.dates.MatchAt(line, now)
	}
	// The failures' Lines may alias line itself (see lineText): the
	// caller's string, which ProcessLine's contract lets them keep.
	f.line = line
	dst = f.processLine(line, now, h, dst)
	f.line = ""
	return dst
}

// dateHit is what the date detector found in a line.
type dateHit struct {
	t    time.Time
	s, e int
	ok   bool
}

// regexText returns the text of a line the regexes see, as the two parts
// findFailure's buffer is made of: before the date and after it (with the
// blanks TrimDateBlanks drops). It is the same whatever the Filter's state.
func (f *Filter) regexText(line string, h dateHit) (before, after string) {
	if f.none || !h.ok || h.e <= h.s {
		return "", line
	}
	return line[:h.s], line[f.dateEnd(line, h):]
}

// dateEnd is where the text after the date starts.
func (f *Filter) dateEnd(line string, h dateHit) int {
	if h.s == 0 && f.opts.TrimDateBlanks {
		// The blanks go with the date, so the line is still
		// prefix+date+rest as read.
		e := h.e
		for e < len(line) && (line[e] == ' ' || line[e] == '\t') {
			e++
		}
		return e
	}
	return h.e
}

// processLine is ProcessLineInto with the clock read and the date found.
func (f *Filter) processLine(line string, now time.Time, h dateHit, dst []Failure) []Failure {
	f.stats.Lines++
	var (
		tl     tuple
		date   time.Time
		noDate bool
	)
	switch {
	case f.none:
		// {NONE}: the date is always empty: the last date if current, else now.
		if f.fresh(f.lastDate, now) {
			tl, date = tuple{"", f.lastTimeText, line}, f.lastDate
		} else {
			tl, date = tuple{"", "", line}, now
		}
	default:
		t, s, e, ok := h.t, h.s, h.e, h.ok
		switch {
		case ok && e > s:
			de := f.dateEnd(line, h)
			tl, date = tuple{line[:s], line[s:de], line[de:]}, t
			f.lastTimeText, f.lastDate = line[s:e], t
		case ok:
			// The pattern matched an empty date: the last date if current, else now.
			tl = tuple{line[:s], "", line[e:]}
			if f.fresh(f.lastDate, now) {
				tl, date = tuple{"", f.lastTimeText, line}, f.lastDate
			} else {
				date = now
			}
		default:
			tl = tuple{"", "", line}
			noDate = true
			f.stats.NoDate++
			if f.fresh(f.lastDate, now) {
				tl, date = tuple{"", f.lastTimeText, line}, f.lastDate
			} else if f.opts.CheckFindTime && f.opts.InOperation {
				date = now
			}
		}
	}
	if f.opts.CheckFindTime && !date.IsZero() {
		if f.opts.InOperation {
			if farFromNow(date, now) {
				date = now
				f.lastDate = now
			}
		} else if date.Before(now.Add(-f.opts.FindTime)) {
			return dst
		}
	}
	if f.pipeSkip {
		// ProcessAll's other goroutine ran every regex findFailure would
		// and none matched but maybe the prefregex: findFailure would
		// find nothing and change nothing.
		return dst
	}
	return f.findFailure(dst, tl, date, noDate, now)
}

// ProcessSplit looks for failures in a line that arrives already split
// around its date with the date known, as fail2ban's journal backend hands
// them over: prefix+rest is the text the regexes see (a journal line is
// "", the time text, "HOST IDENT[PID]: MESSAGE").
func (f *Filter) ProcessSplit(prefix, dateText, rest string, t time.Time) []Failure {
	f.stats.Lines++
	now := f.opts.Now()
	f.lastTimeText, f.lastDate = dateText, t
	if f.opts.CheckFindTime && f.opts.InOperation {
		if farFromNow(t, now) {
			t = now
			f.lastDate = now
		}
	} else if f.opts.CheckFindTime && t.Before(now.Add(-f.opts.FindTime)) {
		return nil
	}
	return f.findFailure(nil, tuple{prefix, dateText, rest}, t, false, now)
}

// farFromNow is fail2ban's test for a "weird" date in operation mode: more
// than 60 whole seconds from now.
func farFromNow(t, now time.Time) bool {
	d := t.Sub(now).Truncate(time.Second)
	return d > time.Minute || d < -time.Minute
}

// firstBytes builds Filter.first: for each byte, the failregexes (of the
// first 64) that may match a buffer starting with it.
func firstBytes(fail []*regex) *[256]uint64 {
	var t [256]uint64
	useful := false
	for c := range t {
		for i, r := range fail[:min(len(fail), 64)] {
			if r.re.CanStartWith(byte(c)) {
				t[c] |= 1 << i
			} else {
				useful = true
			}
		}
	}
	if !useful {
		return nil
	}
	return &t
}

// mayStart returns the bit set of the failregexes that may match buf.
func (f *Filter) mayStart(buf string) uint64 {
	if f.first == nil || buf == "" {
		return ^uint64(0)
	}
	return f.first[buf[0]]
}

// candidates returns the bit set of the failregexes (of the first 64)
// that may match buf: those that may start with its first byte and whose
// required literals it holds. Most lines of a log match no failregex, and
// such a line then costs a few byte scans and no regex run at all: the
// literal checks ahead of each regex's own run cost more in calls than in
// scanning. The failregexes past the 64th are always candidates.
func (f *Filter) candidates(buf string) uint64 {
	return f.screen.May(buf, f.mayStart(buf))
}

// view returns the bytes as a string without copying. NOTE: the string
// aliases the scratch buffer: it is only valid until the next line, and
// every value kept from it is cloned (see regex.groups).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// run searches r in buf under the line's time budget; ok is false when the
// line ran out of time (then the line yields nothing more). The match is
// valid until the next run of r.
func (f *Filter) run(r *regex, buf string) (m match, ok bool) {
	if f.memo != nil {
		if e := f.memoGet(r, buf); e != nil {
			return match{buf: buf, loc: e.loc}, true
		}
	}
	m, ok = f.runInto(r, buf, f.locs[r.id][:0], false)
	if m.loc != nil {
		f.locs[r.id] = m.loc
	}
	return m, ok
}

// runCandidate is run for a failregex that candidates kept: its literal
// checks passed already and are not run again.
func (f *Filter) runCandidate(r *regex, buf string) (m match, ok bool) {
	if f.memo != nil {
		if e := f.memoGet(r, buf); e != nil {
			return match{buf: buf, loc: e.loc}, true
		}
	}
	m, ok = f.runInto(r, buf, f.locs[r.id][:0], true)
	if m.loc != nil {
		f.locs[r.id] = m.loc
	}
	return m, ok
}

// runLast is run for the prefregex: when done is false, only the whole
// match and the last group (the content) are filled, and complete fills
// the others (see failregex.Matcher.SubmatchLast).
func (f *Filter) runLast(r *regex, buf string) (m match, done, ok bool) {
	if f.memo != nil {
		if e := f.memoGet(r, buf); e != nil {
			return match{buf: buf, loc: e.loc}, e.done, true
		}
	}
	if slow, _ := r.re.Backtracking(); slow || r.content != len(r.names)-1 {
		m, ok = f.run(r, buf)
		return m, true, ok
	}
	loc, done, err := f.mats[r.id].SubmatchLast(buf, f.locs[r.id][:0])
	if err != nil {
		f.timedOut = true
		return match{}, true, false
	}
	if loc != nil {
		f.locs[r.id] = loc
	}
	return match{buf: buf, loc: loc}, done, true
}

// complete fills the groups of the prefregex's match m that runLast left
// out.
func (f *Filter) complete(r *regex, m *match) {
	if f.memo != nil && f.memoGet(r, m.buf) != nil {
		// The other goroutine left the groups out: find them here.
		loc, _ := f.mats[r.id].Submatch(m.buf, f.locs[r.id][:0])
		m.loc, f.locs[r.id] = loc, loc
		return
	}
	m.loc = f.mats[r.id].Complete(m.loc)
	f.locs[r.id] = m.loc
}

// runInto is run with the match stored in dst (nil: a new slice). checked
// says buf passed r's literal checks (Regexp.MayMatch) already.
func (f *Filter) runInto(r *regex, buf string, dst []int, checked bool) (m match, ok bool) {
	slow, _ := r.re.Backtracking()
	if slow {
		// Screen searched the first literal clause only: the others
		// spare the backtracking engine a run (and its time budget).
		checked = false
	}
	if slow && f.budget > 0 {
		if f.timedOut {
			return match{}, false
		}
		if !checked && !r.re.MayMatch(buf) {
			// Cannot match: no engine runs, no time is spent.
			return match{buf: buf}, true
		}
		checked = true
		if f.lineStart.IsZero() {
			f.lineStart = time.Now()
		} else if time.Since(f.lineStart) >= f.budget {
			f.timedOut = true
			return match{}, false
		}
	}
	var (
		loc []int
		err error
	)
	if checked {
		loc, err = f.mats[r.id].SubmatchChecked(buf, dst)
	} else {
		loc, err = f.mats[r.id].Submatch(buf, dst)
	}
	m = match{buf: buf, loc: loc}
	if err != nil {
		f.timedOut = true
		return match{}, false
	}
	return m, true
}

// findFailure is fail2ban's Filter.findFailure: the buffer, the ignore
// pre-check, the prefregex, then each failregex.
func (f *Filter) findFailure(out []Failure, tl tuple, date time.Time, noDate bool, now time.Time) []Failure {
	f.lineStart, f.timedOut = time.Time{}, false
	defer func() {
		if f.timedOut {
			f.stats.TimedOut++
		}
	}()
	var org []tuple
	if f.def.MaxLines > 1 {
		f.lineBuf = append(f.lineBuf, tl)
		if len(f.lineBuf) > f.def.MaxLines {
			f.lineBuf = append([]tuple(nil), f.lineBuf[len(f.lineBuf)-f.def.MaxLines:]...)
		}
		org = f.lineBuf
	} else {
		// NOTE: fail2ban's fresh [tupleLine]; f.one is only valid for this
		// line, and whatever is kept from it is copied (appendMatches).
		f.one[0] = tl
		org = f.one[:1]
		f.lineBuf = org
	}
	var buf string
	if f.pipeBuf != nil && f.def.MaxLines <= 1 {
		buf = *f.pipeBuf // ProcessAll's other goroutine made the same text
	} else {
		f.scratch = appendBuffer(f.scratch[:0], org)
		buf = view(f.scratch)
	}
	base := buf // the line's text; f.content may alias it
	ls := lineSegs{org: org}
	bufValid := true
	contentAlias := false // f.lineBuf is f.content, which aliases base[ca:cb]
	var ca, cb int

	// The ignoreregexes are checked first on the whole buffer when there
	// are fewer of them than failregexes minus two.
	if len(f.ignore) > 0 && len(f.ignore) < len(f.fail)-2 {
		hit, ok := f.ignored(buf, nil, org)
		if !ok || hit {
			return out
		}
	}

	// The prefregex's groups are only turned into a dict when a failregex
	// matches; its match stays valid as long as f.scratch is not rebuilt.
	var (
		prefM    match
		hasPre   bool
		prefDone bool // prefM holds all groups
	)
	if f.pref != nil {
		m, done, ok := f.runLast(f.pref, buf)
		if !ok || m.loc == nil {
			return out
		}
		prefM, hasPre, prefDone = m, true, done
		if g := f.pref.content; g >= 0 {
			if repl, ok := m.group(g); ok && repl != "" {
				if f.def.MaxLines > 1 {
					// Kept in the buffer across lines.
					f.lineBuf = []tuple{{"", "", strings.Clone(repl)}}
				} else {
					// NOTE: repl aliases f.scratch and the buffer f.content,
					// both only valid for this line.
					f.content[0] = tuple{"", "", repl}
					f.lineBuf = f.content[:1]
					contentAlias, ca, cb = true, m.loc[2*g], m.loc[2*g+1]
				}
				bufValid = false
			}
		}
	}

	may := f.candidates(buf)
	for i := 0; i < len(f.fail); i++ {
		if !bufValid {
			if contentAlias && len(f.lineBuf) == 1 && &f.lineBuf[0] == &f.content[0] {
				ls.cur, ls.curOK, ls.ca, ls.cb = segsClip, false, ca, cb
				if cb == len(base)-1 {
					// The content ends the line: its buffer (content and
					// "\n") is the end of the prefregex's.
					buf = base[ca:]
				} else {
					f.scratch2 = appendBuffer(f.scratch2[:0], f.lineBuf)
					buf = view(f.scratch2)
				}
			} else {
				f.scratch2 = appendBuffer(f.scratch2[:0], f.lineBuf)
				buf = view(f.scratch2)
				ls.cur, ls.curOK, ls.lines = segsLines, false, f.lineBuf
			}
			bufValid = true
			may = f.candidates(buf)
		}
		if i < 64 {
			// Skip the regexes that cannot match a buffer starting so.
			if i += bits.TrailingZeros64(may >> i); i >= 64 {
				if i = 64; i >= len(f.fail) {
					break
				}
			}
		}
		r := f.fail[i]
		var (
			m  match
			ok bool
		)
		if i < 64 {
			m, ok = f.runCandidate(r, buf)
		} else {
			m, ok = f.run(r, buf)
		}
		if !ok {
			return out
		}
		if m.loc == nil {
			continue
		}
		if f.opts.RejectAmbiguous && f.ambiguous(r, &m) {
			f.stats.Ambiguous++
			continue
		}
		matched, unmatched := r.lines(&m, org)
		if len(f.ignore) > 0 {
			hit, ok := f.ignored(buf, matched, org)
			if !ok {
				return out
			}
			if hit {
				f.stats.Ignored++
				if !f.opts.CheckAllRegex || f.def.MaxLines > 1 {
					f.lineBuf = unmatched
				}
				bufValid = false
				if !f.opts.CheckAllRegex {
					break
				}
				continue
			}
		}
		if noDate && date.IsZero() && f.opts.CheckFindTime {
			continue
		}
		if !f.opts.CheckAllRegex || f.def.MaxLines > 1 {
			f.lineBuf = unmatched
			bufValid = false
		}
		fail := f.scratchDict()
		m.segs = f.bufSegs(&ls)
		if hasPre {
			if !prefDone {
				f.complete(f.pref, &prefM)
				prefDone = true
			}
			prefM.segs = f.prefSegs(&ls)
			mergedGroups(fail, f.pref, &prefM, r, &m)
		} else {
			r.groups(fail, &m)
		}
		mv := fail.get(kMlfid)
		mlfid, hasMLFID := mv.s, mv.isString()
		if hasMLFID {
			fail = f.mergeFailure(mlfid, fail, matched, now)
			if fail.get(kNofail).truthy() && !f.opts.CheckAllRegex {
				return out
			}
		} else {
			// NOTE: the list lives in a buffer reused from failure to
			// failure: failures (snapshot) copies it out at once, and no
			// cache keeps a dict without a multi-line id.
			old, _ := fail.get(kMatches).lines()
			f.matchBuf = append(append(f.matchBuf[:0], old...), matched...)
			fail.set(kMatches, linesOf(f.matchBuf))
		}
		out, ok = f.failures(out, i, r, fail, date, hasMLFID)
		if !ok { // pending, dropped
			return out
		}
		if !f.opts.CheckAllRegex {
			break
		}
	}
	return out
}

// lineSegs tells where the text of a line's buffers comes from (see seg),
// worked out only for a line a failregex matches.
type lineSegs struct {
	org    []tuple
	pref   bool // Filter.segPref holds the pieces of org's buffer
	cur    int  // the failregex buffer: segsLine, segsClip or segsLines
	curOK  bool // Filter.segFail holds its pieces
	ca, cb int  // segsClip: the part of the line's buffer
	lines  []tuple
}

// What the failregex buffer is made of.
const (
	segsLine  = iota // the line's buffer
	segsClip         // its part [ca, cb) (the prefregex's content) and "\n"
	segsLines        // lines
)

// prefSegs returns the pieces of the line's buffer.
func (f *Filter) prefSegs(ls *lineSegs) []seg {
	if !ls.pref {
		f.segPref, ls.pref = segsOf(f.segPref[:0], ls.org), true
	}
	return f.segPref
}

// bufSegs returns the pieces of the failregex buffer.
func (f *Filter) bufSegs(ls *lineSegs) []seg {
	if ls.cur == segsLine {
		return f.prefSegs(ls)
	}
	if !ls.curOK {
		if ls.cur == segsClip {
			f.segFail = clipSegs(f.segFail[:0], f.prefSegs(ls), ls.ca, ls.cb)
		} else {
			f.segFail = segsOf(f.segFail[:0], ls.lines)
		}
		ls.curOK = true
	}
	return f.segFail
}

// scratchDict returns the Filter's dict for a failure of this line,
// empty. The multi-line id cache may keep it (see mergeFailure); a dict
// the cache let go is reused.
func (f *Filter) scratchDict() *dict {
	if f.dict == nil && f.mlfid != nil {
		f.dict = f.mlfid.reuse()
	}
	if f.dict == nil {
		f.dict = newDict(12) // a dozen keys: sshd's
	}
	f.dict.reset()
	return f.dict
}

// ambiguous reports whether r also matches m's buffer with its host text
// masked, finding another address outside the masked text: the line offers
// the regex two addresses (one of them likely planted in text an attacker
// controls). Words the regex could take for a host name are no second
// address.
func (f *Filter) ambiguous(r *regex, m *match) bool {
	g := -1
	for _, c := range []int{r.ip4, r.ip6, r.dns} {
		if c >= 0 && m.loc[2*c] >= 0 {
			g = c
			break
		}
	}
	if g < 0 {
		return false
	}
	a, b := m.loc[2*g], m.loc[2*g+1]
	host, _ := netip.ParseAddr(m.buf[a:b])
	masked := m.buf[:a] + strings.Repeat("~", b-a) + m.buf[b:]
	m2, ok := f.runInto(r, masked, nil, false)
	if !ok || m2.loc == nil {
		return false
	}
	for _, c := range []int{r.ip4, r.ip6, r.dns} {
		if c < 0 || m2.loc[2*c] < 0 {
			continue
		}
		a2, b2 := m2.loc[2*c], m2.loc[2*c+1]
		if sameToken(masked, a, b, a2, b2) {
			return false // part of the same address text (::ffff:, a port)
		}
		addr, err := netip.ParseAddr(masked[a2:b2])
		return err == nil && addr.Zone() == "" && addr.Unmap() != host.Unmap()
	}
	return false
}

// sameToken reports whether [a2,b2) overlaps [a,b) or is joined to it by
// address characters only.
func sameToken(s string, a, b, a2, b2 int) bool {
	if a2 < b && b2 > a {
		return true
	}
	lo, hi := b2, a // the gap between the two spans
	if a2 >= b {
		lo, hi = b, a2
	}
	for i := lo; i < hi; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// ignored runs the ignoreregexes on the buffer, or on the lines a
// failregex matched (multi-line); ok is false when the line ran out of
// time.
func (f *Filter) ignored(buf string, matched, org []tuple) (hit, ok bool) {
	if matched != nil && f.def.MaxLines > 1 {
		buf = string(appendBuffer(nil, matched))
	}
	for _, g := range f.ignore {
		m, ok := f.run(g, buf)
		if !ok {
			return false, false
		}
		if m.loc != nil {
			hit = true
			if !f.opts.CheckAllRegex {
				break
			}
		}
	}
	return hit, true
}

// failures turns a matched failure dict into Failures, as the end of
// fail2ban's findFailure loop does. ok is false when the failure is
// pending and dropped (fail2ban then stops looking at the line).
func (f *Filter) failures(out []Failure, i int, r *regex, fail *dict, date time.Time, mlfid bool) (_ []Failure, ok bool) {
	fv := fail.get(kFid)
	fid, hasFID := fv.s, fv.isString()
	if t, ok := fv.tuple(); ok { // <F-TUPLE_ID_n>: the id is the tuple's text
		fid, hasFID = t.String(), true
	}
	var (
		ip     string
		hasIP  bool
		raw    = f.raw
		family = 0 // 4 or 6: parse as that family only
		cidr   = -1
	)
	ip4, ip6, dns := fail.get(kIP4), fail.get(kIP6), fail.get(kDNS)
	switch {
	case ip4.isString():
		ip, hasIP, raw, family = ip4.s, true, true, 4
		cidr = readCIDR(fail)
	case ip6.isString():
		ip, hasIP, raw, family = ip6.s, true, true, 6
		cidr = readCIDR(fail)
	case dns.isString():
		ip, hasIP = dns.s, true
	default:
		if !hasFID && !mlfid {
			// A failregex whose id group did not take part: fail2ban logs
			// an error and goes on with the next regex.
			return out, true
		}
		if hasFID {
			ip, hasIP, raw = fid, true, true
			if f.raw {
				family = -1 // fail2ban keeps the id raw: no parsing
			}
		}
	}
	n0 := len(out)
	base := Failure{Regex: i, Time: date, Bits: -1, NoFail: fail.get(kNofail).truthy()}
	if !hasIP {
		fail.set(kMlfpending, box(1))
		if !f.opts.CheckAllRegex && !f.opts.KeepPending {
			return out, false
		}
		base.Pending = true
		f.snapshot(&base, fail)
		return append(out, base), true
	}
	base.HostText = ip
	if raw {
		host, bits, id := parseID(ip, family, cidr)
		base.Host, base.Bits = host, bits
		if !hasFID || fid == ip {
			base.ID = id
		} else {
			fail.set(kIP, str(id))
			base.ID = fid
			if !f.raw {
				_, _, base.ID = parseID(fid, 0, -1)
			}
		}
		f.snapshot(&base, fail)
		out = append(out, base)
	} else {
		addrs, name := f.resolve(ip)
		if name != "" {
			base.ID = name
			f.snapshot(&base, fail)
			out = append(out, base)
		}
		for _, a := range addrs {
			b := base
			b.ID, b.Host = a.String(), a
			f.snapshot(&b, fail)
			out = append(out, b)
		}
	}
	if !base.NoFail {
		f.stats.Failures += uint64(len(out) - n0)
	}
	return out, true
}

// readCIDR returns the prefix length a failure's <CIDR> captured, or -1.
func readCIDR(fail *dict) int {
	c := fail.get(kCidr)
	if !c.isString() || c.s == "" {
		return -1
	}
	var n int
	if _, err := fmt.Sscanf(c.s, "%d", &n); err != nil {
		return -1
	}
	return n
}

// resolve is DNSUtils.textToIp: an address stays itself; a name is
// resolved with Options.Resolve (usedns yes or warn) or kept as written.
func (f *Filter) resolve(text string) (addrs []netip.Addr, keep string) {
	if a, err := netip.ParseAddr(text); err == nil && a.Zone() == "" {
		return []netip.Addr{a.Unmap()}, ""
	}
	if f.def.UseDNS == "no" {
		return nil, ""
	}
	if f.opts.Resolve != nil {
		return f.opts.Resolve(text), ""
	}
	return nil, text
}

// parseID reads a raw failure id as fail2ban's IPAddr(ip, cidr) does:
// an address of the given family (0 = either) is parsed, masked to cidr
// when one was captured, and the id is its canonical text; anything else
// stays raw text. With family -1 the id stays raw even when it is an
// address (the address is still returned).
func parseID(text string, family, cidr int) (netip.Addr, int, string) {
	if family == 4 && cidr < 0 {
		if a, ok := parseDotted(text); ok {
			// The canonical form (no leading zeros): the text is its String.
			return a, -1, text
		}
	}
	a, err := netip.ParseAddr(text)
	if err != nil || a.Zone() != "" || (family == 4 && !a.Is4()) || (family == 6 && !a.Is6()) {
		return netip.Addr{}, -1, text
	}
	if family == -1 {
		return a.Unmap(), -1, text
	}
	if a.Is4() && cidr < 0 {
		// The parser takes only the canonical form of an IPv4 address
		// (no leading zeros): the text is its String.
		return a, -1, text
	}
	a = a.Unmap()
	if cidr >= 0 && cidr <= a.BitLen() {
		p, err := a.Prefix(cidr)
		if err == nil && cidr < a.BitLen() {
			return p.Addr(), cidr, p.String()
		}
	}
	return a, -1, a.String()
}

// parseDotted reads the text of an IPv4 address written the one way
// netip.ParseAddr reads as canonical: four decimal fields up to 255,
// without leading zeros. It takes nothing ParseAddr refuses, gives the
// same address, and leaves anything else (ok false) to ParseAddr.
func parseDotted(s string) (netip.Addr, bool) {
	var b [4]byte
	f, v, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && v == 0 { // a leading zero
				return netip.Addr{}, false
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && f < 3:
			b[f] = byte(v)
			f, v, digits = f+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if f != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	b[3] = byte(v)
	return netip.AddrFrom4(b), true
}

// snapshot copies the failure dict into the exported fields.
func (f *Filter) snapshot(out *Failure, fail *dict) {
	if ms, ok := fail.get(kMatches).lines(); ok {
		out.Attempts = len(ms)
		if !f.opts.NoDetails {
			out.Lines = f.strings(len(ms))
			for i, t := range ms {
				out.Lines[i] = f.lineText(t)
			}
		}
	}
	if out.ID == "" && out.Host.IsValid() {
		out.ID = out.Host.String()
	}
	if f.opts.NoDetails {
		return
	}
	if f.opts.CompactFields {
		f.compactFields(out, fail)
		if u, ok := fail.get(kUsers).users(); ok {
			out.Users = u.sorted()
		}
		return
	}
	n := 0
	for _, e := range fail.ents {
		if _, ok := e.v.tuple(); ok || e.v.isString() {
			n++
		}
	}
	out.Fields = make(map[string]string, n)
	for _, e := range fail.ents {
		if e.v.isString() {
			out.Fields[e.k.name()] = e.v.s
		} else if t, ok := e.v.tuple(); ok {
			out.Fields[e.k.name()] = t.String()
		}
	}
	if u, ok := fail.get(kUsers).users(); ok {
		out.Users = u.sorted()
	}
}

// lineText is t.text(), without a copy when t is the current line cut in
// place (its pieces point where they lie in f.line): the common case of a
// single-line filter, where the copy would be most of a failure's cost.
func (f *Filter) lineText(t tuple) string {
	l := f.line
	if l == "" || len(t[0])+len(t[1])+len(t[2]) != len(l) {
		return t.text()
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(l)))
	off := 0
	for _, p := range t {
		// An empty piece holds no bytes: where it points does not matter.
		if p != "" && uintptr(unsafe.Pointer(unsafe.StringData(p))) != base+uintptr(off) {
			return t.text()
		}
		off += len(p)
	}
	return l
}

// appendMatches returns the matches list v (None or []tuple) with lines
// appended, as a new slice.
func appendMatches(v value, lines []tuple) []tuple {
	old, _ := v.lines()
	out := make([]tuple, 0, len(old)+len(lines))
	out = append(out, old...)
	return append(out, lines...)
}

// mergeFailure is fail2ban's _mergeFailure: it joins the failure with what
// is known of its connection (mlfid) and decides whether it is a failure
// yet.
func (f *Filter) mergeFailure(mlfid string, fail *dict, matched []tuple, now time.Time) *dict {
	const (
		nofail = 1 << iota
		forget
		wasNofail
		gained
	)
	var entry *dict
	if f.mlfid != nil {
		entry = f.mlfid.get(mlfid, now)
	}
	var users *userSet
	flags := 0
	if g := fail.get(kMlfgained); g.truthy() {
		flags |= gained | nofail
		if !fail.get(kNofail).truthy() {
			fail.set(kNofail, g)
		}
	} else if fail.get(kNofail).truthy() {
		flags |= nofail
	}
	if v, ok := fail.lookup(kMlfforget); ok {
		fail.del(kMlfforget)
		if v.truthy() {
			flags |= forget
		}
	}
	if entry != nil {
		users = updateUsers(entry, fail.get(kUser))
		if v, ok := entry.lookup(kNofail); ok {
			entry.del(kNofail)
			if v.truthy() {
				flags |= wasNofail
			}
		}
		if v, ok := entry.lookup(kMlfgained); ok {
			entry.del(kMlfgained)
			if v.truthy() {
				flags |= wasNofail
			}
		}
		if flags&gained != 0 {
			entry.del(kMlfpending)
		}
		if flags&wasNofail == 0 && !entry.get(kMlfpending).truthy() {
			entry.del(kMatches)
		}
		for _, e := range fail.ents {
			if !e.v.isNone() {
				entry.set(e.k, e.v)
			}
		}
		fail = entry
		if flags&forget != 0 {
			f.mlfid.unset(mlfid)
		}
	} else if flags&forget == 0 {
		users = updateUsers(fail, fail.get(kUser))
		if f.mlfid == nil {
			f.mlfid = newIDCache(100, 5*time.Minute)
		}
		if fail == f.dict {
			f.dict = nil // the cache keeps the line's dict; the next line gets another
		}
		f.mlfid.set(mlfid, fail, now)
	}
	pending := fail.get(kMlfpending)
	fail.del(kMlfpending)
	if pending.truthy() || (users != nil && users.len() > 1) {
		fail.del(kNofail)
		fail.del(kMlfgained)
		flags &^= gained | nofail
	}
	switch {
	case flags&nofail == 0:
		m, _ := fail.get(kNofailMatches).lines()
		fail.del(kNofailMatches)
		m = appendMatches(linesOf(m), nil)
		if old, ok := fail.get(kMatches).lines(); ok {
			m = append(m, old...)
		}
		if flags&gained == 0 {
			m = append(m, matched...)
		}
		fail.set(kMatches, linesOf(m))
	case flags&(nofail|forget) == nofail:
		fail.set(kNofailMatches, linesOf(appendMatches(fail.get(kNofailMatches), matched)))
	}
	return fail
}

// updateUsers is fail2ban's _updateUsers: a user name joins the dict's
// users set.
func updateUsers(d *dict, user value) *userSet {
	users, _ := d.get(kUsers).users()
	if user.isString() && user.s != "" {
		if users == nil || users.len() == 0 {
			users = newUserSet()
			d.set(kUsers, box(users))
		}
		users.add(user.s)
	}
	return users
}
