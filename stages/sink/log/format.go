package logsink

import (
	"strconv"
	"unicode/utf8"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// Format is how a log sink writes its lines. The zero value writes text.
type Format string

// The formats of sink "log".
const (
	// Text writes aligned, human-readable lines (see FormatText).
	Text Format = "text"
	// JSON writes one JSON object per line (see FormatJSON).
	JSON Format = "json"
	// Fail2ban writes fail2ban's own log lines (see AppendFail2ban), so
	// fail2ban's recidive filter and existing log watchers keep working.
	Fail2ban Format = "fail2ban"
)

// Text column widths: values shorter than these are padded with blanks so
// that typical lines align; longer values push the rest of the line to the
// right and are never cut.
const (
	eventWidth = len("prolong")
	jailWidth  = 8
	hostWidth  = len("255.255.255.255")
	columnGap  = "  "
)

// FormatJSON returns the JSON object of an action event, without a trailing
// newline: the keys event, time, jail, host, failures and ban_time always,
// in that order, then ban_count when it is above 1, then end for a ban or
// prolong that is not permanent. It returns nil for an event without an
// Action.
func FormatJSON(ev engine.Event) []byte {
	if ev.Action == nil {
		return nil
	}
	return AppendJSON(make([]byte, 0, 160), ev)
}

// AppendJSON appends FormatJSON(ev) to dst and returns the extended buffer.
// With a reused buffer it does not allocate.
func AppendJSON(dst []byte, ev engine.Event) []byte {
	a := ev.Action
	if a == nil {
		return dst
	}
	dst = append(dst, `{"event":`...)
	dst = appendJSONString(dst, a.Type.String())
	dst = append(dst, `,"time":"`...)
	dst = sinkfmt.AppendTime(dst, sinkfmt.EventTime(ev))
	dst = append(dst, `","jail":`...)
	dst = appendJSONString(dst, a.Jail)
	dst = append(dst, `,"host":`...)
	if a.Host.IsValid() && a.Host.Zone() == "" {
		// An address without a zone is hex digits, dots and colons only.
		dst = append(dst, '"')
		dst = a.Host.AppendTo(dst)
		dst = append(dst, '"')
	} else {
		dst = appendJSONString(dst, sinkfmt.Host(a))
	}
	dst = append(dst, `,"failures":`...)
	dst = strconv.AppendInt(dst, int64(a.Failures), 10)
	dst = append(dst, `,"ban_time":"`...)
	dst = sinkfmt.AppendDuration(dst, a.BanTime)
	dst = append(dst, '"')
	if a.BanCount > 1 {
		dst = append(dst, `,"ban_count":`...)
		dst = strconv.AppendInt(dst, int64(a.BanCount), 10)
	}
	if hasEnd(a) {
		dst = append(dst, `,"end":"`...)
		dst = sinkfmt.AppendTime(dst, a.End)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// FormatText returns the text line of an action event, without a trailing
// newline:
//
//	2026-01-02T03:04:05Z  ban      sshd      203.0.113.7      failures=5 ban_time=1h0m0s end=2026-01-02T04:04:05Z
//
// The columns are the time (as in JSON), the event padded to 7 characters,
// the jail padded to 8, the host padded to 15, each followed by two blanks,
// then key=value pairs with the same keys and rules as FormatJSON. A jail or
// host that is empty or holds blanks, quotes, '=' or control characters is
// written as a Go-quoted string, so a line always stays one line of
// whitespace-separated fields. It returns "" for an event without an Action.
func FormatText(ev engine.Event) string {
	if ev.Action == nil {
		return ""
	}
	return string(AppendText(make([]byte, 0, 128), ev))
}

// AppendText appends FormatText(ev) to dst and returns the extended buffer.
// With a reused buffer it does not allocate.
func AppendText(dst []byte, ev engine.Event) []byte {
	a := ev.Action
	if a == nil {
		return dst
	}
	dst = sinkfmt.AppendTime(dst, sinkfmt.EventTime(ev))
	dst = append(dst, columnGap...)
	dst = appendPadded(dst, a.Type.String(), eventWidth)
	dst = append(dst, columnGap...)
	dst = appendPadded(dst, a.Jail, jailWidth)
	dst = append(dst, columnGap...)
	if a.Host.IsValid() && a.Host.Zone() == "" {
		n := len(dst)
		dst = a.Host.AppendTo(dst)
		dst = appendBlanks(dst, hostWidth-(len(dst)-n))
	} else {
		dst = appendPadded(dst, sinkfmt.Host(a), hostWidth)
	}
	dst = append(dst, columnGap...)
	dst = append(dst, "failures="...)
	dst = strconv.AppendInt(dst, int64(a.Failures), 10)
	dst = append(dst, " ban_time="...)
	dst = sinkfmt.AppendDuration(dst, a.BanTime)
	if a.BanCount > 1 {
		dst = append(dst, " ban_count="...)
		dst = strconv.AppendInt(dst, int64(a.BanCount), 10)
	}
	if hasEnd(a) {
		dst = append(dst, " end="...)
		dst = sinkfmt.AppendTime(dst, a.End)
	}
	return dst
}

// hasEnd reports whether the end of a's ban is printed: for bans and
// prolongs that are not permanent.
func hasEnd(a *engine.Action) bool {
	return (a.Type == engine.Ban || a.Type == engine.Prolong) &&
		a.BanTime != engine.Permanent && !a.End.IsZero()
}

// appendPadded appends s (quoted when it needs to be) and blanks up to width
// characters.
func appendPadded(dst []byte, s string, width int) []byte {
	if needsQuote(s) {
		n := len(dst)
		dst = strconv.AppendQuote(dst, s)
		return appendBlanks(dst, width-(len(dst)-n))
	}
	dst = append(dst, s...)
	return appendBlanks(dst, width-utf8.RuneCountInString(s))
}

func appendBlanks(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}

// needsQuote reports whether s must be quoted to stay one text field.
func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f || c == '"' || c == '=' || c == '\\' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Quotes, backslashes and
// control characters are escaped, invalid UTF-8 becomes U+FFFD (as
// encoding/json does), and U+2028 and U+2029 are escaped so the line is
// also valid JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFail2ban appends the line fail2ban's actions logger writes for ev,
// with the process id pid, e.g.
//
//	2026-01-02 03:04:05,000 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 203.0.113.7
//
// byte for byte in fail2ban's layout (`%(asctime)s %(name)-24s[%(process)d]:
// %(levelname)-7s %(message)s`), which its recidive filter parses. The time
// is the event's, in the local zone. A restored ban is "Restore Ban", an
// unban "Unban", a prolong "Prolong".
func AppendFail2ban(dst []byte, ev engine.Event, pid int) []byte {
	a := ev.Action
	if a == nil {
		return dst
	}
	t := sinkfmt.EventTime(ev).Local()
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05")
	dst = append(dst, ',')
	ms := t.Nanosecond() / 1e6
	dst = append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	dst = append(dst, " fail2ban.actions        ["...)
	dst = strconv.AppendInt(dst, int64(pid), 10)
	dst = append(dst, "]: NOTICE  ["...)
	dst = append(dst, a.Jail...)
	dst = append(dst, "] "...)
	switch {
	case a.Type == engine.Ban && a.Restored:
		dst = append(dst, "Restore Ban "...)
	case a.Type == engine.Ban:
		dst = append(dst, "Ban "...)
	case a.Type == engine.Unban:
		dst = append(dst, "Unban "...)
	default:
		dst = append(dst, "Prolong "...)
	}
	return append(dst, sinkfmt.Host(a)...)
}
