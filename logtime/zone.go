package logtime

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// This file handles time zones: the zone text a date may carry (Z, UTC,
// GMT, ±hh[[:]mm], abbreviations) and the conversion between civil time in
// Options.Location and Unix seconds, which is cached so that the hot path
// does no Location lookup at all while the zone's offset stays the same.

// tzAbbrOffsets maps the zone abbreviations fail2ban knows (its
// strptime.TZ_STR table) to their offset in minutes east of UTC. The
// abbreviations are fixed offsets: "CET" never switches to summer time,
// exactly as in fail2ban.
var tzAbbrOffsets = func() map[string]int {
	table := []struct {
		min   int
		names []string
	}{
		{-12 * 60, []string{"Y"}},
		{-11 * 60, []string{"X", "NUT", "SST"}},
		{-10 * 60, []string{"W", "CKT", "HAST", "HST", "TAHT", "TKT"}},
		{-9 * 60, []string{"V", "AKST", "GAMT", "GIT", "HADT", "HNY"}},
		{-8 * 60, []string{"U", "AKDT", "CIST", "HAY", "HNP", "PST", "PT"}},
		{-7 * 60, []string{"T", "HAP", "HNR", "MST", "PDT"}},
		{-6 * 60, []string{"S", "CST", "EAST", "GALT", "HAR", "HNC", "MDT"}},
		{-5 * 60, []string{"R", "CDT", "COT", "EASST", "ECT", "EST", "ET", "HAC", "HNE", "PET"}},
		{-4 * 60, []string{"Q", "AST", "BOT", "CLT", "COST", "EDT", "FKT", "GYT", "HAE", "HNA", "PYT"}},
		{-3 * 60, []string{"P", "ADT", "ART", "BRT", "CLST", "FKST", "GFT", "HAA", "PMST", "PYST", "SRT", "UYT", "WGT"}},
		{-2 * 60, []string{"O", "BRST", "FNT", "PMDT", "UYST", "WGST"}},
		{-1 * 60, []string{"N", "AZOT", "CVT", "EGT"}},
		{0, []string{"Z", "EGST", "GMT", "UTC", "WET", "WT"}},
		{1 * 60, []string{"A", "CET", "DFT", "WAT", "WEDT", "WEST"}},
		{2 * 60, []string{"B", "CAT", "CEDT", "CEST", "EET", "SAST", "WAST"}},
		{3 * 60, []string{"C", "EAT", "EEDT", "EEST", "IDT", "MSK"}},
		{4 * 60, []string{"D", "AMT", "AZT", "GET", "GST", "KUYT", "MSD", "MUT", "RET", "SAMT", "SCT"}},
		{5 * 60, []string{"E", "AMST", "AQTT", "AZST", "HMT", "MAWT", "MVT", "PKT", "TFT", "TJT", "TMT", "UZT", "YEKT"}},
		{6 * 60, []string{"F", "ALMT", "BIOT", "BTT", "IOT", "KGT", "NOVT", "OMST", "YEKST"}},
		{7 * 60, []string{"G", "CXT", "DAVT", "HOVT", "ICT", "KRAT", "NOVST", "OMSST", "THA", "WIB"}},
		{8 * 60, []string{"H", "ACT", "AWST", "BDT", "BNT", "CAST", "HKT", "IRKT", "KRAST", "MYT", "PHT", "SGT", "ULAT", "WITA", "WST"}},
		{9 * 60, []string{"I", "AWDT", "IRKST", "JST", "KST", "PWT", "TLT", "WDT", "WIT", "YAKT"}},
		{10 * 60, []string{"K", "AEST", "ChST", "PGT", "VLAT", "YAKST", "YAPT"}},
		{11 * 60, []string{"L", "AEDT", "LHDT", "MAGT", "NCT", "PONT", "SBT", "VLAST", "VUT"}},
		{12 * 60, []string{"M", "ANAST", "ANAT", "FJT", "GILT", "MAGST", "MHT", "NZST", "PETST", "PETT", "TVT", "WFT"}},
		{13 * 60, []string{"FJST", "NZDT"}},
		{11*60 + 30, []string{"NFT"}},
		{10*60 + 30, []string{"ACDT", "LHST"}},
		{9*60 + 30, []string{"ACST"}},
		{6*60 + 30, []string{"CCT", "MMT"}},
		{5*60 + 45, []string{"NPT"}},
		{5*60 + 30, []string{"SLT"}},
		{4*60 + 30, []string{"AFT", "IRDT"}},
		{3*60 + 30, []string{"IRST"}},
		{-(2*60 + 30), []string{"HAT", "NDT"}},
		{-(3*60 + 30), []string{"HNT", "NST", "NT"}},
		{-(4*60 + 30), []string{"HLV", "VET"}},
		{-(9*60 + 30), []string{"MART", "MIT"}},
	}
	m := make(map[string]int, 256)
	for _, row := range table {
		for _, n := range row.names {
			m[n] = row.min
		}
	}
	return m
}()

// abbrOffset returns the offset in seconds of a zone abbreviation. The
// lookup is case-sensitive like fail2ban's, so that ordinary words ("from",
// "Sun") are never taken for a zone.
func abbrOffset(name string) (int, bool) {
	if len(name) == 0 || len(name) > 5 {
		return 0, false
	}
	m, ok := tzAbbrOffsets[name]
	return m * 60, ok
}

// numOffset parses fail2ban's numeric zone offset [+-][01]\d(?::?\d{2})? at
// s[i:]. It returns the offset in seconds with its end (full), and the
// offset and end of the hours alone (short; -1 when the minutes are absent
// and full already is the short form). A regex engine backtracks from full
// to short when the word boundary after full fails; scanners do the same.
func numOffset(s string, i int) (off, full, offShort, short int) {
	if i+3 > len(s) || (s[i] != '+' && s[i] != '-') || (s[i+1] != '0' && s[i+1] != '1') || !isDigit(s[i+2]) {
		return 0, -1, 0, -1
	}
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	hours := sign * (int(s[i+1]-'0')*10 + int(s[i+2]-'0')) * 3600
	j := i + 3
	if j < len(s) && s[j] == ':' {
		j++
	}
	if j+2 <= len(s) && isDigit(s[j]) && isDigit(s[j+1]) {
		mm := int(s[j]-'0')*10 + int(s[j+1]-'0')
		return hours + sign*mm*60, j + 2, hours, i + 3
	}
	return hours, i + 3, 0, -1
}

// zoneZ parses fail2ban's %z at s[i:]: Z, UTC, GMT or a numeric offset,
// with the ends and offsets of numOffset.
func zoneZ(s string, i int) (off, full, offShort, short int) {
	if i >= len(s) {
		return 0, -1, 0, -1
	}
	switch s[i] {
	case 'Z':
		return 0, i + 1, 0, -1
	case 'U':
		if hasPrefixAt(s, i, "UTC") {
			return 0, i + 3, 0, -1
		}
	case 'G':
		if hasPrefixAt(s, i, "GMT") {
			return 0, i + 3, 0, -1
		}
	case '+', '-':
		return numOffset(s, i)
	}
	return 0, -1, 0, -1
}

// parseZoneText interprets the text a regexp template captured for %z, %Z,
// %Exz or %ExZ: Z/UTC/GMT, [+-]hh[[:]mm], an abbreviation, or an
// abbreviation followed by an offset ("CET+0100"), as fail2ban's
// zone2offset does. Unknown abbreviations are an error, as in fail2ban.
func parseZoneText(z string) (int, bool) {
	if z == "" {
		return 0, false
	}
	// Split a leading abbreviation from a trailing numeric offset.
	i := 0
	for i < len(z) && isAlpha(z[i]) {
		i++
	}
	off := 0
	if i > 0 {
		o, ok := abbrOffset(z[:i])
		if !ok {
			return 0, false
		}
		off = o
	}
	if i == len(z) {
		return off, true
	}
	o, full, _, _ := numOffset(z, i)
	if full != len(z) {
		return 0, false
	}
	return off + o, true
}

// zoneCache remembers one period of Options.Location during which the
// offset from UTC is constant ([start, end) in Unix seconds), so that
// converting between civil time and Unix time is plain arithmetic until a
// timestamp falls outside it (a DST switch). Detectors keep two: one for
// the dates in the log and one for "now", so that reading last winter's log
// in summer does not thrash a single entry.
type zoneCache struct {
	off        int64
	start, end int64
	ok         bool
}

// fill records the zone period t lies in.
func (z *zoneCache) fill(t time.Time) {
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	z.off = int64(off)
	// A zero bound means "forever", but the zero Time is also a real
	// instant (0001-01-01 00:00 UTC), which a period can end at (a DST rule
	// extended back to year 0 does): a bound on the wrong side of t can
	// only mean "forever", otherwise take it as a real bound (at worst a
	// cache miss).
	z.start, z.end = s.Unix(), e.Unix()
	if s.IsZero() && t.Before(s) {
		z.start = math.MinInt64
	}
	if e.IsZero() && !t.Before(e) {
		z.end = math.MaxInt64
	}
	z.ok = true
}

// offsetAt returns the offset of loc, in seconds, at Unix time u.
func (z *zoneCache) offsetAt(u int64, loc *time.Location) int64 {
	if z.ok && u >= z.start && u < z.end {
		return z.off
	}
	z.fill(time.Unix(u, 0).In(loc))
	return z.off
}

// toUnix converts the civil time days (since 1970-01-01) + secOfDay in loc
// to Unix seconds. local is days*86400+secOfDay, passed in because callers
// already have it. A hit in the cached period is exact: a Unix time inside
// a constant-offset period whose local reading is the wanted civil time is
// an answer. Only on a miss (another period, or a civil time that does not
// exist or exists twice around a DST switch) is time.Date asked, with its
// documented choice.
func (z *zoneCache) toUnix(local, days int64, secOfDay int, loc *time.Location) int64 {
	if z.ok {
		if u := local - z.off; u >= z.start && u < z.end {
			return u
		}
	}
	y, m, d := civilFromDays(days)
	t := time.Date(y, time.Month(m), d, secOfDay/3600, secOfDay/60%60, secOfDay%60, 0, loc)
	z.fill(t)
	return t.Unix()
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's algorithm: exact, branch-light
// and far cheaper than time.Date).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// floorDiv divides rounding towards minus infinity (days before 1970 and
// negative offsets must not round towards zero).
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysIn returns the length of month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// validDate reports whether y-m-d exists. Python's datetime rejects
// impossible dates (Feb 30) and fail2ban then reports no date; so do we.
func validDate(y, m, d int) bool {
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// FixedZone reads a time zone written as fail2ban's logtimezone accepts
// it: "UTC" (or "GMT", "Z"), a known abbreviation such as "CET", a numeric
// offset "+0200", "-05:00", or an abbreviation with an offset
// ("UTC+0200"). The zone has a fixed offset, as in fail2ban: "CET" does
// not switch to CEST in summer.
func FixedZone(s string) (*time.Location, error) {
	z := s
	switch z {
	case "Z", "GMT":
		z = "UTC"
	}
	if strings.HasPrefix(z, "GMT") {
		z = "UTC" + z[3:]
	}
	off, ok := parseZoneText(z)
	if !ok {
		return nil, fmt.Errorf("logtime: unknown or unsupported time zone %q", s)
	}
	return time.FixedZone(s, off), nil
}
