package py

// M is one piece of a backtracking pattern over a rune slice, written in
// continuation-passing style: it tries to match at i and calls k with every
// end position it can reach, in the order Python's re engine would try
// them, and stops at the first k that returns true.
type M func(c *Ctx, i int, k func(int) bool) bool

// Ctx is the subject and the capture groups of one match attempt.
type Ctx struct {
	S      []rune
	Groups [][2]int // [start, end) per group; -1 when the group did not take part
}

// Match is one match found by FindAll.
type Match struct {
	Start, End int
	Groups     [][2]int
}

// Group returns the text of group n of m in s and whether it took part.
func (m Match) Group(s []rune, n int) (string, bool) {
	g := m.Groups[n]
	if g[0] < 0 {
		return "", false
	}
	return string(s[g[0]:g[1]]), true
}

// Empty matches the empty string.
func Empty(c *Ctx, i int, k func(int) bool) bool { return k(i) }

// Class matches one rune accepted by pred.
func Class(pred func(rune) bool) M {
	return func(c *Ctx, i int, k func(int) bool) bool {
		if i < len(c.S) && pred(c.S[i]) {
			return k(i + 1)
		}
		return false
	}
}

// Lit matches s literally.
func Lit(s string) M {
	rs := []rune(s)
	return func(c *Ctx, i int, k func(int) bool) bool {
		if i+len(rs) > len(c.S) {
			return false
		}
		for j, r := range rs {
			if c.S[i+j] != r {
				return false
			}
		}
		return k(i + len(rs))
	}
}

// Seq matches ms one after the other.
func Seq(ms ...M) M {
	if len(ms) == 0 {
		return Empty
	}
	if len(ms) == 1 {
		return ms[0]
	}
	first, rest := ms[0], Seq(ms[1:]...)
	return func(c *Ctx, i int, k func(int) bool) bool {
		return first(c, i, func(j int) bool { return rest(c, j, k) })
	}
}

// Alt tries ms in order (Python's ordered alternation).
func Alt(ms ...M) M {
	return func(c *Ctx, i int, k func(int) bool) bool {
		for _, m := range ms {
			if m(c, i, k) {
				return true
			}
		}
		return false
	}
}

// Opt is the greedy m?.
func Opt(m M) M { return Alt(m, Empty) }

// Star is the greedy m*. An iteration that matches the empty string ends the
// loop, as in Python.
func Star(m M) M {
	var star M
	star = func(c *Ctx, i int, k func(int) bool) bool {
		if m(c, i, func(j int) bool { return j > i && star(c, j, k) }) {
			return true
		}
		return k(i)
	}
	return star
}

// StarClass is the greedy [class]*, without recursion per rune.
func StarClass(pred func(rune) bool) M { return runClass(pred, 0) }

// PlusClass is the greedy [class]+.
func PlusClass(pred func(rune) bool) M { return runClass(pred, 1) }

func runClass(pred func(rune) bool, min int) M {
	return func(c *Ctx, i int, k func(int) bool) bool {
		j := i
		for j < len(c.S) && pred(c.S[j]) {
			j++
		}
		for ; j >= i+min; j-- {
			if k(j) {
				return true
			}
		}
		return false
	}
}

// Look is the lookahead (?=m).
func Look(m M) M {
	return func(c *Ctx, i int, k func(int) bool) bool {
		if m(c, i, func(int) bool { return true }) {
			return k(i)
		}
		return false
	}
}

// End is "$" without MULTILINE: the end of the subject or just before a
// newline that ends it.
func End(c *Ctx, i int, k func(int) bool) bool {
	if i == len(c.S) || i == len(c.S)-1 && c.S[i] == '\n' {
		return k(i)
	}
	return false
}

// Group captures what m matches as group n.
func Group(n int, m M) M {
	return func(c *Ctx, i int, k func(int) bool) bool {
		return m(c, i, func(j int) bool {
			saved := c.Groups[n]
			c.Groups[n] = [2]int{i, j}
			if k(j) {
				return true
			}
			c.Groups[n] = saved
			return false
		})
	}
}

// Not matches any rune except those in chars.
func Not(chars string) func(rune) bool {
	return func(r rune) bool {
		for _, x := range chars {
			if r == x {
				return false
			}
		}
		return true
	}
}

// AnyOf matches any rune in chars.
func AnyOf(chars string) func(rune) bool {
	return func(r rune) bool {
		for _, x := range chars {
			if r == x {
				return true
			}
		}
		return false
	}
}

// Any is "." with DOTALL.
func Any(rune) bool { return true }

// FindAll returns the matches of p in s as Python's re.finditer yields
// them: leftmost matches, scanning on after each, where an empty match may
// not start where the previous match ended empty. groups is the number of
// capture groups (numbered from 1; group 0 is unused).
func FindAll(p M, s []rune, groups int) []Match {
	var out []Match
	lastEmptyAt := -1
	for pos := 0; pos <= len(s); {
		c := &Ctx{S: s, Groups: make([][2]int, groups+1)}
		for g := range c.Groups {
			c.Groups[g] = [2]int{-1, -1}
		}
		end := -1
		ok := p(c, pos, func(j int) bool {
			if j == pos && lastEmptyAt == pos {
				return false
			}
			end = j
			return true
		})
		if !ok {
			pos++
			continue
		}
		out = append(out, Match{Start: pos, End: end, Groups: c.Groups})
		if end == pos {
			lastEmptyAt = pos
			continue
		}
		lastEmptyAt = -1
		pos = end
	}
	return out
}

// MatchAt reports whether p matches s at pos (Python's pattern.match with a
// start position) and returns the match.
func MatchAt(p M, s []rune, pos, groups int) (Match, bool) {
	c := &Ctx{S: s, Groups: make([][2]int, groups+1)}
	for g := range c.Groups {
		c.Groups[g] = [2]int{-1, -1}
	}
	end := -1
	if !p(c, pos, func(j int) bool { end = j; return true }) {
		return Match{}, false
	}
	return Match{Start: pos, End: end, Groups: c.Groups}, true
}
