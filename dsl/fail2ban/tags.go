package fail2ban

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
)

// MaxTagReplaceCount is fail2ban's MAX_TAG_REPLACE_COUNT: how often one tag
// may be replaced inside one option before the definitions count as
// recursive.
const MaxTagReplaceCount = 25

// tagRE is helpers.TAG_CRE.
var tagRE = regexp.MustCompile(`<([^ <>]+)>`)

// tagLookup returns the value of a tag the options do not define; ok is
// false when there is none.
type tagLookup func(tag string) (text string, ok bool, err error)

// substituteTags is helpers.substituteRecursiveTags: every <tag> in every
// option that names another option (or that lookup finds) is replaced by its
// value, repeatedly, so values may build tag names (<mdre-<mode>>). Unknown
// tags stay as they are. Options named in ignore are neither changed nor
// substituted into others. A tag referring to its own option, or replaced
// more than MaxTagReplaceCount times in one option, fails with
// ErrTagRecursion. Replacement follows the options' order, as Python does,
// because a value may be used before or after its own tags are replaced.
func substituteTags(in *ini.Options, conditional string, ignore map[string]bool, lookup tagLookup) (*ini.Options, error) {
	tags := in.Clone()
	done := map[string]bool{}
	repCounts := map[string]map[string]int{}
	keys := append([]string(nil), tags.Keys()...)
	for {
		again := false
		for _, tag := range keys {
			if ignore[tag] || done[tag] {
				continue
			}
			cur, _ := tags.Get(tag)
			value := cur.Text
			rplc := repCounts[tag]
			if rplc == nil {
				rplc = map[string]int{}
			}
			m := search(value, 0)
			for m != nil {
				rtag := value[m[2]:m[3]]
				if ignore[rtag] {
					m = search(value, m[1])
					continue
				}
				n, seen := rplc[rtag]
				if !seen {
					n = 1
				}
				if rtag == tag {
					return nil, errAt(cur, ErrTagRecursion, "option %s refers to itself through <%s>, value %q", tag, rtag, value)
				}
				if n > MaxTagReplaceCount {
					return nil, errAt(cur, ErrTagRecursion, "option %s: tag <%s> replaced more than %d times, the definitions are recursive (counts %s), value %q",
						tag, rtag, MaxTagReplaceCount, fmtCounts(rplc), value)
				}
				var repl string
				found := false
				if conditional != "" {
					if v, ok := tags.Get(rtag + "?" + conditional); ok {
						repl, found = v.Text, true
					}
				}
				if !found {
					if v, ok := tags.Get(rtag); ok {
						repl, found = v.Text, true
					} else if lookup != nil {
						t, ok, err := lookup(rtag)
						if err != nil {
							return nil, err
						}
						repl, found = t, ok
					}
				}
				if !found {
					m = search(value, m[1])
					continue
				}
				start := m[0]
				value = strings.ReplaceAll(value, "<"+rtag+">", repl)
				rplc[rtag]++
				m = search(value, start)
			}
			if value != cur.Text {
				if search(value, 0) != nil {
					repCounts[tag] = rplc
					again = true
				}
				cur.Text = value
				tags.Set(tag, cur)
			}
			if !strings.Contains(value, "<") {
				done[tag] = true
			}
		}
		if !again {
			return tags, nil
		}
	}
}

// search finds the next <tag> in s at or after byte pos; nil when none.
func search(s string, pos int) []int {
	if pos > len(s) {
		return nil
	}
	m := tagRE.FindStringSubmatchIndex(s[pos:])
	if m == nil {
		return nil
	}
	for i := range m {
		m[i] += pos
	}
	return m
}

func fmtCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(m))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
