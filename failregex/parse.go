package failregex

import (
	"regexp/syntax"
	"sync"
)

// parseRE2 is syntax.Parse(expr, syntax.Perl) (how regexp.Compile reads a
// regex) through a small cache: compiling one regex reads its RE2 form
// several times (the DFA, the head sets, the required literals, the
// content tail), and reading the big Unicode classes Python's \d, \w and
// \s stand for is most of the cost of starting. The result is shared:
// callers must not modify it (Simplify and Compile do not).
func parseRE2(expr string) (*syntax.Regexp, error) {
	parsed.Lock()
	re, ok := parsed.m[expr]
	parsed.Unlock()
	if ok {
		return re, nil
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	parsed.Lock()
	if len(parsed.m) >= maxParsed {
		clear(parsed.m)
	}
	parsed.m[expr] = re
	parsed.Unlock()
	return re, nil
}

// maxParsed bounds the cache: a filter's regexes are read one after the
// other, so a few entries would do.
const maxParsed = 64

var parsed = struct {
	sync.Mutex
	m map[string]*syntax.Regexp
}{m: map[string]*syntax.Regexp{}}
