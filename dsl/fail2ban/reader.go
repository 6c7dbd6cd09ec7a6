package fail2ban

import (
	"errors"
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// Section names of filter and action files.
const (
	secDefinition = "Definition"
	secInit       = "Init"
	knownPrefix   = "known/"
)

// optType is the conversion fail2ban applies to an option.
type optType int

const (
	tString optType = iota
	tBool
	tInt
)

// optSpec is one entry of a reader's _configOpts: the option, its type and
// its default (nil: none).
type optSpec struct {
	name string
	typ  optType
	def  *string
}

func str(s string) *string { return &s }

// asBool is helpers._as_bool.
func asBool(s string) bool {
	switch py.Lower(s) {
	case "1", "on", "true", "yes":
		return true
	}
	return false
}

// pyBool is str(bool) in Python.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyInt is Python's int(str): blanks around, an optional sign, digits with
// single underscores between them.
func pyInt(s string) (int64, bool) {
	t := py.Strip(s)
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 || digits == "" || digits[0] == '_' || strings.HasSuffix(digits, "_") || strings.Contains(digits, "__") {
		return 0, false
	}
	for _, r := range digits {
		if (r < '0' || r > '9') && r != '_' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
	return n, err == nil
}

// convert applies a type to a value the way fail2ban's CONVERTER does and
// returns the text Python's str() gives the result.
func convert(typ optType, text string) (string, bool) {
	switch typ {
	case tBool:
		return pyBool(asBool(text)), true
	case tInt:
		n, ok := pyInt(text)
		if !ok {
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	}
	return text, true
}

func isNoOption(err error) bool  { return errors.Is(err, ini.ErrNoOption) }
func isNoSection(err error) bool { return errors.Is(err, ini.ErrNoSection) }

// getOptions is ConfigReaderUnshared.getOptions: each option of spec not
// given in pOpts is read from sec (with pOpts as vars) and converted; a
// missing option takes its default when it has one.
func getOptions(cfg *ini.Config, sec string, spec []optSpec, pOpts *ini.Options, conv, shouldExist bool, w *warnings, at Value) (*ini.Options, error) {
	values := ini.NewOptions()
	noSection := false
	for _, o := range spec {
		if pOpts.Has(o.name) {
			continue
		}
		v, err := cfg.Get(sec, o.name, pOpts)
		switch {
		case err == nil:
		case isNoSection(err):
			if shouldExist {
				return nil, err
			}
			if !noSection {
				w.at(at, "no [%s] section", sec)
				noSection = true
			}
			continue
		case isNoOption(err):
			if o.def != nil {
				w.at(at, "'%s' not defined in '%s'. Using default one: %s", o.name, sec, py.Repr(*o.def))
				values.Set(o.name, Value{Text: *o.def, File: at.File, Line: at.Line})
			}
			continue
		default:
			return nil, err
		}
		if conv {
			t, ok := convert(o.typ, v.Text)
			if !ok {
				w.at(v, "wrong value for '%s' in '%s': %s", o.name, sec, py.Repr(v.Text))
				if o.def != nil {
					values.Set(o.name, Value{Text: *o.def, File: v.File, Line: v.Line})
				}
				continue
			}
			v.Text = t
		}
		values.Set(o.name, v)
	}
	return values, nil
}

// defInit is DefinitionInitConfigReader: a filter or action file with
// [Definition] and [Init] sections, read for one jail with the options the
// jail passed in brackets.
type defInit struct {
	c         *Config
	name      string // as given in the jail ("sshd", "iptables-multiport")
	jailName  string
	at        Value // where the jail named it
	spec      []optSpec
	named     *namedConfig
	cfg       *ini.Config
	initOpts  *ini.Options
	opts      *ini.Options
	pOpts     *ini.Options
	defCache  map[string]*string
	w         *warnings
	givenOpts map[string]string
}

func (r *defInit) readFrom(n *namedConfig) error {
	r.named = n
	r.w.add(n.warns...)
	if n.err != nil {
		return n.err
	}
	r.cfg = n.cfg
	return nil
}

// file returns the main file of the definition: the first of its files.
func (r *defInit) file() string {
	if r.named != nil && len(r.named.files) > 0 {
		return r.named.files[0]
	}
	return ""
}

// getOptions is DefinitionInitConfigReader.getOptions.
func (r *defInit) getOptions(pOpts *ini.Options, all bool) error {
	if pOpts == nil {
		pOpts = ini.NewOptions()
	}
	if r.initOpts.Len() > 0 {
		pOpts = pOpts.Merged(r.initOpts)
	}
	opts, err := getOptions(r.cfg, secDefinition, r.spec, pOpts, false, false, r.w, Value{File: r.file()})
	if err != nil {
		return err
	}
	r.opts = opts
	r.pOpts = pOpts
	if r.cfg.HasSection(secInit) {
		for _, opt := range r.cfg.Section(secInit).Keys() {
			if opt == "__name__" {
				continue
			}
			var v *Value
			get := func() error {
				if v == nil {
					x, err := r.cfg.Get(secInit, opt, nil)
					if err != nil {
						return err
					}
					v = &x
				}
				return nil
			}
			if !strings.HasPrefix(opt, knownPrefix) {
				if err := get(); err != nil {
					return err
				}
				r.initOpts.Set(knownPrefix+opt, *v)
			}
			if !r.initOpts.Has(opt) {
				if err := get(); err != nil {
					return err
				}
				r.initOpts.Set(opt, *v)
			}
		}
	}
	if all && r.cfg.HasSection(secDefinition) {
		for _, opt := range r.cfg.Section(secDefinition).Keys() {
			if opt == "__name__" || r.opts.Has(opt) {
				continue
			}
			v, err := r.cfg.Get(secDefinition, opt, nil)
			if err != nil {
				return err
			}
			r.opts.Set(opt, v)
		}
	}
	return nil
}

// combOption is getCombOption: a tag the combined options lack, looked up
// in [Definition] (or "sec/opt") with the jail's options as vars; cached
// for the reader's life, as in fail2ban.
func (r *defInit) combOption(name string) (string, bool, error) {
	if v, ok := r.defCache[name]; ok {
		if v == nil {
			return "", false, nil
		}
		return *v, true, nil
	}
	v, err := r.cfg.GetEx(secDefinition, name, r.pOpts)
	if err != nil {
		if isNoOption(err) || isNoSection(err) {
			r.defCache[name] = nil
			return "", false, nil
		}
		return "", false, err
	}
	r.defCache[name] = &v.Text
	return v.Text, true, nil
}

// combined is getCombined: [Definition] and [Init] options with the jail's
// over them, tags substituted (except for the options of ignore and those
// with a conditional variant), then converted to their types.
func (r *defInit) combined(ignore map[string]bool) (*ini.Options, error) {
	comb := r.opts
	if r.initOpts.Len() > 0 {
		comb = comb.Merged(r.initOpts)
	}
	if comb.Len() == 0 {
		return ini.NewOptions(), nil
	}
	ign := map[string]bool{}
	for k := range ignore {
		ign[k] = true
	}
	for _, n := range comb.Keys() {
		if base, _, ok := ini.SplitConditional(n); ok {
			ign[base] = true
		}
	}
	opts, err := substituteTags(comb, "", ign, r.combOption)
	if err != nil {
		return nil, err
	}
	for _, o := range r.spec {
		v, ok := opts.Get(o.name)
		if !ok || o.typ == tString {
			continue
		}
		t, ok := convert(o.typ, v.Text)
		if !ok {
			r.w.at(v, "wrong %s value %s for '%s'", map[optType]string{tInt: "int", tBool: "bool"}[o.typ], py.Repr(v.Text), o.name)
			opts.Delete(o.name)
			continue
		}
		v.Text = t
		opts.Set(o.name, v)
	}
	return opts, nil
}
