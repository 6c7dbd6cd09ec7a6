package fail2ban_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// pyParse parses one line of `fail2ban-client -d` output: a Python repr of
// a list holding strings, ints, floats, True/False/None and nested lists.
// Strings come back as string, ints as int64, floats as float64, booleans as
// bool, None as nil, lists as []any.
func pyParse(s string) (any, error) {
	p := &pyParser{s: s}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("trailing text at %d: %q", p.i, p.s[p.i:])
	}
	return v, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *pyParser) value() (any, error) {
	p.ws()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '[' || c == '(':
		closeCh := byte(']')
		if c == '(' {
			closeCh = ')'
		}
		p.i++
		list := []any{}
		for {
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == closeCh {
				p.i++
				return list, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == closeCh {
				p.i++
				return list, nil
			}
			return nil, fmt.Errorf("expected ',' or %q at %d", closeCh, p.i)
		}
	case c == '\'' || c == '"':
		return p.str(c)
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case strings.HasPrefix(p.s[p.i:], "None"):
		p.i += 4
		return nil, nil
	case c == '-' || c == '+' || c >= '0' && c <= '9':
		j := p.i + 1
		for j < len(p.s) && strings.IndexByte("0123456789.eE+-_", p.s[j]) >= 0 {
			j++
		}
		t := p.s[p.i:j]
		p.i = j
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", t)
		}
		return f, nil
	}
	return nil, fmt.Errorf("unexpected %q at %d", p.s[p.i], p.i)
}

func (p *pyParser) str(q byte) (string, error) {
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("dangling backslash")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if p.i+n > len(p.s) {
					return "", fmt.Errorf("short \\%c escape", e)
				}
				r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
				if err != nil {
					return "", err
				}
				b.WriteRune(rune(r))
				p.i += n
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += n
		}
	}
	return "", fmt.Errorf("unterminated string")
}

func TestPyParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`['set', 'sshd', 'maxretry', 5]`, `[]interface {}{"set", "sshd", "maxretry", 5}`},
		{`['multi-set', 'x', 'action', 'a', [['actionban', "it's \\n"], ['norestored', True], ['k', None]]]`,
			`[]interface {}{"multi-set", "x", "action", "a", []interface {}{[]interface {}{"actionban", "it's \\n"}, []interface {}{"norestored", true}, []interface {}{"k", interface {}(nil)}}}`},
		{`['a\nb', '\x41\u00e9', "\\d+"]`, `[]interface {}{"a\nb", "Aé", "\\d+"}`},
		{`[]`, `[]interface {}{}`},
	} {
		v, err := pyParse(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := fmt.Sprintf("%#v", v); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`['a'`, `['a' 'b']`, `[x]`, `'abc`} {
		if _, err := pyParse(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
