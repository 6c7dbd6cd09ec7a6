package fail2ban

import (
	"errors"
	"fmt"
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// Jail is one jail as fail2ban-client resolves it and the server would run
// it. Fields not set in the configuration keep their zero value; Options
// has everything, with the place each value was defined.
type Jail struct {
	Name    string
	Enabled bool
	Pos     Pos // the jail's section header (where it first appears)

	Filter  *Filter // nil when the jail has no filter and no regexes of its own
	Actions []*Action

	// LogPath holds the logpath patterns, one per line, unexpanded, with a
	// trailing " tail" or " head" word removed (see LogTail). fail2ban
	// ignores them when Backend starts with "systemd".
	LogPath []string
	// LogTail tells, per LogPath entry, whether reading starts at the end
	// ("path tail") rather than the start.
	LogTail     []bool
	Backend     string // as written, with options: "systemd[journalflags=1]"
	LogEncoding string

	MaxRetry   int
	FindTime   float64 // seconds
	BanTime    float64 // seconds; -1: permanent
	MaxMatches int

	BanTimeIncrement    bool
	BanTimeFactor       string
	BanTimeFormula      string
	BanTimeMultipliers  string
	BanTimeMaxTime      float64 // seconds; 0: not set
	BanTimeRndTime      float64 // seconds; 0: not set
	BanTimeOverallJails bool

	IgnoreIP      []string
	IgnoreSelf    bool
	IgnoreCommand string
	IgnoreCache   string
	UseDNS        string

	// Options holds every resolved jail option: those fail2ban-client reads
	// (booleans as "True"/"False", integers normalised, as fail2ban hands
	// them on) and every other option of the jail's section and [DEFAULT]
	// that resolves.
	Options map[string]Value
}

var (
	jailSpec1st = []optSpec{
		{name: "enabled", typ: tBool, def: str("false")},
		{name: "backend", def: str("auto")},
		{name: "filter", def: str("")},
	}
	jailSpec = append([]optSpec{
		{name: "enabled", typ: tBool, def: str("false")},
		{name: "backend", def: str("auto")},
		{name: "maxretry", typ: tInt},
		{name: "maxmatches", typ: tInt},
		{name: "findtime"},
		{name: "bantime"},
		{name: "bantime.increment", typ: tBool},
		{name: "bantime.factor"},
		{name: "bantime.formula"},
		{name: "bantime.multipliers"},
		{name: "bantime.maxtime"},
		{name: "bantime.rndtime"},
		{name: "bantime.overalljails", typ: tBool},
		{name: "ignorecommand"},
		{name: "ignoreself", typ: tBool},
		{name: "ignoreip"},
		{name: "ignorecache"},
		{name: "filter", def: str("")},
		{name: "logtimezone"},
		{name: "logencoding"},
		{name: "logpath"},
		{name: "action", def: str("")},
	}, filterSpec...)
)

// jailIgnore are the options JailReader.convert does not send as "set".
var jailIgnore = func() map[string]bool {
	m := map[string]bool{"action": true, "filter": true, "enabled": true}
	for _, o := range filterSpec {
		m[o.name] = true
	}
	return m
}()

// Jails resolves every jail section of the configuration as
// fail2ban-client's JailsReader does, in the order the sections first
// appear. Only enabled jails are resolved and returned unless
// includeDisabled is set; disabled jails are then resolved as if enabled.
//
// A jail that cannot be resolved (bad filter or action spec, missing file,
// broken interpolation or recursive tags) is left out with a warning
// naming the file and line. Where fail2ban-client would reject the whole
// configuration for such an error (anything but a bad spec or a missing
// file), the warning says so. Warnings also carry what fail2ban-client
// would log (defaults used, files it cannot read, jails without actions).
func (c *Config) Jails(includeDisabled bool) ([]*Jail, []Warning) {
	jcfg := c.jail.Clone()
	auto := ini.NewOptions()
	auto.Set("fail2ban_version", Value{Text: Version})
	auto.Set("fail2ban_confpath", Value{Text: c.Dir})
	jcfg.MergeDefaults(auto)

	w := &warnings{}
	w.add(c.warns...)
	var jails []*Jail
	for _, name := range append([]string(nil), jcfg.Sections()...) {
		if strings.HasPrefix(name, ini.KnownPrefix) || name == ini.IncludesSection {
			continue
		}
		sec := jcfg.Section(name)
		at := Value{File: sec.File, Line: sec.Line}
		j, err := c.readJail(jcfg, name, includeDisabled, w)
		if err != nil {
			var de *jailDefError
			prefix := fmt.Sprintf("jail %s skipped", py.Repr(name))
			switch {
			case j != nil && !j.Enabled:
				prefix = fmt.Sprintf("disabled jail %s cannot be resolved", py.Repr(name))
			case !errors.As(err, &de):
				prefix += " (fail2ban-client would refuse the whole configuration)"
			}
			w.warnErr(at, prefix, err)
			continue
		}
		if j != nil && (j.Enabled || includeDisabled) {
			jails = append(jails, j)
		}
	}
	return jails, w.list
}

// jailDefError is fail2ban's JailDefError: a jail it skips while keeping
// the others.
type jailDefError struct{ err error }

// Error returns the underlying error's text.
func (e *jailDefError) Error() string { return e.err.Error() }

// Unwrap returns the underlying error.
func (e *jailDefError) Unwrap() error { return e.err }

func defErr(at Value, sentinel error, format string, args ...any) error {
	return &jailDefError{errAt(at, sentinel, format, args...)}
}

// readJail is JailReader.getOptions followed by JailReader.convert. After
// an error it still returns the jail when it knows whether it is enabled.
func (c *Config) readJail(jcfg *ini.Config, name string, force bool, w *warnings) (*Jail, error) {
	sec := jcfg.Section(name)
	at := Value{File: sec.File, Line: sec.Line}
	j := &Jail{Name: name, Pos: Pos{File: sec.File, Line: sec.Line}}

	opts1, err := getOptions(jcfg, name, jailSpec1st, nil, true, true, w, at)
	if err != nil {
		return nil, err
	}
	j.Enabled = opts1.Text("enabled") == "True"
	if !j.Enabled {
		if !force {
			return j, nil
		}
		// fail2ban never reads a disabled jail: resolve it on a copy so
		// that the known/ options it merges stay invisible to the others.
		jcfg = jcfg.Clone()
	}
	if _, err := c.resolveJail(jcfg, j, opts1, at, w); err != nil {
		return &Jail{Name: name, Enabled: j.Enabled, Pos: j.Pos}, err
	}
	return j, nil
}

// resolveJail reads an enabled jail's filter, options and actions, and
// converts them as fail2ban-client would.
func (c *Config) resolveJail(jcfg *ini.Config, j *Jail, opts1 *ini.Options, at Value, w *warnings) (*Jail, error) {
	name := j.Name

	var fr *filterReader
	if flt, _ := opts1.Get("filter"); flt.Text != "" {
		fname, fopts, err := extractOptions(flt.Text, flt)
		if err != nil {
			return nil, &jailDefError{fmt.Errorf("invalid filter definition %s: %w", py.Repr(flt.Text), err)}
		}
		fr = c.newFilterReader(fname, name, fopts, flt, w)
		if err := fr.read(c.Dir); err != nil {
			if errors.Is(err, ini.ErrNoFiles) {
				return nil, defErr(flt, ErrNotFound, "unable to read the filter %s", py.Repr(fname))
			}
			return nil, err
		}
		fr.applyAutoOptions(opts1.Text("backend"))
		if err := fr.getOptions(opts1, true); err != nil {
			return nil, err
		}
		comb, err := fr.combined(nil)
		if err != nil {
			return nil, err
		}
		jcfg.MergeSection(name, comb, knownPrefix)
		j.Filter = fr.newFilter()
		j.Filter.setRaw(comb)
	} else {
		w.at(at, "no filter set for jail %s", name)
	}

	opts, err := getOptions(jcfg, name, jailSpec, nil, true, false, w, at)
	if err != nil {
		return nil, err
	}
	if fr != nil {
		if err := fr.getOptions(opts, false); err != nil {
			return nil, err
		}
	}

	actVal, _ := opts.Get("action")
	for _, act := range SplitWithOptions(actVal.Text) {
		act = py.Strip(act)
		if act == "" {
			continue
		}
		aname, aopts, err := extractOptions(act, actVal)
		if err != nil {
			return nil, &jailDefError{fmt.Errorf("invalid action definition %s: %w", py.Repr(act), err)}
		}
		if strings.HasSuffix(aname, ".py") {
			an := ini.SplitExt(aname)
			if v, ok := aopts.Get("actname"); ok {
				an = v.Text
				aopts.Delete("actname")
			}
			j.Actions = append(j.Actions, &Action{
				Name: name, ActName: an, File: ini.JoinPath(ini.JoinPath(c.Dir, "action.d"), aname),
				Options: aopts.Map(), Python: true,
			})
			continue
		}
		ar := c.newActionReader(aname, name, aopts, actVal, w)
		if err := ar.read(c.Dir); err != nil {
			if errors.Is(err, ini.ErrNoFiles) {
				return nil, defErr(actVal, ErrNotFound, "unable to read action %s", py.Repr(aname))
			}
			return nil, fmt.Errorf("error in action definition %s: %w", py.Repr(act), err)
		}
		if err := ar.getOptions(opts, false); err != nil {
			return nil, fmt.Errorf("error in action definition %s: %w", py.Repr(act), err)
		}
		a, err := ar.convert()
		if err != nil {
			return nil, err
		}
		j.Actions = append(j.Actions, a)
	}
	if len(j.Actions) == 0 {
		w.at(at, "no actions were defined for %s", name)
	}

	// convert: the filter's commands, then the jail's own.
	var stream []cmd
	if fr != nil {
		s, _, err := fr.convert()
		if err != nil {
			return nil, err
		}
		stream = s
	}
	stream, err = fillStream(stream, opts, c.splitLines)
	if err != nil {
		return nil, err
	}
	for _, s := range stream {
		if s.key != "datepattern" && strings.Contains("datepattern", s.key) {
			w.at(s.vals[0], "jail %s: fail2ban-client sends filter option '%s' to the server as a command the server rejects (it treats option names that are part of \"datepattern\" as datepattern)",
				py.Repr(name), s.key)
		}
	}
	var logpaths []cmd
	systemd := strings.HasPrefix(opts.Text("backend"), "systemd")
	for _, k := range opts.Keys() {
		v, _ := opts.Get(k)
		switch {
		case k == "logpath":
			if systemd {
				continue
			}
			for _, p := range c.splitLines(v) {
				tail := "head"
				if i := strings.LastIndexByte(p.Text, ' '); i >= 0 {
					p.Text, tail = p.Text[:i], p.Text[i+1:]
				}
				if p.Text == "" {
					continue
				}
				logpaths = append(logpaths, cmd{key: "addlogpath", vals: []Value{p, {Text: tail}}})
			}
		case k == "backend":
			j.Backend = v.Text
		case k == "ignoreip":
			for _, ip := range splitWords(v.Text) {
				j.IgnoreIP = append(j.IgnoreIP, ip)
			}
		case !jailIgnore[k]:
			stream = append(stream, cmd{key: k, vals: []Value{v}})
		}
	}
	stream = append(stream, logpaths...)

	// A jail's own regexes make a filter even without a filter file.
	if j.Filter == nil {
		for _, s := range stream {
			switch s.key {
			case "addfailregex", "addignoreregex", "prefregex", "datepattern", "addjournalmatch", "maxlines":
				j.Filter = &Filter{}
			}
		}
	}
	if j.Filter != nil {
		foldFilter(j.Filter, stream, c.splitLines)
	}
	j.fold(stream, w)
	j.Options = c.jailOptions(jcfg, name, opts, w)
	return j, nil
}

// fold sets the jail's fields from its commands.
func (j *Jail) fold(stream []cmd, w *warnings) {
	secs := func(v Value) float64 {
		s, err := Seconds(v.Text)
		if err != nil {
			w.warnErr(v, "jail "+py.Repr(j.Name), err)
		}
		return s
	}
	integer := func(v Value) int {
		n, _ := pyInt(v.Text)
		return int(n)
	}
	for _, c := range stream {
		v := c.vals[0]
		switch c.key {
		case "usedns":
			j.UseDNS = v.Text
		case "addlogpath":
			j.LogPath = append(j.LogPath, v.Text)
			j.LogTail = append(j.LogTail, c.vals[1].Text == "tail")
		case "maxretry":
			j.MaxRetry = integer(v)
		case "maxmatches":
			j.MaxMatches = integer(v)
		case "findtime":
			j.FindTime = secs(v)
		case "bantime":
			j.BanTime = secs(v)
		case "bantime.increment":
			j.BanTimeIncrement = v.Text == "True"
		case "bantime.factor":
			j.BanTimeFactor = v.Text
		case "bantime.formula":
			j.BanTimeFormula = v.Text
		case "bantime.multipliers":
			j.BanTimeMultipliers = v.Text
		case "bantime.maxtime":
			j.BanTimeMaxTime = secs(v)
		case "bantime.rndtime":
			j.BanTimeRndTime = secs(v)
		case "bantime.overalljails":
			j.BanTimeOverallJails = v.Text == "True"
		case "ignorecommand":
			j.IgnoreCommand = v.Text
		case "ignoreself":
			j.IgnoreSelf = v.Text == "True"
		case "ignorecache":
			j.IgnoreCache = v.Text
		case "logencoding":
			j.LogEncoding = v.Text
		}
	}
}

// jailOptions returns fail2ban's jail options plus every other option of
// the jail's section and [DEFAULT] that resolves. An option of the jail's
// own section that does not resolve gets a warning; one inherited from
// [DEFAULT] (which may only make sense in other jails) does not.
func (c *Config) jailOptions(jcfg *ini.Config, name string, opts *ini.Options, w *warnings) map[string]Value {
	out := map[string]Value{}
	for _, k := range opts.Keys() {
		out[k], _ = opts.Get(k)
	}
	sec := jcfg.Section(name)
	add := func(k string, own bool) {
		if _, ok := out[k]; ok || strings.HasPrefix(k, knownPrefix) {
			return
		}
		v, err := jcfg.Get(name, k, nil)
		if err != nil {
			if own {
				w.warnErr(Value{File: sec.File, Line: sec.Line}, "jail "+py.Repr(name), err)
			}
			return
		}
		out[k] = v
	}
	for _, k := range sec.Keys() {
		add(k, true)
	}
	for _, k := range jcfg.Defaults.Keys() {
		add(k, false)
	}
	return out
}
