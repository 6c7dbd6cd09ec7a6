package failregex

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// pythonCases: each regex searched in a text, with the spans (in code
// points, group 0 first) CPython 3.11's re.search reports; nil for no
// match.
var pythonCases = []struct {
	re, text string
	want     []int
}{
	{`a(?=b)`, "xab", []int{1, 2}},
	{`a(?!b)\w`, "abac", []int{2, 4}},
	{`(?<=x)y`, "axy", []int{2, 3}},
	{`(?<!x)y`, "xyay", []int{3, 4}},
	{`(?P<q>[\'"])(\w+)(?P=q)`, "say \"hi\" or 'yo'", []int{4, 8, 4, 5, 5, 7}},
	{`(a)?b(?(1)c|d)`, "bd abc", []int{0, 2, -1, -1}},
	{`(?>a+)b`, "aaab", []int{0, 4}},
	{`a*+b`, "aaab", []int{0, 4}},
	{`(\w)(x)?(?P<n>y)\1`, "ayay qxyq", []int{0, 3, 0, 1, -1, -1, 1, 2}},
	{`^foo$`, "foo\n", []int{0, 3}},
	{`^foo$`, "foo\nbar\n", nil},
	{`foo\Z`, "foo\n", nil},
	{`foo\s+$`, "foo\n", []int{0, 4}},
	{`\d+`, "ab١٢3", []int{2, 5}},
	{`\w+`, "héllo wörld", []int{0, 5}},
	{`\s+`, "a\u001cb c", []int{1, 2}},
	{`\S+`, "a\u001cb", []int{0, 1}},
	{`[\S]+`, "xy z", []int{0, 2}},
	{`[^\s]+`, "xy z", []int{0, 2}},
	{`[\W\d]+`, "ab-12cd", []int{2, 5}},
	{`[^\W\d]+`, "12abc3", []int{2, 5}},
	{`(?i)FOO`, "xfoo", []int{1, 4}},
	{`(?i:b)c`, "Bc", []int{0, 2}},
	{`a{2,3}`, "aaaa", []int{0, 3}},
	{`a{,2}b`, "aaab", []int{1, 4}},
	{`x{a}`, "x{a}", []int{0, 4}},
	{`(?:(?! from ).)*? from (\d+)`, "user x from 1 from 2", []int{0, 13, 12, 13}},
	{`(a|b)*c`, "ababc", []int{0, 5, 3, 4}},
	{`[]a]+`, "]a]", []int{0, 3}},
	{`[a-]+`, "a-a", []int{0, 3}},
	{`[\]]`, "]", []int{0, 1}},
	{`\x41\u00e9\101`, "Aé A", nil},
	{`(?s)a.b`, "a\nb", []int{0, 3}},
	{`(?x) a b # c`, "ab", []int{0, 2}},
	{`(?a)\w+`, "héllo", []int{0, 1}},
	{`\bfoo\b`, "a foo b", []int{2, 5}},
	{`\bfoo\b`, "éfoo", nil},
	{`(?m)^b$`, "a\nb\nc\n", []int{2, 3}},
	{`(a)|(b)`, "b", []int{0, 1, -1, -1, 0, 1}},
	{`(?P<x>a)(?P<y>b)?`, "ac", []int{0, 1, 0, 1, -1, -1}},
	{`(?:a|)+b`, "aab", []int{0, 3}},
	{`.*(?P<h>\d+\.\d+)$`, "x 1.2 y 3.4", []int{0, 11, 8, 11}},
	{`^(?:\[\d+\])? x`, "[1] x", []int{0, 5}},
	{`(?<=:):`, "a::", []int{2, 3}},
	{`(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)`, "ip 2001:db8::1 x", []int{3, 14}},
	{`(?P<user>\S+) from (?P<host>\d+\.\d+\.\d+\.\d+)$`, "x from 1.2.3.4\n", []int{0, 14, 0, 1, 7, 14}},
	{`^(?:(?! from ).)*? from (\S+)$`, "user a from b from 1.2.3.4", nil},
	{`(a)(?:(b)|c)\2?`, "ac", []int{0, 2, 0, 1, -1, -1}},
	{`[^\x00-\x7f]+`, "abc日本d", []int{3, 5}},
	{`(?i)straße`, "STRASSE straße", []int{8, 14}},
	{`\Aab`, "ab", []int{0, 2}},
	{`a\Z`, "a\n", nil},
	{`(?m)a$`, "a\nb", []int{0, 1}},
	{`x*`, "", []int{0, 0}},
	{`(?:(a)|b)+`, "ab", []int{0, 2, 0, 1}},
	{`[\d-]+`, "12-3a", []int{0, 4}},
	{`[\s\S]+`, "a b", []int{0, 3}},
	{`\.\*\+\?\(\)\[\]\{\}\^\$\|`, ".*+?()[]{}^$|", []int{0, 13}},
	{`(?P<a>x)(?(a)y|z)`, "xy", []int{0, 2, 0, 1}},
	{`(x)?(?(1)y|z)`, "z", []int{0, 1, -1, -1}},
	{`(?<=\d{3})x`, "12x 123x", []int{7, 8}},
	{`(?<!\d)\d{2}(?!\d)`, "123 45 6789", []int{4, 6}},
	{`\b\w+\b`, "¿qué?", []int{1, 4}},
	{`a{0}b`, "ab", []int{1, 2}},
	{`(?s:a.)b|c`, "a\nb", []int{0, 3}},
	{`(?-i:a)`, "A a", []int{2, 3}}}

// TestPythonSemantics checks CompilePython against CPython's results, on
// both engines.
func TestPythonSemantics(t *testing.T) {
	t.Parallel()
	for _, c := range pythonCases {
		r, err := CompilePython(c.re, RegexpOptions{})
		if err != nil {
			t.Errorf("%q: %v", c.re, err)
			continue
		}
		loc, err := r.FindStringSubmatchIndex(c.text)
		if err != nil {
			t.Errorf("%q: %v", c.re, err)
			continue
		}
		var got []int
		for _, b := range loc {
			if b >= 0 {
				b = len([]rune(c.text[:b]))
			}
			got = append(got, b)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			bt, why := r.Backtracking()
			t.Errorf("%q on %q: got %v, want %v (backtracking %v %s; %s)", c.re, c.text, got, c.want, bt, why, r.Syntax())
		}
		if ok, _ := r.MatchString(c.text); ok != (c.want != nil) {
			t.Errorf("%q on %q: MatchString = %v", c.re, c.text, ok)
		}
	}
}

func TestBacktrackingReason(t *testing.T) {
	t.Parallel()
	tests := []struct{ re, why string }{
		{`a(?=b)`, "lookahead (?= at position 1"},
		{`(?:(?! from ).)*`, "negative lookahead (?! at position 3"},
		{`(?<=x)y`, "lookbehind (?<= at position 0"},
		{`(?<!x)y`, "negative lookbehind (?<! at position 0"},
		{`(?P<q>')x(?P=q)`, "backreference (?P= at position 9"},
		{`(a)\1`, `backreference \1 at position 3`},
		{`(a)*(?(1)b|c)`, "conditional (?( at position 4"}, // (a)?(?(1)b|c) is rewritten for RE2
		{`(?>a+)b`, "atomic group (?> at position 0"},
		{`a++b`, "possessive quantifier at position 1"},
		{`a{1001}`, "beyond RE2's limits (invalid repeat count)"},
		{`^(?P<user>\S+) from \d+$`, ""},
		{`(?i)FROM (?:x|y)\b`, ""},
	}
	for _, tc := range tests {
		r, err := CompilePython(tc.re, RegexpOptions{})
		if err != nil {
			t.Errorf("%q: %v", tc.re, err)
			continue
		}
		bt, why := r.Backtracking()
		if bt != (tc.why != "") || why != tc.why {
			t.Errorf("%q: Backtracking() = %v, %q, want %q", tc.re, bt, why, tc.why)
		}
	}
}

func TestPythonGroups(t *testing.T) {
	t.Parallel()
	// .NET numbers named groups after unnamed ones; the Python numbering
	// must survive the backtracking engine.
	for _, re := range []string{`(?P<a>x)(y)(?P<b>z)`, `(?P<a>x)(y)(?P<b>z)(?=!)`} {
		r, err := CompilePython(re, RegexpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(r.SubexpNames()); got != "[ a  b]" {
			t.Errorf("%q: names %s", re, got)
		}
		if r.SubexpIndex("b") != 3 || r.SubexpIndex("c") != -1 || r.NumSubexp() != 3 {
			t.Errorf("%q: SubexpIndex(b) = %d", re, r.SubexpIndex("b"))
		}
		loc, _ := r.FindStringSubmatchIndex("..xyz!")
		if fmt.Sprint(loc) != "[2 5 2 3 3 4 4 5]" && fmt.Sprint(loc) != "[2 5 2 3 3 4 4 5]" {
			t.Errorf("%q: loc %v", re, loc)
		}
	}
	// Byte offsets on non-ASCII text from the backtracking engine.
	r, _ := CompilePython(`(?<=é)(ü+)`, RegexpOptions{})
	loc, _ := r.FindStringSubmatchIndex("aéüüb")
	if fmt.Sprint(loc) != "[3 7 3 7]" {
		t.Errorf("non-ASCII offsets %v", loc)
	}
}

func TestPythonMultiline(t *testing.T) {
	t.Parallel()
	r, err := CompilePython(`^b$`, RegexpOptions{Multiline: true})
	if err != nil {
		t.Fatal(err)
	}
	if loc, _ := r.FindStringSubmatchIndex("a\nb\nc\n"); fmt.Sprint(loc) != "[2 3]" {
		t.Errorf("multiline: %v", loc)
	}
	r, _ = CompilePython(`^b$`, RegexpOptions{})
	if loc, _ := r.FindStringSubmatchIndex("a\nb\nc\n"); loc != nil {
		t.Errorf("not multiline: %v", loc)
	}
}

func TestPythonWordBoundaryUnicode(t *testing.T) {
	t.Parallel()
	// RE2's \b is ASCII: a non-ASCII line goes to the backtracking engine.
	r, err := CompilePython(`\bqué\b`, RegexpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bt, _ := r.Backtracking(); bt {
		t.Error(`\b alone should stay on RE2`)
	}
	if ok, _ := r.MatchString("¿qué?"); !ok {
		t.Error("no match on non-ASCII text")
	}
	if ok, _ := r.MatchString("quéx"); ok {
		t.Error("matched inside a word")
	}
}

func TestPythonTimeout(t *testing.T) {
	t.Parallel()
	r, err := CompilePython(`^(a|aa)+(?=b)`, RegexpOptions{MatchTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = r.FindStringSubmatchIndex(strings.Repeat("a", 80) + "c")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	if r.Timeouts() != 1 {
		t.Errorf("Timeouts() = %d", r.Timeouts())
	}
	// The RE2 gate rejects most texts before the backtracking engine runs.
	if loc, err := r.FindStringSubmatchIndex("c" + strings.Repeat("a", 80)); loc != nil || err != nil || r.Timeouts() != 1 {
		t.Errorf("gate: %v %v", loc, err)
	}
}

func TestPythonSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ re, msg string }{
		{`(`, "missing closing ) at position 0"},
		{`a)`, "unexpected ) at position 1"},
		{`*a`, "missing argument to repetition operator at position 0"},
		{`a**`, "invalid nested repetition operator at position 0"},
		{`[a`, "missing closing ] at position 0"},
		{`[z-a]`, "invalid character class range at position 2"},
		{`\q`, `invalid escape sequence: \q at position 0`},
		{`(?P<a>x)(?P<a>y)`, "redefinition of group name 'a' at position 8"},
		{`(?P=nope)`, "unknown group name 'nope' at position 0"},
		{`(a\1)`, "cannot refer to an open group at position 2"},
		{`\2(a)`, "invalid group reference 2 at position 0"},
		{`a{3,2}`, "invalid repeat count at position 1"},
		{`(?Q)`, "unknown extension (?Q at position 0"},
		{`^*`, "missing argument to repetition operator at position 0"},
	}
	for _, tc := range tests {
		_, err := CompilePython(tc.re, RegexpOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want %q", tc.re, err, tc.msg)
		}
	}
}

func TestTranslateRE2(t *testing.T) {
	t.Parallel()
	tests := []struct{ py, re2 string }{
		{`(?P<u>\S+) x$`, `(?P<u>[^\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+) x(?:(\n)?\z)`},
		{`(?a)\d\w\s`, `[0-9][0-9A-Za-z_][\t-\r ]`},
		{`a$|b`, `a(?m:$)|b`},
		{`(?i:x)(?s)\Z`, `(?s)(?i:x)\z`},
		{`[]a-]{,2}`, `[\]a\x2d]{0,2}`},
		{`(?x) a # c`, `a`},
		{`x{a}`, `x\{a\}`},
	}
	for _, tc := range tests {
		tr, err := translatePython(tc.py, 0)
		if err != nil {
			t.Errorf("%q: %v", tc.py, err)
			continue
		}
		if tr.re2 != tc.re2 {
			t.Errorf("translate(%q) = %q, want %q", tc.py, tr.re2, tc.re2)
		}
	}
}

func TestSetBacktracking(t *testing.T) {
	t.Parallel()
	s, err := Compile([]string{
		`^Failed for (?:(?! from ).)+ from <HOST>$`,
		`^(a|aa)+(?=b)<HOST>`,
		`^ok <HOST>$`,
	}, []string{`(?<=x)ignore`}, Options{MatchTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if bt, why := s.Backtracking(0); !bt || !strings.HasPrefix(why, "negative lookahead (?!") {
		t.Errorf("Backtracking(0) = %v %q", bt, why)
	}
	if bt, _ := s.Backtracking(2); bt {
		t.Error("Backtracking(2) = true")
	}
	if bt, why := s.IgnoreBacktracking(0); !bt || !strings.HasPrefix(why, "lookbehind") {
		t.Errorf("IgnoreBacktracking(0) = %v %q", bt, why)
	}
	// The lookahead keeps the injected " from " out of the user name.
	var m Match
	if r := s.Scan("Failed for root from 192.0.2.1", &m); r != Failure || m.HostText != "192.0.2.1" {
		t.Errorf("Scan = %v %q", r, m.HostText)
	}
	if r := s.Scan("Failed for x from 6.6.6.6 from 192.0.2.1", &m); r != NoMatch {
		t.Errorf("injected line: %v %q", r, m.HostText)
	}
	if r := s.Scan("ok 192.0.2.2 xignore", &m); r != NoMatch {
		t.Errorf("ok line: %v", r)
	}
	if r := s.Scan(strings.Repeat("a", 80)+"1.2.3.4", &m); r != TimedOut || s.Stats().Timeouts != 1 {
		t.Errorf("hostile line: %v, timeouts %d", r, s.Stats().Timeouts)
	}
	if r := s.Scan("ok 192.0.2.3", &m); r != Failure {
		t.Errorf("after a timeout: %v", r)
	}
}

func TestRE2Extensions(t *testing.T) {
	t.Parallel()
	// Syntax of RE2, not Python, accepted for regexes written for Go.
	tests := []struct {
		re, text string
		want     bool
	}{
		{`^\pL+$`, "héllo", true},
		{`^\p{Greek}+$`, "αβγ", true},
		{`^\P{L}+$`, "123", true},
		{`^[\p{Lu}0-9]+$`, "AB1", true},
		{`^[\p{Lu}0-9]+$`, "Ab1", false},
		{`^[[:alpha:]]+$`, "abc", true},
		{`^[[:^digit:]]+$`, "abc", true},
		{`^a\x{e9}\z`, "aé", true},
		{`^\p{Lu}(?=x)`, "Ax", true}, // on the backtracking engine too
	}
	for _, tc := range tests {
		r, err := CompilePython(tc.re, RegexpOptions{})
		if err != nil {
			t.Errorf("%q: %v", tc.re, err)
			continue
		}
		if ok, _ := r.MatchString(tc.text); ok != tc.want {
			t.Errorf("%q on %q = %v", tc.re, tc.text, ok)
		}
	}
	if _, err := CompilePython(`\p{Nope}`, RegexpOptions{}); err == nil {
		t.Error("unknown class accepted")
	}
}

func TestSetLocalizesFlags(t *testing.T) {
	t.Parallel()
	// fail2ban's rewrite: "((?i)b)" is "(?i:b)", not a global flag.
	s, err := Compile([]string{`^x ((?i)ab) Y <HOST>$`}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m Match
	if r := s.Scan("x AB Y 192.0.2.1", &m); r != Failure {
		t.Errorf("scoped flag: %v", r)
	}
	if r := s.Scan("x AB y 192.0.2.1", &m); r != NoMatch {
		t.Errorf("flag leaked out of its group: %v", r)
	}
}
