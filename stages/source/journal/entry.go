package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// outputFields are the fields journalctl prints (--output-fields); it adds
// __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and _BOOT_ID on its
// own. Asking for these alone keeps the JSON of an entry small.
var outputFields = []string{
	"MESSAGE", "_HOSTNAME", "SYSLOG_IDENTIFIER", "_COMM", "SYSLOG_PID", "_PID",
	"_SOURCE_REALTIME_TIMESTAMP", "_SOURCE_MONOTONIC_TIMESTAMP",
}

// entry is one journal entry, read.
type entry struct {
	line     string    // the line as fail2ban makes it
	time     time.Time // the entry's time as fail2ban takes it
	cursor   string    // __CURSOR
	realtime int64     // __REALTIME_TIMESTAMP in µs: the journal's order
}

// parseEntry reads one line of `journalctl --output=json`.
func parseEntry(data []byte) (entry, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return entry{}, err
	}
	fields := make(map[string][][]byte, len(raw))
	for k, v := range raw {
		vals, err := fieldValues(v)
		if err != nil {
			return entry{}, fmt.Errorf("field %s: %w", k, err)
		}
		fields[k] = vals
	}
	var e entry
	if v := fields["__CURSOR"]; len(v) > 0 && len(v[0]) > 0 {
		e.cursor = string(v[0])
	} else {
		return entry{}, errors.New("no __CURSOR")
	}
	rt, ok := micros(fields["__REALTIME_TIMESTAMP"])
	if !ok {
		return entry{}, errors.New("no valid __REALTIME_TIMESTAMP")
	}
	e.realtime = rt
	// FilterSystemd.getJrnEntTime: the time the sender gave, else the
	// time journald received the entry.
	if src, ok := micros(fields["_SOURCE_REALTIME_TIMESTAMP"]); ok {
		e.time = time.UnixMicro(src)
	} else {
		e.time = time.UnixMicro(rt)
	}
	e.line = formatLine(fields)
	return e, nil
}

// fieldValues decodes one field of journalctl's JSON: a string, an array
// of byte values (a value that is not printable UTF-8), null (a value too
// large to print), or an array of those when the field occurs more than
// once in the entry.
func fieldValues(v json.RawMessage) ([][]byte, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return nil, nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		return [][]byte{[]byte(s)}, nil
	case v[0] != '[':
		return nil, fmt.Errorf("unexpected value %.40s", v)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return [][]byte{{}}, nil
	}
	if first := bytes.TrimSpace(elems[0]); len(first) > 0 && first[0] >= '0' && first[0] <= '9' {
		b, err := byteArray(elems)
		if err != nil {
			return nil, err
		}
		return [][]byte{b}, nil
	}
	var out [][]byte
	for _, el := range elems {
		vals, err := fieldValues(el)
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

func byteArray(elems []json.RawMessage) ([]byte, error) {
	b := make([]byte, len(elems))
	for i, el := range elems {
		n, err := strconv.ParseUint(string(bytes.TrimSpace(el)), 10, 8)
		if err != nil {
			return nil, fmt.Errorf("byte %d: %w", i, err)
		}
		b[i] = byte(n)
	}
	return b, nil
}

// micros reads a timestamp field in microseconds.
func micros(vals [][]byte) (int64, bool) {
	if len(vals) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(vals[0]), 10, 64)
	return n, err == nil && n >= 0
}

// formatLine is fail2ban's FilterSystemd.formatJournalEntry: the host
// name, then IDENT[PID]: (SYSLOG_IDENTIFIER else _COMM, SYSLOG_PID else
// _PID), then a kernel entry's monotonic time, then the message (the
// values of a repeated MESSAGE joined by blanks), joined by blanks, with
// newlines written as "\n". Values that are not UTF-8 are decoded as
// Python decodes them with errors="replace".
func formatLine(fields map[string][][]byte) string {
	var elems []string
	if v := first(fields, "_HOSTNAME"); len(v) > 0 {
		elems = append(elems, pyDecode(v))
	}
	ident := first(fields, "SYSLOG_IDENTIFIER")
	if len(ident) == 0 {
		ident = first(fields, "_COMM")
	}
	if len(ident) > 0 {
		tag := pyDecode(ident)
		pid, ok := pidText(first(fields, "SYSLOG_PID"))
		if !ok {
			pid, ok = pidText(first(fields, "_PID"))
		}
		if ok {
			tag += "[" + pid + "]"
		}
		tag += ":"
		elems = append(elems, tag)
		if tag == "kernel:" {
			us, ok := micros(fields["_SOURCE_MONOTONIC_TIMESTAMP"])
			if !ok {
				us, _ = micros(fields["__MONOTONIC_TIMESTAMP"])
			}
			// "[%12.6f]" % seconds, written from the integer so no
			// rounding creeps in.
			elems = append(elems, fmt.Sprintf("[%12s]", fmt.Sprintf("%d.%06d", us/1e6, us%1e6)))
		}
	}
	msgs := fields["MESSAGE"]
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = pyDecode(m)
	}
	elems = append(elems, strings.Join(parts, " "))
	return strings.ReplaceAll(strings.Join(elems, " "), "\n", `\n`)
}

// first returns the first value of a field; nil when it has none. A field
// repeated in one entry (which fail2ban does not expect outside MESSAGE)
// counts with its first value.
func first(fields map[string][][]byte, name string) []byte {
	if v := fields[name]; len(v) > 0 {
		return v[0]
	}
	return nil
}

// pidText writes a PID field as fail2ban does: python-systemd converts it
// with int() (a field that does not convert stays bytes), fail2ban skips a
// false value (0, empty) and writes the rest with "%i", trying int(v, 0)
// on bytes and falling back to "%s" (which writes bytes as b'…').
func pidText(v []byte) (string, bool) {
	if v == nil {
		return "", false
	}
	if n, ok := pyInt(string(v), 10); ok {
		if n.Sign() == 0 {
			return "", false
		}
		return n.String(), true
	}
	if len(v) == 0 {
		return "", false
	}
	if n, ok := pyInt(string(v), 0); ok {
		return n.String(), true
	}
	return pyBytesRepr(v), true
}

// pyInt is Python's int(s, base) for base 10 and base 0 (prefixes 0x, 0o,
// 0b; no leading zeros in decimal): blanks around, a sign, and single
// underscores between digits.
func pyInt(s string, base int) (*big.Int, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	digits := s
	b := 10
	if base == 0 {
		if len(s) >= 2 && s[0] == '0' {
			switch s[1] {
			case 'x', 'X':
				b, digits = 16, s[2:]
			case 'o', 'O':
				b, digits = 8, s[2:]
			case 'b', 'B':
				b, digits = 2, s[2:]
			}
		}
		if b != 10 {
			// An underscore may follow the prefix: 0x_1f.
			digits = strings.TrimPrefix(digits, "_")
		}
	}
	if digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return nil, false
	}
	clean := strings.ReplaceAll(digits, "_", "")
	if base == 0 && b == 10 && len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, false // int("012", 0) is an error in Python 3
	}
	for _, c := range clean {
		if d := digitValue(c); d < 0 || d >= b {
			return nil, false
		}
	}
	n, ok := new(big.Int).SetString(clean, b)
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}

func digitValue(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// pyBytesRepr is Python's repr of a bytes value: b'…'.
func pyBytesRepr(v []byte) string {
	quote := byte('\'')
	if bytes.IndexByte(v, '\'') >= 0 && bytes.IndexByte(v, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(quote)
	for _, c := range v {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyDecode decodes v as UTF-8 the way Python's bytes.decode("utf-8",
// "replace") does: each maximal invalid subsequence becomes one U+FFFD
// (Go's decoder would replace byte by byte).
func pyDecode(v []byte) string {
	if utf8.Valid(v) {
		return string(v)
	}
	var b strings.Builder
	b.Grow(len(v) + 8)
	for len(v) > 0 {
		r, n := utf8.DecodeRune(v)
		if r != utf8.RuneError || n > 1 {
			b.Write(v[:n])
			v = v[n:]
			continue
		}
		b.WriteRune(utf8.RuneError)
		v = v[maximalSubpart(v):]
	}
	return b.String()
}

// maximalSubpart returns the length of the longest prefix of v (at least
// one byte) that starts a well-formed UTF-8 sequence, v being ill-formed
// at its start (Unicode's "maximal subpart", which Python follows).
func maximalSubpart(v []byte) int {
	c := v[0]
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for i := 0; i < need && n < len(v); i++ {
		if i > 0 {
			lo, hi = 0x80, 0xBF
		}
		if v[n] < lo || v[n] > hi {
			break
		}
		n++
	}
	return n
}
