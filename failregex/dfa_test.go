package failregex

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dfaRegexes exercise what the DFA must get exactly as Go's regexp does:
// priorities of alternations and greedy/lazy repeats, empty loops,
// anchors in both modes, captures in repeats, unanchored searches.
var dfaRegexes = []string{
	`a`, `^a`, `a$`, `^$`, ``, `(a*)*`, `(a*)+`, `(a|b)*c`, `(a|ab)(c|bcd)(d*)`,
	`^(a+?)(a*)$`, `(a*?)(a*)`, `(?:(a)|b)*`, `((a)|(b))+`, `(|a)*`, `(a|)*b`,
	`x*(y?)z?`, `^(?:(\S+)\s+)?(\S+) (\d+)$`, `(?m)^(\w+)$`, `(?m)(^|x)(y*)$`,
	`(?s)(.*)\n(.*)`, `(.+)(\n)?\z`, `[^:]+: (.*?)(?: (\d+))?$`, `(?i)(FOO|bar)+`,
	`(a{2,3})(a{0,2}?)`, `((?:ab){1,2}?)(b*)`, `(?m)$x|^`, `\A(a)|(b)\z`,
	`^Failed (?:(publickey)|\S+) for (invalid user )?(\S+|[^:]+) from (\d+\.\d+\.\d+\.\d+)(?: port (\d+))?(?: ssh\d*)?(: |$)`,
	`^(?P<mlfid>(?:\[\])?\s*(?:<[^.]+\.[^.]+>\s+)?(?:\S+\s+)?(?:kernel:\s?\[ *\d+\.\d+\]:?\s+)?(?:@vserver_\S+\s+)?(?:(?:(?:\[\d+\])?:\s+[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?|[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?(?:\[\d+\])?:?)\s+)?(?:\[ID \d+ \S+\]\s+)?)(?:(?:error|fatal): (?:PAM: )?)?(?P<content>.+)(?:(\n)?\z)`,
}

var dfaAlphabet = "aabbxyz: \n01.sdhF[]()"

func randText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(dfaAlphabet[r.IntN(len(dfaAlphabet))])
	}
	return b.String()
}

// checkDFA compares the DFA with Go's regexp on text.
func checkDFA(t *testing.T, re *regexp.Regexp, d *dfa, text string) {
	t.Helper()
	want := re.FindStringSubmatchIndex(text)
	got, ok := d.submatch(text, nil)
	if !ok {
		if isASCII(text) && !d.off {
			t.Fatalf("%q on %q: the DFA refused ASCII text", re, text)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q on %q: DFA %v, regexp %v", re, text, got, want)
	}
	m, _ := d.matchEnd(text)
	if m != (want != nil) {
		t.Fatalf("%q on %q: DFA matched %v", re, text, m)
	}
}

func TestDFAMatchesRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, expr := range dfaRegexes {
		re := regexp.MustCompile(expr)
		p := newDFAProg(expr)
		if p == nil {
			t.Fatalf("%q: no DFA program", expr)
		}
		d := newDFA(p)
		for _, text := range []string{"", "a", "\n", "aaa", "ab", "abcd", "xyz", "x\ny\n", "Failed publickey for invalid user a b from 1.2.3.4 port 22 ssh2: ",
			" host sshd[12]: Failed password for root from 1.2.3.4 port 22 ssh2\n", "<a.b> [] sshd(x)[1]: error: PAM: hi"} {
			checkDFA(t, re, d, text)
		}
		for range 3000 {
			checkDFA(t, re, d, randText(r, r.IntN(24)))
		}
	}
}

func TestDFARefuses(t *testing.T) {
	if newDFAProg(`\bx`) != nil {
		t.Error(`\b must not run on the DFA`)
	}
	d := newDFA(newDFAProg(`(a)`))
	if _, ok := d.submatch("é a", nil); ok {
		t.Error("non-ASCII text must be refused")
	}
}

// TestDFACacheLimit: a regex whose DFA explodes ((a|b)*a(a|b){12}) keeps
// giving exact answers through resets, then gives up.
func TestDFACacheLimit(t *testing.T) {
	expr := `(a|b)*a((a|b){14})`
	re := regexp.MustCompile(expr)
	d := newDFA(newDFAProg(expr))
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		var b strings.Builder
		for range 200 {
			b.WriteByte("ab"[r.IntN(2)])
		}
		checkDFA(t, re, d, b.String())
	}
	if d.resets == 0 {
		t.Errorf("the cache never reached its limit (%d states)", len(d.states))
	}
}

// FuzzDFA compares the DFA with Go's regexp on any regex and text.
func FuzzDFA(f *testing.F) {
	for i, expr := range dfaRegexes {
		f.Add(expr, "Failed password for root from 1.2.3.4 port 22 ssh2"[:i%40])
	}
	f.Add(`(a*)+$`, "aab\n")
	f.Fuzz(func(t *testing.T, expr, text string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		p := newDFAProg(expr)
		if p == nil {
			return
		}
		checkDFA(t, re, newDFA(p), text)
	})
}

// TestSubmatchLast: the whole match and the last group first, the others
// after, are Submatch's groups, for prefregexes ending in (.+)$ and any
// other regex.
func TestSubmatchLast(t *testing.T) {
	exprs := []string{
		`^(?P<mlfid>(?:\[\])?\s*(?:<[^.]+\.[^.]+>\s+)?(?:\S+\s+)?(?:[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?(?:\[\d+\])?:?)\s+)?(?:(?:error|fatal): (?:PAM: )?)?(?P<content>.+)$`,
		`^(?P<a>\S+)(?P<content>.+)$`,
		`^x(.+)$`,
		`(?P<content>.+)$`,
		`^(?:a|(b))(.+)$`,
		`^a(b)?`,
	}
	texts := []string{"", "\n", "x", "xy\n", " web1 sshd[12]: Failed x\n", "ab", "b\n", "abc\nd\n", "[] <a.b> h sshd(x)[1]: error: PAM: z\n", "é x\n"}
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		texts = append(texts, randText(r, r.IntN(20)))
	}
	for _, expr := range exprs {
		re, err := CompilePython(expr, RegexpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, plain := re.Matcher(), re.Matcher()
		lazy := 0
		for _, s := range texts {
			want, _ := plain.Submatch(s, nil)
			got, done, err := m.SubmatchLast(s, nil)
			if err != nil || (got == nil) != (want == nil) {
				t.Fatalf("%q on %q: %v %v, want %v", expr, s, got, err, want)
			}
			if got == nil {
				continue
			}
			n := len(want)
			if len(got) != n || got[0] != want[0] || got[1] != want[1] || got[n-2] != want[n-2] || got[n-1] != want[n-1] {
				t.Fatalf("%q on %q: first %v, want %v", expr, s, got, want)
			}
			if !done {
				lazy++
				got = m.Complete(got)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q on %q: %v, want %v", expr, s, got, want)
			}
		}
		if strings.Contains(expr, "content") && strings.HasPrefix(expr, "^") && lazy == 0 {
			t.Errorf("%q: the groups were never left for later", expr)
		}
	}
}

// BenchmarkDFA: sshd's prefregex and a failregex of the same shape on
// Go's regexp and on the DFA (the match and its groups).
func BenchmarkDFA(b *testing.B) {
	cases := []struct{ name, expr, text string }{
		{"prefregex", dfaRegexes[len(dfaRegexes)-1], " web1 sshd[9245]: Failed password for root from 198.18.0.30 port 47480 ssh2\n"},
		{"failregex", dfaRegexes[len(dfaRegexes)-2], "Failed password for invalid user admin from 198.18.0.30 port 47480 ssh2: "},
	}
	for _, c := range cases {
		re := regexp.MustCompile(c.expr)
		d := newDFA(newDFAProg(c.expr))
		if loc, _ := d.submatch(c.text, nil); !reflect.DeepEqual(loc, re.FindStringSubmatchIndex(c.text)) || loc == nil {
			b.Fatalf("%s: %v", c.name, loc)
		}
		b.Run(c.name+"/regexp", func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				re.FindStringSubmatchIndex(c.text)
			}
		})
		b.Run(c.name+"/dfa", func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			var dst []int
			for b.Loop() {
				dst, _ = d.submatch(c.text, dst)
			}
		})
	}
}
