package py

import (
	"strings"
	"unicode"
)

// IsSpace reports whether r is whitespace for Python's str.isspace, str.strip
// and the re module's \s on str patterns.
func IsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85, 0xa0:
		return true
	}
	if r < 0x80 {
		return false
	}
	return unicode.Is(unicode.Zs, r) || r == 0x2028 || r == 0x2029
}

// IsWord reports whether r matches the re module's \w on str patterns.
func IsWord(r rune) bool {
	if r < 0x80 {
		return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// IsDigit reports whether r matches the re module's \d on str patterns.
func IsDigit(r rune) bool {
	if r < 0x80 {
		return '0' <= r && r <= '9'
	}
	return unicode.Is(unicode.Nd, r)
}

// Strip is Python's str.strip() without arguments.
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }

// RStrip is Python's str.rstrip() without arguments.
func RStrip(s string) string { return strings.TrimRightFunc(s, IsSpace) }

// LStrip is Python's str.lstrip() without arguments.
func LStrip(s string) string { return strings.TrimLeftFunc(s, IsSpace) }

// Lower is Python's str.lower() (ConfigParser.optionxform).
func Lower(s string) string { return strings.ToLower(s) }

// Repr quotes s roughly as Python's repr() does, for messages that quote
// config text the way fail2ban's own messages do.
func Repr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
