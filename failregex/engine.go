package failregex

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"
)

// engine is one compiled regular expression. Set only talks to this
// interface, so that a second engine (a backtracking one for Python-only
// constructs such as lookaround) can be added without changing Set's API.
type engine interface {
	// submatch returns the leftmost-first match of s as index pairs, like
	// regexp.Regexp.FindStringSubmatchIndex, or nil.
	submatch(s string) []int
	// match reports whether s contains a match; it is used where no
	// capture is needed (ignore regexes) and may be faster.
	match(s string) bool
	// names returns the capture group names; names()[0] is the whole match
	// and unnamed groups are "".
	names() []string
}

// re2 is the engine backed by Go's linear-time regexp package.
type re2 struct{ re *regexp.Regexp }

func (e re2) submatch(s string) []int { return e.re.FindStringSubmatchIndex(s) }
func (e re2) match(s string) bool     { return e.re.MatchString(s) }
func (e re2) names() []string         { return e.re.SubexpNames() }

// compileEngine compiles an expanded regex. Constructs RE2 cannot run are
// rejected before this point by expand, with an *UnsupportedError; a
// backtracking engine would be chosen here for them.
func compileEngine(expr string) (engine, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		// The offending fragment may hold our expansion of <HOST>, which
		// would only confuse the user reading their own regex: name the
		// mistake alone then.
		var se *syntax.Error
		if errors.As(err, &se) && strings.Contains(se.Expr, hostGroup) {
			return nil, &syntaxError{se}
		}
		return nil, err
	}
	return re2{re}, nil
}

// syntaxError is a regexp syntax error told without the offending fragment
// (which holds the expansion of a placeholder); errors.As still finds the
// *syntax.Error inside.
type syntaxError struct{ err *syntax.Error }

func (e *syntaxError) Error() string { return "invalid regex: " + string(e.err.Code) }
func (e *syntaxError) Unwrap() error { return e.err }
