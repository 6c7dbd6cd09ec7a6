package failregex

import (
	"regexp"
	"regexp/syntax"
	"slices"
)

// tailSuffix is how a final capture group (.+) followed by Python's $ is
// printed in RE2 syntax (the $ with its optional-newline group).
var tailSuffix = regexp.MustCompile(`\((\?P<\w+>)?\.\+\)\(\?:\(\\n\)\?\\z\)$`)

// contentTail returns, for a regex that ends in a capture group (.+) and
// $ (fail2ban's prefregex <F-CONTENT>.+</F-CONTENT>$), the regex with that
// group cut to one character and the $ dropped, or "".
//
// On a text with no newline but maybe a final one, (.+)$ matches after
// any prefix that leaves at least one character before the end (or the
// final newline), and the cut regex too: both then take the same path
// through the rest of the regex (leftmost-first is a priority order over
// the same paths), so their groups are the same but the last one, which
// the caller extends to the end of the line. The cut regex does not
// explore the rest of the line.
func contentTail(expr string, eol bool) string {
	if !eol {
		return ""
	}
	loc := tailSuffix.FindStringSubmatchIndex(expr)
	if loc == nil {
		return ""
	}
	head := expr[:loc[0]]
	name := ""
	if loc[2] >= 0 {
		name = expr[loc[2]:loc[3]]
	}
	cut := head + "(" + name + "[^\\n])"
	// Check the structure: the group is a direct part of the regex's top
	// level concatenation, .+ does not match newlines (no s flag), only
	// the $ (its optional-newline group and \z) follows, and the cut
	// regex is the same up to the group.
	full, err := parseRE2(expr)
	if err != nil || full.Op != syntax.OpConcat {
		return ""
	}
	n := full.MaxCap()
	k := slices.IndexFunc(full.Sub, func(s *syntax.Regexp) bool { return s.Op == syntax.OpCapture && s.Cap == n-1 })
	if k < 0 {
		return ""
	}
	g := full.Sub[k]
	if len(g.Sub) != 1 || g.Sub[0].Op != syntax.OpPlus || g.Sub[0].Sub[0].Op != syntax.OpAnyCharNotNL {
		return ""
	}
	rest := full.Sub[k+1:]
	if len(rest) == 1 && rest[0].Op == syntax.OpConcat {
		rest = rest[0].Sub
	}
	if len(rest) != 2 || rest[0].Op != syntax.OpQuest || rest[0].Sub[0].Op != syntax.OpCapture ||
		rest[0].Sub[0].Cap != n || rest[0].Sub[0].Sub[0].Op != syntax.OpLiteral ||
		string(rest[0].Sub[0].Sub[0].Rune) != "\n" || rest[1].Op != syntax.OpEndText {
		return ""
	}
	cp, err := parseRE2(cut)
	if err != nil || cp.Op != syntax.OpConcat || len(cp.Sub) != k+1 {
		return ""
	}
	for i := range k {
		if !cp.Sub[i].Equal(full.Sub[i]) {
			return ""
		}
	}
	if c := cp.Sub[k]; c.Op != syntax.OpCapture || c.Cap != n-1 || c.Name != g.Name {
		return ""
	}
	if cp.MaxCap() != n-1 {
		return ""
	}
	return cut
}

// findCap returns the capture group number cap of re.
func findCap(re *syntax.Regexp, cap int) *syntax.Regexp {
	if re.Op == syntax.OpCapture && re.Cap == cap {
		return re
	}
	for _, sub := range re.Sub {
		if g := findCap(sub, cap); g != nil {
			return g
		}
	}
	return nil
}
