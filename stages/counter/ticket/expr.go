package ticket

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// This file is a small, safe evaluator for the arithmetic subset of Python
// that fail2ban's bantime.formula and bantime.factor are written in. It is
// not a general eval: an expression can only read the variables its caller
// names (ban.Time, ban.Count, banFactor) and call a fixed set of pure
// numeric functions. Numbers follow Python 3's rules where a ban-time
// formula can tell the difference: ints and floats are distinct (`/` always
// gives a float, `<<` wants ints, int() truncates, round() rounds half to
// even), bools are ints in arithmetic, comparisons chain, and `x if c else
// y`, `and` and `or` evaluate lazily. Python's ints have no size limit;
// here they are 64-bit and an overflow is an error.

// numKind is the Python type of a number.
type numKind uint8

// The kinds of num.
const (
	kBool numKind = iota
	kInt
	kFloat
)

// num is one Python number: a bool, an int or a float.
type num struct {
	k numKind
	i int64   // kBool (0 or 1) and kInt
	f float64 // kFloat
}

// intNum, floatNum and boolNum make a Python int, float and bool.
func intNum(i int64) num     { return num{k: kInt, i: i} }
func floatNum(f float64) num { return num{k: kFloat, f: f} }
func boolNum(b bool) num {
	if b {
		return num{k: kBool, i: 1}
	}
	return num{k: kBool}
}

// integral reports whether n is an int or a bool.
func (n num) integral() bool { return n.k != kFloat }

// float is n as a float64.
func (n num) float() float64 {
	if n.k == kFloat {
		return n.f
	}
	return float64(n.i)
}

// truth is Python's truth value of n.
func (n num) truth() bool {
	if n.k == kFloat {
		return n.f != 0
	}
	return n.i != 0
}

// typeName is the name of n's Python type, for error messages.
func (n num) typeName() string {
	switch n.k {
	case kBool:
		return "bool"
	case kInt:
		return "int"
	}
	return "float"
}

// String writes n as Python's repr does for the common cases.
func (n num) String() string {
	switch n.k {
	case kBool:
		if n.i != 0 {
			return "True"
		}
		return "False"
	case kInt:
		return strconv.FormatInt(n.i, 10)
	}
	switch {
	case math.IsInf(n.f, 1):
		return "inf"
	case math.IsInf(n.f, -1):
		return "-inf"
	case math.IsNaN(n.f):
		return "nan"
	}
	s := strconv.FormatFloat(n.f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// Errors of evaluation, worded as Python words them.
var (
	errZeroDiv    = errors.New("division by zero")
	errOverflow   = errors.New("integer overflow (f2b's ints are 64-bit)")
	errNegShift   = errors.New("negative shift count")
	errMathDomain = errors.New("math domain error")
	errMathRange  = errors.New("math range error")
)

// program is a parsed expression and the names of the variables it reads.
type program struct {
	src  string
	root node
}

// eval evaluates p with vars[i] the value of the i-th variable given to
// parseExpr.
func (p *program) eval(vars []num) (num, error) { return p.root.eval(vars) }

// node is one node of the expression tree.
type node interface {
	eval(vars []num) (num, error)
}

// The nodes of the tree.
type (
	// litNode is a number literal or a constant.
	litNode struct{ v num }
	// varNode reads a variable.
	varNode struct{ idx int }
	// unaryNode is -x, +x or ~x.
	unaryNode struct {
		op byte
		x  node
	}
	// binNode is x op y for an arithmetic or bitwise op.
	binNode struct {
		op   string
		x, y node
	}
	// cmpNode is a chain a op1 b op2 c ...
	cmpNode struct {
		ops   []string
		terms []node
	}
	// boolNode is x and y and ... (or x or y or ...).
	boolNode struct {
		and bool
		xs  []node
	}
	// notNode is not x.
	notNode struct{ x node }
	// condNode is yes if cond else no.
	condNode struct{ cond, yes, no node }
	// callNode calls a function.
	callNode struct {
		fn   *function
		args []node
	}
)

// eval implements node for each node type.
func (n litNode) eval([]num) (num, error)      { return n.v, nil }
func (n varNode) eval(vars []num) (num, error) { return vars[n.idx], nil }
func (n notNode) eval(vars []num) (num, error) {
	v, err := n.x.eval(vars)
	return boolNum(!v.truth()), err
}
func (n unaryNode) eval(vars []num) (num, error) {
	v, err := n.x.eval(vars)
	return unary(n.op, v, err)
}

func (n binNode) eval(vars []num) (num, error) {
	x, err := n.x.eval(vars)
	if err != nil {
		return num{}, err
	}
	y, err := n.y.eval(vars)
	if err != nil {
		return num{}, err
	}
	return binary(n.op, x, y)
}

func (n cmpNode) eval(vars []num) (num, error) {
	x, err := n.terms[0].eval(vars)
	if err != nil {
		return num{}, err
	}
	for i, op := range n.ops {
		y, err := n.terms[i+1].eval(vars)
		if err != nil {
			return num{}, err
		}
		if !compare(op, x, y) {
			return boolNum(false), nil
		}
		x = y
	}
	return boolNum(true), nil
}

func (n boolNode) eval(vars []num) (num, error) {
	var v num
	for _, x := range n.xs {
		var err error
		if v, err = x.eval(vars); err != nil {
			return num{}, err
		}
		if v.truth() != n.and {
			return v, nil // and: first falsy; or: first truthy
		}
	}
	return v, nil
}

func (n condNode) eval(vars []num) (num, error) {
	c, err := n.cond.eval(vars)
	if err != nil {
		return num{}, err
	}
	if c.truth() {
		return n.yes.eval(vars)
	}
	return n.no.eval(vars)
}

func (n callNode) eval(vars []num) (num, error) {
	args := make([]num, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(vars)
		if err != nil {
			return num{}, err
		}
		args[i] = v
	}
	v, err := n.fn.call(args)
	if err != nil {
		return num{}, fmt.Errorf("%s(): %w", n.fn.name, err)
	}
	return v, nil
}

// unary applies -, + or ~.
func unary(op byte, v num, err error) (num, error) {
	if err != nil {
		return num{}, err
	}
	switch op {
	case '+':
		if v.k == kBool {
			return intNum(v.i), nil
		}
		return v, nil
	case '-':
		if v.k == kFloat {
			return floatNum(-v.f), nil
		}
		if v.i == math.MinInt64 {
			return num{}, errOverflow
		}
		return intNum(-v.i), nil
	}
	// '~'
	if v.k == kFloat {
		return num{}, errors.New("bad operand type for unary ~: 'float'")
	}
	return intNum(^v.i), nil
}

// binary applies an arithmetic or bitwise operator with Python's rules.
func binary(op string, x, y num) (num, error) {
	switch op {
	case "<<", ">>", "&", "|", "^":
		if !x.integral() || !y.integral() {
			return num{}, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, x.typeName(), y.typeName())
		}
		return bitwise(op, x, y)
	case "/":
		if y.float() == 0 {
			return num{}, errZeroDiv
		}
		return floatNum(x.float() / y.float()), nil
	}
	if x.integral() && y.integral() {
		return intArith(op, x.i, y.i)
	}
	return floatArith(op, x.float(), y.float())
}

// bitwise applies <<, >>, &, | or ^ to two ints (or bools).
func bitwise(op string, x, y num) (num, error) {
	a, b := x.i, y.i
	switch op {
	case "<<":
		if b < 0 {
			return num{}, errNegShift
		}
		if a == 0 {
			return intNum(0), nil
		}
		if b >= 63 || (a<<b)>>b != a {
			return num{}, errOverflow
		}
		return intNum(a << b), nil
	case ">>":
		if b < 0 {
			return num{}, errNegShift
		}
		return intNum(a >> min(b, 63)), nil
	}
	var r int64
	switch op {
	case "&":
		r = a & b
	case "|":
		r = a | b
	default:
		r = a ^ b
	}
	if x.k == kBool && y.k == kBool {
		return boolNum(r != 0), nil
	}
	return intNum(r), nil
}

// intArith applies +, -, *, //, % or ** to two ints, as Python does,
// with an error where Python would need a big int.
func intArith(op string, a, b int64) (num, error) {
	switch op {
	case "+":
		s := a + b
		if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
			return num{}, errOverflow
		}
		return intNum(s), nil
	case "-":
		s := a - b
		if (a >= 0 && b < 0 && s < 0) || (a < 0 && b > 0 && s >= 0) {
			return num{}, errOverflow
		}
		return intNum(s), nil
	case "*":
		if a == 0 || b == 0 {
			return intNum(0), nil
		}
		p := a * b
		if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
			return num{}, errOverflow
		}
		return intNum(p), nil
	case "//":
		if b == 0 {
			return num{}, errors.New("integer division or modulo by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return num{}, errOverflow
		}
		q := a / b
		if a%b != 0 && (a < 0) != (b < 0) {
			q--
		}
		return intNum(q), nil
	case "%":
		if b == 0 {
			return num{}, errors.New("integer division or modulo by zero")
		}
		if b == -1 {
			return intNum(0), nil
		}
		r := a % b
		if r != 0 && (r < 0) != (b < 0) {
			r += b
		}
		return intNum(r), nil
	}
	// "**"
	if b < 0 {
		if a == 0 {
			return num{}, errors.New("0.0 cannot be raised to a negative power")
		}
		return floatNum(math.Pow(float64(a), float64(b))), nil
	}
	r := int64(1)
	base := a
	for e := b; e > 0; e >>= 1 {
		if e&1 == 1 {
			v, err := intArith("*", r, base)
			if err != nil {
				return num{}, err
			}
			r = v.i
		}
		if e > 1 {
			v, err := intArith("*", base, base)
			if err != nil {
				return num{}, err
			}
			base = v.i
		}
	}
	return intNum(r), nil
}

// floatArith applies +, -, *, //, % or ** to two floats, raising where
// Python raises.
func floatArith(op string, a, b float64) (num, error) {
	switch op {
	case "+":
		return floatNum(a + b), nil
	case "-":
		return floatNum(a - b), nil
	case "*":
		return floatNum(a * b), nil
	case "//":
		if b == 0 {
			return num{}, errors.New("float floor division by zero")
		}
		return floatNum(pyFloorDiv(a, b)), nil
	case "%":
		if b == 0 {
			return num{}, errors.New("float modulo")
		}
		return floatNum(pyMod(a, b)), nil
	}
	// "**"
	if a == 0 && b < 0 {
		return num{}, errors.New("0.0 cannot be raised to a negative power")
	}
	if a < 0 && b != math.Trunc(b) && !math.IsInf(b, 0) {
		return num{}, errors.New("negative number cannot be raised to a fractional power (Python gives a complex number)")
	}
	r := math.Pow(a, b)
	if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
		return num{}, errors.New("numerical result out of range")
	}
	return floatNum(r), nil
}

// pyMod is Python's float %: the result has the sign of b.
func pyMod(a, b float64) float64 {
	m := math.Mod(a, b)
	if m != 0 {
		if (b < 0) != (m < 0) {
			m += b
		}
	} else {
		m = math.Copysign(0, b)
	}
	return m
}

// pyFloorDiv is Python's float //.
func pyFloorDiv(a, b float64) float64 {
	m := math.Mod(a, b)
	div := (a - m) / b
	if m != 0 && (b < 0) != (m < 0) {
		div--
	}
	if div == 0 {
		return math.Copysign(0, a/b)
	}
	f := math.Floor(div)
	if div-f > 0.5 {
		f++
	}
	return f
}

// compare applies a comparison operator.
func compare(op string, x, y num) bool {
	var c int
	if x.integral() && y.integral() {
		switch {
		case x.i < y.i:
			c = -1
		case x.i > y.i:
			c = 1
		}
	} else {
		a, b := x.float(), y.float()
		if math.IsNaN(a) || math.IsNaN(b) {
			return op == "!="
		}
		switch {
		case a < b:
			c = -1
		case a > b:
			c = 1
		}
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "==":
		return c == 0
	}
	return c != 0 // "!="
}

// function is a callable name.
type function struct {
	name    string
	minArgs int
	maxArgs int // -1: any number
	call    func(args []num) (num, error)
}

// mathFloat wraps a math function of floats that Python raises on (domain
// or range errors) instead of returning NaN or Inf.
func mathFloat(f func(float64) float64) func([]num) (num, error) {
	return func(args []num) (num, error) {
		x := args[0].float()
		r := f(x)
		switch {
		case math.IsNaN(r) && !math.IsNaN(x):
			return num{}, errMathDomain
		case math.IsInf(r, 0) && !math.IsInf(x, 0):
			if x == 0 { // log(0)
				return num{}, errMathDomain
			}
			return num{}, errMathRange
		}
		return floatNum(r), nil
	}
}

// toInt is Python's int(float): truncation toward zero.
func toInt(f float64) (num, error) {
	switch {
	case math.IsNaN(f):
		return num{}, errors.New("cannot convert float NaN to integer")
	case math.IsInf(f, 0):
		return num{}, errors.New("cannot convert float infinity to integer")
	}
	t := math.Trunc(f)
	if t >= 1<<63 || t < -(1<<63) {
		return num{}, errOverflow
	}
	return intNum(int64(t)), nil
}

// intOf is Python's int() of a number.
func intOf(x num) (num, error) {
	if x.integral() {
		return intNum(x.i), nil
	}
	return toInt(x.f)
}

// roundOf is Python's round(x[, n]).
func roundOf(args []num) (num, error) {
	x := args[0]
	if len(args) == 1 {
		if x.integral() {
			return intNum(x.i), nil
		}
		return toInt(math.RoundToEven(x.f))
	}
	if !args[1].integral() {
		return num{}, errors.New("'float' object cannot be interpreted as an integer")
	}
	n := args[1].i
	if x.integral() {
		if n >= 0 {
			return intNum(x.i), nil
		}
		if n < -18 {
			return intNum(0), nil
		}
		p := int64(math.Pow10(int(-n)))
		q, r := x.i/p, x.i%p
		if r < 0 {
			q, r = q-1, r+p
		}
		if 2*r > p || (2*r == p && q%2 != 0) {
			q++
		}
		return intArith("*", q, p)
	}
	f := x.f
	if math.IsNaN(f) || math.IsInf(f, 0) || n > 308 {
		return floatNum(f), nil
	}
	if n >= 0 {
		// Correctly rounded decimal, half to even on exact ties: what
		// Python's float round does.
		r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(n), 64), 64)
		if err != nil {
			return num{}, err
		}
		return floatNum(r), nil
	}
	if n < -308 {
		return floatNum(math.Copysign(0, f)), nil
	}
	p := math.Pow10(int(-n))
	return floatNum(math.RoundToEven(f/p) * p), nil
}

// pick is Python's min (less) or max (!less) of two or more numbers: the
// first extreme one wins ties.
func pick(less bool) func([]num) (num, error) {
	return func(args []num) (num, error) {
		best := args[0]
		for _, a := range args[1:] {
			if less && compare("<", a, best) || !less && compare(">", a, best) {
				best = a
			}
		}
		return best, nil
	}
}

// functions are the callables an expression may use: the builtins and the
// math functions fail2ban's documentation and jail.conf use, and a few more
// of the same kind.
var functions = map[string]*function{}

// init fills functions.
func init() {
	add := func(name string, minArgs, maxArgs int, call func([]num) (num, error)) {
		functions[name] = &function{name: name, minArgs: minArgs, maxArgs: maxArgs, call: call}
	}
	add("min", 2, -1, pick(true))
	add("max", 2, -1, pick(false))
	add("int", 1, 1, func(a []num) (num, error) { return intOf(a[0]) })
	add("float", 1, 1, func(a []num) (num, error) { return floatNum(a[0].float()), nil })
	add("round", 1, 2, roundOf)
	add("abs", 1, 1, func(a []num) (num, error) {
		x := a[0]
		if x.k == kFloat {
			return floatNum(math.Abs(x.f)), nil
		}
		if x.i < 0 {
			return unary('-', x, nil)
		}
		return intNum(x.i), nil
	})
	add("pow", 2, 2, func(a []num) (num, error) { return binary("**", a[0], a[1]) })
	add("bool", 1, 1, func(a []num) (num, error) { return boolNum(a[0].truth()), nil })
	add("math.exp", 1, 1, mathFloat(math.Exp))
	add("math.sqrt", 1, 1, mathFloat(math.Sqrt))
	add("math.log2", 1, 1, mathFloat(math.Log2))
	add("math.log10", 1, 1, mathFloat(math.Log10))
	add("math.log", 1, 2, func(a []num) (num, error) {
		x, err := mathFloat(math.Log)(a[:1])
		if err != nil || len(a) == 1 {
			return x, err
		}
		b, err := mathFloat(math.Log)(a[1:])
		if err != nil {
			return num{}, err
		}
		if b.f == 0 {
			return num{}, errZeroDiv
		}
		return floatNum(x.f / b.f), nil
	})
	add("math.pow", 2, 2, func(a []num) (num, error) {
		x, y := a[0].float(), a[1].float()
		r := math.Pow(x, y)
		switch {
		case x == 0 && y < 0, math.IsNaN(r) && !math.IsNaN(x) && !math.IsNaN(y):
			return num{}, errMathDomain
		case math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0):
			return num{}, errMathRange
		}
		return floatNum(r), nil
	})
	floatToInt := func(f func(float64) float64) func([]num) (num, error) {
		return func(a []num) (num, error) {
			if a[0].integral() {
				return intNum(a[0].i), nil
			}
			return toInt(f(a[0].f))
		}
	}
	add("math.floor", 1, 1, floatToInt(math.Floor))
	add("math.ceil", 1, 1, floatToInt(math.Ceil))
	add("math.trunc", 1, 1, floatToInt(math.Trunc))
}

// constants are the names an expression may read besides its variables.
var constants = map[string]num{
	"True":     boolNum(true),
	"False":    boolNum(false),
	"math.e":   floatNum(math.E),
	"math.pi":  floatNum(math.Pi),
	"math.tau": floatNum(2 * math.Pi),
	"math.inf": floatNum(math.Inf(1)),
}

// ExprError is a syntax or name error in an expression, at a byte offset.
type ExprError struct {
	Pos int // byte offset in the expression
	Msg string
}

// Error implements error.
func (e *ExprError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

// token kinds.
type tokKind uint8

// The token kinds.
const (
	tEOF tokKind = iota
	tNum
	tName // a possibly dotted name: ban.Time, math.exp
	tOp   // operators and punctuation
)

// token is one lexical token at byte offset pos.
type token struct {
	kind tokKind
	text string
	pos  int
	v    num // tNum
}

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			t, n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case isNameStart(c):
			j := i
			for {
				for j < len(src) && isNameChar(src[j]) {
					j++
				}
				// A dot joins names: ban.Time, math.exp.
				k := j
				for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
					k++
				}
				if k < len(src) && src[k] == '.' {
					k++
					for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
						k++
					}
					if k < len(src) && isNameStart(src[k]) {
						j = k
						continue
					}
					return nil, &ExprError{Pos: k, Msg: "expected a name after '.'"}
				}
				break
			}
			name := strings.Map(func(r rune) rune {
				if r == ' ' || r == '\t' {
					return -1
				}
				return r
			}, src[i:j])
			toks = append(toks, token{kind: tName, text: name, pos: i})
			i = j
		default:
			op := ""
			for _, o := range []string{"**", "//", "<<", ">>", "<=", ">=", "==", "!="} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				if !strings.ContainsRune("+-*/%()<>,&|^~", rune(c)) {
					return nil, &ExprError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", src[i:i+1])}
				}
				op = src[i : i+1]
			}
			toks = append(toks, token{kind: tOp, text: op, pos: i})
			i += len(op)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// isDigit, isNameStart and isNameChar classify ASCII bytes.
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || isDigit(c) }

// lexNumber reads a Python int or float literal at src[i:].
func lexNumber(src string, i int) (token, int, error) {
	j := i
	bad := func(msg string) (token, int, error) {
		return token{}, 0, &ExprError{Pos: i, Msg: msg}
	}
	if src[j] == '0' && j+1 < len(src) && strings.ContainsRune("xXoObB", rune(src[j+1])) {
		j += 2
		for j < len(src) && (isNameChar(src[j])) {
			j++
		}
		v, err := strconv.ParseInt(src[i:j], 0, 64)
		if err != nil {
			return bad(fmt.Sprintf("invalid integer literal %q", src[i:j]))
		}
		return token{kind: tNum, text: src[i:j], pos: i, v: intNum(v)}, j, nil
	}
	isFloat := false
	for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
		j++
	}
	if j < len(src) && src[j] == '.' {
		isFloat = true
		j++
		for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			isFloat = true
			j = k
			for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
				j++
			}
		}
	}
	if j < len(src) && isNameChar(src[j]) {
		return bad(fmt.Sprintf("invalid number literal %q", src[i:j+1]))
	}
	text := src[i:j]
	clean := strings.ReplaceAll(text, "_", "")
	if strings.Contains(text, "__") || strings.HasSuffix(text, "_") || strings.Contains(text, "_.") || strings.Contains(text, "._") {
		return bad(fmt.Sprintf("invalid number literal %q", text))
	}
	if isFloat {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return bad(fmt.Sprintf("invalid float literal %q", text))
		}
		return token{kind: tNum, text: text, pos: i, v: floatNum(f)}, j, nil
	}
	if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return bad(fmt.Sprintf("leading zeros in decimal integer literals are not permitted (%q)", text))
	}
	v, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		return bad(fmt.Sprintf("integer literal %q is too large", text))
	}
	return token{kind: tNum, text: text, pos: i, v: intNum(v)}, j, nil
}

// parser is a recursive-descent parser over Python's expression grammar:
//
//	expr       = or_test ["if" or_test "else" expr]
//	or_test    = and_test {"or" and_test}
//	and_test   = not_test {"and" not_test}
//	not_test   = "not" not_test | comparison
//	comparison = bit_or {("<"|">"|"=="|">="|"<="|"!=") bit_or}
//	bit_or     = bit_xor {"|" bit_xor}
//	bit_xor    = bit_and {"^" bit_and}
//	bit_and    = shift {"&" shift}
//	shift      = arith {("<<"|">>") arith}
//	arith      = term {("+"|"-") term}
//	term       = factor {("*"|"/"|"//"|"%") factor}
//	factor     = ("+"|"-"|"~") factor | power
//	power      = atom ["**" factor]
//	atom       = NUMBER | NAME | NAME "(" [expr {"," expr} [","]] ")" | "(" expr ")"
type parser struct {
	toks  []token
	p     int
	vars  map[string]int
	depth int
}

// maxDepth bounds the nesting of an expression, so a hostile one cannot
// exhaust the stack.
const maxDepth = 200

// parseExpr parses src. vars names the variables it may read, in the order
// of the values eval will get.
func parseExpr(src string, vars []string) (*program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &ExprError{Pos: 0, Msg: "empty expression"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	ps := &parser{toks: toks, vars: map[string]int{}}
	for i, v := range vars {
		ps.vars[v] = i
	}
	root, err := ps.expr()
	if err != nil {
		return nil, err
	}
	if t := ps.peek(); t.kind != tEOF {
		return nil, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %q", t.text)}
	}
	return &program{src: src, root: root}, nil
}

// peek returns the next token; next consumes it.
func (ps *parser) peek() token { return ps.toks[ps.p] }
func (ps *parser) next() token {
	t := ps.toks[ps.p]
	if t.kind != tEOF {
		ps.p++
	}
	return t
}

// isOp reports whether the next token is operator (or keyword) s.
func (ps *parser) isOp(s string) bool {
	t := ps.peek()
	return (t.kind == tOp || t.kind == tName) && t.text == s
}

// expect consumes operator or keyword s, or fails.
func (ps *parser) expect(s string) error {
	if !ps.isOp(s) {
		t := ps.peek()
		if t.kind == tEOF {
			return &ExprError{Pos: t.pos, Msg: fmt.Sprintf("expected %q at the end", s)}
		}
		return &ExprError{Pos: t.pos, Msg: fmt.Sprintf("expected %q, found %q", s, t.text)}
	}
	ps.next()
	return nil
}

// expr parses expr, the conditional expression.
func (ps *parser) expr() (node, error) {
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxDepth {
		return nil, &ExprError{Pos: ps.peek().pos, Msg: "expression nested too deeply"}
	}
	x, err := ps.orTest()
	if err != nil {
		return nil, err
	}
	if !ps.isOp("if") {
		return x, nil
	}
	ps.next()
	c, err := ps.orTest()
	if err != nil {
		return nil, err
	}
	if err := ps.expect("else"); err != nil {
		return nil, err
	}
	y, err := ps.expr()
	if err != nil {
		return nil, err
	}
	return condNode{cond: c, yes: x, no: y}, nil
}

// boolChain parses sub {kw sub} for kw "and" or "or".
func (ps *parser) boolChain(kw string, sub func() (node, error)) (node, error) {
	x, err := sub()
	if err != nil {
		return nil, err
	}
	if !ps.isOp(kw) {
		return x, nil
	}
	xs := []node{x}
	for ps.isOp(kw) {
		ps.next()
		y, err := sub()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	return boolNode{and: kw == "and", xs: xs}, nil
}

// orTest and andTest parse or_test and and_test.
func (ps *parser) orTest() (node, error)  { return ps.boolChain("or", ps.andTest) }
func (ps *parser) andTest() (node, error) { return ps.boolChain("and", ps.notTest) }

// notTest parses not_test.
func (ps *parser) notTest() (node, error) {
	if ps.isOp("not") {
		ps.next()
		ps.depth++
		defer func() { ps.depth-- }()
		if ps.depth > maxDepth {
			return nil, &ExprError{Pos: ps.peek().pos, Msg: "expression nested too deeply"}
		}
		x, err := ps.notTest()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return ps.comparison()
}

// comparison parses a chain of comparisons.
func (ps *parser) comparison() (node, error) {
	x, err := ps.binLevel(0)
	if err != nil {
		return nil, err
	}
	var n cmpNode
	for {
		t := ps.peek()
		if t.kind != tOp || !(t.text == "<" || t.text == ">" || t.text == "==" || t.text == ">=" || t.text == "<=" || t.text == "!=") {
			break
		}
		ps.next()
		y, err := ps.binLevel(0)
		if err != nil {
			return nil, err
		}
		if n.terms == nil {
			n.terms = []node{x}
		}
		n.ops = append(n.ops, t.text)
		n.terms = append(n.terms, y)
	}
	if n.terms == nil {
		return x, nil
	}
	return n, nil
}

// binLevels are the left-associative binary operator levels, loosest first.
var binLevels = [][]string{
	{"|"},
	{"^"},
	{"&"},
	{"<<", ">>"},
	{"+", "-"},
	{"*", "/", "//", "%"},
}

// binLevel parses the binLevels[level] operators and all tighter ones.
func (ps *parser) binLevel(level int) (node, error) {
	sub := func() (node, error) {
		if level+1 < len(binLevels) {
			return ps.binLevel(level + 1)
		}
		return ps.factor()
	}
	x, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		t := ps.peek()
		if t.kind != tOp || !contains(binLevels[level], t.text) {
			return x, nil
		}
		ps.next()
		y, err := sub()
		if err != nil {
			return nil, err
		}
		x = binNode{op: t.text, x: x, y: y}
	}
}

// contains reports whether s is one of ops.
func contains(ops []string, s string) bool {
	for _, o := range ops {
		if o == s {
			return true
		}
	}
	return false
}

// factor parses a unary +, - or ~ and what follows.
func (ps *parser) factor() (node, error) {
	t := ps.peek()
	if t.kind == tOp && (t.text == "-" || t.text == "+" || t.text == "~") {
		ps.next()
		ps.depth++
		defer func() { ps.depth-- }()
		if ps.depth > maxDepth {
			return nil, &ExprError{Pos: t.pos, Msg: "expression nested too deeply"}
		}
		x, err := ps.factor()
		if err != nil {
			return nil, err
		}
		// A sign on a literal is folded into it.
		if l, ok := x.(litNode); ok {
			v, err := unary(t.text[0], l.v, nil)
			if err != nil {
				return nil, &ExprError{Pos: t.pos, Msg: err.Error()}
			}
			return litNode{v}, nil
		}
		return unaryNode{op: t.text[0], x: x}, nil
	}
	return ps.power()
}

// power parses atom ["**" factor].
func (ps *parser) power() (node, error) {
	x, err := ps.atom()
	if err != nil {
		return nil, err
	}
	if !ps.isOp("**") {
		return x, nil
	}
	ps.next()
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxDepth {
		return nil, &ExprError{Pos: ps.peek().pos, Msg: "expression nested too deeply"}
	}
	y, err := ps.factor() // right-associative, and 2**-1 is allowed
	if err != nil {
		return nil, err
	}
	return binNode{op: "**", x: x, y: y}, nil
}

// keywords cannot be used as names.
var keywords = map[string]bool{"if": true, "else": true, "and": true, "or": true, "not": true, "in": true, "is": true, "lambda": true, "None": true}

// atom parses a number, a name, a call or a parenthesised expression.
func (ps *parser) atom() (node, error) {
	t := ps.next()
	switch t.kind {
	case tNum:
		return litNode{t.v}, nil
	case tOp:
		if t.text == "(" {
			x, err := ps.expr()
			if err != nil {
				return nil, err
			}
			if err := ps.expect(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
		return nil, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %q", t.text)}
	case tEOF:
		return nil, &ExprError{Pos: t.pos, Msg: "unexpected end of expression"}
	}
	// A name.
	if keywords[t.text] {
		return nil, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %q", t.text)}
	}
	if ps.isOp("(") {
		fn, ok := functions[t.text]
		if !ok {
			return nil, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("unknown function %q (known: %s)", t.text, functionNames())}
		}
		ps.next()
		var args []node
		for !ps.isOp(")") {
			a, err := ps.expr()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if !ps.isOp(",") {
				break
			}
			ps.next()
		}
		if err := ps.expect(")"); err != nil {
			return nil, err
		}
		if len(args) < fn.minArgs || fn.maxArgs >= 0 && len(args) > fn.maxArgs {
			want := strconv.Itoa(fn.minArgs)
			switch {
			case fn.maxArgs < 0:
				want = "at least " + want
			case fn.maxArgs != fn.minArgs:
				want += " or " + strconv.Itoa(fn.maxArgs)
			}
			return nil, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("%s() takes %s arguments, got %d", t.text, want, len(args))}
		}
		return callNode{fn: fn, args: args}, nil
	}
	if i, ok := ps.vars[t.text]; ok {
		return varNode{idx: i}, nil
	}
	if v, ok := constants[t.text]; ok {
		return litNode{v}, nil
	}
	if _, ok := functions[t.text]; ok {
		return nil, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("%s is a function; call it as %s(...)", t.text, t.text)}
	}
	msg := fmt.Sprintf("unknown name %q", t.text)
	if len(ps.vars) > 0 {
		names := make([]string, len(ps.vars))
		for n, i := range ps.vars {
			names[i] = n
		}
		msg += " (the names are " + strings.Join(names, ", ") + ")"
	}
	if t.text == "banCount" {
		msg += "; fail2ban's formula has no banCount: write ban.Count"
	}
	return nil, &ExprError{Pos: t.pos, Msg: msg}
}

// functionNames lists the known functions, sorted, for error messages.
func functionNames() string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
