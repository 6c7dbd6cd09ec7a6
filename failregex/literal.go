package failregex

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// A clause is a set of literals of which every match contains at least one.
// A regex's prefilter is a conjunction of clauses.
type clause []string

const (
	maxClauses    = 3 // clauses kept per regex: the first absent one rejects a line
	minLiteralLen = 2 // shorter literals are too common to be worth a search
)

// requiredLiterals returns the prefilter of the Go regex expr: clauses that
// every match must satisfy, strongest first, not yet cut to maxClauses. It
// returns nil when nothing useful is known (the regex is then always run).
func requiredLiterals(expr string) []clause {
	re, err := parseRE2(expr)
	if err != nil {
		return nil
	}
	return choose(required(re.Simplify()))
}

// exact reports the only string re can match, if it matches exactly one
// (zero-width assertions match "").
func exact(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		// U+FFFD also matches any invalid UTF-8 byte, which the byte
		// search for its encoding would miss.
		if re.Flags&syntax.FoldCase != 0 || slices.Contains(re.Rune, utf8.RuneError) {
			return "", false
		}
		return string(re.Rune), true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return "", true
	case syntax.OpCharClass:
		if len(re.Rune) == 2 && re.Rune[0] == re.Rune[1] && re.Rune[0] != utf8.RuneError {
			return string(re.Rune[:1]), true
		}
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		return b.String(), true
	}
	return "", false
}

// required returns clauses that every match of re satisfies.
func required(re *syntax.Regexp) []clause {
	switch re.Op {
	case syntax.OpLiteral, syntax.OpCharClass:
		if s, ok := exact(re); ok && s != "" {
			return []clause{{s}}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Adjacent exact parts form one contiguous literal.
		var (
			out []clause
			run strings.Builder
		)
		flush := func() {
			if run.Len() > 0 {
				out = append(out, clause{run.String()})
				run.Reset()
			}
		}
		for _, sub := range re.Sub {
			if s, ok := exact(sub); ok {
				run.WriteString(s)
				continue
			}
			flush()
			out = append(out, required(sub)...)
		}
		flush()
		return out
	case syntax.OpAlternate:
		// Each branch must contribute a literal; the clause is their union.
		var c clause
		for _, sub := range re.Sub {
			best := strongest(required(sub))
			if best == nil {
				return nil
			}
			c = append(c, best...)
		}
		slices.Sort(c)
		return []clause{slices.Compact(c)}
	}
	return nil
}

// strength is the length of the shortest literal of c: a longer literal is
// rarer and a clause is only as selective as its weakest alternative.
func strength(c clause) int {
	m := -1
	for _, s := range c {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// better orders clauses: stronger first, then fewer alternatives.
func better(a, b clause) int {
	if d := strength(b) - strength(a); d != 0 {
		return d
	}
	return len(a) - len(b)
}

func strongest(cs []clause) clause {
	var best clause
	for _, c := range cs {
		if best == nil || better(c, best) < 0 {
			best = c
		}
	}
	return best
}

// choose drops weak and implied clauses and keeps the strongest few.
func choose(cs []clause) []clause {
	var out []clause
	for _, c := range cs {
		if strength(c) < minLiteralLen {
			continue
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, better)
	// A clause with a literal contained in a stronger single literal is implied.
	var kept []clause
	for _, c := range out {
		implied := false
		for _, k := range kept {
			if len(k) == 1 && implies(k[0], c) {
				implied = true
				break
			}
			if slices.Equal(k, c) {
				implied = true
				break
			}
		}
		if !implied {
			kept = append(kept, c)
		}
	}
	return kept
}

// implies reports whether clause c holds whenever the single literal lit is
// present.
func implies(lit string, c clause) bool {
	return slices.ContainsFunc(c, func(s string) bool { return strings.Contains(lit, s) })
}

// gateLiterals returns the single literals that every one of the clause
// lists requires (when there are at least two lists): a line without one of
// them cannot match any regex, so the Set checks them once, first.
func gateLiterals(lists [][]clause) []string {
	if len(lists) < 2 {
		return nil
	}
	var gate []string
	for _, c := range lists[0] {
		if len(c) != 1 {
			continue
		}
		all := true
		for _, l := range lists[1:] {
			if !slices.ContainsFunc(l, func(d clause) bool { return len(d) == 1 && d[0] == c[0] }) {
				all = false
				break
			}
		}
		if all {
			gate = append(gate, c[0])
		}
	}
	return gate
}

// withoutGate drops the clauses implied by the gate and keeps the
// strongest maxClauses.
func withoutGate(cs []clause, gate []string) []clause {
	var out []clause
	for _, c := range cs {
		if !slices.ContainsFunc(gate, func(g string) bool { return implies(g, c) }) {
			out = append(out, c)
		}
	}
	if len(out) > maxClauses {
		out = out[:maxClauses]
	}
	return out
}
