package logtime

import (
	"testing"
	"time"
)

// dateCase: the date text expected in line ("" for none) and its time.
type dateCase struct {
	line, date string
	want       time.Time
}

func runDateCases(t *testing.T, opts Options, cases []dateCase) {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		got, s, e, ok := d.Match(tc.line)
		if tc.date == "" {
			if ok {
				t.Errorf("%q: found %q", tc.line, tc.line[s:e])
			}
			continue
		}
		if !ok || tc.line[s:e] != tc.date || !got.Equal(tc.want) {
			t.Errorf("%q: %v %q %v, want %q %v", tc.line, ok, safeSlice(tc.line, s, e), got, tc.date, tc.want)
		}
	}
}

func TestDatePlaceholder(t *testing.T) {
	t.Parallel()
	opts := Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`^[^\[]*\[({DATE})`, "{^LN-BEG}"}}
	runDateCases(t, opts, []dateCase{
		{line: `192.0.2.1 - - [14/Aug/2005:11:00:00 +0200] "GET /"`, date: "14/Aug/2005:11:00:00 +0200", want: utc(2005, 8, 14, 9, 0, 0, 0)},
		{line: `x [2005-08-14 10:00:00] y`, date: "2005-08-14 10:00:00", want: zt(2005, 8, 14, 10, 0, 0, 0)},
		{line: `x [Aug 14 10:00:01] y`, date: "Aug 14 10:00:01", want: zt(2005, 8, 14, 10, 0, 1, 0)},
		// Not after the first "[": the second pattern (defaults at line begin).
		{line: `2005-08-14 10:00:02 [x] y`, date: "2005-08-14 10:00:02", want: zt(2005, 8, 14, 10, 0, 2, 0)},
		{line: `x [nodate] 2005-08-14 10:00:03`, date: ""},
	})
	// ^{DATE}: the defaults anchored at the line start.
	runDateCases(t, Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`^{DATE}`}}, []dateCase{
		{line: `2005-08-14 10:00:04,123 fail2ban.actions [1]: NOTICE [sshd] Ban 192.0.2.1`, date: "2005-08-14 10:00:04,123", want: zt(2005, 8, 14, 10, 0, 4, 123e6)},
		{line: ` 2005-08-14 10:00:04 x`, date: ""},
	})
	// Without a group the whole pattern is the date, "<W>" included, as
	// in fail2ban.
	runDateCases(t, Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`^<W>{DATE}`}}, []dateCase{
		{line: `<W>2005-08-14 10:00:05.000 x`, date: "<W>2005-08-14 10:00:05.000", want: zt(2005, 8, 14, 10, 0, 5, 0)},
	})
	// An epoch read through {DATE} (its look-behinds run on the
	// backtracking engine).
	runDateCases(t, Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`^{DATE}`}}, []dateCase{
		{line: `1124000000 x`, date: "1124000000", want: time.Unix(1124000000, 0)},
	})
}

func TestBacktrackingPatterns(t *testing.T) {
	t.Parallel()
	opts := Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`(?<=at )%Y-%m-%d %H:%M:%S(?= UTC)?`}}
	runDateCases(t, opts, []dateCase{
		{line: "seen at 2005-08-14 10:00:00 here", date: "2005-08-14 10:00:00", want: zt(2005, 8, 14, 10, 0, 0, 0)},
		{line: "seen on 2005-08-14 10:00:00 here", date: ""},
	})
	// A back-reference to more than a set of literals.
	opts = Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`%Y(?P<s>-+)%m(?P=s)%d %H:%M:%S`}}
	runDateCases(t, opts, []dateCase{
		{line: "x 2005--08--14 10:00:00 y", date: "2005--08--14 10:00:00", want: zt(2005, 8, 14, 10, 0, 0, 0)},
		{line: "x 2005--08-14 10:00:00 y", date: ""},
	})
}

func TestWholeSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, line string
		nsec          int
	}{
		{"", "2005-08-14 10:00:00.750 x", 0},
		{"", "@4000000042fee800177b4af4 x", 0},
		{"EPOCH", "1124000000.750 x", 750e6},
		{"LEPOCH", "1124000000750 x", 750e6},
	} {
		var patterns []string
		if tc.pattern != "" {
			patterns = []string{tc.pattern}
		}
		d, err := New(Options{Location: zurich, Now: fixedNow(testNow), Patterns: patterns, WholeSeconds: true})
		if err != nil {
			t.Fatal(err)
		}
		got, _, _, ok := d.Match(tc.line)
		if !ok || got.Nanosecond() != tc.nsec {
			t.Errorf("%q: %v %v, want %d ns", tc.line, got, ok, tc.nsec)
		}
	}
}

// TestZoneBoundAtZeroTime: a zone period of a year-0 date ends at the
// zero Time, which must not be taken for "forever" (it once shifted every
// later date by an hour).
func TestZoneBoundAtZeroTime(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: zurich, Now: fixedNow(testNow), Patterns: []string{`{^LN-BEG}%Y-%m-%d %H:%M:%S`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"2005-06-21 16:55:09 a", "0000-12-30 00:00:00 b", "2005-06-21 16:55:09 c"} {
		got, _, _, ok := d.Match(line)
		if line[0] == '2' && (!ok || !got.Equal(zt(2005, 6, 21, 16, 55, 9, 0))) {
			t.Errorf("%q: %v", line, got)
		}
	}
}

func TestFixedZone(t *testing.T) {
	t.Parallel()
	for in, off := range map[string]int{"UTC": 0, "GMT": 0, "Z": 0, "UTC+0200": 7200, "UTC-05:30": -19800, "+0100": 3600, "CET": 3600, "CEST+0100": 10800} {
		loc, err := FixedZone(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if _, got := time.Unix(0, 0).In(loc).Zone(); got != off {
			t.Errorf("%q: offset %d, want %d", in, got, off)
		}
	}
	for _, bad := range []string{"", "Mars/Olympus", "UTC+2", "utc"} {
		if _, err := FixedZone(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
