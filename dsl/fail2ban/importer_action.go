package fail2ban

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
)

// sinkHooks are sink "command"'s command attributes and the action options
// they carry, in the sink's order.
var sinkHooks = []struct{ attr, opt string }{
	{"start", "actionstart"},
	{"stop", "actionstop"},
	{"check", "actioncheck"},
	{"ban", "actionban"},
	{"unban", "actionunban"},
	{"flush", "actionflush"},
	{"repair", "actionrepair"},
	{"reban", "actionreban"},
	{"prolong", "actionprolong"},
}

// sinkFamilies are the address families a family block can name.
var sinkFamilies = []string{"inet4", "inet6"}

// escapedTags are CommandAction._escapedTags: never substituted statically.
var escapedTags = map[string]bool{"matches": true, "ipmatches": true, "ipjailmatches": true}

// defaultActionTimeout is CommandAction's timeout when the action sets none.
const defaultActionTimeout = 60

// actionSink is what a fail2ban action becomes in a sink "command": its
// commands as fail2ban-server resolves their static tags for each family,
// and its flags.
type actionSink struct {
	// base holds each command resolved without a family (attribute name ->
	// script; unset and "" are the same to the sink and are left out).
	base map[string]string
	// family holds, per family ("inet4", "inet6"), the commands that come
	// out differently for that family, "" included.
	family map[string]map[string]string
	// conditional is fail2ban's _hasCondSection: the action has
	// NAME?family=… options, so both family blocks are written (even
	// empty), which makes the sink family-dependent as fail2ban is.
	conditional bool

	startOnDemand *bool // actionstart_on_demand when the action sets it
	repairOnUnban bool
	noRestored    bool
	timeout       float64 // seconds; 0 when not set or the default
	reload        string  // actionreload, which the sink cannot carry
	badFamilies   []string
}

// empty reports whether the action has no command at all.
func (s *actionSink) empty() bool {
	if len(s.base) > 0 {
		return false
	}
	for _, cmds := range s.family {
		for _, c := range cmds {
			if c != "" {
				return false
			}
		}
	}
	return true
}

// usesTag reports whether any of the given commands (any family) holds
// <tag>.
func (s *actionSink) usesTag(tag string, attrs ...string) bool {
	for _, a := range attrs {
		if strings.Contains(s.base[a], "<"+tag+">") {
			return true
		}
		for _, cmds := range s.family {
			if strings.Contains(cmds[a], "<"+tag+">") {
				return true
			}
		}
	}
	return false
}

// serverProperties are the action's properties as fail2ban-server's
// CommandAction holds them after fail2ban-client's stream: every option
// sent (Raw), bantime dropped (the server ignores it as an action
// parameter), the defaults of clearAllParams (timeout 60, empty commands)
// where unset, in the alphabetical order of Python's dir().
func serverProperties(a *Action) (*ini.Options, error) {
	vals := map[string]Value{}
	for k, v := range a.Raw {
		if k == "bantime" {
			continue
		}
		vals[k] = v
	}
	for _, h := range sinkHooks {
		if _, ok := vals[h.opt]; !ok && h.opt != "actionprolong" {
			vals[h.opt] = Value{}
		}
	}
	if v, ok := vals["timeout"]; ok {
		secs, err := Seconds(v.Text)
		if err != nil {
			return nil, errAt(v, ErrTimeValue, "timeout %q: %v", v.Text, err)
		}
		v.Text = pyNumber(secs, strings.Contains(v.Text, "."))
		vals["timeout"] = v
	} else {
		vals["timeout"] = Value{Text: strconv.Itoa(defaultActionTimeout)}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	o := ini.NewOptions()
	for _, k := range keys {
		o.Set(k, vals[k])
	}
	return o, nil
}

// pyNumber writes seconds as Python would print the result of
// str2seconds: an int when whole and computed from ints, else a float.
func pyNumber(f float64, float bool) string {
	if f == math.Trunc(f) && !float && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// replaceTag is CommandAction.replaceTag for a command option of an
// action: the properties' own tags are substituted recursively (family-
// conditional values first), then query's tags, repeatedly, until nothing
// changes. <br> and <sp> become a newline and a blank as in fail2ban;
// <fq-hostname> and <sh-hostname> and every dynamic tag (<ip>, <F-USER>,
// …) stay for the sink, which fills them in when it runs.
func replaceTag(query string, props *ini.Options, conditional string) (string, error) {
	if !strings.Contains(query, "<") {
		return query, nil
	}
	sub, err := substituteTags(props, conditional, escapedTags, nil)
	if err != nil {
		return "", err
	}
	subst := func(m string) string {
		tag := m[1 : len(m)-1]
		if conditional != "" {
			if v, ok := sub.Get(tag + "?" + conditional); ok {
				return v.Text
			}
		}
		if v, ok := sub.Get(tag); ok {
			return v.Text
		}
		switch tag {
		case "br":
			return "\n"
		case "sp":
			return " "
		}
		return m
	}
	for count := MaxTagReplaceCount + 1; ; {
		value := tagRE.ReplaceAllStringFunc(query, subst)
		if value == query || !strings.Contains(value, "<") {
			return value, nil
		}
		query = value
		count--
		if count <= 0 {
			return "", fmt.Errorf("%w: unexpected too long replacement interpolation, possible self referencing definitions in query: %s", ErrTagRecursion, query)
		}
	}
}

// hasCondSection is CommandAction._hasCondSection: an option named
// NAME?family=VALUE exists (CONDITIONAL_FAM_RE, ^(\w+)\?(family)=(.*)$).
func hasCondSection(raw map[string]Value) bool {
	for k := range raw {
		name, rest, ok := strings.Cut(k, "?")
		if ok && name != "" && isWordString(name) && strings.HasPrefix(rest, "family=") {
			return true
		}
	}
	return false
}

func isWordString(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127) {
			return false
		}
	}
	return true
}

// actionToSink resolves an action's commands as fail2ban-server would run
// them, per family, and maps them onto sink "command" the way the sink's
// differential test against fail2ban does: the commands resolved without a
// family are the sink's own; a family block holds each command that comes
// out differently for that family; a conditional action gets both family
// blocks.
func actionToSink(a *Action) (*actionSink, error) {
	props, err := serverProperties(a)
	if err != nil {
		return nil, err
	}
	s := &actionSink{base: map[string]string{}, family: map[string]map[string]string{}, conditional: hasCondSection(a.Raw)}
	for k := range a.Raw {
		if _, fam, ok := strings.Cut(k, "?family="); ok && fam != "inet4" && fam != "inet6" {
			s.badFamilies = append(s.badFamilies, k)
		}
	}
	sort.Strings(s.badFamilies)
	var errs []error
	for _, h := range sinkHooks {
		q := "<" + h.opt + ">"
		resolve := func(cond string) string {
			v, err := replaceTag(q, props, cond)
			if err != nil {
				errs = append(errs, err)
				return ""
			}
			if v == q {
				return ""
			}
			return v
		}
		base := resolve("")
		if base != "" {
			s.base[h.attr] = base
		}
		for _, fam := range sinkFamilies {
			if v := resolve("family=" + fam); v != base {
				if s.family[fam] == nil {
					s.family[fam] = map[string]string{}
				}
				s.family[fam][h.attr] = v
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if s.conditional {
		for _, fam := range sinkFamilies {
			if s.family[fam] == nil {
				s.family[fam] = map[string]string{}
			}
		}
	}
	if v, ok := a.Raw["actionstart_on_demand"]; ok {
		b := v.Text == "True"
		s.startOnDemand = &b
	}
	s.repairOnUnban = a.Raw["actionrepair_on_unban"].Text == "True"
	s.noRestored = a.Raw["norestored"].Text == "True"
	if v, ok := a.Raw["timeout"]; ok {
		secs, _ := Seconds(v.Text)
		if secs != defaultActionTimeout {
			s.timeout = secs
		}
	}
	if v, ok := a.Raw["actionreload"]; ok && strings.TrimSpace(v.Text) != "" {
		s.reload = v.Text
	}
	return s, nil
}
