package logtime

// This file holds the hand-written scanners for fail2ban's default date
// templates. Each scanner tries one template at one position of the line
// and either fails fast (usually on the first or second byte) or fills a
// fields value and returns the end of the date text. They do what the
// Python regexes do, including the backtracking that matters: optional
// tails (fraction, zone, year) are dropped again when the word boundary
// after them fails. Variable-width numbers are read greedily; in every
// default template such a number is followed by a non-digit literal, so
// greedy reading accepts exactly what the regex accepts.

// fields is what a template parsed from the date text, before the
// missing parts (year, date, zone) are resolved against now and the
// Location.
type fields struct {
	year, month, day int
	hour, min, sec   int
	nsec             int
	zoneOff          int   // seconds east of UTC, when hasZone
	unix             int64 // seconds since the epoch, when isUnix
	lead             int   // the date starts this many bytes before the scan position
	hasYear, hasDate bool
	hasZone, isUnix  bool
	epoch            bool // an EPOCH/LEPOCH value, whose fraction fail2ban keeps
}

// secOfDay returns the time of day in seconds.
func (f *fields) secOfDay() int { return f.hour*3600 + f.min*60 + f.sec }

// A scanner tries its template at s[p:] and returns the end of the date
// text, or -1. opt carries per-template variations (scanOpt bits).
type scanner func(s string, p int, f *fields, opt scanOpt) int

// scanOpt selects variations of a scanner, so that one scanner serves
// several fail2ban templates (and explicit patterns equal to one of them).
type scanOpt uint16

const (
	// syslog: "%b %d %k:%M:%S" (time right after the day).
	optTimeFirst scanOpt = 1 << iota
	// syslog: "%b %d %ExY %k:%M:%S" (year before the time).
	optYearFirst
	// syslog: "(?: %ExY)?" after the time.
	optYearAfter
	// syslog: "(?:%Z )?" prefix (zone abbreviation).
	optZoneAbbr
	// syslog: "(?:%z )?" prefix (Z, UTC, GMT, numeric offset).
	optZoneNum
	// epoch: LEPOCH digits (milli- or microseconds).
	optLong
	// epoch: explicit "EPOCH" positions (line start, "[...]", "audit(")
	// instead of the default template's line-begin positions.
	optStrict
	// iso8601, compact: "[T ]" (one blank) instead of "(?:T|  ?)".
	optOneBlank
	// %H instead of %k: no blank before a one-digit hour.
	optHourH
	// d-m-y, apache: the template starts with %d, whose " 2" form makes
	// an unanchored regex start the date at a blank before a one-digit
	// day; see leadBlank.
	optLeadBlank
	// with optLeadBlank: the template has fail2ban's {^LN-BEG} twin.
	optTwin
)

// Shapes classify a candidate start position cheaply (run length of
// digits or letters and the byte after it). A template declares the
// shapes it can start with, so that at a typical word start no scanner
// runs at all: an IP octet "192." has no shape, nor has "password" or
// "for ".
type shape uint16

const (
	shISO      shape = 1 << iota // 4 digits + [-/.]
	shD12Dash                    // 1-2 digits + '-'
	shD12Slash                   // 1-2 digits + '/'
	shD12Colon                   // 1-2 digits + ':'
	shD6Space                    // 6 digits + ' '
	shD8                         // 8 digits + 'T' or ' '
	shD10                        // 10 or more digits
	shMonth                      // month or weekday name + ' '
	shZone                       // "Z" or 3-5 letters from upper case + ' ' (zone name)
	shMonDash                    // month name + '-'
	shSign                       // [+-] + digit (numeric zone)
	shLt                         // '<'
	shAt                         // '@'
)

// wordShape classifies the word starting at s[p]: run is the end of its
// leading run of digits (or of letters), next the byte after the run (0
// at the end of s).
func wordShape(s string, p, run int, digits bool) shape {
	var next byte
	if run < len(s) {
		next = s[run]
	}
	k := run - p
	if digits {
		switch k {
		case 1, 2:
			switch next {
			case '-':
				return shD12Dash
			case '/':
				return shD12Slash
			case ':':
				return shD12Colon
			}
		case 4:
			if next == '-' || next == '/' || next == '.' {
				return shISO
			}
		case 6:
			if next == ' ' {
				return shD6Space
			}
		case 8:
			if next == 'T' || next == ' ' {
				return shD8
			}
		}
		if k >= 10 {
			return shD10
		}
		return 0
	}
	var sh shape
	switch next {
	case ' ':
		if k == 3 && (monthAbbr(s, p) != 0 || isWeekday(s, p)) {
			sh = shMonth
		}
		if (k >= 3 && k <= 5 || k == 1 && s[p] == 'Z') && s[p]-'A' < 26 {
			sh |= shZone
		}
	case '-':
		if k == 3 && monthAbbr(s, p) != 0 {
			sh = shMonDash
		}
	}
	return sh
}

// punctShape classifies a non-word candidate byte at s[p].
func punctShape(s string, p int) shape {
	switch s[p] {
	case '+', '-':
		if p+1 < len(s) && isDigit(s[p+1]) {
			return shSign
		}
	case '<':
		return shLt
	case '@':
		return shAt
	}
	return 0
}

// Byte classes. Word characters are ASCII letters, digits and '_', as in
// Go's regexp (\w, \b); bytes of non-ASCII characters count as non-word.
const (
	cWord  = 1 << iota // [A-Za-z0-9_]
	cDigit             // [0-9]
	cAlpha             // [A-Za-z]
	cPunct             // may start a template though not a word: [<@+-]
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b-'0' < 10:
			t[c] = cWord | cDigit
		case (b|0x20)-'a' < 26:
			t[c] = cWord | cAlpha
		case b == '_':
			t[c] = cWord
		case b == '<' || b == '@' || b == '+' || b == '-':
			t[c] = cPunct
		}
	}
	return t
}()

func isDigit(c byte) bool    { return c-'0' < 10 }
func isAlpha(c byte) bool    { return (c|0x20)-'a' < 26 }
func isWordByte(c byte) bool { return byteClass[c]&cWord != 0 }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// hasPrefixAt reports whether s[i:] starts with lit.
func hasPrefixAt(s string, i int, lit string) bool {
	return i >= 0 && len(s)-i >= len(lit) && s[i:i+len(lit)] == lit
}

// endOK is fail2ban's end boundary (?=\b|\W|$) after a date ending at e: a
// date must not end in the middle of a word or number.
func endOK(s string, e int) bool {
	return e >= len(s) || !isWordByte(s[e]) || !isWordByte(s[e-1])
}

// num12 reads one or two digits at s[i:] and returns the value and the
// index after them, or j = -1.
func num12(s string, i int) (v, j int) {
	if i >= len(s) || !isDigit(s[i]) {
		return 0, -1
	}
	v = int(s[i] - '0')
	i++
	if i < len(s) && isDigit(s[i]) {
		v = v*10 + int(s[i]-'0')
		i++
	}
	return v, i
}

// num2 reads exactly two digits.
func num2(s string, i int) (v, j int) {
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, -1
	}
	return int(s[i]-'0')*10 + int(s[i+1]-'0'), i + 2
}

// yearEx reads fail2ban's %ExY: a four-digit year of this century (20xx).
func yearEx(s string, i int) (v, j int) {
	if i+4 > len(s) || s[i] != '2' || s[i+1] != '0' || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return 0, -1
	}
	return 2000 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'), i + 4
}

// month reads %m (0?[1-9]|1[0-2]).
func month(s string, i int) (v, j int) {
	v, j = num12(s, i)
	if j < 0 || v < 1 || v > 12 {
		return 0, -1
	}
	return v, j
}

// day reads %d ([1-2]\d|[0 ]?[1-9]|3[0-1]); space allows the " 2" form
// (syslog pads single-digit days with a space).
func day(s string, i int, space bool) (v, j int) {
	if space && i+1 < len(s) && s[i] == ' ' {
		c := s[i+1]
		if c >= '1' && c <= '9' {
			return int(c - '0'), i + 2
		}
		return 0, -1
	}
	v, j = num12(s, i)
	if j < 0 || v < 1 || v > 31 {
		return 0, -1
	}
	return v, j
}

// hms reads "%H:%M:%S" (k: "%k:%M:%S", the hour may be preceded by one
// space). Hours above 23 and seconds above 59 are rejected, as Python's
// datetime rejects them.
func hms(s string, i int, f *fields, k bool) int {
	if k && i < len(s) && s[i] == ' ' {
		i++
	}
	h, i := num12(s, i)
	if i < 0 || h > 23 || i >= len(s) || s[i] != ':' {
		return -1
	}
	m, i := num12(s, i+1)
	if i < 0 || m > 59 || i >= len(s) || s[i] != ':' {
		return -1
	}
	sec, i := num12(s, i+1)
	if i < 0 || sec > 59 {
		return -1
	}
	f.hour, f.min, f.sec = h, m, sec
	return i
}

// hms2 reads "%ExH%ExM%ExS" (exactly two digits each, no separators).
func hms2(s string, i int, f *fields) int {
	h, i := num2(s, i)
	if i < 0 || h > 23 {
		return -1
	}
	m, i := num2(s, i)
	if i < 0 || m > 59 {
		return -1
	}
	sec, i := num2(s, i)
	if i < 0 || sec > 59 {
		return -1
	}
	f.hour, f.min, f.sec = h, m, sec
	return i
}

// monthAbbr returns the month 1..12 of a case-insensitive English month
// abbreviation at s[i:i+3], or 0.
func monthAbbr(s string, i int) int {
	if i+3 > len(s) {
		return 0
	}
	switch uint32(s[i]|0x20)<<16 | uint32(s[i+1]|0x20)<<8 | uint32(s[i+2]|0x20) {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8
	case 's'<<16 | 'e'<<8 | 'p':
		return 9
	case 'o'<<16 | 'c'<<8 | 't':
		return 10
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

// isWeekday reports a case-insensitive English weekday abbreviation at
// s[i:i+3].
func isWeekday(s string, i int) bool {
	if i+3 > len(s) {
		return false
	}
	switch uint32(s[i]|0x20)<<16 | uint32(s[i+1]|0x20)<<8 | uint32(s[i+2]|0x20) {
	case 'm'<<16 | 'o'<<8 | 'n', 't'<<16 | 'u'<<8 | 'e', 'w'<<16 | 'e'<<8 | 'd',
		't'<<16 | 'h'<<8 | 'u', 'f'<<16 | 'r'<<8 | 'i', 's'<<16 | 'a'<<8 | 't',
		's'<<16 | 'u'<<8 | 'n':
		return true
	}
	return false
}

// fraction reads the digits of %f at s[i:] and returns nanoseconds and the
// end. fail2ban's %f takes 1-6 digits; we take up to 9 (nanoseconds) so
// that RFC 3339 timestamps with nanoseconds keep their zone. More digits
// are no fraction at all (the regex could not end the date there).
func fraction(s string, i int) (nsec, j int) {
	j = i
	for j < len(s) && j-i <= 9 && isDigit(s[j]) {
		j++
	}
	k := j - i
	if k == 0 || k > 9 {
		return 0, -1
	}
	for x := i; x < j; x++ {
		nsec = nsec*10 + int(s[x]-'0')
	}
	for ; k < 9; k++ {
		nsec *= 10
	}
	return nsec, j
}

// Options of tail, the optional end of several templates.
const (
	tailDot    = 1 << iota // fraction introduced by '.'
	tailComma              // fraction introduced by ','
	tailZoneWS             // (?:\s*%z)?
	tailZoneSP             // (?: %z)?
	tailYear               // (?: %ExY)?
)

// tail matches the optional end of a date after the seconds at s[i:] —
// fraction, zone or year, per opts — and applies the end boundary with the
// regex's backtracking order: the longest reading whose boundary holds
// wins (fraction+zone, fraction+short zone, fraction, then nothing; when
// the fraction is dropped nothing can follow it since s[i] is '.' or ',').
func tail(s string, i int, f *fields, opts int) int {
	n := len(s)
	base := i
	nsec := 0
	hasFrac := false
	if i+1 < n && ((s[i] == '.' && opts&tailDot != 0) || (s[i] == ',' && opts&tailComma != 0)) {
		if ns, j := fraction(s, i+1); j >= 0 {
			nsec, base, hasFrac = ns, j, true
		}
	}
	if opts&(tailZoneWS|tailZoneSP) != 0 {
		j := base
		if opts&tailZoneWS != 0 {
			for j < n && isSpace(s[j]) {
				j++
			}
		} else if j < n && s[j] == ' ' {
			j++
		} else {
			j = -1
		}
		if j >= 0 {
			off, full, offShort, short := zoneZ(s, j)
			if full >= 0 && endOK(s, full) {
				f.nsec, f.hasZone, f.zoneOff = nsec, true, off
				return full
			}
			if short >= 0 && endOK(s, short) {
				f.nsec, f.hasZone, f.zoneOff = nsec, true, offShort
				return short
			}
		}
	}
	if opts&tailYear != 0 && base+5 <= n && s[base] == ' ' {
		if y, j := yearEx(s, base+1); j >= 0 && endOK(s, j) {
			f.nsec, f.year, f.hasYear = nsec, y, true
			return j
		}
	}
	if hasFrac && endOK(s, base) {
		f.nsec = nsec
		return base
	}
	if endOK(s, i) {
		return i
	}
	return -1
}

// scanISO: %ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?
// e.g. 2005-01-23T21:59:59.981746+01:00, 2005/01/23 21:59:59, 2006.12.21 06:43:20.
func scanISO(s string, p int, f *fields, opt scanOpt) int {
	y, i := yearEx(s, p)
	if i < 0 || i >= len(s) {
		return -1
	}
	sep := s[i]
	if sep != '-' && sep != '/' && sep != '.' {
		return -1
	}
	m, i := month(s, i+1)
	if i < 0 || i >= len(s) || s[i] != sep {
		return -1
	}
	d, i := day(s, i+1, true)
	if i < 0 || i >= len(s) {
		return -1
	}
	switch s[i] {
	case 'T':
		i++
	case ' ':
		i++
		if i < len(s) && s[i] == ' ' && opt&optOneBlank == 0 {
			i++
		}
	default:
		return -1
	}
	if i = hms(s, i, f, false); i < 0 {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	return tail(s, i, f, tailDot|tailComma|tailZoneWS)
}

// scanSyslog covers four fail2ban templates, selected by opt:
//
//	(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?   optTimeFirst|optYearAfter
//	(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?        optYearFirst
//	(?:%Z )?… and (?:%z )?… prefixes            optZoneAbbr, optZoneNum
//
// e.g. "Jan  2 03:04:05", "Sun Jan 23 21:59:59.011 2005",
// "Jan 23 2005 21:59:59", "PDT Apr 16 21:05:29".
func scanSyslog(s string, p int, f *fields, opt scanOpt) int {
	if e := syslogBody(s, p, f, opt); e >= 0 || opt&(optZoneAbbr|optZoneNum) == 0 {
		return e
	}
	// Zone prefix. Unlike fail2ban, which takes any 3-5 letters for %Z
	// and then finds no date when the word is no known zone, only known
	// abbreviations are taken, so that "from Jan 2 …" still dates the line
	// by its syslog part.
	off, e := 0, -1
	if opt&optZoneNum != 0 {
		o, full, oShort, short := zoneZ(s, p)
		if full >= 0 && full < len(s) && s[full] == ' ' {
			off, e = o, full
		} else if short >= 0 && short < len(s) && s[short] == ' ' {
			off, e = oShort, short
		}
	}
	if e < 0 && opt&optZoneAbbr != 0 {
		i := p
		for i < len(s) && i-p < 6 && isAlpha(s[i]) {
			i++
		}
		// %Z is Z|[A-Z]{3,5}: the table's one- and two-letter names
		// (military "A", "PT") are no zone here.
		if w := i - p; i < len(s) && s[i] == ' ' && (w >= 3 || s[p:i] == "Z") {
			if o, ok := abbrOffset(s[p:i]); ok {
				off, e = o, i
			}
		}
	}
	if e < 0 {
		return -1
	}
	*f = fields{}
	end := syslogBody(s, e+1, f, opt)
	if end < 0 {
		return -1
	}
	f.hasZone, f.zoneOff = true, off
	return end
}

// syslogBody matches the part of the syslog templates after the zone.
func syslogBody(s string, i int, f *fields, opt scanOpt) int {
	if isWeekday(s, i) && i+3 < len(s) && s[i+3] == ' ' {
		i += 4
	}
	m := monthAbbr(s, i)
	if m == 0 || i+3 >= len(s) || s[i+3] != ' ' {
		return -1
	}
	d, i := day(s, i+4, true)
	if i < 0 || i >= len(s) || s[i] != ' ' {
		return -1
	}
	i++
	f.month, f.day, f.hasDate = m, d, true
	if opt&optTimeFirst != 0 {
		if j := hms(s, i, f, opt&optHourH == 0); j >= 0 {
			t := tailDot
			if opt&optYearAfter != 0 {
				t |= tailYear
			}
			if e := tail(s, j, f, t); e >= 0 {
				return e
			}
		}
	}
	if opt&optYearFirst != 0 {
		if y, j := yearEx(s, i); j >= 0 && j < len(s) && s[j] == ' ' {
			if j = hms(s, j+1, f, opt&optHourH == 0); j >= 0 {
				if e := tail(s, j, f, tailDot); e >= 0 {
					f.year, f.hasYear = y, true
					return e
				}
			}
		}
	}
	return -1
}

// leadBlank returns 1 when the date found at s[p:] by a template starting
// with %d really starts at the blank before it: fail2ban's %d accepts " 2",
// and an unanchored regex finds "x 2/Oct/2000" at the blank. At line begin
// a template's {^LN-BEG} twin wins in fail2ban, and its ^(?:\W{0,2})?
// swallows the blank.
func leadBlank(s string, p, dayEnd int, opt scanOpt) int {
	if opt&optLeadBlank == 0 || p == 0 || s[p-1] != ' ' || dayEnd != p+1 || s[p] == '0' {
		return 0
	}
	if opt&optTwin != 0 && lineBegin(s, p) {
		return 0
	}
	return 1
}

// scanDMY: %d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S
// e.g. 23/01/2005 21:59:59, 23/01/05 21:59:59, 17-07-2008 17:23:25.
func scanDMY(s string, p int, f *fields, opt scanOpt) int {
	d, i := day(s, p, false)
	if i < 0 || i >= len(s) {
		return -1
	}
	f.lead = leadBlank(s, p, i, opt)
	sep := s[i]
	if sep != '-' && sep != '/' {
		return -1
	}
	m, i := month(s, i+1)
	if i < 0 || i >= len(s) || s[i] != sep {
		return -1
	}
	i++
	y, j := yearEx(s, i)
	if j < 0 || j >= len(s) || s[j] != ' ' {
		if y, j = num2(s, i); j < 0 || j >= len(s) || s[j] != ' ' {
			return -1
		}
		y += 2000
	}
	if i = hms(s, j+1, f, opt&optHourH == 0); i < 0 || !endOK(s, i) {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	return i
}

// scanApache: %d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?
// e.g. 10/Oct/2000:13:55:36 -0700 (inside [...]), 26-Jul-2007 15:20:52.252.
func scanApache(s string, p int, f *fields, opt scanOpt) int {
	d, i := day(s, p, false)
	if i < 0 || i >= len(s) {
		return -1
	}
	f.lead = leadBlank(s, p, i, opt)
	sep := s[i]
	if sep != '-' && sep != '/' {
		return -1
	}
	m := monthAbbr(s, i+1)
	if m == 0 || i+4 >= len(s) || s[i+4] != sep {
		return -1
	}
	y, i := yearEx(s, i+5)
	if i < 0 || i >= len(s) {
		return -1
	}
	if s[i] == ' ' || s[i] == ':' {
		i++
	}
	if i = hms(s, i, f, false); i < 0 {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	return tail(s, i, f, tailDot|tailZoneSP)
}

// scanMDYColon: %m/%d/%ExY:%H:%M:%S (cPanel), e.g. 05/20/2008:01:57:39.
func scanMDYColon(s string, p int, f *fields, _ scanOpt) int {
	m, i := month(s, p)
	if i < 0 || i >= len(s) || s[i] != '/' {
		return -1
	}
	d, i := day(s, i+1, true)
	if i < 0 || i >= len(s) || s[i] != '/' {
		return -1
	}
	y, i := yearEx(s, i+1)
	if i < 0 || i >= len(s) || s[i] != ':' {
		return -1
	}
	if i = hms(s, i+1, f, false); i < 0 || !endOK(s, i) {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	return i
}

// scanMDYDash: %m-%d-%ExY %k:%M:%S(?:\.%f)?, e.g. 01-27-2012 16:22:44.252.
func scanMDYDash(s string, p int, f *fields, opt scanOpt) int {
	m, i := month(s, p)
	if i < 0 || i >= len(s) || s[i] != '-' {
		return -1
	}
	d, i := day(s, i+1, true)
	if i < 0 || i >= len(s) || s[i] != '-' {
		return -1
	}
	y, i := yearEx(s, i+1)
	if i < 0 || i >= len(s) || s[i] != ' ' {
		return -1
	}
	if i = hms(s, i+1, f, opt&optHourH == 0); i < 0 {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	return tail(s, i, f, tailDot)
}

// scanTime: {^LN-BEG}%H:%M:%S, a time without date (today, or yesterday
// if that would be in the future).
func scanTime(s string, p int, f *fields, _ scanOpt) int {
	i := hms(s, p, f, false)
	if i < 0 || !endOK(s, i) {
		return -1
	}
	return i
}

// scanLtMDY: ^<%m/%d/%Exy@%H:%M:%S>, e.g. <09/16/08@05:03:30>.
func scanLtMDY(s string, p int, f *fields, _ scanOpt) int {
	if p >= len(s) || s[p] != '<' {
		return -1
	}
	m, i := month(s, p+1)
	if i < 0 || i >= len(s) || s[i] != '/' {
		return -1
	}
	d, i := day(s, i+1, true)
	if i < 0 || i >= len(s) || s[i] != '/' {
		return -1
	}
	y, i := num2(s, i+1)
	if i < 0 || i >= len(s) || s[i] != '@' {
		return -1
	}
	if i = hms(s, i+1, f, false); i < 0 || i >= len(s) || s[i] != '>' {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = 2000+y, m, d, true, true
	return i + 1
}

// scanMySQL: %Exy%Exm%Exd  ?%H:%M:%S, e.g. 130322 11:46:11.
func scanMySQL(s string, p int, f *fields, _ scanOpt) int {
	y, i := num2(s, p)
	if i < 0 {
		return -1
	}
	m, i := num2(s, i)
	if i < 0 || m < 1 || m > 12 {
		return -1
	}
	d, i := num2(s, i)
	if i < 0 || d < 1 || d > 31 || i >= len(s) || s[i] != ' ' {
		return -1
	}
	i++
	if i < len(s) && s[i] == ' ' {
		i++
	}
	if i = hms(s, i, f, false); i < 0 || !endOK(s, i) {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = 2000+y, m, d, true, true
	return i
}

// scanTomcat: %b %d, %ExY %I:%M:%S %p, e.g. Jan 02, 2024 3:04:05 PM.
func scanTomcat(s string, p int, f *fields, _ scanOpt) int {
	m := monthAbbr(s, p)
	if m == 0 || p+3 >= len(s) || s[p+3] != ' ' {
		return -1
	}
	d, i := day(s, p+4, true)
	if i < 0 || !hasPrefixAt(s, i, ", ") {
		return -1
	}
	y, i := yearEx(s, i+2)
	if i < 0 || i >= len(s) || s[i] != ' ' {
		return -1
	}
	h, i := num12(s, i+1) // %I: 1[0-2]|0[1-9]|[1-9]
	if i < 0 || h < 1 || h > 12 || i >= len(s) || s[i] != ':' {
		return -1
	}
	mi, i := num12(s, i+1)
	if i < 0 || mi > 59 || i >= len(s) || s[i] != ':' {
		return -1
	}
	sec, i := num12(s, i+1)
	if i < 0 || sec > 59 || i+3 > len(s) || s[i] != ' ' || (s[i+2]|0x20) != 'm' {
		return -1
	}
	switch s[i+1] | 0x20 {
	case 'a':
		if h == 12 {
			h = 0
		}
	case 'p':
		if h != 12 {
			h += 12
		}
	default:
		return -1
	}
	if i += 3; !endOK(s, i) {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	f.hour, f.min, f.sec = h, mi, sec
	return i
}

// scanASSP: ^%b-%d-%Exy %k:%M:%S, e.g. Apr-27-13 02:33:06.
func scanASSP(s string, p int, f *fields, opt scanOpt) int {
	m := monthAbbr(s, p)
	if m == 0 || p+3 >= len(s) || s[p+3] != '-' {
		return -1
	}
	d, i := day(s, p+4, true)
	if i < 0 || i >= len(s) || s[i] != '-' {
		return -1
	}
	y, i := num2(s, i+1)
	if i < 0 || i >= len(s) || s[i] != ' ' {
		return -1
	}
	if i = hms(s, i+1, f, opt&optHourH == 0); i < 0 || !endOK(s, i) {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = 2000+y, m, d, true, true
	return i
}

// scanCompact: %ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?
// e.g. 20050123T215959, 20050123 215959.
func scanCompact(s string, p int, f *fields, opt scanOpt) int {
	y, i := yearEx(s, p)
	if i < 0 {
		return -1
	}
	m, i := num2(s, i)
	if i < 0 || m < 1 || m > 12 {
		return -1
	}
	d, i := num2(s, i)
	if i < 0 || d < 1 || d > 31 || i >= len(s) {
		return -1
	}
	switch s[i] {
	case 'T':
		i++
	case ' ':
		i++
		if i < len(s) && s[i] == ' ' && opt&optOneBlank == 0 {
			i++
		}
	default:
		return -1
	}
	if i = hms2(s, i, f); i < 0 {
		return -1
	}
	f.year, f.month, f.day, f.hasYear, f.hasDate = y, m, d, true, true
	return tail(s, i, f, tailDot|tailComma|tailZoneWS)
}

// maxUnix bounds epoch-like timestamps to years before 2100: larger
// numbers are ids or counters, not dates (fail2ban takes any 10-11 digits).
const maxUnix = 4102444800 // 2100-01-01T00:00:00Z

// scanEpoch: EPOCH (\d{10,11}\b(?:\.\d{3,6})?) or, with optLong, LEPOCH
// (\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?: seconds, milliseconds or
// microseconds). Positions are checked by the template's anchor; here only
// the look-aheads of fail2ban's explicit EPOCH regex are applied: after
// "[" at line start a "]" must follow, after "audit(" a ":\d+)".
func scanEpoch(s string, p int, f *fields, opt scanOpt) int {
	n := len(s)
	i := p
	for i < n && isDigit(s[i]) {
		i++
	}
	nd := i - p
	var v int64
	for k := p; k < i && k < p+17; k++ {
		v = v*10 + int64(s[k]-'0')
	}
	var sec int64
	nsec := 0
	end := i
	if opt&optLong == 0 {
		if (nd != 10 && nd != 11) || (i < n && isWordByte(s[i])) {
			return -1
		}
		sec = v
		// (?:\.\d{3,6})? followed by the end boundary.
		if i+1 < n && s[i] == '.' {
			j := i + 1
			for j < n && j-i <= 7 && isDigit(s[j]) {
				j++
			}
			if k := j - i - 1; k >= 3 && k <= 6 && endOK(s, j) {
				ns, _ := fraction(s, i+1)
				nsec, end = ns, j
			}
		}
	} else {
		switch nd {
		case 10, 11:
			sec = v
		case 13, 14:
			sec, nsec = v/1000, int(v%1000)*1e6
			// A fraction of milliseconds: \.\d{1,6}.
			if i+1 < n && s[i] == '.' {
				j := i + 1
				for j < n && j-i <= 7 && isDigit(s[j]) {
					j++
				}
				if k := j - i - 1; k >= 1 && k <= 6 && endOK(s, j) {
					ns, _ := fraction(s, i+1)
					nsec += ns / 1000
					end = j
				}
			}
		case 16, 17:
			sec, nsec = v/1e6, int(v%1e6)*1000
		default:
			return -1
		}
		if !endOK(s, end) {
			return -1
		}
	}
	if opt&optStrict != 0 && p > 0 {
		// Explicit EPOCH: at line start, in "[...]" at line start, or in
		// an SELinux "audit(…:serial)".
		switch {
		case p == 1 && s[0] == '[':
			if end >= n || s[end] != ']' {
				return -1
			}
		case auditAt(s, p):
			if !auditTail(s, end) {
				return -1
			}
		default:
			return -1
		}
	} else if opt&optStrict == 0 && !lineBegin(s, p) && !auditTail(s, end) {
		// Default template: not at line begin means after "audit(".
		return -1
	}
	if sec >= maxUnix {
		return -1
	}
	f.unix, f.nsec, f.isUnix, f.epoch = sec, nsec, true, true
	return end
}

// auditAt reports whether s[p:] follows a word "audit(".
func auditAt(s string, p int) bool {
	return p >= 6 && s[p-6:p] == "audit(" && (p == 6 || !isWordByte(s[p-7]))
}

// auditTail reports whether ":\d+)" follows at s[i:].
func auditTail(s string, i int) bool {
	if i >= len(s) || s[i] != ':' {
		return false
	}
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j > i+1 && j < len(s) && s[j] == ')'
}

// scanTAI64N: @[0-9a-f]{24}, a daemontools TAI64N label. Like fail2ban the
// label's seconds are taken as Unix seconds (the TAI-UTC difference is
// ignored); the nanoseconds are kept.
func scanTAI64N(s string, p int, f *fields, _ scanOpt) int {
	if p+25 > len(s) || s[p] != '@' {
		return -1
	}
	var sec int64
	nsec := 0
	for k := 1; k <= 24; k++ {
		c := s[p+k]
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		default:
			return -1
		}
		switch {
		case k == 1: // the 2^62 flag nibble, skipped as fail2ban does
		case k <= 16:
			sec = sec<<4 | int64(v)
		default:
			nsec = nsec<<4 | int(v)
		}
	}
	end := p + 25
	if !endOK(s, end) || sec >= maxUnix || nsec >= 1e9 {
		return -1
	}
	f.unix, f.nsec, f.isUnix = sec, nsec, true
	return end
}
