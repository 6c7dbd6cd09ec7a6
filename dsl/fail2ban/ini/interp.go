package ini

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// MaxInterpolationDepth is Python's MAX_INTERPOLATION_DEPTH: how deep
// %(name)s references may nest.
const MaxInterpolationDepth = 10

// chain is Python's ChainMap(vars, section, defaults) as ConfigParser.get
// builds it; first is the (copied) vars layer that interpolation adds to.
type chain struct {
	first map[string]Value
	sect  *Section
	defs  *Section
}

func (m *chain) get(k string) (Value, bool) {
	if v, ok := m.first[k]; ok {
		return v, true
	}
	if m.sect != nil {
		if v, ok := m.sect.Get(k); ok {
			return v, true
		}
	}
	return m.defs.Get(k)
}

func (m *chain) copy() *chain {
	n := &chain{first: make(map[string]Value, len(m.first)+2), sect: m.sect, defs: m.defs}
	for k, v := range m.first {
		n.first[k] = v
	}
	return n
}

// unify is ConfigParser._unify_values: vars (names lower-cased) before the
// section before DEFAULT.
func (c *Config) unify(section string, vars *Options) (*chain, error) {
	s := c.sections[section]
	if s == nil && section != DefaultSection {
		return nil, &Error{Msg: fmt.Sprintf("no section %s", py.Repr(section)), Err: ErrNoSection}
	}
	m := &chain{first: map[string]Value{}, sect: s, defs: c.Defaults}
	for _, k := range vars.Keys() {
		v, _ := vars.Get(k)
		m.first[py.Lower(k)] = v
	}
	return m, nil
}

// GetRaw returns the uninterpolated value of option, looked up in vars, the
// section, then DEFAULT.
func (c *Config) GetRaw(section, option string, vars *Options) (Value, error) {
	m, err := c.unify(section, vars)
	if err != nil {
		return Value{}, err
	}
	option = py.Lower(option)
	v, ok := m.get(option)
	if !ok {
		return Value{}, &Error{Msg: fmt.Sprintf("no option %s in section %s", py.Repr(option), py.Repr(section)), Err: ErrNoOption}
	}
	return v, nil
}

// Get is ConfigParser.get with fail2ban's interpolation: the value of option
// looked up in vars, the section, then DEFAULT, with %(name)s references
// resolved against the same lookup, %(__name__)s being the section name and
// %(sec/opt)s, %(default/opt)s and %(known/opt)s reaching other sections,
// DEFAULT and the section's overridden values. The result keeps the place
// of the option's own definition.
func (c *Config) Get(section, option string, vars *Options) (Value, error) {
	m, err := c.unify(section, vars)
	if err != nil {
		return Value{}, err
	}
	option = py.Lower(option)
	v, ok := m.get(option)
	if !ok {
		return Value{}, &Error{Msg: fmt.Sprintf("no option %s in section %s", py.Repr(option), py.Repr(section)), Err: ErrNoOption}
	}
	var b strings.Builder
	if err := c.interpolate(section, option, v, v.Text, m, 1, &b); err != nil {
		return Value{}, err
	}
	v.Text = b.String()
	return v, nil
}

// GetEx is fail2ban's get_ex: an option named "sec/opt" is looked up as opt
// in section sec ("known/opt": in KNOWN/<section>, then in section;
// "default/opt": in DEFAULT), without vars; otherwise, or when that finds
// nothing, it is Get(section, option, vars).
func (c *Config) GetEx(section, option string, vars *Options) (Value, error) {
	if sec, opt, ok := splitSectionOption(option); ok {
		var secs []string
		switch py.Lower(sec) {
		case "known":
			secs = []string{KnownPrefix + section, section}
		case "default":
			secs = []string{DefaultSection}
		default:
			secs = []string{sec}
		}
		for _, s := range secs {
			v, err := c.Get(s, opt, nil)
			if err == nil {
				return v, nil
			}
			if !isNoSectionOrOption(err) {
				return Value{}, err
			}
		}
	}
	return c.Get(section, option, vars)
}

func isNoSectionOrOption(err error) bool {
	e, ok := err.(*Error)
	return ok && (e.Err == ErrNoSection || e.Err == ErrNoOption)
}

// splitSectionOption matches ^([\w\-]+)/([^\s>]+)$.
func splitSectionOption(s string) (string, string, bool) {
	s = strings.TrimSuffix(s, "\n")
	i := strings.IndexByte(s, '/')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	for _, r := range s[:i] {
		if !py.IsWord(r) && r != '-' {
			return "", "", false
		}
	}
	for _, r := range s[i+1:] {
		if py.IsSpace(r) || r == '>' {
			return "", "", false
		}
	}
	return s[:i], s[i+1:], true
}

// interpolate is BasicInterpolationWithName._interpolate_some.
func (c *Config) interpolate(section, option string, raw Value, rest string, m *chain, depth int, b *strings.Builder) error {
	m = m.copy()
	m.first["__name__"] = Value{Text: section, File: raw.File, Line: raw.Line}
	c.mapSectionOptions(section, rest, m)
	if depth > MaxInterpolationDepth {
		return errAt(raw, ErrInterpolation, "option %s in section %s: %%(…)s references nest deeper than %d (raw value %s)",
			py.Repr(option), py.Repr(section), MaxInterpolationDepth, py.Repr(raw.Text))
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			end := strings.IndexByte(rest, ')')
			if end < 3 || end+1 >= len(rest) || rest[end+1] != 's' {
				return errAt(raw, ErrInterpolation, "option %s in section %s: bad interpolation variable reference %s",
					py.Repr(option), py.Repr(section), py.Repr(rest))
			}
			name := py.Lower(rest[2:end])
			rest = rest[end+2:]
			v, ok := m.get(name)
			if !ok {
				return errAt(raw, ErrInterpolation, "option %s in section %s refers to %%(%s)s, which is not defined",
					py.Repr(option), py.Repr(section), name)
			}
			if strings.Contains(v.Text, "%") {
				if err := c.interpolate(section, option, raw, v.Text, m, depth+1, b); err != nil {
					return err
				}
			} else {
				b.WriteString(v.Text)
			}
		default:
			return errAt(raw, ErrInterpolation, "option %s in section %s: '%%' must be followed by '%%' or '(', found %s",
				py.Repr(option), py.Repr(section), py.Repr(rest))
		}
	}
	return nil
}

// mapSectionOptions is fail2ban's _map_section_options: for each
// %(sec/opt)s in rest that the lookup does not know yet, it adds the raw
// value of opt in section sec (KNOWN/<section> for "known", DEFAULT for
// "default", falling back to DEFAULT when the section lacks opt).
func (c *Config) mapSectionOptions(section, rest string, m *chain) {
	if !strings.Contains(rest, "/") || !strings.Contains(rest, "%(") {
		return
	}
	for _, ref := range sectionRefs(rest) {
		sopt, sec, opt := ref[0], ref[1], ref[2]
		if _, ok := m.get(sopt); ok {
			continue
		}
		var v Value
		found := false
		switch py.Lower(sec) {
		case "default":
		case "known":
			if s := c.sections[KnownPrefix+section]; s != nil {
				v, found = s.Get(opt)
			}
		default:
			s := c.sections[sec]
			if s == nil {
				continue
			}
			v, found = s.Get(opt)
		}
		if !found {
			if v, found = c.Defaults.Get(opt); !found {
				continue
			}
		}
		m.first[sopt] = v
	}
}

// sectionRefs finds %\(([\w\-]+/([^\)]+))\)s in s, returning per match
// "sec/opt", "sec" and "opt".
func sectionRefs(s string) [][3]string {
	var out [][3]string
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "%(")
		if j < 0 {
			break
		}
		start := i + j
		k := start + 2
		for k < len(s) {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !py.IsWord(r) && r != '-' {
				break
			}
			k += n
		}
		if k == start+2 || k >= len(s) || s[k] != '/' {
			i = start + 1
			continue
		}
		sec := s[start+2 : k]
		end := strings.IndexByte(s[k+1:], ')')
		if end <= 0 || k+1+end+1 >= len(s) || s[k+1+end+1] != 's' {
			i = start + 1
			continue
		}
		opt := s[k+1 : k+1+end]
		out = append(out, [3]string{sec + "/" + opt, sec, opt})
		i = k + 1 + end + 2
	}
	return out
}
