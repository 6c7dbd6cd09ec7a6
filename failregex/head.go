package failregex

import (
	"regexp/syntax"
	"unicode"
)

// maxHead bounds the bytes a head check looks at.
const maxHead = 16

// byteSet is a set of bytes.
type byteSet [4]uint64

func (b *byteSet) add(c byte)      { b[c>>6] |= 1 << (c & 63) }
func (b *byteSet) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }
func (b *byteSet) union(o *byteSet) {
	b[0], b[1], b[2], b[3] = b[0]|o[0], b[1]|o[1], b[2]|o[2], b[3]|o[3]
}
func (b *byteSet) full() bool { return b[0]&b[1]&b[2]&b[3] == ^uint64(0) }
func (b *byteSet) addRange(lo, hi rune) {
	for c := lo; c <= hi; c++ {
		b.add(byte(c))
	}
}

// headSets returns, for a regex anchored at the start of the text (\A, or
// ^ without MULTILINE), the sets the first bytes of every match must come
// from: a text whose first bytes are not in them cannot match, whatever
// the engine. It returns nil when nothing is known. expr is RE2 syntax
// that matches at least what the regex matches (its translation or its
// gate), so the sets are a necessary condition only.
func headSets(expr string) []byteSet {
	re, err := parseRE2(expr)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return nil
	}
	var sets []byteSet
	for _, sub := range re.Sub[1:] {
		var cont bool
		sets, cont = head(sub, sets)
		if !cont || len(sets) >= maxHead {
			break
		}
	}
	// Trailing sets that take any byte tell nothing.
	for len(sets) > 0 && sets[len(sets)-1].full() {
		sets = sets[:len(sets)-1]
	}
	if len(sets) > maxHead {
		sets = sets[:maxHead]
	}
	return sets
}

// head appends the byte sets of the first bytes re matches; cont reports
// that re always matches exactly the bytes appended (what follows it can
// be appended next).
func head(re *syntax.Regexp, sets []byteSet) (_ []byteSet, cont bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return sets, true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if r >= 0x80 || len(sets) >= maxHead {
				return sets, false
			}
			var b byteSet
			b.add(byte(r))
			if re.Flags&syntax.FoldCase != 0 {
				// Case folding may reach non-ASCII runes (k, s): stop at
				// any letter whose fold orbit leaves ASCII.
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					if f >= 0x80 {
						return sets, false
					}
					b.add(byte(f))
				}
			}
			sets = append(sets, b)
		}
		return sets, true
	case syntax.OpCharClass:
		var b byteSet
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= 0x80 {
				return sets, false
			}
			b.addRange(lo, hi)
		}
		if len(re.Rune) == 0 {
			return sets, false
		}
		return append(sets, b), true
	case syntax.OpCapture:
		return head(re.Sub[0], sets)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			var cont bool
			if sets, cont = head(sub, sets); !cont || len(sets) >= maxHead {
				return sets, false
			}
		}
		return sets, true
	case syntax.OpPlus:
		s, _ := head(re.Sub[0], sets)
		return s, false
	case syntax.OpRepeat:
		if re.Min >= 1 {
			s, _ := head(re.Sub[0], sets)
			return s, false
		}
	case syntax.OpAlternate:
		// The first byte comes from one of the branches.
		var b byteSet
		for _, sub := range re.Sub {
			s, _ := head(sub, nil)
			if len(s) == 0 {
				return sets, false
			}
			b.union(&s[0])
		}
		return append(sets, b), false
	}
	return sets, false
}

// headOK reports whether s can start a match given the head sets.
func headOK(sets []byteSet, s string) bool {
	if len(s) < len(sets) {
		return false
	}
	for i := range sets {
		if !sets[i].has(s[i]) {
			return false
		}
	}
	return true
}
