package logtime

import (
	"time"
	"unicode/utf8"
)

// Options configure a Detector.
type Options struct {
	// Patterns are explicit date patterns in fail2ban's datepattern syntax:
	// a regular expression with strftime-like directives (%Y %m %d %H %M
	// %S %f %z %Z %b %B %a %A %p %I %k %l %y and the %Ex… forms), or one of
	// the special values "{^LN-BEG}" (the default templates, anchored at
	// line begin), "{DEFAULT}", "EPOCH", "LEPOCH", "TAI64N" and "{NONE}"
	// (no date: Match always reports none). A "{^LN-BEG}" prefix anchors a
	// pattern at line begin (after at most two non-word characters), a
	// "{UNB}" prefix drops the word boundaries. Entries may hold several
	// patterns separated by newlines. Empty means the default templates.
	Patterns []string
	// Location is the zone of timestamps that carry none (nil = time.Local).
	Location *time.Location
	// Now is the reference for year-less and date-less timestamps (nil =
	// time.Now). It is called once per Match that needs it.
	Now func() time.Time
	// WholeSeconds drops the fraction of a second as fail2ban does: its
	// dates are whole seconds, except EPOCH and LEPOCH values.
	WholeSeconds bool
}

// anchor restricts the positions at which a template may start.
type anchor uint8

const (
	// anyPos: anywhere a word starts, fail2ban's (?:^|\b|\W) boundary.
	anyPos anchor = iota
	// atLineBegin: fail2ban's {^LN-BEG}, at the start of the line after
	// at most two non-word characters ("[", "<", "@", "- ").
	atLineBegin
	// atLineStart: a pattern starting with "^": offset 0 only.
	atLineStart
	// epochPos: the default EPOCH template and its {^LN-BEG} twin: line
	// begin, or inside an SELinux "audit(…)".
	epochPos
	// epochStrict: an explicit EPOCH pattern: offset 0, after "[" at
	// offset 0, or inside "audit(…)".
	epochStrict
)

// template is one date template: a hand-written scanner or, for explicit
// patterns the scanners do not cover, a compiled regexp.
type template struct {
	name   string
	idx    int // position in Options order; earlier wins ties
	anchor anchor
	// Scanner templates.
	scan   scanner
	opt    scanOpt
	shapes shape
	// Regexp templates.
	re *reTemplate
}

// posOK reports whether t may start at s[p:].
func (t *template) posOK(s string, p int) bool {
	switch t.anchor {
	case atLineBegin:
		return lineBegin(s, p)
	case atLineStart:
		return p == 0
	case epochPos:
		return lineBegin(s, p) || auditAt(s, p)
	case epochStrict:
		return p == 0 || (p == 1 && s[0] == '[') || auditAt(s, p)
	}
	return true
}

// lineBegin reports whether p is at most two non-word characters from the
// start of s: fail2ban's ^(?:\W{0,2})? in front of {^LN-BEG} templates.
// Characters, not bytes: "«" counts once; an invalid byte counts as one
// (non-word) character, as in Go's regexp.
func lineBegin(s string, p int) bool {
	if p == 0 {
		return true
	}
	if p > 2*utf8.UTFMax {
		return false
	}
	i := 0
	for k := 0; k < 2 && i < p; k++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < utf8.RuneSelf && isWordByte(byte(r)) {
			return false
		}
		i += size
	}
	return i == p
}

// hit is a found date: Unix seconds and nanoseconds (a time.Time is only
// built once, for the winner), the span and the template.
type hit struct {
	sec        int64
	nsec       int
	start, end int
	ti         int // index of the template in Detector.tmpls (no pointer: no write barrier on the hot path)
}

// Detector finds and parses timestamps in log lines. It keeps per-file
// state (the last winning template, caches of the zone and of now), so a
// Detector must be used by one goroutine at a time; use Clone for others.
type Detector struct {
	tmpls    []*template
	scanners []*template // scanner templates, in order
	regexps  []*template // regexp templates, in order
	none     bool        // {NONE}
	loc      *time.Location
	nowFn    func() time.Time
	whole    bool      // Options.WholeSeconds
	last     *template // the last winner, tried first
	scratch  fields    // the fields of the template being tried
	res      hit       // the date a scanner found
	scanMask shape     // union of the scanners' shapes

	// now given to MatchAt for the current call.
	argNow  bool
	argSec  int64
	argNsec int

	// clk caches time.Now for year and day resolution (see now).
	clk struct {
		gen  uint64 // coarseClock generation of the reading
		sec  int64
		nsec int
		ok   bool
	}
	days struct { // the last civil date converted to a day number
		y, m, d int
		n       int64
	}
	kept     keptResolve // the last date resolved against an explicit now
	dateZone zoneCache   // zone period of the last date converted
	nowZone  zoneCache   // zone period of now
	yc       struct {    // calendar of the last "today" seen
		days    int64 // days since 1970 of today, local
		year    int
		yearEnd int64 // local seconds at the start of next year
		ok      bool
	}
}

// New builds a Detector. Errors name the offending pattern.
func New(opts Options) (*Detector, error) {
	tmpls, none, err := buildTemplates(opts.Patterns)
	if err != nil {
		return nil, err
	}
	d := &Detector{tmpls: tmpls, none: none, loc: opts.Location, nowFn: opts.Now, whole: opts.WholeSeconds}
	if d.loc == nil {
		d.loc = time.Local
	}
	for i, t := range tmpls {
		t.idx = i
		if t.scan != nil {
			d.scanners = append(d.scanners, t)
			d.scanMask |= t.shapes
		} else {
			d.regexps = append(d.regexps, t)
		}
	}
	return d, nil
}

// Clone returns a Detector with the same templates and options and fresh
// state, for use by another goroutine. Templates are immutable and shared.
func (d *Detector) Clone() *Detector {
	return &Detector{
		tmpls: d.tmpls, scanners: d.scanners, regexps: d.regexps, scanMask: d.scanMask,
		none: d.none, loc: d.loc, nowFn: d.nowFn, whole: d.whole,
	}
}

// LastTemplate names the template that found the last date ("" before the
// first): a default template's short name, or the explicit pattern.
func (d *Detector) LastTemplate() string {
	if d.last == nil {
		return ""
	}
	return d.last.name
}

// Match finds the timestamp in line. start and end are the byte offsets of
// the date text in line; ok is false when no date was found. The time is
// in Options.Location (the instant is exact whatever zone the text names).
//
// Like fail2ban, a date at the start of the line wins; otherwise the date
// nearest the start of the line; at equal positions the template that won
// the previous line, then the earlier template. The previous winner is
// tried first, so a file in one format costs one template attempt per
// line.
func (d *Detector) Match(line string) (t time.Time, start, end int, ok bool) {
	return d.match(line)
}

// MatchAt is Match with now as the reference for year-less and date-less
// timestamps instead of Options.Now, e.g. the time the line was read. It
// spares the clock read on the hot path and makes replays reproducible.
func (d *Detector) MatchAt(line string, now time.Time) (t time.Time, start, end int, ok bool) {
	d.argNow, d.argSec, d.argNsec = true, now.Unix(), now.Nanosecond()
	t, start, end, ok = d.match(line)
	d.argNow = false
	return t, start, end, ok
}

func (d *Detector) match(line string) (time.Time, int, int, bool) {
	if d.none || len(line) == 0 {
		return time.Time{}, 0, 0, false
	}
	var best hit
	found := false
	bestPrio := 0 // template index of best; -1 for the previous winner
	limit := len(line)
	var first *template // scanner template tried first at each position
	if l := d.last; l != nil {
		if l.scan != nil {
			first = l
		} else if h, ok := d.findRE(l, line); ok {
			if h.start == 0 {
				d.res = h
				return d.timeOf(&d.res), 0, h.end, true
			}
			best, found, bestPrio, limit = h, true, -1, h.start
		}
	}
	if d.scanMask != 0 && limit > 0 && d.scanPositions(line, limit, first) {
		if !found && len(d.regexps) == 0 {
			// The scanners' date is the answer: no copy of it (the copy
			// of the hit just stored costs more than the rest here).
			d.last = d.tmpls[d.res.ti]
			return d.timeOf(&d.res), d.res.start, d.res.end, true
		}
		best, found, bestPrio = d.res, true, d.res.ti
		if first != nil && d.res.ti == first.idx {
			bestPrio = -1
		}
	}
	for _, t := range d.regexps {
		if t == d.last {
			continue
		}
		h, ok := d.findRE(t, line)
		if ok && (!found || h.start < best.start || (h.start == best.start && t.idx < bestPrio)) {
			best, found, bestPrio = h, true, t.idx
		}
	}
	if !found {
		return time.Time{}, 0, 0, false
	}
	d.last = d.tmpls[best.ti]
	return d.timeOf(&best), best.start, best.end, true
}

// timeOf builds the time of h in the Location.
func (d *Detector) timeOf(h *hit) time.Time {
	return time.Unix(h.sec, int64(h.nsec)).In(d.loc)
}

// scanPositions walks the candidate start positions of s below limit, left
// to right, and at each tries the scanner templates in order, first (the
// previous winner) before all others. The first date found, which is the
// leftmost, is left in d.res. Candidates are word starts (fail2ban's word
// boundary before a date) and the few non-word bytes a template can start
// with. Each word is read once: its leading run of digits or letters gives
// its shape, and a shape no template starts with (most words) costs
// nothing more, so a line without a date is one cheap pass.
func (d *Detector) scanPositions(s string, limit int, first *template) bool {
	n := len(s)
	mask := d.scanMask
	for p := 0; p < limit; {
		c := byteClass[s[p]]
		if c&cWord != 0 {
			kind := c & (cDigit | cAlpha)
			q := p + 1
			for q < n && byteClass[s[q]]&kind != 0 {
				q++
			}
			run := q
			for q < n && byteClass[s[q]]&cWord != 0 {
				q++
			}
			if kind != 0 {
				if sh := wordShape(s, p, run, kind == cDigit) & mask; sh != 0 && d.tryAt(s, p, sh, first) {
					return true
				}
			}
			p = q
			continue
		}
		if c&cPunct != 0 {
			if sh := punctShape(s, p) & mask; sh != 0 && d.tryAt(s, p, sh, first) {
				return true
			}
		}
		p++
	}
	return false
}

// tryAt tries the scanner templates that fit shape sh at s[p:], first
// (when not nil) before the others.
func (d *Detector) tryAt(s string, p int, sh shape, first *template) bool {
	if first != nil && first.shapes&sh != 0 && d.attempt(first, s, p) {
		return true
	}
	for _, t := range d.scanners {
		if t.shapes&sh != 0 && t != first && d.attempt(t, s, p) {
			return true
		}
	}
	return false
}

// attempt runs template t at s[p:] and leaves a date in d.res.
func (d *Detector) attempt(t *template, s string, p int) bool {
	if !t.posOK(s, p) {
		return false
	}
	// The fields live in the Detector: a scanner is called through a
	// function value, so escape analysis would move a local to the heap.
	f := &d.scratch
	*f = fields{}
	e := t.scan(s, p, f, t.opt)
	if e < 0 {
		return false
	}
	sec, nsec, ok := d.resolveKept(f)
	if ok {
		d.res = hit{sec, nsec, p - f.lead, e, t.idx}
	}
	return ok
}

// resolveKept is resolve with its last answer kept for the next call:
// the lines of a busy log mostly carry the same timestamp as the line
// before, and against the same explicit now (MatchAt's: a replay's, f2b
// regex's) the same fields give the same instant. Against the clock,
// whose reading moves on, it is plain resolve.
func (d *Detector) resolveKept(f *fields) (sec int64, nsec int, ok bool) {
	if !d.argNow {
		return d.resolve(f)
	}
	k := &d.kept
	if k.valid && k.f == *f && k.nowSec == d.argSec && k.nowNsec == d.argNsec {
		return k.sec, k.nsec, k.ok
	}
	sec, nsec, ok = d.resolve(f)
	*k = keptResolve{f: *f, nowSec: d.argSec, nowNsec: d.argNsec, sec: sec, nsec: nsec, ok: ok, valid: true}
	return sec, nsec, ok
}

// keptResolve is the last answer of resolveKept.
type keptResolve struct {
	f       fields
	nowSec  int64
	nowNsec int
	sec     int64
	nsec    int
	ok      bool
	valid   bool
}
