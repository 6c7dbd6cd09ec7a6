package failregex

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FuzzEngines checks the two translations of a Python regex against each
// other: for a regex RE2 can run, its RE2 form and its backtracking
// (.NET) form must find the same match and groups, on ASCII text with no
// newline but a final one (where the engines' \b and $ are the same).
func FuzzEngines(f *testing.F) {
	for _, c := range pythonCases {
		f.Add(c.re, c.text)
	}
	for _, re := range fuzzRegexes {
		f.Add(re, "user x from 192.0.2.1 port 22")
	}
	f.Add(`^\s*(?P<pid>\[\d+\])?\s*(?P<user>\S+)? from (?:(?:\d{1,3}\.){3}\d{1,3})(?: port \d+)?$`, "[12]  root from 1.2.3.4 port 5\n")
	f.Add(`(?i)^(?:a|ab)(c|bcd)(d*)$`, "ABCD")
	f.Add(`((a)|b)+`, "ab")
	f.Add(`(a*)*b`, "aab")
	f.Add(`(?:x(?P<g>y)?)+z`, "xyxz")
	f.Fuzz(func(t *testing.T, re, text string) {
		if len(re) > 200 || len(text) > 200 || !isASCII(re) || !isASCII(text) ||
			strings.Contains(strings.TrimSuffix(text, "\n"), "\n") {
			return
		}
		tr, err := translatePython(re, 0)
		if err != nil || tr.re2 == "" {
			return
		}
		r2, err := regexp.Compile(tr.re2)
		if err != nil {
			return // RE2's own limits
		}
		bt, err := newBacktrack(tr, nil, time.Second)
		if err != nil {
			t.Fatalf("%q: RE2 form %q compiles, .NET form %q does not: %v", re, tr.re2, tr.net, err)
		}
		want, _ := (&re2{re: eagerRE(r2), eol: tr.eol, gmap: tr.gmap, pnames: tr.groups, noDFA: true}).submatch(text)
		got, err := bt.submatch(text)
		if err != nil {
			return // a timeout
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q on %q: RE2 %v (%s), backtracking %v (%s)", re, text, want, tr.re2, got, tr.net)
		}
	})
}

// FuzzCompilePython: any regex either compiles or fails with an error,
// and a compiled one matches any text without panicking, on either
// engine.
func FuzzCompilePython(f *testing.F) {
	for _, c := range pythonCases {
		f.Add(c.re, c.text)
	}
	f.Add(`(?P<é>\p{Greek}+)(?<=α)\N{x}[\x{10FFFF}-]`, "αβ")
	f.Add(`(?x) # c
	a  (?#x) b{2,}+`, "abb")
	f.Fuzz(func(t *testing.T, re, text string) {
		if len(re) > 300 {
			return
		}
		r, err := CompilePython(re, RegexpOptions{MatchTimeout: 50 * time.Millisecond})
		if err != nil {
			return
		}
		loc, err := r.FindStringSubmatchIndex(text)
		if err == nil && loc != nil && (len(loc) != 2*(r.NumSubexp()+1) || loc[0] < 0 || loc[1] > len(text) || loc[0] > loc[1]) {
			t.Fatalf("%q on %q: bad loc %v", re, text, loc)
		}
	})
}
