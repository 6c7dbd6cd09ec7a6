package confval

import "strings"

// IsHostName reports whether s is a DNS host name as address lists take
// it (a counter's ignore list, and what f2b import carries there):
// dot-separated labels of letters, digits and inner hyphens, not all
// digits (so that "10.0.0.1" and "10" are not names), with an optional
// trailing dot.
func IsHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	digitsOnly := true
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				digitsOnly = false
			default:
				return false
			}
		}
	}
	return !digitsOnly
}
