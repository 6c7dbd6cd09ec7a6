package command

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// tagRE finds a tag as fail2ban's TAG_CRE does: '<', one or more
// characters other than a blank, '<' and '>', and '>'.
var tagRE = regexp.MustCompile(`<([^ <>]+)>`)

// fieldTagRE finds a captured-field tag as fail2ban's FCUSTAG_CRE does:
// <F-NAME> with NAME in capitals, digits, '_' and '-'.
var fieldTagRE = regexp.MustCompile(`<F-([A-Z0-9_\-]+)>`)

// unsafeChars are the characters of fail2ban's ESCAPE_CRE. A dynamic value
// holding any of them is never pasted into a command: it is passed to the
// shell as a positional parameter instead.
const unsafeChars = "\\#&;`|*?~<>^()[]{}$'\"\n\r"

// maxStaticPasses bounds the static interpolation of a command, as
// fail2ban's MAX_TAG_REPLACE_COUNT (+1) does.
const maxStaticPasses = 26

// Dynamic tags: the values of one ban (fail2ban's ActionInfo), never
// interpolated twice and escaped as described in the package doc.
const (
	tagIP             = "ip"
	tagFamily         = "family"
	tagIPRev          = "ip-rev"
	tagIPHost         = "ip-host"
	tagFID            = "fid"
	tagFailures       = "failures"
	tagTime           = "time"
	tagBanTime        = "bantime"
	tagBanCount       = "bancount"
	tagMatches        = "matches"
	tagRestored       = "restored"
	tagIPMatches      = "ipmatches"
	tagIPJailMatches  = "ipjailmatches"
	tagIPFailures     = "ipfailures"
	tagIPJailFailures = "ipjailfailures"
	tagJailName       = "jail.name"
	tagJailBanned     = "jail.banned"
	tagJailBannedTot  = "jail.banned_total"
	tagJailFound      = "jail.found"
	tagJailFoundTotal = "jail.found_total"
)

// dynamicTags are the names of the dynamic tags.
var dynamicTags = []string{
	tagIP, tagFamily, tagIPRev, tagIPHost, tagFID, tagFailures, tagTime, tagBanTime,
	tagBanCount, tagMatches, tagRestored, tagIPMatches, tagIPJailMatches, tagIPFailures,
	tagIPJailFailures, tagJailName, tagJailBanned, tagJailBannedTot, tagJailFound, tagJailFoundTotal,
}

// Built-in tags (fail2ban's ADD_REPL_TAGS): the value a tag takes when
// neither a static tag nor a dynamic one of that name exists.
const (
	tagBr         = "br"
	tagSp         = "sp"
	tagFQHostname = "fq-hostname"
	tagSHHostname = "sh-hostname"
)

// isDynamic reports whether name is a dynamic tag or a captured field.
func isDynamic(name string) bool {
	return slices.Contains(dynamicTags, name) || strings.HasPrefix(name, "F-")
}

// unsafeValue reports whether v holds a character of fail2ban's ESCAPE_CRE.
func unsafeValue(v string) bool { return strings.ContainsAny(v, unsafeChars) }

// script is a command ready to run as /bin/sh -c text args…: the text is
// the shell script and args become $0, $1, … inside it.
type script struct {
	text string
	args []string
}

// argv returns the program and arguments that run sc.
func (sc script) argv() []string {
	return append([]string{shell, "-c", sc.text}, sc.args...)
}

// shell runs every command, as fail2ban's subprocess.Popen(shell=True) does.
const shell = "/bin/sh"

// shellVars collects the values that are passed as positional parameters,
// in the order their tags first appear (a Python dict's insertion order).
type shellVars struct {
	names  []string
	values []string
	index  map[string]int
}

// add records name = value and returns the text that stands for it in the
// script. A name seen before keeps its position and takes the new value.
func (v *shellVars) add(name, value string) string {
	if v.index == nil {
		v.index = map[string]int{}
	}
	if i, ok := v.index[name]; ok {
		v.values[i] = value
	} else {
		v.index[name] = len(v.names)
		v.names = append(v.names, name)
		v.values = append(v.values, value)
	}
	return "$" + name
}

// varName is the shell variable fail2ban uses for tag: "f2bV_" and the tag
// with every non-word character replaced by '_' (ESCAPE_VN_CRE).
func varName(tag string) string {
	var b strings.Builder
	b.WriteString("f2bV_")
	for _, r := range tag {
		if r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// lookupFunc returns the value of a dynamic tag, and whether it has one.
type lookupFunc func(tag string) (string, bool)

// replaceDynamic substitutes the dynamic tags of cmd the way fail2ban's
// replaceDynamicTags does:
//
//   - every tag is replaced once, left to right, never interpolated again;
//   - a tag lookup does not know is replaced by its built-in value (br, sp,
//     fq-hostname, sh-hostname, from builtin) or else left as written;
//   - then, if the text still holds a '<', every <F-NAME> is replaced by
//     the captured field (fail2ban's mapTag2Opt name, see fieldKey), or by
//     nothing when there is none;
//   - a value holding a character of unsafeChars is not pasted: the tag
//     becomes $f2bV_NAME (unquoted, as fail2ban writes it) and the value is
//     passed as a positional parameter, the script starting with
//     "f2bV_a=$0 f2bV_b=$1 \n" (fail2ban's Utils.buildShellCmd).
//
// NUL bytes, which neither a script nor an argument can carry, become
// U+FFFD in values.
func replaceDynamic(cmd string, lookup lookupFunc, field func(key string) (string, bool), builtin lookupFunc) script {
	var vars shellVars
	escape := func(tag, value string) string {
		value = strings.ReplaceAll(value, "\x00", "\uFFFD")
		if unsafeValue(value) {
			return vars.add(varName(tag), value)
		}
		return value
	}
	out := replaceTags(cmd, func(tag string) (string, bool) {
		if v, ok := lookup(tag); ok {
			return escape(tag, v), true
		}
		if builtin != nil {
			return builtin(tag)
		}
		return "", false
	})
	if strings.Contains(out, "<") {
		out = fieldTagRE.ReplaceAllStringFunc(out, func(m string) string {
			key := fieldKey(m[len("<F-") : len(m)-1])
			if field == nil {
				return ""
			}
			v, ok := field(key)
			if !ok {
				return ""
			}
			return escape("F_"+key, v)
		})
	}
	if len(vars.names) == 0 {
		return script{text: out}
	}
	var head strings.Builder
	for i, n := range vars.names {
		head.WriteString(n)
		head.WriteString("=$")
		head.WriteString(strconv.Itoa(i))
		head.WriteByte(' ')
	}
	head.WriteByte('\n')
	head.WriteString(out)
	return script{text: head.String(), args: vars.values}
}

// replaceTags replaces, in one left-to-right pass, every tag that f knows;
// the others stay as written.
func replaceTags(s string, f lookupFunc) string {
	if !strings.Contains(s, "<") {
		return s
	}
	return tagRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := f(m[1 : len(m)-1]); ok {
			return v
		}
		return m
	})
}

// fieldKey is the ticket key of the captured field NAME in <F-NAME>, as
// fail2ban's mapTag2Opt gives it: lower case, with ID and PORT mapped to
// fid and fport (the names fail2ban's <F-ID> and <F-PORT> groups capture).
func fieldKey(name string) string {
	k := strings.ToLower(name)
	switch k {
	case "id":
		return "fid"
	case "port":
		return "fport"
	}
	return k
}

// staticTags are the tags attribute after checking: plain tags, their
// family-conditional variants (NAME?family=inet6), and the values dynamic
// tags take in commands that run without a ban.
type staticTags struct {
	plain    map[string]string            // tag -> value
	byFamily map[string]map[string]string // family -> tag -> value
	noBan    map[string]string            // dynamic tag -> value without a ban
}

// condSuffix separates a tag's name from the family it is conditional on,
// as in fail2ban's "addr_set?family=inet6".
const condSuffix = "?family="

// parseTags checks the tags attribute.
func parseTags(tags map[string]string) (staticTags, []error) {
	st := staticTags{plain: map[string]string{}, byFamily: map[string]map[string]string{}, noBan: map[string]string{}}
	var errs []error
	for _, k := range sortedKeys(tags) {
		v := tags[k]
		name, fam, cond := strings.Cut(k, condSuffix)
		switch {
		case name == "" || strings.ContainsAny(name, " <>\t\n"):
			errs = append(errs, fmt.Errorf("invalid tag name %q: a tag name holds no blanks, '<' or '>'", k))
			continue
		case strings.IndexByte(v, 0) >= 0:
			errs = append(errs, fmt.Errorf("the value of tag %q holds a NUL byte", k))
			continue
		case cond && fam != familyInet4 && fam != familyInet6:
			errs = append(errs, fmt.Errorf("tag %q: the family must be inet4 or inet6", k))
			continue
		case isDynamic(name) && cond:
			errs = append(errs, fmt.Errorf("tag %q: %s is a dynamic tag and cannot depend on the family", k, name))
			continue
		case strings.HasPrefix(name, "F-"):
			errs = append(errs, fmt.Errorf("tag %q: captured fields (<F-NAME>) come from the ban and cannot be set here", k))
			continue
		case isDynamic(name):
			st.noBan[name] = v
		case cond:
			if st.byFamily[fam] == nil {
				st.byFamily[fam] = map[string]string{}
			}
			st.byFamily[fam][name] = v
		default:
			st.plain[name] = v
		}
	}
	return st, errs
}

// errStaticLoop is returned for tags that refer to each other in a circle.
var errStaticLoop = errors.New("the tags refer to each other in a circle (or nest too deep)")

// resolveStatic replaces the static tags in cmd for family fam ("" for
// none), the way fail2ban's replaceTag does with an action's options: a
// family-conditional tag wins over the plain one, values are interpolated
// recursively, and the command is substituted until nothing changes. Tags
// that are not static (dynamic and built-in tags, and any unknown tag) stay
// as written.
func (st staticTags) resolveStatic(cmd, fam string) (string, error) {
	get := func(tag string) (string, bool) {
		if v, ok := st.byFamily[fam][tag]; ok {
			return v, true
		}
		v, ok := st.plain[tag]
		return v, ok
	}
	cur := cmd
	for range maxStaticPasses {
		if !strings.Contains(cur, "<") {
			return cur, nil
		}
		next := replaceTags(cur, get)
		if next == cur {
			return cur, nil
		}
		cur = next
	}
	return "", errStaticLoop
}

// builtinTags replaces the built-in tags of s (br, sp, fq-hostname,
// sh-hostname); others stay as written.
func builtinTags(s string, b lookupFunc) string { return replaceTags(s, b) }

// pyTime writes t in epoch seconds as Python prints a float: the shortest
// text that reads back as the same float, with ".0" when it is whole
// (fail2ban's <time> is such a float).
func pyTime(t time.Time) string {
	f := float64(t.Unix()) + float64(t.Nanosecond())/1e9
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
