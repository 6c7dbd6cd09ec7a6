package failregex

import (
	"net/netip"
	"strings"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// checkHost validates the host text line[a:b] captured by a regex with
// the host placeholder kind. It returns the address (the zero Addr for an
// accepted DNS name) and whether the host is acceptable.
func checkHost(line string, a, b int, kind hostKind, allowDNS bool) (netip.Addr, bool) {
	h := line[a:b]
	if h == "" {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(h)
	if err == nil {
		if addr.Zone() != "" { // not produced by our patterns; be strict anyway
			return netip.Addr{}, false
		}
		if strings.IndexByte(h, ':') >= 0 {
			if !delimitedIP6(line, a, b) {
				return netip.Addr{}, false
			}
		} else if !delimitedIP4(line, a, b) {
			return netip.Addr{}, false
		}
		return addr.Unmap(), true
	}
	if !allowDNS || (kind != kindHost && kind != kindDNS) || !isDNSName(h) || !delimitedDNS(line, a, b) {
		return netip.Addr{}, false
	}
	return netip.Addr{}, true
}

// The delimited* functions reject a host that the regex cut out of a longer
// address-like token, e.g. "3.0.113.9" out of "203.0.113.9" (greedy .*
// before <HOST>) or "1.2.3.45" out of "1.2.3.456" (unanchored end).

func delimitedIP4(line string, a, b int) bool {
	if a > 0 {
		if c := line[a-1]; isDigit(c) || c == '.' {
			return false
		}
	}
	return !continuesNumber(line, b)
}

func delimitedIP6(line string, a, b int) bool {
	if a > 0 {
		c := line[a-1]
		if isHex(c) || c == '.' {
			return false
		}
		// "…:" before the host: part of a longer address unless the colon
		// is a separator after a non-address character ("addr:2001:db8::1").
		if c == ':' && a > 1 && (isHex(line[a-2]) || line[a-2] == ':') {
			return false
		}
	}
	if b < len(line) && isHex(line[b]) {
		return false
	}
	// A ':' after the host is allowed: "[2001:db8::1]:22" style ports are
	// split by the regex itself.
	return !continuesNumber(line, b)
}

// continuesNumber reports whether line[b:] starts with a digit or with '.'
// and a digit.
func continuesNumber(line string, b int) bool {
	if b >= len(line) {
		return false
	}
	if isDigit(line[b]) {
		return true
	}
	return line[b] == '.' && b+1 < len(line) && isDigit(line[b+1])
}

func delimitedDNS(line string, a, b int) bool {
	if a > 0 {
		if c := line[a-1]; isAlnum(c) || c == '_' || c == '-' || c == '.' {
			return false
		}
	}
	if b < len(line) {
		c := line[b]
		if isAlnum(c) || c == '_' || c == '-' {
			return false
		}
		if c == '.' && b+1 < len(line) && isAlnum(line[b+1]) {
			return false
		}
	}
	return true
}

// isDNSName reports whether s is a plausible host name: dot-separated labels
// of 1 to 63 letters, digits, '-' and '_', not starting with '-', at most 253
// bytes, an optional final dot, and at least one letter (so that a mangled
// address such as "999.1.1.1" is never taken for a name).
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	letter := false
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case isDigit(c) || c == '_':
		case c == '-':
			if label == 0 {
				return false
			}
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return letter && label > 0
}
