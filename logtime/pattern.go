package logtime

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/f2bproject/f2b/failregex"
)

// This file turns Options.Patterns into templates: fail2ban's default
// templates (all hand scanners), the special values, explicit patterns
// that are textually one of the default templates (mapped to its scanner),
// and any other explicit pattern, translated from fail2ban's strftime-like
// regex syntax to a Go regexp.

// spec describes a scanner template.
type spec struct {
	name   string
	scan   scanner
	opt    scanOpt
	shapes shape
	anchor anchor
}

const syslogAll = optTimeFirst | optYearFirst | optYearAfter | optZoneAbbr | optZoneNum

// defaultSpecs are fail2ban's DEFAULT_TEMPLATES, in its order. fail2ban
// also adds a {^LN-BEG} twin of each unanchored template in front of them;
// that twin only ever matches where its original matches too, and this
// detector prefers the leftmost date anyway, so the twins need no template
// of their own. The four syslog-like templates (plain, year first, %Z and
// %z prefixed) share one scanner: at any position at most one of them can
// match.
var defaultSpecs = []spec{
	{"iso8601", scanISO, 0, shISO, anyPos},
	{"syslog", scanSyslog, syslogAll, shMonth | shZone | shSign, anyPos},
	{"d-m-y", scanDMY, optLeadBlank | optTwin, shD12Dash | shD12Slash, anyPos},
	{"apache", scanApache, optLeadBlank | optTwin, shD12Dash | shD12Slash, anyPos},
	{"m/d/y:time", scanMDYColon, 0, shD12Slash, anyPos},
	{"m-d-y", scanMDYDash, 0, shD12Dash, anyPos},
	{"epoch", scanEpoch, 0, shD10, epochPos},
	{"time", scanTime, 0, shD12Colon, atLineBegin},
	{"<m/d/y@time>", scanLtMDY, 0, shLt, atLineStart},
	{"mysql", scanMySQL, 0, shD6Space, anyPos},
	{"tomcat", scanTomcat, 0, shMonth, anyPos},
	{"assp", scanASSP, 0, shMonDash, atLineStart},
	{"compact", scanCompact, 0, shD8, anyPos},
	{"tai64n", scanTAI64N, 0, shAt, anyPos},
}

// knownPatterns maps the text of fail2ban's default templates (without a
// {^LN-BEG} prefix), and of their older spellings still found in filter
// configs, to an equivalent scanner, so that explicit patterns copied from
// fail2ban run at scanner speed. The anchor is the one the text implies;
// a {^LN-BEG} or "^" prefix upgrades it (see explicitTemplate).
var knownPatterns = map[string]spec{
	`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`: defaultSpecs[0],
	`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`:                              {"syslog", scanSyslog, optTimeFirst | optYearAfter, shMonth, anyPos},
	`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`:                                   {"syslog-year", scanSyslog, optYearFirst, shMonth, anyPos},
	`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`:                      {"d-m-y", scanDMY, optLeadBlank, shD12Dash | shD12Slash, anyPos},
	`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`:          {"apache", scanApache, optLeadBlank, shD12Dash | shD12Slash, anyPos},
	`%m/%d/%ExY:%H:%M:%S`:                                                    defaultSpecs[4],
	`%m-%d-%ExY %k:%M:%S(?:\.%f)?`:                                           defaultSpecs[5],
	`%H:%M:%S`:                                                               {"time", scanTime, 0, shD12Colon, anyPos},
	`^<%m/%d/%Exy@%H:%M:%S>`:                                                 defaultSpecs[8],
	`%Exy%Exm%Exd  ?%H:%M:%S`:                                                defaultSpecs[9],
	`%b %d, %ExY %I:%M:%S %p`:                                                defaultSpecs[10],
	`^%b-%d-%Exy %k:%M:%S`:                                                   defaultSpecs[11],
	`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`:                 defaultSpecs[12],
	`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`:                      {"syslog-zone", scanSyslog, optTimeFirst | optYearAfter | optZoneAbbr, shMonth | shZone, anyPos},
	`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`:                      {"syslog-offset", scanSyslog, optTimeFirst | optYearAfter | optZoneNum, shMonth | shZone | shSign, anyPos},
	// Older spellings: "[T ]" is one separator, %H takes no leading blank.
	`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`: {"iso8601", scanISO, optOneBlank, shISO, anyPos},
	`%ExY%Exm%Exd[T ]%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`:                 {"compact", scanCompact, optOneBlank, shD8, anyPos},
	`(?:%a )?%b %d %H:%M:%S(?:\.%f)?(?: %ExY)?`:                         {"syslog", scanSyslog, optTimeFirst | optYearAfter | optHourH, shMonth, anyPos},
	`(?:%a )?%b %d %ExY %H:%M:%S(?:\.%f)?`:                              {"syslog-year", scanSyslog, optYearFirst | optHourH, shMonth, anyPos},
	`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %H:%M:%S`:                 {"d-m-y", scanDMY, optHourH | optLeadBlank, shD12Dash | shD12Slash, anyPos},
	`%m-%d-%ExY %H:%M:%S(?:\.%f)?`:                                      {"m-d-y", scanMDYDash, optHourH, shD12Dash, anyPos},
	`^%b-%d-%Exy %H:%M:%S`:                                              {"assp", scanASSP, optHourH, shMonDash, atLineStart},
	// The special values.
	`EPOCH`:   {"EPOCH", scanEpoch, optStrict, shD10, epochStrict},
	`LEPOCH`:  {"LEPOCH", scanEpoch, optStrict | optLong, shD10, epochStrict},
	`TAI64N`:  {"TAI64N", scanTAI64N, 0, shAt, anyPos},
	`^EPOCH`:  {"^EPOCH", scanEpoch, 0, shD10, atLineBegin},
	`^LEPOCH`: {"^LEPOCH", scanEpoch, optLong, shD10, atLineBegin},
	`^TAI64N`: {"^TAI64N", scanTAI64N, 0, shAt, atLineBegin},
}

// datePatterns are the texts fail2ban substitutes for {DATE} in a
// pattern: its default templates in order, without their boundaries. The
// EPOCH template is written with its position rules (line start, after a
// "[" that starts the line, inside an SELinux "audit(") as look-behinds,
// and reads the epoch as a date (fail2ban's copy reads no field from it);
// the TAI64N template has no form here.
var datePatterns = []string{
	`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`,
	`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
	`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`,
	`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`,
	`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`,
	`%m/%d/%ExY:%H:%M:%S`,
	`%m-%d-%ExY %k:%M:%S(?:\.%f)?`,
	`(?:^|(?<=^\[)|(?<=\baudit\())(?:{EPOCH})`,
	`%H:%M:%S`,
	`^<%m/%d/%Exy@%H:%M:%S>`,
	`%Exy%Exm%Exd  ?%H:%M:%S`,
	`%b %d, %ExY %I:%M:%S %p`,
	`^%b-%d-%Exy %k:%M:%S`,
	`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`,
	`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
	`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
}

// dateRef finds {DATE} (any case) not preceded by a backslash.
func dateRef(p string) int {
	for i := 0; i+6 <= len(p); i++ {
		if p[i] == '{' && strings.EqualFold(p[i:i+6], "{DATE}") && (i == 0 || p[i-1] != '\\') {
			return i
		}
	}
	return -1
}

// expandDate replaces every {DATE} in p by text.
func expandDate(p, text string) string {
	var b strings.Builder
	for {
		i := dateRef(p)
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		b.WriteString(text)
		p = p[i+6:]
	}
}

// buildTemplates turns Options.Patterns into templates. none reports
// {NONE}.
func buildTemplates(patterns []string) (tmpls []*template, none bool, err error) {
	var list []string
	for _, p := range patterns {
		for _, l := range strings.Split(p, "\n") {
			if l = strings.TrimSpace(l); l == "" {
				continue
			}
			if dateRef(l) >= 0 {
				// {DATE}: one pattern per default template, in their order.
				for _, d := range datePatterns {
					list = append(list, expandDate(l, d))
				}
				continue
			}
			list = append(list, l)
		}
	}
	if len(list) == 0 {
		return defaultTemplates(false), false, nil
	}
	seen := map[string]bool{}
	for _, p := range list {
		key := p
		if !strings.Contains(p, "%") {
			key = strings.ToUpper(p)
		}
		if seen[key] {
			continue // fail2ban ignores duplicates too
		}
		seen[key] = true
		switch key {
		case "{NONE}":
			if len(list) > 1 {
				return nil, false, fmt.Errorf("logtime: date pattern %q: {NONE} cannot be combined with other patterns", p)
			}
			return nil, true, nil
		case "{DEFAULT}":
			tmpls = append(tmpls, defaultTemplates(false)...)
			continue
		case "{^LN-BEG}":
			tmpls = append(tmpls, defaultTemplates(true)...)
			continue
		}
		t, err := explicitTemplate(p, key)
		if err != nil {
			return nil, false, fmt.Errorf("logtime: date pattern %q: %w", p, err)
		}
		tmpls = append(tmpls, t)
	}
	return tmpls, false, nil
}

// defaultTemplates instantiates the default templates; lineBeg anchors
// them all at line begin (the {^LN-BEG} value).
func defaultTemplates(lineBeg bool) []*template {
	out := make([]*template, 0, len(defaultSpecs))
	for _, s := range defaultSpecs {
		t := newScanTemplate(s)
		if lineBeg {
			t.name = "{^LN-BEG}" + t.name
			if t.anchor == anyPos || t.anchor == epochPos {
				t.anchor = atLineBegin
			}
			t.opt &^= optLeadBlank
		}
		out = append(out, t)
	}
	return out
}

func newScanTemplate(s spec) *template {
	return &template{name: s.name, anchor: s.anchor, scan: s.scan, opt: s.opt, shapes: s.shapes}
}

// explicitTemplate builds the template of one explicit pattern p (key is
// p upper-cased when it has no directive, as fail2ban keys its cache).
func explicitTemplate(p, key string) (*template, error) {
	body, lineBeg := key, false
	if strings.HasPrefix(body, "{^LN-BEG}") {
		body, lineBeg = body[len("{^LN-BEG}"):], true
	}
	s, ok := knownPatterns[body]
	switch {
	case ok && lineBeg && (s.anchor == anyPos || s.anchor == epochStrict):
		// {^LN-BEG}EPOCH is fail2ban's line-begin EPOCH, without the
		// look-aheads of the plain one; ^(?:\W{0,2})? swallows blanks.
		s.anchor, s.opt = atLineBegin, s.opt&^(optStrict|optLeadBlank)
	case !ok && strings.HasPrefix(body, "^"):
		if s, ok = knownPatterns[body[1:]]; ok && s.anchor == anyPos {
			s.anchor = atLineStart
		} else {
			ok = false
		}
	}
	if ok {
		t := newScanTemplate(s)
		t.name = p
		return t, nil
	}
	re, err := compileRegexpTemplate(p)
	if err != nil {
		return nil, err
	}
	return &template{name: p, re: re}, nil
}

// fieldKind says which part of a date a capture group holds.
type fieldKind uint8

const (
	fkNone fieldKind = iota
	fkYear4
	fkYear2
	fkMonth
	fkMonthName
	fkDay
	fkHour
	fkHour12
	fkAMPM
	fkMinute
	fkSecond
	fkFraction
	fkZone
	fkEpoch
	fkLongEpoch
	fkIgnore // weekday names: matched, not used (as in fail2ban)
)

// groupKinds maps capture group names to field kinds. The names are
// fail2ban's (strptime's), so custom groups named like them work too.
var groupKinds = map[string]fieldKind{
	"Y": fkYear4, "y": fkYear2, "m": fkMonth, "b": fkMonthName, "B": fkMonthName,
	"d": fkDay, "H": fkHour, "I": fkHour12, "p": fkAMPM, "M": fkMinute,
	"S": fkSecond, "f": fkFraction, "z": fkZone, "Z": fkZone,
	"_epoch": fkEpoch, "_lepoch": fkLongEpoch, "a": fkIgnore, "A": fkIgnore,
}

// directives translate fail2ban's strftime-like directives to RE2, after
// strptime.timeRE (Python 3 _strptime plus fail2ban's overrides). Two
// deliberate differences: %f takes up to 9 digits (nanoseconds) and %ExY
// is any 20xx year instead of a window around the current decade.
var directives = map[string]string{
	"a":   `(?P<a>mon|tue|wed|thu|fri|sat|sun)`,
	"A":   `(?P<A>monday|tuesday|wednesday|thursday|friday|saturday|sunday)`,
	"b":   `(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`,
	"B":   `(?P<B>january|february|march|april|may|june|july|august|september|october|november|december)`,
	"d":   `(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])`,
	"f":   `(?P<f>[0-9]{1,9})`,
	"H":   `(?P<H>[0-1]?\d|2[0-3])`,
	"I":   `(?P<I>1[0-2]|0[1-9]|[1-9])`,
	"k":   ` ?(?P<H>[0-2]?\d)`,
	"l":   ` ?(?P<I>1?\d)`,
	"m":   `(?P<m>0?[1-9]|1[0-2])`,
	"M":   `(?P<M>[0-5]?\d)`,
	"p":   `(?P<p>am|pm)`,
	"S":   `(?P<S>[0-5]?\d|6[0-1])`,
	"y":   `(?P<y>\d\d)`,
	"Y":   `(?P<Y>\d\d\d\d)`,
	"z":   `(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`,
	"Z":   `(?P<Z>Z|[A-Z]{3,5})`,
	"ExZ": `(?P<Z>[A-Z](?:[A-Z]{2,4})?)`,
	"Exz": `(?P<z>(?:[A-Z](?:[A-Z]{2,4})?)?[+-][01]\d(?::?\d{2})?|[A-Z](?:[A-Z]{2,4})?)`,
	"Exd": `(?P<d>[1-2]\d|0[1-9]|3[0-1])`,
	"Exm": `(?P<m>0[1-9]|1[0-2])`,
	"ExH": `(?P<H>[0-1]\d|2[0-3])`,
	"Exk": ` ?(?P<H>[0-1]?\d|2[0-3])`,
	"Exl": ` ?(?P<I>1[0-2]|\d)`,
	"ExM": `(?P<M>[0-5]\d)`,
	"ExS": `(?P<S>[0-5]\d|6[0-1])`,
	"ExY": `(?P<Y>20\d\d)`,
	"Exy": `(?P<y>\d\d)`,
}

const (
	epochRE     = `(?P<_epoch>\d{10,11}\b(?:\.\d{3,6})?)`
	longEpochRE = `(?P<_lepoch>\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?)`
)

// reTemplate is an explicit pattern compiled to one or more regexps (one
// per expansion of its back-references, see expandBackrefs).
type reTemplate struct {
	variants []reVariant
}

type reVariant struct {
	re    *regexp.Regexp
	py    *failregex.Regexp // when RE2 cannot run the pattern
	date  int               // capture group holding the date text
	kinds []fieldKind       // per capture group

	// Prefiltered search of unanchored patterns (see findRE).
	prefilter bool
	first     *[256]bool     // bytes a date can start with
	anchored  *regexp.Regexp // re without begin boundary, anchored with ^
	wordBegin bool           // check the begin boundary by hand
}

// compileRegexpTemplate translates one explicit pattern the way fail2ban's
// DatePatternRegex and DateTemplate.setRegex do:
//
//   - "{^LN-BEG}" prefix: ^(?:\W{0,2})? in front; "{UNB}": no boundaries;
//   - directives become named groups; %a %A %b %B %p make the whole
//     pattern case-insensitive;
//   - word boundaries (?:^|\b|\W) before and (?=\b|\W|$) after, unless
//     the pattern starts with "^" or "**", or ends with "$", "\b", "\s"
//     or "**" (the "**" markers are removed). RE2 has no look-ahead, so
//     the end boundary is (?:$|\W|\b), which consumes the next character:
//     harmless, since the date is the capture group, not the whole match;
//   - the date text is the first capture group when the pattern has
//     plain (unnamed) groups, as fail2ban's group(1), else the whole
//     pattern; {EPOCH}/{LEPOCH} patterns always cut out the whole pattern.
//
// Python-only syntax is translated where RE2 has an equivalent: (?P=name)
// back-references to small character sets or alternations are expanded
// into variants, inline flags lose "u"/"a"/"L", \Z becomes \z. The rest
// (look-around, conditionals) is reported as an error.
func compileRegexpTemplate(pat string) (*reTemplate, error) {
	p := pat
	lineBeg, unbound := false, false
	for {
		switch {
		case strings.HasPrefix(p, "{^LN-BEG}"):
			p, lineBeg = p[len("{^LN-BEG}"):], true
			continue
		case strings.HasPrefix(p, "{UNB}"):
			p, unbound = p[len("{UNB}"):], true
			continue
		}
		break
	}
	up := strings.ToUpper(p)
	hasEpoch := strings.Contains(up, "{EPOCH}") || strings.Contains(up, "{LEPOCH}")
	wordBegin := !unbound && !noBoundBegin(p)
	wordEnd := !unbound && !noBoundEnd(p)
	p = stripStars(p)

	variants, err := expandBackrefs(p)
	forcePy := false
	if err != nil {
		// A back-reference to something other than a small set of
		// literals: the backtracking engine runs the pattern as written.
		variants, forcePy = []string{p}, true
	}
	t := &reTemplate{}
	unanchored := !lineBeg && !caretStart(p)
	for _, v := range variants {
		body, fold, err := translate(v)
		if err != nil {
			return nil, err
		}
		plain := hasPlainGroup(body) && !hasEpoch
		flags, group, end := "", "(?P<_date>"+body+")", ""
		if fold {
			flags = "(?i)"
		}
		if plain {
			group = "(?:" + body + ")"
		}
		if wordEnd {
			end = `(?:$|\W|\b)`
		}
		begin := ""
		switch {
		case lineBeg && wordBegin:
			begin = `^(?:\W{0,2})?`
		case wordBegin:
			begin = `(?:^|\b|\W)`
		}
		rv := reVariant{date: 1, wordBegin: wordBegin}
		var (
			names []string
			re    *regexp.Regexp
		)
		if !forcePy {
			re, err = regexp.Compile(flags + begin + group + end)
		}
		if forcePy || err != nil {
			// Look-around and conditionals, which RE2 lacks, run on the
			// backtracking engine.
			py, perr := failregex.CompilePython(flags+begin+group+end, failregex.RegexpOptions{})
			if perr != nil {
				return nil, fmt.Errorf("not a valid regular expression (%v)", perr)
			}
			rv.py, names = py, py.SubexpNames()
		} else {
			rv.re, names = re, re.SubexpNames()
		}
		rv.kinds = make([]fieldKind, len(names))
		for i, n := range names {
			rv.kinds[i] = groupKinds[n]
			if !plain && n == "_date" {
				rv.date = i // else fail2ban's group(1), whatever group opens first
			}
		}
		if unanchored && rv.re != nil {
			// An unanchored search makes RE2 try every position with its
			// slowest engine. Instead, positions are filtered by the bytes
			// a date can start with, the begin boundary is checked by hand
			// and an anchored copy runs at the survivors only.
			if rv.first, rv.prefilter = firstBytes(flags + body); rv.prefilter {
				rv.anchored = regexp.MustCompile(flags + "^" + group + end)
			}
		}
		t.variants = append(t.variants, rv)
	}
	return t, nil
}

// caretStart reports a pattern anchored at line start by a leading "^"
// (after opening parentheses and inline flags).
func caretStart(p string) bool {
	p = strings.TrimLeft(p, "(")
	if strings.HasPrefix(p, "?") {
		if strings.HasPrefix(p, "?:") {
			return strings.HasPrefix(strings.TrimLeft(p[2:], "("), "^")
		}
		if i := strings.IndexByte(p, ')'); i > 0 && isWordString(p[1:i]) {
			p = strings.TrimLeft(p[i+1:], "(")
		}
	}
	return strings.HasPrefix(p, "^")
}

// firstBytes computes the set of bytes a match of the regular expression
// re can start with. ok is false when the prefiltered search would not be
// exact or useful: re can match the empty string, starts with "any
// character", or looks left of its start (^, \b, \B).
func firstBytes(re string) (set *[256]bool, ok bool) {
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return nil, false
	}
	set = new([256]bool)
	nullable, ok := addFirst(parsed.Simplify(), set)
	return set, ok && !nullable
}

// addFirst adds the first bytes of re to set and reports whether re can
// match the empty string; ok is false for constructs that defeat the
// analysis.
func addFirst(re *syntax.Regexp, set *[256]bool) (nullable, ok bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return false, true
	case syntax.OpEmptyMatch, syntax.OpEndLine, syntax.OpEndText:
		return true, true
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		// Assertions at the start look left of the date; an anchored copy
		// run on s[p:] cannot see that context.
		return false, false
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return true, true
		}
		addRune(set, re.Rune[0], re.Flags&syntax.FoldCase != 0)
		return false, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				set[r] = true
			}
			if hi >= utf8.RuneSelf {
				for b := 0xC2; b <= 0xF4; b++ { // any UTF-8 lead byte
					set[b] = true
				}
			}
		}
		return false, true
	case syntax.OpCapture:
		return addFirst(re.Sub[0], set)
	case syntax.OpStar, syntax.OpQuest:
		_, ok := addFirst(re.Sub[0], set)
		return true, ok
	case syntax.OpPlus:
		return addFirst(re.Sub[0], set)
	case syntax.OpRepeat:
		n, ok := addFirst(re.Sub[0], set)
		return n || re.Min == 0, ok
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			n, ok := addFirst(sub, set)
			if !ok {
				return false, false
			}
			if !n {
				return false, true
			}
		}
		return true, true
	case syntax.OpAlternate:
		nullable := false
		for _, sub := range re.Sub {
			n, ok := addFirst(sub, set)
			if !ok {
				return false, false
			}
			nullable = nullable || n
		}
		return nullable, true
	}
	return false, false // any character, or unknown
}

// addRune adds the first byte of r (and of its case variants) to set.
func addRune(set *[256]bool, r rune, fold bool) {
	var buf [utf8.UTFMax]byte
	add := func(r rune) {
		utf8.EncodeRune(buf[:], r)
		set[buf[0]] = true
	}
	add(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			add(f)
		}
	}
}

// unwrapSyntax shortens regexp's error text.
func unwrapSyntax(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// noBoundBegin: fail2ban's RE_NO_WRD_BOUND_BEG, ^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\(\?:\^)
func noBoundBegin(p string) bool {
	p = strings.TrimLeft(p, "(")
	if strings.HasPrefix(p, "?") { // we trimmed the "(" of "(?flags)"
		if i := strings.IndexByte(p, ')'); i > 0 && isWordString(p[1:i]) {
			p = strings.TrimLeft(p[i+1:], "(")
		} else if strings.HasPrefix(p, "?:^") {
			return true
		}
	}
	return strings.HasPrefix(p, "^") || strings.HasPrefix(p, "**") || strings.HasPrefix(p, "(?:^")
}

// noBoundEnd: fail2ban's RE_NO_WRD_BOUND_END, (?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$
func noBoundEnd(p string) bool {
	q := strings.TrimRight(p, ")")
	switch {
	case strings.HasSuffix(q, "**"):
		return true
	case strings.HasSuffix(p, `\b`) || strings.HasSuffix(p, `\s`):
		return !strings.HasSuffix(p, `\\b`) && !strings.HasSuffix(p, `\\s`)
	case strings.HasSuffix(p, "$") || strings.HasSuffix(p, "$)"):
		r := strings.TrimSuffix(strings.TrimSuffix(p, ")"), "$")
		return !strings.HasSuffix(r, `\`)
	}
	return false
}

// stripStars removes the "**" no-boundary markers at the start (after
// opening parentheses and inline flags) and at the end (before closing
// ones), like fail2ban's RE_DEL_WRD_BOUNDS.
func stripStars(p string) string {
	i := 0
	for i < len(p) && p[i] == '(' {
		i++
	}
	if i > 0 && strings.HasPrefix(p[i-1:], "(?") {
		if j := strings.IndexByte(p[i:], ')'); j > 1 && isWordString(p[i+1:i+j]) {
			i += j + 1
			for i < len(p) && p[i] == '(' {
				i++
			}
		}
	}
	if strings.HasPrefix(p[i:], "**") {
		p = p[:i] + p[i+2:]
	}
	j := len(p)
	for j > 0 && p[j-1] == ')' {
		j--
	}
	if j >= 2 && p[j-2:j] == "**" && (j < 3 || p[j-3] != '\\') {
		p = p[:j-2] + p[j:]
	}
	return p
}

func isWordString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// translate replaces directives and Python-only syntax in one variant. fold
// reports that the pattern must match case-insensitively.
func translate(p string) (body string, fold bool, err error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			switch p[i+1] {
			case 'Z':
				b.WriteString(`\z`)
			case 's': // Python's \s has \v, RE2's has not
				if inClass {
					b.WriteString(`\t\n\v\f\r `)
				} else {
					b.WriteString(`[\t\n\v\f\r ]`)
				}
			case 'S':
				if inClass {
					b.WriteString(`\S`)
				} else {
					b.WriteString(`[^\t\n\v\f\r ]`)
				}
			default:
				b.WriteString(p[i : i+2])
			}
			i += 2
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			i++
			if i < len(p) && p[i] == '^' {
				b.WriteByte('^')
				i++
			}
			if i < len(p) && p[i] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
			i++
		case c == '%':
			if i+1 >= len(p) {
				return "", false, errors.New("pattern ends in a lone %")
			}
			if p[i+1] == '%' {
				b.WriteString("%")
				i += 2
				continue
			}
			name := p[i+1 : i+2]
			if strings.HasPrefix(p[i+1:], "Ex") && i+3 < len(p) {
				name = p[i+1 : i+4]
			}
			re, ok := directives[name]
			if !ok {
				return "", false, fmt.Errorf("unknown or unsupported directive %%%s", name)
			}
			switch name {
			case "a", "A", "b", "B", "p":
				fold = true
			}
			b.WriteString(re)
			i += 1 + len(name)
		case c == '{' && hasPrefixFold(p[i:], "{EPOCH}"):
			b.WriteString(epochRE)
			i += len("{EPOCH}")
		case c == '{' && hasPrefixFold(p[i:], "{LEPOCH}"):
			b.WriteString(longEpochRE)
			i += len("{LEPOCH}")
		case c == '(' && !inClass && strings.HasPrefix(p[i:], "(?"):
			// Inline flags: Python's (?iu), (?a)... RE2 knows i, m, s, U.
			j := i + 2
			for j < len(p) && isAlpha(p[j]) {
				j++
			}
			if j > i+2 && j < len(p) && (p[j] == ')' || p[j] == ':') {
				var keep []byte
				for _, f := range []byte(p[i+2 : j]) {
					switch f {
					case 'i', 'm', 's':
						keep = append(keep, f)
					case 'u', 'a', 'L':
					default:
						return "", false, fmt.Errorf("unsupported inline flag %q", f)
					}
				}
				if len(keep) == 0 && p[j] == ')' {
					i = j + 1
					continue
				}
				b.WriteString("(?" + string(keep) + string(p[j]))
				i = j + 1
				continue
			}
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), fold, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// hasPlainGroup reports an unnamed capturing group: "(" not escaped, not
// followed by "?" and not inside a character class.
func hasPlainGroup(re string) bool {
	inClass := false
	for i := 0; i < len(re); i++ {
		switch re[i] {
		case '\\':
			i++
		case '[':
			if !inClass {
				inClass = true
				if i+1 < len(re) && re[i+1] == '^' {
					i++
				}
				if i+1 < len(re) && re[i+1] == ']' {
					i++
				}
			}
		case ']':
			inClass = false
		case '(':
			if !inClass && (i+1 >= len(re) || re[i+1] != '?') {
				return true
			}
		}
	}
	return false
}

// maxVariants bounds the expansion of back-references.
const maxVariants = 64

// expandBackrefs rewrites Python's (?P<name>X)…(?P=name), which RE2 lacks,
// into variants without back-references: one per alternative of X, with
// the group and every reference replaced by that alternative. X must be a
// character class ([-/.]) or an alternation of literals (-|/), which is
// what fail2ban's patterns use (the date separator).
func expandBackrefs(p string) ([]string, error) {
	out := []string{p}
	for {
		ref := strings.Index(out[0], "(?P=")
		if ref < 0 {
			return out, nil
		}
		end := strings.IndexByte(out[0][ref:], ')')
		if end < 0 {
			return nil, errors.New("unterminated (?P=")
		}
		name := out[0][ref+4 : ref+end]
		var next []string
		for _, v := range out {
			open := "(?P<" + name + ">"
			gi := strings.Index(v, open)
			if gi < 0 {
				return nil, fmt.Errorf("back-reference (?P=%s) to an unknown group", name)
			}
			ge := groupEnd(v, gi+len(open))
			if ge < 0 {
				return nil, fmt.Errorf("unterminated group %s", name)
			}
			alts, err := literalAlternatives(v[gi+len(open) : ge])
			if err != nil {
				return nil, fmt.Errorf("back-reference (?P=%s): %w", name, err)
			}
			for _, a := range alts {
				lit := regexp.QuoteMeta(a)
				w := v[:gi] + lit + v[ge+1:]
				w = strings.ReplaceAll(w, "(?P="+name+")", lit)
				next = append(next, w)
			}
			if len(next) > maxVariants {
				return nil, errors.New("too many back-reference combinations")
			}
		}
		out = next
	}
}

// groupEnd returns the index of the ")" closing a group whose body starts
// at i.
func groupEnd(s string, i int) int {
	depth, inClass := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(s) && s[i+1] == ']' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// literalAlternatives lists the strings a simple group body matches: a
// character class without ranges, or literals separated by "|".
func literalAlternatives(body string) ([]string, error) {
	if len(body) >= 2 && body[0] == '[' && body[len(body)-1] == ']' && body[1] != '^' {
		var alts []string
		in := body[1 : len(body)-1]
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == '\\' && i+1 < len(in) {
				i++
				c = in[i]
			} else if c == '-' && i > 0 && i < len(in)-1 {
				return nil, errors.New("character ranges are not supported")
			}
			alts = append(alts, string(c))
		}
		if len(alts) == 0 {
			return nil, errors.New("empty character class")
		}
		return alts, nil
	}
	var alts []string
	for _, a := range strings.Split(body, "|") {
		var lit strings.Builder
		for i := 0; i < len(a); i++ {
			c := a[i]
			if c == '\\' && i+1 < len(a) {
				i++
				c = a[i]
			} else if strings.IndexByte(`()[]{}.*+?^$`, c) >= 0 {
				return nil, errors.New("only character sets or literal alternatives can be referenced")
			}
			lit.WriteByte(c)
		}
		alts = append(alts, lit.String())
	}
	return alts, nil
}

// findRE returns the leftmost date a regexp template finds in s. Only a
// hit allocates (the submatch slice); a miss does not.
func (d *Detector) findRE(t *template, s string) (hit, bool) {
	var best hit
	found := false
	for i := range t.re.variants {
		v := &t.re.variants[i]
		if v.prefilter {
			limit := len(s)
			if found {
				limit = best.start
			}
			if h, ok := d.findAnchored(t, v, s, limit); ok {
				best, found = h, true
			}
			continue
		}
		var loc []int
		if v.py != nil {
			loc, _ = v.py.FindStringSubmatchIndex(s) // a timeout is no date
		} else {
			loc = v.re.FindStringSubmatchIndex(s)
		}
		if loc == nil {
			continue
		}
		a, b := loc[2*v.date], loc[2*v.date+1]
		if a < 0 || (found && a >= best.start) {
			continue
		}
		var f fields
		if !v.extract(s, loc, &f) {
			continue
		}
		if sec, nsec, ok := d.resolve(&f); ok {
			best, found = hit{sec, nsec, a, b, t.idx}, true
		}
	}
	return best, found
}

// findAnchored is findRE's search for an unanchored variant: the first
// position below limit where the date can start (by its first byte and
// fail2ban's begin boundary) and the anchored regexp matches. This is the
// match the unanchored regexp would find: its leftmost date start, with
// the same leftmost-first choices from there.
func (d *Detector) findAnchored(t *template, v *reVariant, s string, limit int) (hit, bool) {
	for p := 0; p < limit; p++ {
		if !v.first[s[p]] || (v.wordBegin && p > 0 && isWordByte(s[p]) && isWordByte(s[p-1])) {
			continue
		}
		loc := v.anchored.FindStringSubmatchIndex(s[p:])
		if loc == nil {
			continue
		}
		a, b := loc[2*v.date], loc[2*v.date+1]
		if a < 0 {
			continue
		}
		var f fields
		if !v.extract(s[p:], loc, &f) {
			continue
		}
		if sec, nsec, ok := d.resolve(&f); ok {
			return hit{sec, nsec, p + a, p + b, t.idx}, true
		}
	}
	return hit{}, false
}

// extract reads the captured fields, like fail2ban's reGroupDictStrptime:
// the first participating group of each kind counts, %I is qualified by
// %p (no %p means AM), two-digit years are 20yy, weekdays are ignored.
// Values Python's datetime would reject (hour 24, Feb 30, an unknown
// zone) make the match fail.
func (v *reVariant) extract(s string, loc []int, f *fields) bool {
	var seen uint32
	h12, ampm := -1, byte(0)
	hasMonth, hasDay := false, false
	for g := 1; g < len(v.kinds); g++ {
		k := v.kinds[g]
		a, b := loc[2*g], loc[2*g+1]
		if k == fkNone || a < 0 || seen&(1<<k) != 0 {
			continue
		}
		seen |= 1 << k
		txt := strings.TrimLeft(s[a:b], " ")
		n, isNum := atoi(txt)
		switch k {
		case fkYear4:
			f.year, f.hasYear = n, isNum
		case fkYear2:
			f.year, f.hasYear = 2000+n, isNum
		case fkMonth:
			f.month, hasMonth = n, isNum
		case fkMonthName:
			f.month = monthAbbr(txt, 0)
			hasMonth = f.month != 0
		case fkDay:
			f.day, hasDay = n, isNum
		case fkHour:
			f.hour = n
		case fkHour12:
			h12 = n
		case fkAMPM:
			if txt != "" {
				ampm = txt[0] | 0x20
			}
		case fkMinute:
			f.min = n
		case fkSecond:
			f.sec = n
		case fkFraction:
			ns, j := fraction(txt, 0)
			if j < 0 {
				return false
			}
			f.nsec = ns
		case fkZone:
			off, ok := parseZoneText(txt)
			if !ok {
				return false
			}
			f.hasZone, f.zoneOff = true, off
		case fkEpoch, fkLongEpoch:
			opt := scanOpt(0)
			if k == fkLongEpoch {
				opt = optLong
			}
			// The group matched the epoch syntax already; scanEpoch only
			// converts it (its position rules hold at offset 0).
			var e fields
			if scanEpoch(txt, 0, &e, opt) != len(txt) {
				return false
			}
			f.unix, f.nsec, f.isUnix, f.epoch = e.unix, e.nsec, true, true
		}
	}
	if h12 >= 0 {
		if h12 < 1 || h12 > 12 {
			return false
		}
		f.hour = h12
		switch {
		case ampm == 'p' && h12 != 12:
			f.hour += 12
		case ampm != 'p' && h12 == 12:
			f.hour = 0
		}
	}
	if f.hour > 23 || f.min > 59 || f.sec > 59 {
		return false
	}
	if hasMonth != hasDay {
		return false // Python cannot build a date from a month without day
	}
	f.hasDate = hasMonth && hasDay
	return true
}

// atoi parses a small decimal number; ok is false for empty or non-digit
// text.
func atoi(s string) (n int, ok bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
