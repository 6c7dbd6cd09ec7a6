package fail2ban

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// timeUnits are MyTime._str2sec_parts in their order: the alternatives of
// each unit's regex in Python's matching order, and the multiplier text.
var timeUnits = []struct {
	alts []string
	mul  string
}{
	{[]string{"days", "day", "da", "dd", "d"}, "*86400"},
	{[]string{"weeks", "week", "wee", "we", "ww", "w"}, "*604800"},
	{[]string{"months", "month", "mon", "mo"}, "*2629800.0"},
	{[]string{"years", "year", "yea", "ye", "yy", "y"}, "*31557600.0"},
	{[]string{"seconds", "second", "sec", "se", "ss", "s"}, "*1"},
	{[]string{"minutes", "minute", "min", "mi", "mm", "m"}, "*60"},
	{[]string{"hours", "hour", "hou", "ho", "hh", "h"}, "*3600"},
}

// Seconds converts a fail2ban time value to seconds exactly as
// MyTime.str2seconds does, but without Python's eval: "600", "10m",
// "1h30m", "1d 2h", "1w", "1mo" (2629800 s), "1y" (31557600 s), "-1",
// "2.5h", "1year-6mo", "2*(1h+5m)". Units may be written out ("3 hours",
// "1 minute") and are case-insensitive; blanks between two numbered parts
// add them. The rewritten text must be an arithmetic expression (numbers,
// + - * / // % **, parentheses); anything else fails with ErrTimeValue.
func Seconds(s string) (float64, error) {
	expr := timeExpr(s)
	v, err := evalArith(expr)
	if err != nil {
		return 0, fmt.Errorf("%w: %s (as %q): %v", ErrTimeValue, py.Repr(s), expr, err)
	}
	return v, nil
}

// timeExpr applies str2seconds' three rewrites.
func timeExpr(s string) string {
	in := []rune(s)
	// (?i)(?<=[a-z])(\d) -> " \1"
	var b []rune
	for i, r := range in {
		if i > 0 && py.IsDigit(r) && isASCIILetter(in[i-1]) {
			b = append(b, ' ')
		}
		b = append(b, r)
	}
	in = b
	// (?i)(?<=[\d\s])(alts)\b -> mul
	for _, u := range timeUnits {
		var out []rune
		for i := 0; i < len(in); {
			if i > 0 && (py.IsDigit(in[i-1]) || py.IsSpace(in[i-1])) {
				if n := matchUnit(in, i, u.alts); n > 0 {
					out = append(out, []rune(u.mul)...)
					i += n
					continue
				}
			}
			out = append(out, in[i])
			i++
		}
		in = out
	}
	// (\d)\s+(\d) -> \1+\2
	var out []rune
	for i := 0; i < len(in); {
		if py.IsDigit(in[i]) {
			j := i + 1
			for j < len(in) && py.IsSpace(in[j]) {
				j++
			}
			if j > i+1 && j < len(in) && py.IsDigit(in[j]) {
				out = append(out, in[i], '+', in[j])
				i = j + 1
				continue
			}
		}
		out = append(out, in[i])
		i++
	}
	return string(out)
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// matchUnit returns the length of the first alternative matching at i
// case-insensitively and followed by a word boundary, or 0.
func matchUnit(in []rune, i int, alts []string) int {
	for _, a := range alts {
		n := len(a)
		if i+n > len(in) {
			continue
		}
		ok := true
		for k := 0; k < n; k++ {
			if unicode.ToLower(in[i+k]) != rune(a[k]) {
				ok = false
				break
			}
		}
		if ok && (i+n == len(in) || !py.IsWord(in[i+n])) {
			return n
		}
	}
	return 0
}

// num is a Python int or float.
type num struct {
	isInt bool
	i     int64
	f     float64
}

func (n num) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

func intNum(i int64) num     { return num{isInt: true, i: i} }
func floatNum(f float64) num { return num{f: f} }

type arith struct {
	toks []string
	pos  int
}

// evalArith evaluates a Python arithmetic expression.
func evalArith(s string) (float64, error) {
	toks, err := tokenizeArith(s)
	if err != nil {
		return 0, err
	}
	if len(toks) == 0 {
		return 0, fmt.Errorf("empty expression")
	}
	p := &arith{toks: toks}
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	if p.pos != len(p.toks) {
		return 0, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return v.float(), nil
}

func tokenizeArith(s string) ([]string, error) {
	var toks []string
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			i++
		case c == '*' || c == '/':
			if i+1 < len(r) && r[i+1] == c {
				toks = append(toks, string([]rune{c, c}))
				i += 2
			} else {
				toks = append(toks, string(c))
				i++
			}
		case strings.ContainsRune("+-%()~", c):
			toks = append(toks, string(c))
			i++
		case '0' <= c && c <= '9' || c == '.':
			j := i
			for j < len(r) && ('0' <= r[j] && r[j] <= '9' || r[j] == '.' || r[j] == '_' ||
				r[j] == 'e' || r[j] == 'E' || (r[j] == '+' || r[j] == '-') && j > i && (r[j-1] == 'e' || r[j-1] == 'E')) {
				j++
			}
			toks = append(toks, string(r[i:j]))
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q", string(c))
		}
	}
	return toks, nil
}

func (p *arith) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *arith) expr() (num, error) {
	l, err := p.term()
	if err != nil {
		return l, err
	}
	for op := p.peek(); op == "+" || op == "-"; op = p.peek() {
		p.pos++
		r, err := p.term()
		if err != nil {
			return r, err
		}
		if l, err = binop(op, l, r); err != nil {
			return l, err
		}
	}
	return l, nil
}

func (p *arith) term() (num, error) {
	l, err := p.factor()
	if err != nil {
		return l, err
	}
	for op := p.peek(); op == "*" || op == "/" || op == "//" || op == "%"; op = p.peek() {
		p.pos++
		r, err := p.factor()
		if err != nil {
			return r, err
		}
		if l, err = binop(op, l, r); err != nil {
			return l, err
		}
	}
	return l, nil
}

func (p *arith) factor() (num, error) {
	switch op := p.peek(); op {
	case "+", "-", "~":
		p.pos++
		v, err := p.factor()
		if err != nil {
			return v, err
		}
		switch {
		case op == "+":
			return v, nil
		case op == "-" && v.isInt:
			return intNum(-v.i), nil
		case op == "-":
			return floatNum(-v.f), nil
		case v.isInt:
			return intNum(^v.i), nil
		}
		return v, fmt.Errorf("bad operand type for unary ~: 'float'")
	}
	return p.power()
}

func (p *arith) power() (num, error) {
	b, err := p.atom()
	if err != nil {
		return b, err
	}
	if p.peek() == "**" {
		p.pos++
		e, err := p.factor()
		if err != nil {
			return e, err
		}
		return binop("**", b, e)
	}
	return b, nil
}

func (p *arith) atom() (num, error) {
	t := p.peek()
	switch {
	case t == "":
		return num{}, fmt.Errorf("unexpected end of expression")
	case t == "(":
		p.pos++
		v, err := p.expr()
		if err != nil {
			return v, err
		}
		if p.peek() != ")" {
			return v, fmt.Errorf("missing ')'")
		}
		p.pos++
		return v, nil
	case t[0] == '.' || '0' <= t[0] && t[0] <= '9':
		p.pos++
		return parseNumber(t)
	}
	return num{}, fmt.Errorf("unexpected %q", t)
}

// parseNumber parses a Python int or float literal.
func parseNumber(t string) (num, error) {
	if strings.Contains(t, "__") || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") {
		return num{}, fmt.Errorf("invalid number %q", t)
	}
	if !strings.ContainsAny(t, ".eE") {
		if len(t) > 1 && t[0] == '0' && strings.Trim(t, "0_") != "" {
			return num{}, fmt.Errorf("leading zeros in decimal integer %q", t)
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
			if ferr != nil {
				return num{}, fmt.Errorf("invalid number %q", t)
			}
			return floatNum(f), nil
		}
		return intNum(i), nil
	}
	for _, bad := range []string{"_.", "._", "_e", "e_", "_E", "E_"} {
		if strings.Contains(t, bad) {
			return num{}, fmt.Errorf("invalid number %q", t)
		}
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if err != nil && !isRangeErr(err) {
		return num{}, fmt.Errorf("invalid number %q", t)
	}
	return floatNum(f), nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func binop(op string, l, r num) (num, error) {
	if l.isInt && r.isInt {
		a, b := l.i, r.i
		switch op {
		case "+":
			if s := a + b; (s > a) == (b > 0) {
				return intNum(s), nil
			}
		case "-":
			if s := a - b; (s < a) == (b > 0) {
				return intNum(s), nil
			}
		case "*":
			if a == 0 || b == 0 {
				return intNum(0), nil
			}
			if s := a * b; s/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64) {
				return intNum(s), nil
			}
		case "//", "%":
			if b == 0 {
				return num{}, fmt.Errorf("division by zero")
			}
			q, m := a/b, a%b
			if m != 0 && (m < 0) != (b < 0) {
				q--
				m += b
			}
			if op == "//" {
				return intNum(q), nil
			}
			return intNum(m), nil
		case "**":
			switch {
			case b < 0:
			case a == 0 && b > 0:
				return intNum(0), nil
			case a == 1 || b == 0:
				return intNum(1), nil
			case a == -1 && b%2 == 0:
				return intNum(1), nil
			case a == -1:
				return intNum(-1), nil
			default:
				res := int64(1)
				ok := true
				for k := int64(0); k < b && ok; k++ {
					n := res * a
					if a != 0 && n/a != res {
						ok = false
					}
					res = n
				}
				if ok {
					return intNum(res), nil
				}
			}
		}
	}
	a, b := l.float(), r.float()
	switch op {
	case "+":
		return floatNum(a + b), nil
	case "-":
		return floatNum(a - b), nil
	case "*":
		return floatNum(a * b), nil
	case "/":
		if b == 0 {
			return num{}, fmt.Errorf("division by zero")
		}
		return floatNum(a / b), nil
	case "//", "%":
		if b == 0 {
			return num{}, fmt.Errorf("float division by zero")
		}
		m := math.Mod(a, b)
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		if op == "%" {
			return floatNum(m), nil
		}
		return floatNum(math.Floor((a - m) / b)), nil
	case "**":
		if a == 0 && b < 0 {
			return num{}, fmt.Errorf("0.0 cannot be raised to a negative power")
		}
		return floatNum(math.Pow(a, b)), nil
	}
	return num{}, fmt.Errorf("unknown operator %q", op)
}
