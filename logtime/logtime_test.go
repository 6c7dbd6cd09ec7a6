package logtime

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Zurich without depending on the host's zoneinfo
)

// testNow is fail2ban's TEST_NOW (2005-08-14 12:00 CEST), and Zurich its
// test zone, so expectations read like fail2ban's sample annotations.
var (
	zurich  = mustLoad("Europe/Zurich")
	testNow = time.Unix(1124013600, 0)
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

// zt builds an expected time in Zurich.
func zt(y int, m time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, m, d, h, mi, s, ns, zurich)
}

// utc builds an expected time in UTC.
func utc(y int, m time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, m, d, h, mi, s, ns, time.UTC)
}

// matchCase is one line and what Match must report for it.
type matchCase struct {
	name       string
	line       string
	want       time.Time // zero: no date expected
	start, end int
}

func runCases(t *testing.T, opts Options, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := New(opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, start, end, ok := d.Match(tc.line)
			if tc.want.IsZero() {
				if ok {
					t.Fatalf("Match(%q) = %v [%d,%d) %q, want no date", tc.line, got, start, end, tc.line[start:end])
				}
				return
			}
			if !ok {
				t.Fatalf("Match(%q): no date, want %v", tc.line, tc.want)
			}
			if !got.Equal(tc.want) || start != tc.start || end != tc.end {
				t.Errorf("Match(%q) = %v [%d,%d) %q, want %v [%d,%d) %q", tc.line,
					got, start, end, tc.line[start:end], tc.want, tc.start, tc.end, safeSlice(tc.line, tc.start, tc.end))
			}
			if got.Location() != opts.Location {
				t.Errorf("time in %v, want %v", got.Location(), opts.Location)
			}
			// The same line again takes the "last winner" path: same answer.
			got2, s2, e2, ok2 := d.Match(tc.line)
			if !ok2 || !got2.Equal(got) || s2 != start || e2 != end {
				t.Errorf("second Match(%q) = %v [%d,%d) %v, want the first answer", tc.line, got2, s2, e2, ok2)
			}
		})
	}
}

func safeSlice(s string, a, b int) string {
	if a < 0 || b > len(s) || a > b {
		return ""
	}
	return s[a:b]
}

func TestDefaultTemplates(t *testing.T) {
	t.Parallel()
	opts := Options{Location: zurich, Now: fixedNow(testNow)}
	runCases(t, opts, []matchCase{
		// syslog, year-less: 2005 (now's year).
		{name: "syslog padded day", line: "Jan  2 03:04:05 host sshd[42]: Failed password", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 0, end: 15},
		{name: "syslog two-digit day", line: "Jan 02 03:04:05 host x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 0, end: 15},
		{name: "syslog lower case", line: "aug 14 11:59:04 host x", want: zt(2005, 8, 14, 11, 59, 4, 0), start: 0, end: 15},
		{name: "syslog weekday fraction year", line: "Sun Jan 23 21:59:59.011 2005 x", want: zt(2005, 1, 23, 21, 59, 59, 11e6), start: 0, end: 28},
		{name: "syslog year after", line: "Jan 2 03:04:05 2024 x", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 19},
		{name: "syslog year before time", line: "Jan 23 2005 21:59:59 x", want: zt(2005, 1, 23, 21, 59, 59, 0), start: 0, end: 20},
		{name: "syslog one-digit hour", line: "Jan 2  3:04:05 x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 0, end: 14},
		{name: "syslog year glued is no year", line: "Jan 2 03:04:05 2024x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 0, end: 14},
		{name: "syslog zone abbreviation", line: "PDT Apr 16 21:05:29 monit", want: utc(2005, 4, 17, 4, 5, 29, 0), start: 0, end: 19},
		{name: "syslog zone offset", line: "+0100 Apr 16 21:05:29 x", want: utc(2005, 4, 16, 20, 5, 29, 0), start: 0, end: 21},
		{name: "one-letter word is no zone", line: "A Jan  2 03:04:05 x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 2, end: 17},
		{name: "syslog after priority", line: "<13>Jan  2 03:04:05 host x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 4, end: 19},
		// ISO 8601 / RFC 3339.
		{name: "rfc3339 Z", line: "2024-01-02T03:04:05Z host x", want: utc(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 20},
		{name: "iso comma fraction", line: "2024-01-02 03:04:05,123 INFO x", want: zt(2024, 1, 2, 3, 4, 5, 123e6), start: 0, end: 23},
		{name: "rfc3339 micro offset", line: "2024-01-02T03:04:05.123456+01:00 x", want: utc(2024, 1, 2, 2, 4, 5, 123456e3), start: 0, end: 32},
		{name: "rfc3339 nano", line: "2024-01-02T03:04:05.123456789-05:30 x", want: utc(2024, 1, 2, 8, 34, 5, 123456789), start: 0, end: 35},
		{name: "iso +hhmm", line: "2024-01-02 03:04:05 +0100 x", want: utc(2024, 1, 2, 2, 4, 5, 0), start: 0, end: 25},
		{name: "iso +hh", line: "2024-01-02 03:04:05+02 x", want: utc(2024, 1, 2, 1, 4, 5, 0), start: 0, end: 22},
		{name: "iso UTC word", line: "2024-01-02 03:04:05 UTC x", want: utc(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 23},
		{name: "iso GMT", line: "2024-01-02 03:04:05GMT", want: utc(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 22},
		{name: "iso slashes", line: "2005/01/23 21:59:59 x", want: zt(2005, 1, 23, 21, 59, 59, 0), start: 0, end: 19},
		{name: "iso dots syslog-ng", line: "2006.12.21 06:43:20 x", want: zt(2006, 12, 21, 6, 43, 20, 0), start: 0, end: 19},
		{name: "iso mixed separators", line: "2006-12/21 06:43:20 x", want: time.Time{}},
		{name: "iso two blanks one-digit hour", line: "2005-01-23  8:59:59 x", want: zt(2005, 1, 23, 8, 59, 59, 0), start: 0, end: 19},
		{name: "iso in brackets", line: "[2024-01-02 03:04:05] x", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 1, end: 20},
		{name: "iso zone glued to word dropped", line: "2024-01-02 03:04:05 Zulu", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 19},
		{name: "iso short zone when minutes glued", line: "2024-01-02 03:04:05+01:00x", want: utc(2024, 1, 2, 2, 4, 5, 0), start: 0, end: 22},
		{name: "iso short zone odd minutes", line: "2024-01-02 03:04:05+01:60x", want: utc(2024, 1, 2, 2, 4, 5, 0), start: 0, end: 22},
		{name: "iso vertical tab before zone", line: "2024-01-02 03:04:05\v+0100 x", want: utc(2024, 1, 2, 2, 4, 5, 0), start: 0, end: 25},
		{name: "iso summer time", line: "2005-08-14 11:59:04 x", want: utc(2005, 8, 14, 9, 59, 4, 0), start: 0, end: 19},
		{name: "iso year 19xx is no %ExY", line: "1999-12-31 23:59:59 x", want: time.Time{}},
		{name: "iso Feb 30", line: "2024-02-30 03:04:05 x", want: time.Time{}},
		{name: "iso hour 24", line: "2024-02-03 24:04:05 x", want: time.Time{}},
		// Apache / nginx.
		{name: "apache access", line: `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326`, want: utc(2000, 10, 10, 20, 55, 36, 0), start: 15, end: 41},
		{name: "apache no brackets", line: "10/Oct/2020:13:55:36 x", want: zt(2020, 10, 10, 13, 55, 36, 0), start: 0, end: 20},
		{name: "apache blank day in message", line: "x [ 2/Oct/2000:13:55:36 +0200] y", want: utc(2000, 10, 2, 11, 55, 36, 0), start: 3, end: 29},
		{name: "apache blank day at line begin", line: "[ 2/Oct/2000:13:55:36 +0200] y", want: utc(2000, 10, 2, 11, 55, 36, 0), start: 2, end: 27},
		{name: "named dashes fraction", line: "26-Jul-2007 15:20:52.252 client x", want: zt(2007, 7, 26, 15, 20, 52, 252e6), start: 0, end: 24},
		{name: "roundcube zone", line: "26-Jul-2007 15:20:52 +0200 x", want: utc(2007, 7, 26, 13, 20, 52, 0), start: 0, end: 26},
		// Numeric day-month-year and month-day-year forms.
		{name: "d/m/Y", line: "23/01/2005 21:59:59 x", want: zt(2005, 1, 23, 21, 59, 59, 0), start: 0, end: 19},
		{name: "d/m/y", line: "23/01/05 21:59:59 x", want: zt(2005, 1, 23, 21, 59, 59, 0), start: 0, end: 17},
		{name: "d-m-Y", line: "17-07-2008 17:23:25 x", want: zt(2008, 7, 17, 17, 23, 25, 0), start: 0, end: 19},
		{name: "d-m-Y wins over m-d-Y", line: "01-02-2008 17:23:25 x", want: zt(2008, 2, 1, 17, 23, 25, 0), start: 0, end: 19},
		{name: "cpanel m/d/Y:time", line: "05/20/2008:01:57:39 x", want: zt(2008, 5, 20, 1, 57, 39, 0), start: 0, end: 19},
		{name: "m-d-Y fraction", line: "01-27-2012 16:22:44.252 x", want: zt(2012, 1, 27, 16, 22, 44, 252e6), start: 0, end: 23},
		{name: "mysql", line: "130322 11:46:11 [Warning] x", want: zt(2013, 3, 22, 11, 46, 11, 0), start: 0, end: 15},
		{name: "mysql two blanks", line: "130322  1:46:11 x", want: zt(2013, 3, 22, 1, 46, 11, 0), start: 0, end: 15},
		{name: "compact T", line: "20050123T215959 x", want: zt(2005, 1, 23, 21, 59, 59, 0), start: 0, end: 15},
		{name: "compact blank fraction zone", line: "20050123 215959.5+0100 x", want: utc(2005, 1, 23, 20, 59, 59, 5e8), start: 0, end: 22},
		{name: "tomcat pm", line: "Jan 02, 2024 3:04:05 PM org.apache x", want: zt(2024, 1, 2, 15, 4, 5, 0), start: 0, end: 23},
		{name: "tomcat 12 am", line: "Jan 02, 2024 12:04:05 am x", want: zt(2024, 1, 2, 0, 4, 5, 0), start: 0, end: 24},
		{name: "assp", line: "Apr-27-13 02:33:06 [Worker_1] x", want: zt(2013, 4, 27, 2, 33, 6, 0), start: 0, end: 18},
		{name: "assp only at line start", line: "x Apr-27-13 02:33:06", want: time.Time{}},
		{name: "<m/d/y@time>", line: "<09/16/08@05:03:30> x", want: zt(2008, 9, 16, 5, 3, 30, 0), start: 0, end: 19},
		// EPOCH and TAI64N.
		{name: "epoch", line: "1104490800 x", want: time.Unix(1104490800, 0), start: 0, end: 10},
		{name: "epoch short fraction stays out", line: "1104490800.0 x", want: time.Unix(1104490800, 0), start: 0, end: 10},
		{name: "epoch millis fraction", line: "1104490800.123 x", want: time.Unix(1104490800, 123e6), start: 0, end: 14},
		{name: "epoch after @", line: "@1104490800 x", want: time.Unix(1104490800, 0), start: 1, end: 11},
		{name: "epoch in brackets", line: "[1104490800] nsd x", want: time.Unix(1104490800, 0), start: 1, end: 11},
		{name: "epoch selinux audit", line: "type=USER_AUTH msg=audit(1104490800.123:42): pid=1", want: time.Unix(1104490800, 123e6), start: 25, end: 39},
		{name: "epoch not in message", line: "id 1104490800 x", want: time.Time{}},
		{name: "epoch 12 digits", line: "110449080000 x", want: time.Time{}},
		{name: "epoch beyond 2099", line: "99999999999 x", want: time.Time{}},
		{name: "tai64n", line: "@4000000042cc5f4b0b7fa8d4 x", want: time.Unix(0x42cc5f4b, 0x0b7fa8d4), start: 0, end: 25},
		// Time only, at line begin: today, or yesterday when in the future.
		{name: "time past", line: "11:59:04 x", want: zt(2005, 8, 14, 11, 59, 4, 0), start: 0, end: 8},
		{name: "time future is yesterday", line: "12:00:01 x", want: zt(2005, 8, 13, 12, 0, 1, 0), start: 0, end: 8},
		{name: "time not in message", line: "at 11:59:04 x", want: time.Time{}},
		// Boundaries and preference.
		{name: "no date", line: "Failed password for root from 192.0.2.1 port 22 ssh2", want: time.Time{}},
		{name: "date glued to word", line: "x2024-01-02 03:04:05 y", want: time.Time{}},
		{name: "day glued to word", line: "a12/Oct/2000:13:55:36 x", want: time.Time{}},
		{name: "time glued to word", line: "Jan 2 03:04:05x", want: time.Time{}},
		{name: "start wins over message", line: "Jan  2 03:04:05 host x: at 2024-05-06 07:08:09", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 0, end: 15},
		{name: "leftmost in message", line: "host x: at 2024-05-06 07:08:09 and Jan  2 03:04:05", want: zt(2024, 5, 6, 7, 8, 9, 0), start: 11, end: 30},
		{name: "unknown word before syslog", line: "from Jan  2 03:04:05 x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 5, end: 20},
	})
}

func TestYearResolution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		now  time.Time
		line string
		want time.Time
	}{
		{name: "new year rollover", now: zt(2005, 1, 1, 0, 30, 0, 0), line: "Dec 31 23:59:59 x", want: zt(2004, 12, 31, 23, 59, 59, 0)},
		{name: "just after midnight same year", now: zt(2005, 1, 1, 0, 30, 0, 0), line: "Jan  1 00:29:59 x", want: zt(2005, 1, 1, 0, 29, 59, 0)},
		{name: "within one day ahead stays", now: testNow, line: "Aug 15 11:59:59 x", want: zt(2005, 8, 15, 11, 59, 59, 0)},
		{name: "more than one day ahead is last year", now: testNow, line: "Aug 15 12:00:01 x", want: zt(2004, 8, 15, 12, 0, 1, 0)},
		{name: "far ahead is last year", now: testNow, line: "Dec 24 20:00:00 x", want: zt(2004, 12, 24, 20, 0, 0, 0)},
		{name: "feb 29 of a leap year", now: zt(2024, 3, 1, 0, 0, 0, 0), line: "Feb 29 10:00:00 x", want: zt(2024, 2, 29, 10, 0, 0, 0)},
		{name: "feb 29 of a common year", now: zt(2025, 3, 1, 0, 0, 0, 0), line: "Feb 29 10:00:00 x", want: time.Time{}},
		{name: "yesterday across new year", now: zt(2005, 1, 1, 0, 0, 30, 0), line: "23:59:59 x", want: zt(2004, 12, 31, 23, 59, 59, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := New(Options{Location: zurich, Now: fixedNow(tc.now)})
			if err != nil {
				t.Fatal(err)
			}
			for _, match := range []func(string) (time.Time, int, int, bool){
				d.Match,
				func(l string) (time.Time, int, int, bool) { return d.MatchAt(l, tc.now.Add(time.Hour*1e5)) }, // ignored below
			}[:1] {
				got, _, _, ok := match(tc.line)
				if tc.want.IsZero() {
					if ok {
						t.Fatalf("got %v, want no date", got)
					}
					return
				}
				if !ok || !got.Equal(tc.want) {
					t.Fatalf("Match(%q) at %v = %v, %v; want %v", tc.line, tc.now, got, ok, tc.want)
				}
			}
			// MatchAt with the same reference agrees, whatever Options.Now says.
			d2, _ := New(Options{Location: zurich, Now: fixedNow(time.Unix(0, 0))})
			got, _, _, ok := d2.MatchAt(tc.line, tc.now)
			if !ok || !got.Equal(tc.want) {
				t.Fatalf("MatchAt(%q, %v) = %v, %v; want %v", tc.line, tc.now, got, ok, tc.want)
			}
		})
	}
}

// TestYearResolutionOneDetector runs the year cases through one Detector
// in turn and twice each, so that an answer kept from the line before
// (the same text against another now, or another text against the same
// now) cannot stand in for the right one.
func TestYearResolutionOneDetector(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: zurich})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		now  time.Time
		line string
		want time.Time
	}{
		{zt(2005, 1, 1, 0, 30, 0, 0), "Dec 31 23:59:59 x", zt(2004, 12, 31, 23, 59, 59, 0)},
		{zt(2005, 12, 31, 23, 59, 59, 0), "Dec 31 23:59:59 x", zt(2005, 12, 31, 23, 59, 59, 0)},
		{zt(2005, 12, 31, 23, 59, 59, 0), "Dec 31 23:59:58 x", zt(2005, 12, 31, 23, 59, 58, 0)},
		{zt(2005, 1, 1, 0, 30, 0, 0), "Dec 31 23:59:58 x", zt(2004, 12, 31, 23, 59, 58, 0)},
		{zt(2024, 3, 1, 0, 0, 0, 0), "Feb 29 10:00:00 x", zt(2024, 2, 29, 10, 0, 0, 0)},
		{zt(2025, 3, 1, 0, 0, 0, 0), "Feb 29 10:00:00 x", time.Time{}},
		{zt(2024, 3, 1, 0, 0, 0, 0), "Feb 29 10:00:00 x", zt(2024, 2, 29, 10, 0, 0, 0)},
	}
	for _, tc := range cases {
		for range 2 {
			got, _, _, ok := d.MatchAt(tc.line, tc.now)
			if ok != !tc.want.IsZero() || ok && !got.Equal(tc.want) {
				t.Fatalf("MatchAt(%q, %v) = %v, %v; want %v", tc.line, tc.now, got, ok, tc.want)
			}
		}
	}
}

func TestExplicitPatterns(t *testing.T) {
	t.Parallel()
	apache := `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326`
	cases := []struct {
		name       string
		patterns   []string
		line       string
		want       time.Time
		start, end int
	}{
		{name: "apache strftime", patterns: []string{"%d/%b/%Y:%H:%M:%S %z"}, line: apache, want: utc(2000, 10, 10, 20, 55, 36, 0), start: 15, end: 41},
		{name: "apache strftime case-insensitive month", patterns: []string{"%d/%b/%Y:%H:%M:%S %z"}, line: "[10/OCT/2000:13:55:36 -0700]", want: utc(2000, 10, 10, 20, 55, 36, 0), start: 1, end: 27},
		{name: "ln-beg iso at start", patterns: []string{"{^LN-BEG}%Y-%m-%d %H:%M:%S"}, line: "2024-01-02 03:04:05 x", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 19},
		{name: "ln-beg iso after two non-word", patterns: []string{"{^LN-BEG}%Y-%m-%d %H:%M:%S"}, line: "[ 2024-01-02 03:04:05] x", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 2, end: 21},
		{name: "ln-beg iso in message", patterns: []string{"{^LN-BEG}%Y-%m-%d %H:%M:%S"}, line: "x: 2024-01-02 03:04:05", want: time.Time{}},
		{name: "ln-beg iso after three non-word", patterns: []string{"{^LN-BEG}%Y-%m-%d %H:%M:%S"}, line: "[[[2024-01-02 03:04:05", want: time.Time{}},
		{name: "caret pattern", patterns: []string{`^%Y-%m-%d %H:%M:%S`}, line: "2024-01-02 03:04:05 x", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 19},
		{name: "caret pattern not at 0", patterns: []string{`^%Y-%m-%d %H:%M:%S`}, line: "[2024-01-02 03:04:05 x", want: time.Time{}},
		{name: "word boundary", patterns: []string{"%d %b %Y %H:%M:%S"}, line: "a12 Jan 2024 03:04:05", want: time.Time{}},
		{name: "word boundary ok", patterns: []string{"%d %b %Y %H:%M:%S"}, line: "a 12 Jan 2024 03:04:05", want: zt(2024, 1, 12, 3, 4, 5, 0), start: 2, end: 22},
		{name: "end boundary", patterns: []string{"%Y-%m-%d %H:%M"}, line: "2024-01-02 03:045", want: time.Time{}},
		{name: "end boundary before colon", patterns: []string{"%Y-%m-%d %H:%M"}, line: "2024-01-02 03:04:05", want: zt(2024, 1, 2, 3, 4, 0, 0), start: 0, end: 16},
		{name: "unbounded", patterns: []string{"{UNB}%Y-%m-%d %H:%M"}, line: "x2024-01-02 03:04:05", want: zt(2024, 1, 2, 3, 4, 0, 0), start: 1, end: 17},
		{name: "stars drop boundaries", patterns: []string{"**%Y-%m-%d %H:%M**"}, line: "x2024-01-02 03:04:05", want: zt(2024, 1, 2, 3, 4, 0, 0), start: 1, end: 17},
		{name: "backreference expanded", patterns: []string{`%Y(?P<_sep>[-/.])%m(?P=_sep)%d %H:%M:%S`}, line: "at 2024/01/02 03:04:05", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 3, end: 22},
		{name: "backreference mismatch", patterns: []string{`%Y(?P<_sep>[-/.])%m(?P=_sep)%d %H:%M:%S`}, line: "at 2024/01-02 03:04:05", want: time.Time{}},
		{name: "plain group is the date", patterns: []string{`^\[(%d/%m/%y %H:%M:%S)\]`}, line: "[23/01/05 21:59:59] x", want: zt(2005, 1, 23, 21, 59, 59, 0), start: 1, end: 18},
		{name: "12-hour clock", patterns: []string{"%B %d, %Y %I:%M:%S %p"}, line: "January 02, 2024 12:04:05 PM x", want: zt(2024, 1, 2, 12, 4, 5, 0), start: 0, end: 28},
		{name: "zone abbreviation with offset", patterns: []string{"%Y-%m-%d %H:%M:%S %Exz"}, line: "2024-01-02 03:04:05 CET+0100 x", want: utc(2024, 1, 2, 1, 4, 5, 0), start: 0, end: 28},
		{name: "unknown zone is no date", patterns: []string{"%Y-%m-%d %H:%M:%S %Z"}, line: "2024-01-02 03:04:05 ABCDE x", want: time.Time{}},
		{name: "year-less explicit", patterns: []string{"^%b %d %H:%M:%S"}, line: "Aug 14 11:59:04 x", want: zt(2005, 8, 14, 11, 59, 4, 0), start: 0, end: 15},
		{name: "fraction", patterns: []string{"%Y-%m-%dT%H:%M:%S.%f"}, line: "2024-01-02T03:04:05.5 x", want: zt(2024, 1, 2, 3, 4, 5, 5e8), start: 0, end: 21},
		{name: "EPOCH", patterns: []string{"EPOCH"}, line: "1104490800.123 x", want: time.Unix(1104490800, 123e6), start: 0, end: 14},
		{name: "EPOCH lower case", patterns: []string{"epoch"}, line: "1104490800 x", want: time.Unix(1104490800, 0), start: 0, end: 10},
		{name: "EPOCH brackets need closing", patterns: []string{"EPOCH"}, line: "[1104490800 x", want: time.Time{}},
		{name: "EPOCH brackets", patterns: []string{"EPOCH"}, line: "[1104490800] x", want: time.Unix(1104490800, 0), start: 1, end: 11},
		{name: "EPOCH not after @", patterns: []string{"EPOCH"}, line: "@1104490800 x", want: time.Time{}},
		{name: "ln-beg EPOCH after @", patterns: []string{"{^LN-BEG}EPOCH"}, line: "@1104490800 x", want: time.Unix(1104490800, 0), start: 1, end: 11},
		{name: "LEPOCH millis", patterns: []string{"LEPOCH"}, line: "1104490800123 x", want: time.Unix(1104490800, 123e6), start: 0, end: 13},
		{name: "LEPOCH micros", patterns: []string{"LEPOCH"}, line: "1104490800123456 x", want: time.Unix(1104490800, 123456e3), start: 0, end: 16},
		{name: "LEPOCH millis fraction", patterns: []string{"LEPOCH"}, line: "1104490800123.5 x", want: time.Unix(1104490800, 1235e5), start: 0, end: 15},
		{name: "LEPOCH seconds", patterns: []string{"LEPOCH"}, line: "1104490800 x", want: time.Unix(1104490800, 0), start: 0, end: 10},
		{name: "EPOCH inside regexp", patterns: []string{`^ts={EPOCH}`}, line: "ts=1104490800 x", want: time.Unix(1104490800, 0), start: 0, end: 13},
		{name: "TAI64N", patterns: []string{"TAI64N"}, line: "x @4000000042cc5f4b0b7fa8d4 y", want: time.Unix(0x42cc5f4b, 0x0b7fa8d4), start: 2, end: 27},
		{name: "NONE", patterns: []string{"{NONE}"}, line: "2024-01-02 03:04:05 x", want: time.Time{}},
		{name: "LN-BEG defaults at start", patterns: []string{"{^LN-BEG}"}, line: "Jan  2 03:04:05 x", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 0, end: 15},
		{name: "LN-BEG defaults not in message", patterns: []string{"{^LN-BEG}"}, line: "x: Jan  2 03:04:05", want: time.Time{}},
		{name: "DEFAULT", patterns: []string{"{DEFAULT}"}, line: "x: Jan  2 03:04:05", want: zt(2005, 1, 2, 3, 4, 5, 0), start: 3, end: 18},
		{name: "known pattern mapped to scanner", patterns: []string{`{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`}, line: "2024-01-02T03:04:05Z x", want: utc(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 20},
		{name: "known pattern anchored", patterns: []string{`{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`}, line: "xx: 2024-01-02T03:04:05Z", want: time.Time{}},
		{name: "older iso spelling has one blank", patterns: []string{`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`}, line: "2005-01-23  8:59:59 x", want: time.Time{}},
		{name: "older iso spelling", patterns: []string{`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`}, line: "2005-01-23 08:59:59 x", want: zt(2005, 1, 23, 8, 59, 59, 0), start: 0, end: 19},
		{name: "explicit d-m-y blank day", patterns: []string{`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`}, line: " 7-01-05 01:02:03 x", want: zt(2005, 1, 7, 1, 2, 3, 0), start: 0, end: 17},
		{name: "python \\s has \\v", patterns: []string{`%Y-%m-%d\s%H:%M:%S`}, line: "2024-01-02\v03:04:05 x", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 0, end: 19},
		{name: "several patterns leftmost", patterns: []string{"%Y-%m-%d %H:%M:%S", "^%b %d %H:%M:%S"}, line: "Aug 14 11:59:04 x 2024-01-02 03:04:05", want: zt(2005, 8, 14, 11, 59, 4, 0), start: 0, end: 15},
		{name: "patterns separated by newlines", patterns: []string{"%Y-%m-%d %H:%M:%S\n^%b %d %H:%M:%S"}, line: "x 2024-01-02 03:04:05", want: zt(2024, 1, 2, 3, 4, 5, 0), start: 2, end: 21},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := New(Options{Patterns: tc.patterns, Location: zurich, Now: fixedNow(testNow)})
			if err != nil {
				t.Fatalf("New(%q): %v", tc.patterns, err)
			}
			got, start, end, ok := d.Match(tc.line)
			if tc.want.IsZero() {
				if ok {
					t.Fatalf("Match(%q) = %v [%d,%d), want no date", tc.line, got, start, end)
				}
				return
			}
			if !ok || !got.Equal(tc.want) || start != tc.start || end != tc.end {
				t.Fatalf("Match(%q) = %v [%d,%d) %v, want %v [%d,%d)", tc.line, got, start, end, ok, tc.want, tc.start, tc.end)
			}
		})
	}
}

func TestInvalidPatterns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		patterns []string
	}{
		{name: "unknown directive", patterns: []string{`%Y-%Q`}},
		{name: "lone percent", patterns: []string{`%Y %`}},
		{name: "unbalanced", patterns: []string{`%Y-(%m`}},
		{name: "NONE with others", patterns: []string{"{NONE}", "EPOCH"}},
		{name: "dangling backreference", patterns: []string{`%Y(?P=sep)%m`}},
		{name: "backreference to an unknown group on the backtracking engine", patterns: []string{`%Y(?P<s>\s+)%m(?P=x)%d`}},
		{name: "verbose flag", patterns: []string{`(?x)%Y`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := New(Options{Patterns: tc.patterns})
			if err == nil {
				t.Fatalf("New(%q) = %v, want an error", tc.patterns, d)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.patterns[0])) {
				t.Errorf("error %q does not name the pattern %q", err, tc.patterns[0])
			}
		})
	}
}

func TestHostileLines(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a1-2/3:4 [x] ", 1<<20/13)
	digits := strings.Repeat("1234567890", 1<<20/10)
	cases := []struct {
		name string
		line string
		want time.Time
	}{
		{name: "empty", line: ""},
		{name: "one byte", line: "J"},
		{name: "truncated syslog", line: "Jan  2 03:04:"},
		{name: "truncated syslog seconds", line: "Jan  2 03:04:0", want: zt(2005, 1, 2, 3, 4, 0, 0)},
		{name: "truncated iso", line: "2024-01-02T03:04:05.", want: zt(2024, 1, 2, 3, 4, 5, 0)},
		{name: "truncated apache zone", line: "10/Oct/2000:13:55:36 -07", want: utc(2000, 10, 10, 20, 55, 36, 0)},
		{name: "truncated apache", line: "10/Oct/2000:13:55"},
		{name: "not utf-8", line: "\xff\xfe\xfd Jan  2 \xff 03:04:05"},
		{name: "not utf-8 around date", line: "\xff\xfeJan  2 03:04:05\xff", want: zt(2005, 1, 2, 3, 4, 5, 0)},
		{name: "not utf-8 prefix too long", line: "\xff\xfe\xfd2024-01-02 03:04:05", want: zt(2024, 1, 2, 3, 4, 5, 0)},
		{name: "nul bytes", line: "\x00\x00Jan  2 03:04:05\x00", want: zt(2005, 1, 2, 3, 4, 5, 0)},
		{name: "1 MB without date", line: big},
		{name: "1 MB of digits", line: digits},
		{name: "1 MB then a date", line: big + " 2024-01-02 03:04:05", want: zt(2024, 1, 2, 3, 4, 5, 0)},
		{name: "date then 1 MB", line: "Jan  2 03:04:05 " + big, want: zt(2005, 1, 2, 3, 4, 5, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, patterns := range [][]string{nil, {"%Y-%m-%d %H:%M:%S", "{^LN-BEG}"}, {"LEPOCH"}, {"{^LN-BEG}%b %d %H:%M:%S"}} {
				d, err := New(Options{Patterns: patterns, Location: zurich, Now: fixedNow(testNow)})
				if err != nil {
					t.Fatal(err)
				}
				got, start, end, ok := d.Match(tc.line)
				if ok && (start < 0 || start > end || end > len(tc.line)) {
					t.Fatalf("patterns %q: bad span [%d,%d) of %d bytes", patterns, start, end, len(tc.line))
				}
				if patterns == nil {
					if ok != !tc.want.IsZero() || (ok && !got.Equal(tc.want)) {
						t.Fatalf("Match = %v, %v; want %v", got, ok, tc.want)
					}
				}
			}
		})
	}
}

// TestLastWinnerSticks checks fail2ban's behaviour of trying the previous
// winner first: an ambiguous date is read like the lines before it.
func TestLastWinnerSticks(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: zurich, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		line     string
		want     time.Time
		template string
	}{
		{line: "01-02-2012 16:22:44 x", want: zt(2012, 2, 1, 16, 22, 44, 0), template: "d-m-y"},
		{line: "01-27-2012 16:22:44 x", want: zt(2012, 1, 27, 16, 22, 44, 0), template: "m-d-y"},
		{line: "01-02-2012 16:22:44 x", want: zt(2012, 1, 2, 16, 22, 44, 0), template: "m-d-y"},
		{line: "Jan  2 03:04:05 x", want: zt(2005, 1, 2, 3, 4, 5, 0), template: "syslog"},
		{line: "01-02-2012 16:22:44 x", want: zt(2012, 2, 1, 16, 22, 44, 0), template: "d-m-y"},
	}
	for i, s := range steps {
		got, _, _, ok := d.Match(s.line)
		if !ok || !got.Equal(s.want) || d.LastTemplate() != s.template {
			t.Fatalf("step %d: Match(%q) = %v, %v by %q; want %v by %q", i, s.line, got, ok, d.LastTemplate(), s.want, s.template)
		}
	}
}

// TestLastWinnerYieldsToEarlierDate: the previous winner found later in
// the line must not hide a date nearer the start.
func TestLastWinnerYieldsToEarlierDate(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: zurich, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	d.Match("2024-01-02 03:04:05 x")
	got, start, _, ok := d.Match("Jan  2 03:04:05 x 2024-01-02 03:04:05")
	if !ok || start != 0 || !got.Equal(zt(2005, 1, 2, 3, 4, 5, 0)) {
		t.Fatalf("got %v at %d, %v; want the syslog date at 0", got, start, ok)
	}
}

// TestZoneCacheMatchesTimeDate walks hours across both DST switches of
// 2024 and compares with time.Date, which the cache must reproduce.
func TestZoneCacheMatchesTimeDate(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: zurich, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	for _, start := range []time.Time{utc(2024, 3, 29, 0, 0, 0, 0), utc(2024, 10, 25, 0, 0, 0, 0)} {
		for h := 0; h < 96; h++ {
			for _, m := range []int{0, 30} {
				c := start.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				line := c.Format("2006-01-02 15:04:05") + " x"
				y, mo, dd := c.Date()
				want := time.Date(y, mo, dd, c.Hour(), c.Minute(), 0, 0, zurich)
				got, _, _, ok := d.Match(line)
				if !ok {
					t.Fatalf("Match(%q): no date", line)
				}
				if !got.Equal(want) {
					// Around the switch a civil time may exist twice: either
					// reading is right, but it must read back as the same
					// civil time.
					if got.Format("2006-01-02 15:04:05") != c.Format("2006-01-02 15:04:05") || (want.Sub(got) != time.Hour && got.Sub(want) != time.Hour) {
						t.Fatalf("Match(%q) = %v, want %v", line, got, want)
					}
				}
			}
		}
	}
}

// TestClockCache checks the default clock: a year-less date of "now" and a
// time-only line of "now" must not be pushed a year or a day back by a
// stale cached clock.
func TestClockCache(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: time.Local})
	if err != nil {
		t.Fatal(err)
	}
	d.Match("Jan  2 03:04:05 prime the clock cache")
	time.Sleep(300 * time.Millisecond)
	for i := 0; i < 3; i++ {
		now := time.Now()
		for _, line := range []string{now.Format("Jan _2 15:04:05") + " x", now.Format("15:04:05") + " x"} {
			got, _, _, ok := d.Match(line)
			if !ok {
				t.Fatalf("Match(%q): no date", line)
			}
			if diff := now.Sub(got); diff < 0 || diff > 2*time.Second {
				t.Fatalf("Match(%q) = %v at %v", line, got, now)
			}
		}
		time.Sleep(400 * time.Millisecond)
	}
	// A year-less date a month ahead is last year's.
	next := time.Now().AddDate(0, 1, 0)
	got, _, _, ok := d.Match(next.Format("Jan _2 15:04:05") + " x")
	if !ok || got.Year() != next.Year()-1 {
		t.Fatalf("a month ahead: got %v, %v", got, ok)
	}
}

func TestLocationDefault(t *testing.T) {
	t.Parallel()
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, ok := d.Match("2024-01-02 03:04:05 x")
	if !ok || !got.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.Local)) || got.Location() != time.Local {
		t.Fatalf("got %v, %v", got, ok)
	}
}

// TestCloneConcurrent runs clones on several goroutines (with -race).
func TestCloneConcurrent(t *testing.T) {
	t.Parallel()
	base, err := New(Options{Patterns: []string{"{DEFAULT}", "%d %b %Y %H:%M:%S"}, Location: zurich, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{"Jan  2 03:04:05 x", "x 2024-01-02T03:04:05Z", "12 Jan 2024 03:04:05 x", "no date"}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(d *Detector) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				d.Match(lines[i%len(lines)])
			}
		}(base.Clone())
	}
	wg.Wait()
}

// TestNoAllocs checks the hot paths allocate nothing once warmed.
func TestNoAllocs(t *testing.T) {
	d, err := New(Options{Location: zurich})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{benchSyslog, benchISO, benchApache, benchNoDate} {
		d.Match(line)
		if n := testing.AllocsPerRun(100, func() { d.Match(line) }); n != 0 {
			t.Errorf("Match(%q): %v allocs", line, n)
		}
	}
}
