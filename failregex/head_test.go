package failregex

import (
	"slices"
	"sync"
	"testing"
)

// TestHeadAndTail checks that the first-byte check and the cut (.+)$
// regex never change a result: every regex is run with and without them.
func TestHeadAndTail(t *testing.T) {
	exprs := []string{
		`^[aA]uthentication (?:failure|error|failed) for (?P<user>.*) from (?P<host>\S+)( via \S+)?\s*$`,
		`^(?P<mlfid>(?:\[\])?\s*(?:\S+\s+)?(?:[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?(?:\[\d+\])?:?)\s+)?(?:(?:error|fatal): (?:PAM: )?)?(?P<content>.+)$`,
		`^(?P<a>\S+)(?P<content>.+)$`,
		`^x(.+)$`,
		`^(?:x(?P<c>.+))$`,
		`(?i)^kelvin`,
		`(?i)^SSH `,
		`^(?:foo|bar|)x`,
		`^(?:foo|bar)x`,
		`^\s*x`,
		`^\d+ from`,
		`^é+`,
		`^(?s)a(.+)$`,
		`^a(?s:.+)$`,
		`\bfoo\b`,
		`^foo\b(.+)$`,
		`^Failed (?:publickey|\S+) for (?P<cond_inv>invalid user )?(?P<user>\S+)(?(cond_inv) x| y)`,
	}
	texts := []string{
		"", "\n", "x", "x\n", "xy", "xy\n", "x\ny", "x\ny\n", "xx\n\n",
		"Authentication failure for root from 1.2.3.4\n", "authentication error for a from b via c",
		"host sshd[1]: error: PAM: boom\n", "host sshd[1]: \n", "sshd[2]: fatal: x\n", "[] sshd: y",
		"kelvin", "\u212aelvin", "KELVIN", "ssh x", "ſsh x", "foox", "barx", "x", "fox",
		"  x", "\tx", "12 from", "1 from", "éé", "e", "a\nb\n", "ab\n", "foo bar", "foo\n", "fooé bar",
		"Failed password for invalid user x y", "Failed password for root y", "Failed publickey for root x",
	}
	for _, expr := range exprs {
		r, err := CompilePython(expr, RegexpOptions{})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		plain, err := CompilePython(expr, RegexpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		plain.head = nil
		if e, ok := plain.c.eng.(*re2); ok {
			c := *e
			c.tail = nil
			c.noDFA = true // Go's regexp alone
			c.pool = &sync.Pool{New: func() any { return new(dfaScratch) }}
			plain.c.eng = &c
		}
		for _, s := range texts {
			got, err1 := r.FindStringSubmatchIndex(s)
			want, err2 := plain.FindStringSubmatchIndex(s)
			if !slices.Equal(got, want) || err1 != err2 {
				t.Errorf("%q on %q: got %v, want %v", expr, s, got, want)
			}
			m1, _ := r.MatchString(s)
			m2, _ := plain.MatchString(s)
			if m1 != m2 {
				t.Errorf("%q on %q: MatchString got %v, want %v", expr, s, m1, m2)
			}
		}
	}
}

func TestHeadSets(t *testing.T) {
	for _, tc := range []struct {
		expr string
		n    int
	}{
		{`^Failed `, 7},
		{`^[aA]uth`, 4},
		{`(?i)^kelvin`, 0},
		{`(?i)^ab`, 2},
		{`^(?:foo|bar)x`, 1},
		{`^\s*x`, 0},
		{`(?m)^abc`, 0},
		{`abc`, 0},
		{`^a|b`, 0},
	} {
		if got := len(headSets(tc.expr)); got != tc.n {
			t.Errorf("%s: %d head sets, want %d", tc.expr, got, tc.n)
		}
	}
	if contentTail(`^a(?P<content>.+)(?:(\n)?\z)`, true) == "" {
		t.Error("no tail for a content regex")
	}
	if contentTail(`(?s)^a(?P<content>.+)(?:(\n)?\z)`, true) != "" {
		t.Error("tail for a dot-all regex")
	}
}

// FuzzHeadTail: the first-byte check and the cut (.+)$ regex never change
// a result.
func FuzzHeadTail(f *testing.F) {
	f.Add(`^(?P<a>\S+\s+)?(?:x: )?(?P<content>.+)$`, "host x: y\n")
	f.Add(`^[aA]b(?:c|d)(.+)$`, "Abd\n")
	f.Add(`(?i)^ks(.+)$`, "\u212a\u017fx")
	f.Add(`^(?:foo|bar|)x(.*)`, "x\nfoo")
	f.Fuzz(func(t *testing.T, expr, text string) {
		if len(expr) > 200 || len(text) > 200 {
			return
		}
		r, err := CompilePython(expr, RegexpOptions{MatchTimeout: -1})
		if err != nil {
			return
		}
		plain, _ := CompilePython(expr, RegexpOptions{MatchTimeout: -1})
		plain.head = nil
		if e, ok := plain.c.eng.(*re2); ok {
			c := *e
			c.tail = nil
			c.noDFA = true // Go's regexp alone
			c.pool = &sync.Pool{New: func() any { return new(dfaScratch) }}
			plain.c.eng = &c
		}
		got, err1 := r.FindStringSubmatchIndex(text)
		want, err2 := plain.FindStringSubmatchIndex(text)
		if !slices.Equal(got, want) || err1 != err2 {
			t.Fatalf("%q on %q: got %v, want %v", expr, text, got, want)
		}
	})
}
