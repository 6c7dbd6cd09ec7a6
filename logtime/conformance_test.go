package logtime

import (
	"testing"
	"time"
)

// These tests replay the behaviour fail2ban's own date detector tests
// check (fail2ban/tests/datedetectortestcase.py): the same formats, the
// same three prefixes (none, a "bogus" word, a glued word), the same
// expectations, at fail2ban's TEST_NOW in Zurich.

// TestConformanceVariousTimes: every format, at line start, after another
// word (only unanchored templates), and glued to a word (never).
func TestConformanceVariousTimes(t *testing.T) {
	t.Parallel()
	const suffix = "[sshd] error: PAM: Authentication failure"
	want := time.Unix(1106513999, 0) // 2005-01-23 21:59:59 CET
	cases := []struct {
		name     string
		date     string
		anchored bool          // only found at line begin
		bound    bool          // the glued-word variant can be tested
		frac     time.Duration // fraction fail2ban drops and we keep
		match    string        // the date text, when not the whole date
	}{
		{name: "syslog", date: "Jan 23 21:59:59", bound: true},
		{name: "asctime", date: "Sun Jan 23 21:59:59 2005"},
		{name: "asctime without year", date: "Sun Jan 23 21:59:59"},
		{name: "asctime year first", date: "Sun Jan 23 2005 21:59:59"},
		{name: "Y/m/d", date: "2005/01/23 21:59:59", bound: true},
		{name: "Y.m.d", date: "2005.01.23 21:59:59", bound: true},
		{name: "d/m/Y", date: "23/01/2005 21:59:59", bound: true},
		{name: "d/m/y", date: "23/01/05 21:59:59", bound: true},
		{name: "apache", date: "23/Jan/2005:21:59:59", bound: true},
		{name: "apache zone", date: "23/Jan/2005:21:59:59 +0100", bound: true},
		{name: "cpanel", date: "01/23/2005:21:59:59", bound: true},
		{name: "iso blank", date: "2005-01-23 21:59:59", bound: true},
		{name: "proftpd", date: "2005-01-23 21:59:59,000", bound: true},
		{name: "d-b-Y", date: "23-Jan-2005 21:59:59", bound: true},
		{name: "d-b-Y fraction", date: "23-Jan-2005 21:59:59.02", bound: true, frac: 20 * time.Millisecond},
		{name: "d-b-Y zone", date: "23-Jan-2005 21:59:59 +0100", bound: true},
		{name: "d-m-Y", date: "23-01-2005 21:59:59", bound: true},
		{name: "epoch", date: "1106513999", anchored: true, bound: true},
		{name: "m-d-Y fraction", date: "01-23-2005 21:59:59.252", bound: true, frac: 252 * time.Millisecond},
		{name: "tai64n", date: "@4000000041f4104f00000000"},
		{name: "iso Z", date: "2005-01-23T20:59:59.252Z", bound: true, frac: 252 * time.Millisecond},
		{name: "iso offset", date: "2005-01-23T15:59:59-05:00", bound: true},
		{name: "compact T", date: "20050123T215959", bound: true},
		{name: "compact blank", date: "20050123 215959", bound: true},
		{name: "<m/d/y@time>", date: "<01/23/05@21:59:59>", anchored: true, bound: true},
		{name: "mysql", date: "050123 21:59:59", bound: true},
		{name: "assp", date: "Jan-23-05 21:59:59", anchored: true, bound: true},
		{name: "tomcat", date: "Jan 23, 2005 9:59:59 PM", bound: true},
		{name: "epoch millis", date: "1106513999.000", anchored: true, bound: true},
		{name: "epoch brackets", date: "[1106513999.000]", anchored: true, bound: true, match: "1106513999.000"},
		{name: "selinux", date: "audit(1106513999.000:987)", bound: true, match: "1106513999.000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			match := tc.match
			if match == "" {
				match = tc.date
			}
			for _, v := range []struct {
				prefix string
				found  bool
			}{
				{prefix: "", found: true},
				{prefix: "bogus-prefix ", found: !tc.anchored},
				{prefix: "word-boundary", found: false},
			} {
				if v.prefix == "word-boundary" && !tc.bound {
					continue
				}
				line := v.prefix + tc.date + suffix
				d, err := New(Options{Location: zurich, Now: fixedNow(testNow)})
				if err != nil {
					t.Fatal(err)
				}
				got, start, end, ok := d.Match(line)
				if !v.found {
					if ok {
						t.Errorf("Match(%q) = %v %q, want no date", line, got, line[start:end])
					}
					continue
				}
				if !ok || !got.Equal(want.Add(tc.frac)) || line[start:end] != match {
					t.Errorf("Match(%q) = %v %q %v, want %v %q", line, got, safeSlice(line, start, end), ok, want.Add(tc.frac), match)
				}
			}
		})
	}
}

// TestConformanceShortestDistance: the date nearest the line start wins,
// also when the detector has seen other formats before (one detector for
// the whole sequence, lines repeated as in fail2ban's test).
func TestConformanceShortestDistance(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Location: zurich, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		want  string
		line  string
		count int
	}{
		{want: "030324  0:03:59", line: "some free text 030324  0:03:59 -- 2003-03-07 17:05:01 ...", count: 1},
		{want: "2003-03-07 17:05:01", line: "some free text 2003-03-07 17:05:01 test ...", count: 15},
		{want: "030324  0:04:00", line: "server mysqld[1000]: 030324  0:04:00 [Warning] Access denied ... foreign-input just some free text 2003-03-07 17:05:01 test", count: 10},
		{want: "Sep 16 21:30:26", line: "server mysqld[1020]: Sep 16 21:30:26 server mysqld: 030916 21:30:26 [Warning] Access denied", count: 15},
		{want: "2005-10-07 06:09:42", line: "server mysqld[5906]: 2005-10-07 06:09:42 5907 [Warning] Access denied", count: 20},
		{want: "2005-10-08T15:26:18.237955", line: "server mysqld[5906]: 2005-10-08T15:26:18.237955 6 [Note] Access denied", count: 20},
		{want: "051009 10:05:30", line: "server mysqld[1000]: 051009 10:05:30 [Warning] Access denied ...", count: 50},
	}
	for _, s := range steps {
		for i := 0; i < s.count; i++ {
			_, start, end, ok := d.Match(s.line)
			if !ok || s.line[start:end] != s.want {
				t.Fatalf("Match(%q) = %q %v, want %q", s.line, safeSlice(s.line, start, end), ok, s.want)
			}
		}
	}
	// A date with the year at its end, then back (fail2ban gh-130).
	for _, s := range []struct{ line, want string }{
		{line: "2012/10/11 02:37:17 [error] 18434#0", want: "2012/10/11 02:37:17"},
		{line: "11/10/2012 02:37:17 [error] 18434#0", want: "11/10/2012 02:37:17"},
		{line: "2012/10/11 02:37:17 [error] 18434#0", want: "2012/10/11 02:37:17"},
	} {
		got, start, end, ok := d.Match(s.line)
		if !ok || s.line[start:end] != s.want || !got.Equal(zt(2012, 10, 11, 2, 37, 17, 0)) {
			t.Fatalf("Match(%q) = %v %q %v", s.line, got, safeSlice(s.line, start, end), ok)
		}
	}
}

// TestConformanceEpoch: the explicit EPOCH pattern and its positions.
// fail2ban also accepts 11-digit values up to year 5138; we stop at 2100.
func TestConformanceEpoch(t *testing.T) {
	t.Parallel()
	const suffix = " [sshd] error: PAM: Authentication failure"
	d, err := New(Options{Patterns: []string{"EPOCH"}, Location: zurich})
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{"%s", "[%s]", "[%s.555]", "audit(%s.555:101)"}
	format := func(f, v string) string {
		switch f {
		case "[%s]":
			return "[" + v + "]"
		case "[%s.555]":
			return "[" + v + ".555]"
		case "audit(%s.555:101)":
			return "audit(" + v + ".555:101)"
		}
		return v
	}
	for _, f := range forms {
		line := format(f, "1138049999") + suffix
		got, start, end, ok := d.Match(line)
		if !ok || got.Unix() != 1138049999 || (line[start:end] != "1138049999" && line[start:end] != "1138049999.555") {
			t.Errorf("Match(%q) = %v %q %v", line, got, safeSlice(line, start, end), ok)
		}
		for _, bad := range []string{"123456789", "9999999999999999", "1138049999A", "A1138049999"} {
			line := format(f, bad) + suffix
			if got, _, _, ok := d.Match(line); ok {
				t.Errorf("Match(%q) = %v, want no date", line, got)
			}
		}
	}
}

// TestConformanceZones: the Location stands for fail2ban's logtimezone;
// a zone in the text wins over it.
func TestConformanceZones(t *testing.T) {
	t.Parallel()
	const pattern = `^%ExY-%Exm-%Exd %H:%M:%S(?: ?%Exz)?`
	const logdt = "2017-01-23 15:00:00"
	fixed := func(name string, hours, minutes int) *time.Location {
		return time.FixedZone(name, hours*3600+minutes*60)
	}
	cases := []struct {
		name string
		loc  *time.Location
		line string
		want time.Time
	}{
		{name: "UTC+0300", loc: fixed("UTC+0300", 3, 0), line: logdt, want: utc(2017, 1, 23, 12, 0, 0, 0)},
		{name: "UTC", loc: time.UTC, line: logdt, want: utc(2017, 1, 23, 15, 0, 0, 0)},
		{name: "UTC-0430", loc: fixed("UTC-0430", -4, -30), line: logdt, want: utc(2017, 1, 23, 19, 30, 0, 0)},
		{name: "Zurich in winter", loc: zurich, line: logdt, want: utc(2017, 1, 23, 14, 0, 0, 0)},
		{name: "GMT wins", loc: fixed("UTC+0300", 3, 0), line: logdt + " GMT", want: utc(2017, 1, 23, 15, 0, 0, 0)},
		{name: "-1045 wins", loc: time.UTC, line: logdt + " -1045", want: utc(2017, 1, 24, 1, 45, 0, 0)},
		{name: "-10:45 wins", loc: zurich, line: logdt + " -10:45", want: utc(2017, 1, 24, 1, 45, 0, 0)},
		{name: "+0945 wins", loc: time.UTC, line: logdt + " +0945", want: utc(2017, 1, 23, 5, 15, 0, 0)},
		{name: "Z wins", loc: fixed("UTC+0300", 3, 0), line: logdt + " Z", want: utc(2017, 1, 23, 15, 0, 0, 0)},
		{name: "CET wins", loc: fixed("GMT+12", 12, 0), line: logdt + " CET", want: utc(2017, 1, 23, 14, 0, 0, 0)},
		{name: "CEST wins", loc: fixed("GMT+12", 12, 0), line: logdt + " CEST", want: utc(2017, 1, 23, 13, 0, 0, 0)},
		{name: "CET+0130 wins", loc: fixed("GMT+12", 12, 0), line: logdt + " CET+0130", want: utc(2017, 1, 23, 12, 30, 0, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := New(Options{Patterns: []string{pattern}, Location: tc.loc})
			if err != nil {
				t.Fatal(err)
			}
			got, _, _, ok := d.Match(tc.line)
			if !ok || !got.Equal(tc.want) {
				t.Fatalf("Match(%q) in %v = %v, %v; want %v", tc.line, tc.loc, got, ok, tc.want)
			}
		})
	}
}

// TestConformancePatternMarkers: "**" and {^LN-BEG} boundaries, and the
// automatic case-insensitivity of patterns with month names.
func TestConformancePatternMarkers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, pattern, line, want string // want "" = no date
	}{
		{name: "no boundaries glued left and right", pattern: `(?iu)**time:%ExY%Exm%ExdT%ExH%ExM%ExS**`, line: "XTIME:20050102T010203X", want: "TIME:20050102T010203"},
		{name: "no boundaries alone", pattern: `(?iu)**time:%ExY%Exm%ExdT%ExH%ExM%ExS**`, line: "TIME:20050102T010203", want: "TIME:20050102T010203"},
		{name: "no boundaries wrong century", pattern: `(?iu)**time:%ExY%Exm%ExdT%ExH%ExM%ExS**`, line: "TIME:50050102T010203", want: ""},
		{name: "line begin glued left", pattern: `{^LN-BEG}time:%ExY%Exm%ExdT%ExH%ExM%ExS`, line: "Xtime:20050102T010203", want: ""},
		{name: "line begin glued right", pattern: `{^LN-BEG}time:%ExY%Exm%ExdT%ExH%ExM%ExS`, line: "time:20050102T010203X", want: ""},
		{name: "line begin after two non-word", pattern: `{^LN-BEG}time:%ExY%Exm%ExdT%ExH%ExM%ExS`, line: "##time:20050102T010203...", want: "time:20050102T010203"},
		{name: "line begin alone", pattern: `{^LN-BEG}time:%ExY%Exm%ExdT%ExH%ExM%ExS`, line: "time:20050102T010203", want: "time:20050102T010203"},
		{name: "case sensitive without names", pattern: `{^LN-BEG}time:%ExY%Exm%ExdT%ExH%ExM%ExS`, line: "TIME:20050102T010203", want: ""},
		{name: "month name lower", pattern: `^%Y %b %d`, line: "2005 jun 03", want: "2005 jun 03"},
		{name: "month name title", pattern: `^%Y %b %d`, line: "2005 Jun 03", want: "2005 Jun 03"},
		{name: "month name upper", pattern: `^%Y %b %d`, line: "2005 JUN 03", want: "2005 JUN 03"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := New(Options{Patterns: []string{tc.pattern}, Location: zurich, Now: fixedNow(testNow)})
			if err != nil {
				t.Fatal(err)
			}
			_, start, end, ok := d.Match(tc.line)
			if tc.want == "" {
				if ok {
					t.Fatalf("Match(%q) = %q, want no date", tc.line, tc.line[start:end])
				}
				return
			}
			if !ok || tc.line[start:end] != tc.want {
				t.Fatalf("Match(%q) = %q %v, want %q", tc.line, safeSlice(tc.line, start, end), ok, tc.want)
			}
		})
	}
}
