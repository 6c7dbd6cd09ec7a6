package failregex

import (
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sshdFailed is the shape of the stock sshd failregex for "Failed
// password" lines (written here, not copied: tags expanded by hand, a
// simple host group).
const sshdFailed = `^Failed (?:(?P<nofail>publickey)|\S+) for (?P<cond_inv>invalid user )?(?P<user>(?P<cond_user>\S+)|(?(cond_inv)(?:(?! from ).)*?|[^:]+)) from (?P<host>[0-9a-f.:]+)(?: (?:port \d+|on \S+)){0,2}(?: ssh\d*)?(?(cond_user): |(?:(?:(?! from ).)*)$)`

// rewriteCases are backtracking regexes the rewrite must move to RE2.
var rewriteCases = []string{
	sshdFailed,
	`^a (?:(?!xyz).)*xyz$`,
	`^(?:(?!abab).)*?abab`,
	`^(?:(?!aab).)*aab(.*)`,
	`^x(?:(?!aa).)*$`,
	`^(?P<u>(?:(?! from ).)*) from (\d+)`,
	`^(a)?b(?(1)c|d)`,
	`^(a)??b(?(1)c|d)e`,
	`(x)(?:(a)|(b))c(?(2)A|B)(?(3)C)`,
	`^(?P<q>")?(?P<v>[^" ]+)(?(q)"|)\s`,
	`^(?:(a)|b)*?x(?:(c)|d)(?(2)y|(?:(?!zz).)*$)`,
}

// rewriteLines returns lines that exercise rewriteCases and sshdFailed.
func rewriteLines(rnd *rand.Rand, n int) []string {
	users := []string{"root", "admin from x", "a:b", "invalid user", "x from 1.2.3.4", " from ", "from", "a b c", "", ":", "invalid user  from ", "fro", " fro", "u from  from v"}
	tails := []string{"", " ssh2", " port 22 ssh2", " port 22 on x ssh2", ": ", " port 22: ", " port 2 ssh2 from 5.6.7.8", " x from y", " on eth0 port 9: extra", " port 22 ssh2 [preauth]", "\n", " ssh2\n"}
	hosts := []string{"1.2.3.4", "::1", "fe80::1", "10.0.0.1"}
	var out []string
	for i := 0; i < n; i++ {
		var b strings.Builder
		switch rnd.Intn(3) {
		case 0:
			b.WriteString("Failed ")
			b.WriteString([]string{"password", "publickey", "none", "keyboard-interactive/pam"}[rnd.Intn(4)])
			b.WriteString(" for ")
			if rnd.Intn(2) == 0 {
				b.WriteString("invalid user ")
			}
			b.WriteString(users[rnd.Intn(len(users))])
			if rnd.Intn(3) == 0 {
				b.WriteString(users[rnd.Intn(len(users))])
			}
			b.WriteString(" from ")
			b.WriteString(hosts[rnd.Intn(len(hosts))])
			b.WriteString(tails[rnd.Intn(len(tails))])
			if rnd.Intn(4) == 0 {
				b.WriteString(tails[rnd.Intn(len(tails))])
			}
		default:
			alpha := "abxyzcd\" \"AB CfromFailed:"
			if rnd.Intn(2) == 0 {
				alpha = "ab ab"
			}
			for k := rnd.Intn(16); k > 0; k-- {
				if rnd.Intn(6) == 0 {
					b.WriteString([]string{" from ", "xyz", "abab", "aab", "aa", "zz", "1"}[rnd.Intn(7)])
				} else {
					b.WriteByte(alpha[rnd.Intn(len(alpha))])
				}
			}
		}
		out = append(out, b.String())
	}
	return out
}

// checkRewrite compares the rewritten RE2 form of re with the
// backtracking engine on the lines; it reports whether re was rewritten.
func checkRewrite(t *testing.T, re string, lines []string) bool {
	t.Helper()
	tr, err := translatePython(re, 0)
	if err != nil {
		t.Fatalf("%q: %v", re, err)
	}
	if tr.re.backtrack == "" || tr.re2 == "" {
		return false
	}
	r2, err := regexp.Compile(tr.re2)
	if err != nil {
		return false
	}
	e := newRewritten(t, tr, r2)
	bt, err := newBacktrack(tr, nil, time.Minute)
	if err != nil {
		t.Fatalf("%q: %v", re, err)
	}
	if fmt.Sprint(e.names()) != fmt.Sprint(bt.names()) {
		t.Fatalf("%q: names %v, want %v", re, e.names(), bt.names())
	}
	single := &re2{re: eagerRE(r2), eol: tr.eol, gmap: tr.gmap, pnames: tr.groups, noDFA: true}
	for _, s := range lines {
		if got, _ := single.submatch(s); e.parts != nil {
			want, _ := e.submatch(s)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%q on %q: single RE2 %v, split %v", re, s, got, want)
			}
		}
		got, _ := e.submatch(s)
		want, err := bt.submatch(s)
		if err != nil {
			t.Fatalf("%q on %q: %v", re, s, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q on %q:\nRE2 %v\nwant %v\n(RE2 form %s)", re, s, got, want, tr.re2)
		}
		if ok, _ := e.match(s); ok != (want != nil) {
			t.Fatalf("%q on %q: match %v", re, s, ok)
		}
	}
	return true
}

func TestRewriteCases(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	lines := rewriteLines(rnd, 20000)
	for _, re := range rewriteCases {
		if !checkRewrite(t, re, lines) {
			t.Errorf("%q was not rewritten for RE2", re)
		}
	}
}

// TestRewriteRandom compares random regexes built of conditionals,
// optional and alternated groups and tempered runs.
func TestRewriteRandom(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	atoms := []string{"a", "b", " ", "x", "[^:]+", `\S+`, "ab", ":", "(?:(?!ab).)*", "(?:(?!ab).)*?", "(?:(?! a).)*", "(?:(?!aba).)*?", "(?:(?!b).)*"}
	n, rewritten, split := 2000, 0, 0
	if testing.Short() {
		n = 300
	}
	lines := rewriteLines(rnd, 300)
	for i := 0; i < n; i++ {
		var b strings.Builder
		groups := 0
		if rnd.Intn(2) == 0 {
			b.WriteByte('^')
		}
		for k := 2 + rnd.Intn(5); k > 0; k-- {
			switch rnd.Intn(5) {
			case 0:
				groups++
				fmt.Fprintf(&b, "(%s)%s", atoms[rnd.Intn(len(atoms))], []string{"?", "??", ""}[rnd.Intn(3)])
			case 1:
				groups++
				fmt.Fprintf(&b, "(?:(%s)|%s)", atoms[rnd.Intn(len(atoms))], atoms[rnd.Intn(len(atoms))])
			case 2:
				if groups > 0 {
					fmt.Fprintf(&b, "(?(%d)%s|%s)", 1+rnd.Intn(groups), atoms[rnd.Intn(len(atoms))], atoms[rnd.Intn(len(atoms))])
					break
				}
				fallthrough
			default:
				b.WriteString(atoms[rnd.Intn(len(atoms))])
			}
		}
		switch rnd.Intn(3) {
		case 0:
			b.WriteByte('$')
		case 1:
			b.WriteString("ab")
		}
		if checkRewrite(t, b.String(), lines) {
			rewritten++
			if tr, _ := translatePython(b.String(), 0); len(tr.parts) > 0 {
				split++
			}
		}
	}
	t.Logf("%d of %d regexes rewritten, %d split", rewritten, n, split)
	if rewritten < n/20 {
		t.Errorf("only %d of %d regexes rewritten", rewritten, n)
	}
}

// FuzzRewriteSSHD compares the rewritten sshd regex with the backtracking
// engine on arbitrary lines.
func FuzzRewriteSSHD(f *testing.F) {
	for _, s := range rewriteLines(rand.New(rand.NewSource(3)), 50) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 300 || strings.Contains(strings.TrimSuffix(s, "\n"), "\n") {
			return
		}
		checkRewrite(t, sshdFailed, []string{s})
	})
}

// newRewritten builds the RE2 engine of a rewritten regex, split when the
// regex splits, and checks the split against the single regex.
func newRewritten(t *testing.T, tr *pyTranslation, r2 *regexp.Regexp) *re2 {
	t.Helper()
	// The DFA runs the whole rewrite; the parts are what Go's regexp runs
	// when the DFA cannot.
	e := &re2{re: eagerRE(r2), eol: tr.eol, gmap: tr.gmap, pnames: tr.groups}
	if len(tr.parts) > 0 {
		e.parts, e.pmaps = &lazyParts{srcs: tr.parts}, tr.pmaps
	}
	return e
}
