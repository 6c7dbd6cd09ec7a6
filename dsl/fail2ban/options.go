package fail2ban

import (
	"fmt"
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// optNameRune is [\w\-_\.].
func optNameRune(r rune) bool { return py.IsWord(r) || r == '-' || r == '.' }

func notSpaceOr(chars string) func(rune) bool {
	not := py.Not(chars)
	return func(r rune) bool { return !py.IsSpace(r) && not(r) }
}

var (
	ws = py.StarClass(py.IsSpace)

	// optionExtract is helpers.OPTION_EXTRACT_CRE:
	//   \s*([\w\-_\.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?P<wrngA>.+))|,?\s*$|(?P<wrngB>.+)
	// with DOTALL; groups 1-4 as numbered, 5 wrngA, 6 wrngB.
	optionExtract = py.Alt(
		py.Seq(ws, py.Group(1, py.PlusClass(optNameRune)), py.Lit("="),
			py.Alt(
				py.Seq(py.Lit(`"`), py.Group(2, py.StarClass(py.Not(`"`))), py.Lit(`"`)),
				py.Seq(py.Lit(`'`), py.Group(3, py.StarClass(py.Not(`'`))), py.Lit(`'`)),
				py.Group(4, py.StarClass(py.Not(`,]`))),
			),
			py.Alt(py.Lit(","), py.Seq(py.Lit("]"), ws, py.Lit("[")), py.End, py.Group(5, py.PlusClass(py.Any))),
		),
		py.Seq(py.Opt(py.Lit(",")), ws, py.End),
		py.Group(6, py.PlusClass(py.Any)),
	)

	// optionSplit is helpers.OPTION_SPLIT_CRE:
	//   (?:[^\[\s]+(?:\s*\[\s*(?:[\w\-_\.]+=(?:"[^"]*"|'[^']*'|[^,\]]*)\s*(?:,|\]\s*\[)?\s*)*\])?\s*|\S+)(?=\n\s*|\s+|$)
	// with DOTALL.
	optionSplit = py.Seq(
		py.Alt(
			py.Seq(
				py.PlusClass(notSpaceOr("[")),
				py.Opt(py.Seq(ws, py.Lit("["), ws,
					py.Star(py.Seq(
						py.PlusClass(optNameRune), py.Lit("="),
						py.Alt(
							py.Seq(py.Lit(`"`), py.StarClass(py.Not(`"`)), py.Lit(`"`)),
							py.Seq(py.Lit(`'`), py.StarClass(py.Not(`'`)), py.Lit(`'`)),
							py.StarClass(py.Not(`,]`)),
						),
						ws, py.Opt(py.Alt(py.Lit(","), py.Seq(py.Lit("]"), ws, py.Lit("[")))), ws,
					)),
					py.Lit("]"),
				)),
				ws,
			),
			py.PlusClass(notSpaceOr("")),
		),
		py.Look(py.Alt(py.Seq(py.Lit("\n"), ws), py.PlusClass(py.IsSpace), py.End)),
	)
)

// ExtractOptions splits a filter, action or backend spec such as
// `sshd[mode=aggressive]`, `act[p1="a, b", p2='c'][p3=d]` into its name and
// options, exactly as fail2ban's helpers.extractOptions: the name is
// everything before the first "[" (kept as is, trailing blanks included);
// quoted values keep commas and may span lines; unquoted values stop at ","
// or "]"; names and values are stripped; a later option wins. Malformed
// options fail with ErrOptionSyntax.
func ExtractOptions(spec string) (name string, opts map[string]string, err error) {
	name, o, err := extractOptions(spec, ini.Value{Text: spec})
	if err != nil {
		return "", nil, err
	}
	return name, o.Map(), nil
}

// extractOptions is ExtractOptions keeping the option order; every option
// value gets the place of at.
func extractOptions(spec string, at ini.Value) (string, *ini.Options, error) {
	opts := ini.NewOptions()
	// OPTION_CRE: ^([^\[]+)(?:\[(.*)\])?\s*$ with DOTALL.
	i := strings.IndexByte(spec, '[')
	if i == 0 || spec == "" {
		return "", nil, errAt(at, ErrOptionSyntax, "unexpected option syntax in %s", py.Repr(spec))
	}
	if i < 0 {
		return spec, opts, nil
	}
	name := spec[:i]
	rest := py.RStrip(spec[i:])
	if len(rest) < 2 || rest[len(rest)-1] != ']' {
		return "", nil, errAt(at, ErrOptionSyntax, "unexpected option syntax in %s", py.Repr(spec))
	}
	s := []rune(rest[1 : len(rest)-1])
	for _, m := range py.FindAll(optionExtract, s, 6) {
		if g, ok := m.Group(s, 5); ok {
			opt, _ := m.Group(s, 1)
			return "", nil, errAt(at, ErrOptionSyntax, "unexpected syntax at %d after option %s: %s",
				m.Groups[5][0], py.Repr(opt), first25(g))
		}
		if g, ok := m.Group(s, 6); ok {
			return "", nil, errAt(at, ErrOptionSyntax, "expected option, wrong syntax at %d: %s", m.Groups[6][0], first25(g))
		}
		opt, ok := m.Group(s, 1)
		if !ok {
			continue
		}
		var val string
		for g := 2; g <= 4; g++ {
			if v, ok := m.Group(s, g); ok {
				val = v
				break
			}
		}
		opts.Set(py.Strip(opt), ini.Value{Text: py.Strip(val), File: at.File, Line: at.Line})
	}
	return name, opts, nil
}

func first25(s string) string {
	r := []rune(s)
	if len(r) > 25 {
		r = r[:25]
	}
	return string(r)
}

// SplitWithOptions splits a value holding several specs, one per line or
// separated by blanks, keeping each spec's bracketed options together even
// when they span lines (fail2ban's helpers.splitWithOptions). The parts are
// not stripped.
func SplitWithOptions(value string) []string {
	s := []rune(value)
	var out []string
	for _, m := range py.FindAll(optionSplit, s, 0) {
		out = append(out, string(s[m.Start:m.End]))
	}
	return out
}

// splitWords is helpers.splitwords: split on commas, blanks and newlines,
// dropping empty words.
func splitWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' }) {
		if w = py.Strip(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func errAt(at ini.Value, sentinel error, format string, args ...any) error {
	return &ini.Error{File: at.File, Line: at.Line, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}
