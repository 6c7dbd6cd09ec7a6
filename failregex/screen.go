package failregex

import (
	"math/bits"
	"strings"
)

// Screen runs the literal checks of several regexes (Regexp.MayMatch) on
// a line at once, finding each required literal at most once per line
// however many regexes require it, and every literal that skips on the
// same rare byte in one pass over the line.
//
// A filter's regexes tend to share their shape: sshd's all require a
// literal that starts with "]: ", the end of the syslog header, and most
// lines of a log hold none of them. Checked regex by regex, each literal
// costs its own scans of the line; screened, the line is scanned once
// for "]" and each literal compared where it could start.
//
// A Screen is immutable and safe for concurrent use.
type Screen struct {
	res     []screened
	needles []needle // the distinct literals, at most 64
	// group[j] is the bit set of the needles that skip on the same byte
	// as needle j (itself included): one scan decides them all.
	group []uint64
}

// screened is one regex of a Screen.
type screened struct {
	re      *Regexp
	own     bool     // its literals did not fit: it runs its own checks
	clauses []uint64 // each a bit set of needles, one of which must occur
}

// maxScreenNeedles is how many distinct literals a Screen tracks: one bit
// each in a word.
const maxScreenNeedles = 64

// NewScreen returns a Screen of res; bit i of Screen.May stands for
// res[i], so at most 64 regexes are screened (the others are ignored).
func NewScreen(res []*Regexp) *Screen {
	res = res[:min(len(res), 64)]
	s := &Screen{res: make([]screened, len(res))}
	ids := map[string]int{}
	for i, r := range res {
		sc := screened{re: r}
		var clauses []uint64
		for _, cl := range r.needles {
			if slicesContainsEmpty(cl) {
				continue // found in any text
			}
			var mask uint64
			for _, n := range cl {
				id, ok := ids[n.s]
				if !ok {
					if len(s.needles) == maxScreenNeedles {
						sc.own = true
						break
					}
					id = len(s.needles)
					ids[n.s] = id
					s.needles = append(s.needles, n)
				}
				mask |= 1 << id
			}
			if sc.own {
				break
			}
			clauses = append(clauses, mask)
		}
		if !sc.own {
			sc.clauses = clauses
		}
		s.res[i] = sc
	}
	s.shareSkipBytes()
	s.group = make([]uint64, len(s.needles))
	for j, n := range s.needles {
		for k, o := range s.needles {
			if o.rare == n.rare {
				s.group[j] |= 1 << k
			}
		}
	}
	return s
}

// shareBelow is the most common byte (by byteFreq) that needles may be
// given to share: a bracket or a capital letter, not a lower-case letter,
// digit or space, which occur many times a line.
const shareBelow = 130

// shareSkipBytes gives needles that hold the same fairly rare byte that
// byte to skip on, so that one scan of a line decides them all: a
// greedy cover, the byte held by the most needles first. A needle that
// shares nothing keeps its own rarest byte.
func (s *Screen) shareSkipBytes() {
	assigned := make([]bool, len(s.needles))
	for {
		var count [256]int
		for j, n := range s.needles {
			if assigned[j] {
				continue
			}
			var seen [256]bool
			for i := 0; i < len(n.s); i++ {
				if c := n.s[i]; !seen[c] && byteFreq(c) <= shareBelow {
					seen[c] = true
					count[c]++
				}
			}
		}
		best := -1
		for c := range count {
			if count[c] >= 2 && (best < 0 || count[c] > count[best] ||
				count[c] == count[best] && byteFreq(byte(c)) < byteFreq(byte(best))) {
				best = c
			}
		}
		if best < 0 {
			return
		}
		for j := range s.needles {
			n := &s.needles[j]
			if i := strings.IndexByte(n.s, byte(best)); !assigned[j] && i >= 0 {
				n.rare, n.off, assigned[j] = byte(best), i, true
			}
		}
	}
}

// May returns the bits of mask whose regexes may match text: a regex
// whose bit it clears does not match text. It keeps fewer than
// Regexp.MayMatch would: it searches each regex's first literal clause,
// and the others only as far as other regexes' searches decided them.
// Bits beyond the Screen's regexes are cleared.
func (s *Screen) May(text string, mask uint64) uint64 {
	if len(s.res) < 64 {
		mask &= 1<<len(s.res) - 1
	}
	var known, has uint64 // the needles looked for in text, and found
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		r := &s.res[i]
		if r.own {
			if !r.re.prefilter(text) {
				mask &^= 1 << i
			}
			continue
		}
		if !headOK(r.re.head, text) {
			mask &^= 1 << i
			continue
		}
		// A clause decided already (by another regex's checks) costs
		// nothing: look at those before scanning for anything.
		ok := true
		for _, c := range r.clauses {
			if c&known == c && c&has == 0 {
				ok = false
				break
			}
		}
		// Then only the first clause, the strongest, is searched for:
		// a line that holds it mostly matches, and the regex's own run
		// costs less than more scans of the line would.
		if ok && len(r.clauses) > 0 {
			c := r.clauses[0]
			for u := c &^ known; c&has == 0 && u != 0; u = c &^ known {
				known, has = s.scan(text, bits.TrailingZeros64(u), known, has)
			}
			ok = c&has != 0
		}
		if !ok {
			mask &^= 1 << i
		}
	}
	return mask
}

// scan looks for needle j and the others of its group in text, and
// returns known and has with the group's results.
func (s *Screen) scan(text string, j int, known, has uint64) (uint64, uint64) {
	g := s.group[j]
	want := g &^ known // the group's needles not decided yet
	known |= g
	rare := s.needles[j].rare
	fails := 0
	for from := 0; from < len(text) && want != 0; {
		k := strings.IndexByte(text[from:], rare)
		if k < 0 {
			break
		}
		pos := from + k
		for w := want; w != 0; w &= w - 1 {
			id := bits.TrailingZeros64(w)
			n := &s.needles[id]
			if start := pos - n.off; start >= 0 && start+len(n.s) <= len(text) && text[start:start+len(n.s)] == n.s {
				has |= 1 << id
				want &^= 1 << id
			}
		}
		from = pos + 1
		// The "rare" byte is common in this text: let strings.Index
		// finish, from where each needle may still start.
		if fails++; fails > 4+from>>4 {
			for w := want; w != 0; w &= w - 1 {
				id := bits.TrailingZeros64(w)
				n := &s.needles[id]
				if strings.Contains(text[max(0, from-n.off):], n.s) {
					has |= 1 << id
				}
			}
			break
		}
	}
	return known, has
}

// slicesContainsEmpty reports whether a clause holds the empty literal.
func slicesContainsEmpty(cl []needle) bool {
	for _, n := range cl {
		if n.s == "" {
			return true
		}
	}
	return false
}
