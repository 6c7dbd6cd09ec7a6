package failregex

import (
	"errors"
	"fmt"
	"strings"
)

// hostKind records which host placeholder a failure regex uses.
type hostKind uint8

const (
	kindNone hostKind = iota
	kindHost
	kindAddr
	kindIP4
	kindIP6
	kindDNS
	kindSubnet
)

// hostGroup is the name of the capture group around the host text. It is
// reserved: it is never exposed as a field.
const hostGroup = "__f2b_host"

// Building blocks of the address patterns, in the Python syntax the
// translator reads. They must stay RE2 and small: Go's regexp uses its
// fast backtracker only for programs of at most 500 instructions, so the
// patterns are loose and the text is validated with net/netip afterwards.
// Digits are ASCII ([0-9], not Python's Unicode \d).
const (
	reIP4core = `(?:[0-9]{1,3}\.){3}[0-9]{1,3}`
	// reIP4 accepts the ::ffff: prefix like fail2ban; the prefix is part of
	// HostText and removed by Unmap.
	reIP4 = `(?:::[fF]{4}:)?` + reIP4core
	// reIP6 is fail2ban's (?:[0-9a-fA-F]{1,4}::?|:){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)
	// without the lookbehind (every unit ends in ':' so it always holds),
	// without the upper bound (netip validates), and with an optional
	// embedded IPv4 tail (::ffff:192.0.2.1, 64:ff9b::1.2.3.4).
	reIP6 = `(?:[0-9a-fA-F]{1,4}::?|:)+(?:` + reIP4core + `|[0-9a-fA-F]{1,4}|:)`
	// reAddr covers both families; the IPv6 branch handles ::ffff:1.2.3.4.
	reAddr = reIP4core + `|` + reIP6
	// reDNS is fail2ban's dns pattern without its stray '^'.
	reDNS = `[\w\-.]*\w`
)

// expansion is the result of expanding the placeholders of one regex.
type expansion struct {
	expr string   // Go regex
	kind hostKind // host placeholder used; kindNone if none
}

// Expand returns the Go regular expression that Compile builds from a
// failure regex: placeholders are replaced by their patterns, the host is
// captured in the group named "__f2b_host" and <F-NAME> fields become named
// groups. It reports the same errors as Compile (unwrapped).
func Expand(regex string, opts Options) (string, error) {
	ex, err := expand(regex, opts, true)
	if err != nil {
		return "", err
	}
	if ex.kind == kindNone {
		return "", ErrNoHost
	}
	return ex.expr, nil
}

// expand replaces the placeholders in src. With capture false (ignore
// regexes) no capture groups are added and several host placeholders are
// allowed.
func expand(src string, opts Options, capture bool) (expansion, error) {
	if strings.TrimSpace(src) == "" {
		return expansion{}, ErrEmpty
	}
	var (
		b          strings.Builder
		ex         expansion
		open       []string // stack of open <F-NAME> tags
		inClass    bool
		classFirst int // offset of a ']' that is literal (first in class)
	)
	b.Grow(len(src) + 256)
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 >= len(src) {
				b.WriteByte(c) // let the regex compiler report it
				i++
				continue
			}
			n := src[i+1]
			b.WriteByte(c)
			b.WriteByte(n)
			i += 2
		case inClass:
			if c == ']' && i > classFirst {
				inClass = false
			} else if c == '[' && i+1 < len(src) && src[i+1] == ':' {
				// POSIX class such as [:alpha:] inside a bracket expression.
				if j := strings.Index(src[i+2:], ":]"); j >= 0 {
					b.WriteString(src[i : i+j+4])
					i += j + 4
					continue
				}
			}
			b.WriteByte(c)
			i++
		case c == '[':
			inClass = true
			j := i + 1
			if j < len(src) && src[j] == '^' {
				j++
			}
			classFirst = j
			b.WriteString(src[i:j])
			i = j
		case c == '(' && i+1 < len(src) && src[i+1] == '?':
			n, err := groupOpener(src, i, &b)
			if err != nil {
				return ex, err
			}
			i += n
		case c == '<':
			n, err := tag(src, i, opts, capture, &b, &ex, &open)
			if err != nil {
				return ex, err
			}
			i += n
		default:
			b.WriteByte(c)
			i++
		}
	}
	if len(open) > 0 {
		return ex, fmt.Errorf("<F-%s> is not closed by </F-%s>", open[len(open)-1], open[len(open)-1])
	}
	ex.expr = b.String()
	return ex, nil
}

// groupOpener handles "(?" at src[i]: it copies group openers, with the
// names of named groups and back-references so that they are not taken
// for tags, and drops (?#comments). It returns the number of bytes
// consumed.
func groupOpener(src string, i int, b *strings.Builder) (int, error) {
	rest := src[i:]
	switch {
	case strings.HasPrefix(rest, "(?#"):
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return 0, errors.New("missing ) after comment (?#")
		}
		return j + 1, nil
	case strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
		b.WriteString(rest[:4])
		return 4, nil
	case strings.HasPrefix(rest, "(?P="):
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			j = len(rest) - 1 // let the regex compiler report it
		}
		b.WriteString(rest[:j+1])
		return j + 1, nil
	case strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?<"):
		// Named group: copy through the name so that it is not taken for a tag.
		j := strings.IndexByte(rest, '>')
		if j < 0 {
			j = len(rest) - 1 // let the regex compiler report it
		}
		b.WriteString(rest[:j+1])
		return j + 1, nil
	}
	b.WriteString("(?")
	return 2, nil
}

// tag handles '<' at src[i]. It returns the number of bytes consumed.
func tag(src string, i int, opts Options, capture bool, b *strings.Builder, ex *expansion, open *[]string) (int, error) {
	end := strings.IndexByte(src[i+1:], '>')
	if end <= 0 || end > 64 || strings.ContainsAny(src[i+1:i+1+end], "< \t") {
		b.WriteByte('<')
		return 1, nil
	}
	name := src[i+1 : i+1+end]
	n := end + 2
	var kind hostKind
	switch name {
	case "HOST":
		kind = kindHost
	case "ADDR":
		kind = kindAddr
	case "IP4":
		kind = kindIP4
	case "IP6":
		kind = kindIP6
	case "DNS":
		kind = kindDNS
	case "SUBNET":
		kind = kindSubnet
	case "CIDR":
		b.WriteString(group(capture, "cidr", `[0-9]+`))
		return n, nil
	case "F-ID/":
		b.WriteString(group(capture, "id", `\S+`))
		return n, nil
	case "F-PORT/":
		b.WriteString(group(capture, "port", `\w+`))
		return n, nil
	case "SKIPLINES":
		return 0, &UnsupportedError{"multi-line", "<SKIPLINES>", i}
	}
	if kind != kindNone {
		if ex.kind != kindNone && capture {
			return 0, ErrMultipleHosts
		}
		ex.kind = kind
		b.WriteString(hostPattern(kind, opts, capture))
		return n, nil
	}
	closing := strings.HasPrefix(name, "/F-")
	if !closing && !strings.HasPrefix(name, "F-") {
		b.WriteByte('<') // unknown tag: literal text, as in fail2ban
		return 1, nil
	}
	fname := strings.TrimPrefix(strings.TrimPrefix(name, "/"), "F-")
	if !validFieldName(fname) {
		if strings.HasSuffix(fname, "/") {
			return 0, fmt.Errorf("<%s>: only <F-ID/> and <F-PORT/> are self-closing", name)
		}
		return 0, fmt.Errorf("<%s>: a field name has upper-case letters, digits, '-' and '_'", name)
	}
	if closing {
		if len(*open) == 0 || (*open)[len(*open)-1] != fname {
			if len(*open) == 0 {
				return 0, fmt.Errorf("</F-%s> without <F-%s>", fname, fname)
			}
			return 0, fmt.Errorf("</F-%s> does not close the innermost <F-%s>", fname, (*open)[len(*open)-1])
		}
		*open = (*open)[:len(*open)-1]
		b.WriteByte(')')
		return n, nil
	}
	*open = append(*open, fname)
	if capture {
		b.WriteString("(?P<" + fieldKey(fname) + ">")
	} else {
		b.WriteString("(?:")
	}
	return n, nil
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// fieldKey maps an F- tag name to the group name and field key.
func fieldKey(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "_")
}

func group(capture bool, name, body string) string {
	if capture {
		return "(?P<" + name + ">" + body + ")"
	}
	return "(?:" + body + ")"
}

// hostPattern returns the pattern of a host placeholder.
func hostPattern(kind hostKind, opts Options, capture bool) string {
	switch kind {
	case kindHost:
		if opts.AllowDNS {
			return `\[?` + group(capture, hostGroup, reAddr+`|`+reDNS) + `\]?`
		}
		return `\[?` + group(capture, hostGroup, reAddr) + `\]?`
	case kindAddr:
		return `\[?` + group(capture, hostGroup, reAddr) + `\]?`
	case kindIP4:
		return group(capture, hostGroup, reIP4)
	case kindIP6:
		return group(capture, hostGroup, reIP6)
	case kindDNS:
		return group(capture, hostGroup, reDNS)
	case kindSubnet:
		return `\[?` + group(capture, hostGroup, reAddr) + `(?:/` + group(capture, "cidr", `[0-9]+`) + `)?\]?`
	}
	panic("failregex: unknown host kind")
}
