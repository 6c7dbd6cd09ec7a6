package exec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// placeholder is what one segment of an argv element expands to.
type placeholder uint8

const (
	literal  placeholder = iota // the segment's text as written
	ip                          // {ip}
	jail                        // {jail}
	failures                    // {failures}
	eventAt                     // {time}
	banTime                     // {ban_time}
	banCount                    // {ban_count}
	matches                     // {matches}
	family                      // {family}
	capture                     // {F-NAME}: the segment's text is the field key
)

// placeholderNames are the named placeholders, in the order messages list
// them.
var placeholderNames = []string{"ip", "jail", "failures", "time", "ban_time", "ban_count", "matches", "family"}

var placeholderByName = map[string]placeholder{
	"ip":        ip,
	"jail":      jail,
	"failures":  failures,
	"time":      eventAt,
	"ban_time":  banTime,
	"ban_count": banCount,
	"matches":   matches,
	"family":    family,
}

// aliases maps names other tools use (fail2ban's tags among them) to ours,
// for "did you mean" hints only.
var aliases = map[string]string{
	"host": "ip", "addr": "ip", "address": "ip", "ipaddr": "ip", "ip4": "ip", "ip6": "ip",
	"bantime": "ban_time", "bancount": "ban_count",
	"name": "jail", "jail.name": "jail", "jailname": "jail",
	"match": "matches", "lines": "matches",
}

// capturePrefix starts the placeholder of a captured field, {F-USER}.
const capturePrefix = "F-"

// segment is a run of literal text or one placeholder.
type segment struct {
	kind placeholder
	text string // literal text, or the field key of a capture
}

// template is one parsed argv element.
type template struct {
	segs []segment
}

// isLiteral reports whether t has no placeholder.
func (t template) isLiteral() bool {
	for _, s := range t.segs {
		if s.kind != literal {
			return false
		}
	}
	return true
}

// firstPlaceholder returns how the first placeholder of t was written.
func (t template) firstPlaceholder() string {
	for _, s := range t.segs {
		switch s.kind {
		case literal:
		case capture:
			return "{" + capturePrefix + strings.ToUpper(s.text) + "}"
		default:
			return "{" + placeholderNames[s.kind-ip] + "}"
		}
	}
	return ""
}

// placeholderHelp ends every placeholder error.
const placeholderHelp = "The placeholders are {ip}, {jail}, {failures}, {time}, {ban_time}, {ban_count}, {matches}, {family} and {F-NAME} for a captured field; write {{ and }} for literal braces"

// parseTemplate splits one argv element into literal text and
// placeholders. A placeholder is '{', a name that starts with a letter and
// holds letters, digits, '_', '-' or '.', and '}'. "{{" and "}}" are
// literal braces; any other '{' or '}' (as in nft's "{ {ip} }" or a JSON
// body) is literal too. A '{' followed by a letter must complete a known
// placeholder.
func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, segment{kind: literal, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '{' && i+1 < len(s) && isLetter(s[i+1]):
			j := i + 1
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			if j == len(s) || s[j] != '}' {
				return template{}, fmt.Errorf("unterminated placeholder %q: a '{' followed by a letter starts a placeholder, which ends with '}'. %s", s[i:j], placeholderHelp)
			}
			seg, err := lookupPlaceholder(s[i+1 : j])
			if err != nil {
				return template{}, err
			}
			flush()
			t.segs = append(t.segs, seg)
			i = j + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return t, nil
}

func lookupPlaceholder(name string) (segment, error) {
	if p, ok := placeholderByName[name]; ok {
		return segment{kind: p}, nil
	}
	if key, ok := strings.CutPrefix(name, capturePrefix); ok && key != "" {
		return segment{kind: capture, text: strings.ToLower(key)}, nil
	}
	return segment{}, fmt.Errorf("unknown placeholder %q%s %s", "{"+name+"}", didYouMean(name), placeholderHelp)
}

// didYouMean returns the end of the first sentence of an unknown
// placeholder error: a hint for a misspelt name, or ".".
func didYouMean(name string) string {
	lower := strings.ToLower(name)
	want := ""
	switch {
	case aliases[lower] != "":
		want = "{" + aliases[lower] + "}"
	case len(lower) > 2 && (strings.HasPrefix(lower, "f-") || strings.HasPrefix(lower, "f_")):
		want = "{" + capturePrefix + strings.ToUpper(name[2:]) + "}"
	default:
		if s := sinkfmt.Suggest(name, placeholderNames); s != "" {
			want = "{" + s + "}"
		}
	}
	if want == "" {
		return "."
	}
	return fmt.Sprintf("; did you mean %q?", want)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isNameByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// argv is a parsed command line.
type argv []template

// Errors about the shape of a command line.
var (
	errEmptyArgv   = errors.New("the command is empty; write the program and its arguments as a list, e.g. [\"/usr/sbin/nft\", \"add\", \"element\", …]")
	errEmptyArgv0  = errors.New("the program name (first element) is empty")
	errArgv0Holder = errors.New("the program name (first element) must be literal text, without placeholders")
)

// parseArgv parses every element of an argv attribute. With allowAction
// false (start and stop, which run without an action) only literal text
// and braces are allowed. Errors are *confval.AttrError values for attr,
// indexed by element; every bad element is reported.
func parseArgv(attr string, elems []string, allowAction bool) (argv, []error) {
	if len(elems) == 0 {
		return nil, []error{attrErr(attr, -1, errEmptyArgv)}
	}
	out := make(argv, len(elems))
	var errs []error
	for i, e := range elems {
		if strings.IndexByte(e, 0) >= 0 {
			errs = append(errs, attrErr(attr, i, errors.New("the argument holds a NUL byte, which no program argument can carry")))
			continue
		}
		t, err := parseTemplate(e)
		if err != nil {
			errs = append(errs, attrErr(attr, i, err))
			continue
		}
		switch {
		case i == 0 && e == "":
			errs = append(errs, attrErr(attr, i, errEmptyArgv0))
			continue
		case i == 0 && !t.isLiteral():
			errs = append(errs, attrErr(attr, i, errArgv0Holder))
			continue
		case !allowAction && !t.isLiteral():
			errs = append(errs, attrErr(attr, i, fmt.Errorf("%s is not available in %s, which runs once without an action: only literal text is allowed there (with {{ and }} for braces)", t.firstPlaceholder(), attr)))
			continue
		}
		out[i] = t
	}
	return out, errs
}

// expand returns the command line for ev. Every element expands on its own
// and placeholder values are pasted in once, never parsed again: a value
// holding blanks, quotes, ';', '$(…)' or braces stays inside its one
// argument. NUL bytes, which no argument can carry, become U+FFFD.
func (a argv) expand(ev *engine.Event) []string {
	out := make([]string, len(a))
	var b strings.Builder
	for i, t := range a {
		if len(t.segs) == 1 && t.segs[0].kind == literal {
			out[i] = t.segs[0].text
			continue
		}
		b.Reset()
		for _, s := range t.segs {
			if s.kind == literal {
				b.WriteString(s.text)
				continue
			}
			writeValue(&b, value(s, ev))
		}
		out[i] = b.String()
	}
	return out
}

// writeValue writes v, with NUL bytes replaced.
func writeValue(b *strings.Builder, v string) {
	for {
		i := strings.IndexByte(v, 0)
		if i < 0 {
			b.WriteString(v)
			return
		}
		b.WriteString(v[:i])
		b.WriteRune('\uFFFD')
		v = v[i+1:]
	}
}

// value is what placeholder s stands for in ev.
func value(s segment, ev *engine.Event) string {
	a := ev.Action
	if a == nil {
		return ""
	}
	switch s.kind {
	case ip:
		return sinkfmt.Host(a)
	case jail:
		return a.Jail
	case failures:
		return strconv.Itoa(a.Failures)
	case eventAt:
		return string(sinkfmt.AppendTime(nil, sinkfmt.EventTime(*ev)))
	case banTime:
		return strconv.FormatInt(sinkfmt.Seconds(a.BanTime), 10)
	case banCount:
		return strconv.Itoa(a.BanCount)
	case matches:
		return strings.Join(a.Matches, "\n")
	case family:
		switch {
		case a.Host.Is4():
			return "inet4"
		case a.Host.Is6():
			return "inet6"
		}
		return ""
	case capture:
		return a.Fields[s.text]
	}
	return ""
}
