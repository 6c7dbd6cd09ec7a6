package failregex

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// screenRegexes are regexes whose literal checks Screen runs together:
// sshd's, which share "]: " and a "]" in " [preauth]", and others with
// alternatives, an anchored head, a backtracking feature and no literal.
var screenRegexes = []string{
	`^\S+ sshd(?:-session)?\[\d+\]: Failed (?:password|none) for (?:invalid user )?(?P<user>.*?) from (?P<host>\S+) port \d+(?: ssh\d*)?$`,
	`^\S+ sshd(?:-session)?\[\d+\]: Invalid user (?P<user>.*?) from (?P<host>\S+)(?: port \d+)?$`,
	`^\S+ sshd(?:-session)?\[\d+\]: User (?P<user>\S+) from (?P<host>\S+) not allowed because .+$`,
	`^\S+ sshd(?:-session)?\[\d+\]: error: maximum authentication attempts exceeded for (?P<host>\S+) \[preauth\]$`,
	`(?:Invalid|Illegal) user \S+ from (?P<host>\S+)`,
	`^(?P<host>\S+) - \S+ \[[^]]+\] "(?:GET|POST) /wp-login\.php`,
	`from (?P<host>\S+)(?! port 22)`,
	`(?P<host>\S+)`,
	`(?i)AUTH FAILURE from (?P<host>\S+)`,
}

func compileScreenRegexes(t testing.TB, exprs []string) []*Regexp {
	t.Helper()
	var res []*Regexp
	for _, e := range exprs {
		r, err := CompilePython(e, RegexpOptions{})
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		res = append(res, r)
	}
	return res
}

// checkScreen fails unless Screen.May agrees with each regex's own
// MayMatch on text, and keeps every regex that matches.
func checkScreen(t testing.TB, s *Screen, res []*Regexp, text string) {
	t.Helper()
	got := s.May(text, ^uint64(0))
	for i, r := range res {
		// May keeps what MayMatch keeps, and drops at least what a
		// search for the first clause alone drops.
		if r.MayMatch(text) && got>>i&1 == 0 {
			t.Fatalf("May(%q) drops regex %d (%s), which MayMatch keeps", text, i, r)
		}
		if got>>i&1 == 1 && !firstClauseOK(r, text) {
			t.Fatalf("May(%q) keeps regex %d (%s), whose first clause is absent", text, i, r)
		}
		if loc, _ := r.FindStringSubmatchIndex(text); loc != nil && got>>i&1 == 0 {
			t.Fatalf("May(%q) drops regex %d (%s), which matches", text, i, r)
		}
	}
	if len(res) < 64 && got>>len(res) != 0 {
		t.Fatalf("May(%q) = %b: bits past the %d regexes", text, got, len(res))
	}
}

// firstClauseOK reports whether text passes r's head check and holds a
// literal of its first clause.
func firstClauseOK(r *Regexp, text string) bool {
	if !headOK(r.head, text) {
		return false
	}
	if len(r.needles) == 0 {
		return true
	}
	for _, n := range r.needles[0] {
		if strings.Contains(text, n.s) {
			return true
		}
	}
	return false
}

func TestScreen(t *testing.T) {
	t.Parallel()
	res := compileScreenRegexes(t, screenRegexes)
	s := NewScreen(res)
	lines := []string{
		"",
		"web1 sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2",
		"web1 sshd[1]: Failed none for invalid user x from 2001:db8::1 port 22",
		"web1 sshd-session[77]: Invalid user oracle from 198.51.100.7 port 5",
		"web1 sshd[9]: User bob from 192.0.2.9 not allowed because not listed in AllowUsers",
		"web1 sshd[9]: error: maximum authentication attempts exceeded for root from 192.0.2.1 port 22 ssh2 [preauth]",
		"web1 sshd[9]: error: maximum authentication attempts exceeded for 192.0.2.1 [preauth]",
		"web1 sshd[9]: Accepted publickey for alice from 192.0.2.150 port 1033 ssh2",
		"web1 CRON[9]: pam_unix(cron:session): session opened for user root",
		`192.0.2.4 - - [22/Nov/2026:10:00:00 +0000] "POST /wp-login.php HTTP/1.1" 200`,
		"Illegal user x from 192.0.2.5",
		"auth failure from 192.0.2.6",
		// The shared byte many times over: the scan gives way to
		// strings.Contains part of the way.
		strings.Repeat("]", 200) + ": Failed password for x from 192.0.2.1 port 1",
		strings.Repeat("]: F", 100) + "]: Invalid user x from 192.0.2.1",
		"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]: User x from y not allowed because z",
		"x sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2 [preauth]",
	}
	for _, l := range lines {
		checkScreen(t, s, res, l)
	}
}

// TestScreenShares checks that sshd's literals starting with "]: " are
// decided by one scan for "]", the point of a Screen.
func TestScreenShares(t *testing.T) {
	t.Parallel()
	s := NewScreen(compileScreenRegexes(t, screenRegexes[:4]))
	var group uint64
	for j, n := range s.needles {
		if strings.HasPrefix(n.s, "]: ") {
			if n.rare != ']' {
				t.Errorf("needle %q skips on %q, want ']'", n.s, n.rare)
			}
			if group == 0 {
				group = s.group[j]
			} else if s.group[j] != group {
				t.Errorf("needle %q is in group %b, want %b", n.s, s.group[j], group)
			}
		}
	}
	if group == 0 {
		t.Fatalf("no needle starts with \"]: \": %+v", s.needles)
	}
	// A line none of them match is decided by that one scan: every
	// clause of the four regexes that holds a "]: " literal is known.
	known, _ := s.scan("web1 sshd[9]: Accepted publickey for alice", bitsOf(group), 0, 0)
	if known&group != group {
		t.Errorf("one scan left needles undecided: known %b, group %b", known, group)
	}
}

func bitsOf(g uint64) int {
	for j := 0; j < 64; j++ {
		if g>>j&1 == 1 {
			return j
		}
	}
	return 0
}

// TestScreenRandom compares Screen with each regex's own checks on lines
// made of pieces of the regexes' literals, so that literals are often
// nearly present, present in part, or present out of order.
func TestScreenRandom(t *testing.T) {
	t.Parallel()
	res := compileScreenRegexes(t, screenRegexes)
	s := NewScreen(res)
	var pieces []string
	for _, r := range res {
		for _, c := range r.Literals() {
			for _, l := range c {
				pieces = append(pieces, l, l[:len(l)/2], l[len(l)/2:])
			}
		}
	}
	pieces = append(pieces, " ", "]", "[", "x", "192.0.2.1", "sshd[1]", "\xff", "port ")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		checkScreen(t, s, res, b.String())
	}
}

// TestScreenManyNeedles checks regexes whose literals do not fit in the
// Screen's 64 bits: they run their own checks, with the same results.
func TestScreenManyNeedles(t *testing.T) {
	t.Parallel()
	var exprs []string
	for i := range 70 {
		exprs = append(exprs, fmt.Sprintf(`word%02d (?:alpha%02d|beta%02d) from (?P<host>\S+)`, i, i, i))
	}
	res := compileScreenRegexes(t, exprs)
	s := NewScreen(res)
	own := 0
	for _, r := range s.res {
		if r.own {
			own++
		}
	}
	if own == 0 {
		t.Fatalf("no regex runs its own checks with %d needles", len(s.needles))
	}
	for _, l := range []string{"word03 alpha03 from 1.2.3.4", "word63 beta63 from 1.2.3.4", "word40 beta41 from x", "nothing"} {
		checkScreen(t, s, res[:64], l)
	}
}

// FuzzScreen checks Screen against each regex's own literal checks.
func FuzzScreen(f *testing.F) {
	res := compileScreenRegexes(f, screenRegexes)
	s := NewScreen(res)
	f.Add("web1 sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2")
	f.Add("]]]]: Invalid user ]: User from")
	f.Fuzz(func(t *testing.T, text string) {
		checkScreen(t, s, res, text)
	})
}

// BenchmarkScreenSSHD screens lines against sshd's four regexes: the
// common line that none can match ("no"), and a failure ("yes"); the
// per-regex checks (MayMatch of each) for comparison.
func BenchmarkScreenSSHD(b *testing.B) {
	res := compileScreenRegexes(b, screenRegexes[:4])
	s := NewScreen(res)
	lines := map[string]string{
		"no":  "web1 sshd[23851]: Accepted publickey for alice from 192.0.2.150 port 1033 ssh2: ED25519 SHA256:q1w2e3r4t5y6u7i8o9p0",
		"yes": "web1 sshd[23753]: Failed password for postgres from 198.18.3.145 port 8812 ssh2",
	}
	for _, name := range []string{"no", "yes"} {
		line := lines[name]
		b.Run("screen/"+name, func(b *testing.B) {
			for b.Loop() {
				s.May(line, ^uint64(0))
			}
		})
		b.Run("each/"+name, func(b *testing.B) {
			for b.Loop() {
				for _, r := range res {
					r.MayMatch(line)
				}
			}
		})
	}
}
