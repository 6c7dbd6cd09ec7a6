package failregex

import "strings"

// A needle is a required literal prepared for fast search. strings.Index
// skips ahead with IndexByte on the needle's FIRST byte, which for literals
// such as " from " (a space) stops at nearly every word of a log line.
// needle instead skips with IndexByte (SIMD) on the needle's RAREST byte,
// judged by a static table of byte frequencies in log text, and verifies
// candidates with one comparison.
type needle struct {
	s    string
	rare byte // the rarest byte of s
	off  int  // its offset in s
}

func newNeedle(s string) needle {
	n := needle{s: s}
	best := 256
	for i := 0; i < len(s); i++ {
		if f := byteFreq(s[i]); f < best {
			best, n.rare, n.off = f, s[i], i
		}
	}
	return n
}

// in reports whether text contains n.s.
func (n *needle) in(text string) bool {
	if len(n.s) <= 1 {
		return strings.Contains(text, n.s)
	}
	fails := 0
	for from := n.off; from < len(text); {
		k := strings.IndexByte(text[from:], n.rare)
		if k < 0 {
			return false
		}
		start := from + k - n.off
		if start+len(n.s) > len(text) {
			return false
		}
		if text[start:start+len(n.s)] == n.s {
			return true
		}
		from += k + 1
		// The "rare" byte is common in this text: let strings.Index finish.
		if fails++; fails > 4+from>>4 {
			return strings.Contains(text[start+1:], n.s)
		}
	}
	return false
}

// byteFreq ranks how common a byte is in log text, 0 (rare) to 255
// (common). The ranking is a rough guess; it only steers which byte the
// search skips on and never changes a result.
func byteFreq(c byte) int {
	switch {
	case c == ' ':
		return 255
	case c >= '0' && c <= '9':
		return 200
	case c >= 'a' && c <= 'z':
		return letterFreq[c-'a']
	case c >= 'A' && c <= 'Z':
		return letterFreq[c-'A'] / 2 // upper case is rarer than lower case
	}
	switch c {
	case '.', ':', '=', '/', '-':
		return 170
	case '_', ',', '[', ']', '(', ')', '"', '\'':
		return 120
	case '\t', '<', '>', ';', '@', '#', '+', '*', '?', '!', '&', '%', '$', '{', '}', '|', '\\', '~', '^', '`':
		return 60
	}
	return 10 // control bytes and non-ASCII
}

// letterFreq ranks a..z by English letter frequency, mapped to 90..230.
var letterFreq = [26]int{
	'a' - 'a': 215, 'b' - 'a': 125, 'c' - 'a': 165, 'd' - 'a': 175, 'e' - 'a': 230,
	'f' - 'a': 150, 'g' - 'a': 135, 'h' - 'a': 180, 'i' - 'a': 205, 'j' - 'a': 95,
	'k' - 'a': 110, 'l' - 'a': 170, 'm' - 'a': 155, 'n' - 'a': 200, 'o' - 'a': 210,
	'p' - 'a': 145, 'q' - 'a': 90, 'r' - 'a': 190, 's' - 'a': 195, 't' - 'a': 220,
	'u' - 'a': 160, 'v' - 'a': 115, 'w' - 'a': 140, 'x' - 'a': 100, 'y' - 'a': 130,
	'z' - 'a': 92,
}
