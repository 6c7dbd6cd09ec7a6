package logtime

import (
	"strings"
	"testing"
)

// fuzzSeeds are lines of every supported format and some near misses.
var fuzzSeeds = []string{
	benchSyslog, benchISO, benchApache, benchNoDate,
	"Jan  2 03:04:05 host x", "Sun Jan 23 21:59:59.011 2005 x", "Jan 23 2005 21:59:59",
	"PDT Apr 16 21:05:29", "+0100 Apr 16 21:05:29", "2024-01-02T03:04:05.123456789-05:30",
	"2005-01-23  8:59:59", "2024-01-02 03:04:05+01:00x", "26-Jul-2007 15:20:52.252 +0200",
	"23/01/05 21:59:59", "05/20/2008:01:57:39", "01-27-2012 16:22:44.252", "130322  1:46:11",
	"20050123 215959.5+0100", "Jan 02, 2024 12:04:05 am", "Apr-27-13 02:33:06",
	"<09/16/08@05:03:30>", "1104490800.123 x", "@1104490800", "[1104490800]",
	"msg=audit(1104490800.123:42):", "@4000000042cc5f4b0b7fa8d4", "12:00:01 x",
	"1104490800123456 x", "\xff\xfeJan  2 03:04:05\xff", "",
	"x 2/Oct/2000:13:55:36 +0100", "[ 2/Oct/2000:13:55:36]", " 7-01-05 01:02:03", "a12 Jan 2024 03:04:05",
	"2024-01-02 03:04:05\v+0100", "Sun Jan 23 2005 21:59:59", "Jan 2 03:04:05.1234567890 2024",
	"2024-01-02T03:04:05.1234567+01:00x", "2024-01-02 03:04:05+01:0", "UTC Jan  2 03:04:05",
	"Z Jan  2 03:04:05", "A Jan  2 03:04:05", "Jan 2, 2024 12:00:00 pm", "130322 24:00:00",
}

// FuzzMatch: no panic, a sane span, and a found time between 1970 and
// 2100, with the default templates and with explicit ones.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	var detectors []*Detector
	for _, p := range [][]string{nil, {"LEPOCH", "TAI64N", "{^LN-BEG}"}, {"%d/%b/%Y:%H:%M:%S %z", "%Y(?P<_sep>[-/.])%m(?P=_sep)%d %I:%M %p", "^%b %d %k:%M:%S"}} {
		d, err := New(Options{Patterns: p, Location: zurich})
		if err != nil {
			f.Fatal(err)
		}
		detectors = append(detectors, d)
	}
	// The prefiltered regexp search must agree with a plain unanchored
	// search by the same regexps.
	plain := withoutPrefilter(detectors[2])
	f.Fuzz(func(t *testing.T, line string) {
		t1, s1, e1, ok1 := detectors[2].Clone().Match(line)
		t2, s2, e2, ok2 := plain.Clone().Match(line)
		if ok1 != ok2 || s1 != s2 || e1 != e2 || !t1.Equal(t2) {
			t.Fatalf("prefiltered %v [%d,%d) %v, plain %v [%d,%d) %v", t1, s1, e1, ok1, t2, s2, e2, ok2)
		}
		for i, d := range detectors {
			got, start, end, ok := d.Match(line)
			if !ok {
				continue
			}
			if start < 0 || start > end || end > len(line) {
				t.Fatalf("detector %d: span [%d,%d) of %d bytes", i, start, end, len(line))
			}
			if i < 2 { // explicit %Y accepts any four digits; defaults do not
				if y := got.UTC().Year(); y < 1970 || y > 2100 {
					t.Fatalf("detector %d: Match(%q) = %v", i, line, got)
				}
			}
			if got.Location() != zurich {
				t.Fatalf("location %v", got.Location())
			}
			// The answer must not depend on the previous winner's position
			// hint: a fresh clone finds a date too (maybe another
			// template's at the same place).
			if _, s2, _, ok2 := d.Clone().Match(line); !ok2 || s2 > start {
				t.Fatalf("detector %d: fresh clone found %v at %d, first %d", i, ok2, s2, start)
			}
		}
	})
}

// withoutPrefilter copies d with the regexp prefilter switched off.
func withoutPrefilter(d *Detector) *Detector {
	c := d.Clone()
	c.regexps = nil
	c.tmpls = nil
	for _, t := range d.tmpls {
		if t.re != nil {
			nt := *t
			re := *t.re
			re.variants = append([]reVariant(nil), re.variants...)
			for i := range re.variants {
				re.variants[i].prefilter = false
			}
			nt.re = &re
			t = &nt
			c.regexps = append(c.regexps, t)
		}
		c.tmpls = append(c.tmpls, t)
	}
	return c
}

// FuzzScannersMatchRegexps checks the hand scanners against the regexp
// translation of the very fail2ban patterns they stand for: every explicit
// pattern mapped to a scanner must find the same date, span and time as
// its regexp.
func FuzzScannersMatchRegexps(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	type pair struct {
		pattern      string
		scan, regexp *Detector
		skipWeekdays bool
	}
	var pairs []pair
	for key := range knownPatterns {
		if !strings.Contains(key, "%") {
			continue
		}
		for _, pat := range []string{key, "{^LN-BEG}" + key} {
			now := fixedNow(testNow)
			sc, err := New(Options{Patterns: []string{pat}, Location: zurich, Now: now})
			if err != nil {
				f.Fatal(err)
			}
			if sc.tmpls[0].scan == nil {
				f.Fatalf("%q is not mapped to a scanner", pat)
			}
			// "(?:)" at the end changes nothing but the map key.
			re, err := New(Options{Patterns: []string{pat + "(?:)"}, Location: zurich, Now: now})
			if err != nil {
				f.Fatal(err)
			}
			if re.tmpls[0].re == nil {
				f.Fatalf("%q(?:) is mapped to a scanner", pat)
			}
			pairs = append(pairs, pair{pat, sc, re, strings.Contains(key, "%Z")})
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		// Known, documented differences: the regexps of templates with
		// %a/%b/%p are case-insensitive, so they take "utc" or "z" for a
		// zone that fail2ban then rejects (no date), while the scanners
		// read the date without it; and a %Z prefix may swallow a weekday.
		lower := strings.ToLower(line)
		odd := strings.Contains(line, "z") || strings.Contains(lower, "utc") && !strings.Contains(line, "UTC") ||
			strings.Contains(lower, "gmt") && !strings.Contains(line, "GMT")
		for _, p := range pairs {
			if odd || (p.skipWeekdays && hasWeekday(line)) {
				continue
			}
			t1, s1, e1, ok1 := p.scan.Clone().Match(line)
			t2, s2, e2, ok2 := p.regexp.Clone().Match(line)
			if ok1 != ok2 || s1 != s2 || e1 != e2 || !t1.Equal(t2) {
				t.Fatalf("pattern %q on %q:\n scanner %v [%d,%d) %v\n regexp  %v [%d,%d) %v", p.pattern, line, t1, s1, e1, ok1, t2, s2, e2, ok2)
			}
		}
	})
}

func hasWeekday(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if isWeekday(s, i) {
			return true
		}
	}
	return false
}
