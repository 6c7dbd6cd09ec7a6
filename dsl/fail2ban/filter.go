package fail2ban

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// Filter is a filter as the fail2ban server would end up with it: the
// regexes and settings after [Definition]/[Init] layering, the options
// given in brackets, tag substitution and, for a jail, the jail's own
// filter options. Regexes keep their <HOST>, <F-…> and other run-time tags.
type Filter struct {
	// Name is the filter's name as given ("sshd"), or a file path.
	Name string
	// File is the filter's main file (filter.d/NAME.conf, or .local when
	// there is no .conf); "" when a jail defines its regexes without one.
	File string
	// Options are the options given in brackets, `sshd[mode=aggressive]`.
	Options map[string]string

	FailRegex   []Value // one per regex, in order
	IgnoreRegex []Value
	PrefRegex   Value
	DatePattern []Value // one per line, stripped, as the server splits them
	MaxLines    int     // 0: not set (the server's default is 1)
	// JournalMatch holds one match per line, as written; split each with
	// ShellSplit. The lines are alternatives (fail2ban adds "+" between).
	JournalMatch []string
	LogTimeZone  string // from the jail's logtimezone
	UseDNS       string // usedns as the filter or the jail sets it
	Mode         string // the mode option, "" when the filter has none
	LogType      string // the logtype option: file, journal, short, rfc5424

	// Raw holds every option of the filter's [Definition] and [Init]
	// sections with the bracket options over them and tags substituted, as
	// fail2ban merges them into the jail as known/ options.
	Raw map[string]Value
}

var filterSpec = []optSpec{
	{name: "usedns"},
	{name: "prefregex"},
	{name: "ignoreregex"},
	{name: "failregex"},
	{name: "maxlines", typ: tInt},
	{name: "datepattern"},
	{name: "journalmatch"},
}

type filterReader struct{ defInit }

func (c *Config) newFilterReader(name, jailName string, initOpts *ini.Options, at Value, w *warnings) *filterReader {
	return &filterReader{defInit{
		c: c, name: name, jailName: jailName, at: at, spec: filterSpec,
		initOpts: initOpts, defCache: map[string]*string{}, w: w, givenOpts: initOpts.Map(),
	}}
}

// read reads filter.d/NAME under dir.
func (r *filterReader) read(dir string) error {
	return r.readFrom(r.c.readNamed(dir, ini.JoinPath("filter.d", r.name)))
}

// applyAutoOptions sets logtype from the backend unless the jail or the
// filter's [Definition] sets it.
func (r *filterReader) applyAutoOptions(backend string) {
	def := r.cfg.Section(secDefinition)
	if r.initOpts.Text("logtype") == "" && (def == nil || !def.Has("logtype")) {
		lt := "file"
		if strings.HasPrefix(backend, "systemd") {
			lt = "journal"
		}
		r.initOpts.Set("logtype", Value{Text: lt, File: r.at.File, Line: r.at.Line})
	}
}

// convert is FilterReader.convert: the filter's part of the stream.
func (r *filterReader) convert() ([]cmd, *ini.Options, error) {
	opts, err := r.combined(nil)
	if err != nil {
		return nil, nil, err
	}
	if opts.Len() == 0 {
		return nil, opts, nil
	}
	s, err := fillStream(nil, opts, r.c.splitLines)
	return s, opts, err
}

func (r *filterReader) newFilter() *Filter {
	return &Filter{Name: r.name, File: r.file(), Options: r.givenOpts}
}

// setRaw fills Raw, Mode and LogType from combined options.
func (f *Filter) setRaw(comb *ini.Options) {
	f.Raw = map[string]Value{}
	for _, k := range comb.Keys() {
		if strings.HasPrefix(k, knownPrefix) {
			continue
		}
		v, _ := comb.Get(k)
		f.Raw[k] = v
	}
	f.Mode = comb.Text("mode")
	f.LogType = comb.Text("logtype")
}

// filterNameRE is fail2ban-regex's test for a filter name or file,
// ^/{0,3}[\w/_\-.]+(?:\[.*\])?$.
func isFilterSpec(spec string) bool {
	i := 0
	for i < len(spec) && i < 3 && spec[i] == '/' {
		i++
	}
	j := i
	for _, r := range spec[i:] {
		if !py.IsWord(r) && r != '/' && r != '-' && r != '.' {
			break
		}
		j += len(string(r))
	}
	if j == i {
		return false
	}
	rest := strings.TrimSuffix(spec[j:], "\n")
	return rest == "" || strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]")
}

// Filter reads a filter the way fail2ban-regex does: spec is a filter name
// with options ("sshd[mode=aggressive]", looked up as filter.d/NAME.conf
// with its .d, .local and includes under the configuration directory) or a
// path to a filter file (a file inside some filter.d directory is read with
// that directory's rules, any other file with only its own includes).
// jailVars are the options of a jail (backend, logtimezone, …) that the
// filter's values may refer to; nil for none. The logtype option follows
// jailVars["backend"] as it does in a jail.
func (c *Config) Filter(spec string, jailVars map[string]string) (*Filter, error) {
	if !isFilterSpec(spec) {
		return nil, fmt.Errorf("fail2ban: %q is not a filter name or file: %w", spec, ErrNotFound)
	}
	at := Value{Text: spec}
	name, fopts, err := extractOptions(spec, at)
	if err != nil {
		return nil, fmt.Errorf("fail2ban: filter %q: %w", spec, err)
	}
	basedir := c.Dir
	tries := []string{name, name + ".conf", name + ".local"}
	if tail := lastRunes(name, 6); strings.Contains(tail, ".") {
		tries = tries[:1]
	}
	var file string
	for _, t := range tries {
		if !strings.Contains(t, "/") {
			if ini.BaseName(basedir) == "filter.d" {
				t = ini.JoinPath(basedir, t)
			} else {
				t = ini.JoinPath(ini.JoinPath(basedir, "filter.d"), t)
			}
		} else {
			basedir = ini.DirName(t)
		}
		if st, err := os.Stat(t); err == nil && st.Mode().IsRegular() {
			file = t
			break
		}
	}
	if file == "" {
		return nil, fmt.Errorf("fail2ban: filter %q: no file for it under %s: %w", spec, c.Dir, ErrNotFound)
	}
	w := &warnings{}
	jv := ini.NewOptions()
	for _, k := range sortedKeys(jailVars) {
		jv.Set(k, Value{Text: jailVars[k]})
	}
	mk := func() (*filterReader, error) {
		r := c.newFilterReader(name, "fail2ban-regex-jail", fopts.Clone(), at, w)
		var n *namedConfig
		if basedir == c.Dir || ini.BaseName(basedir) == "filter.d" || !strings.Contains(lastRunes(name, 6), ".") && !strings.Contains(name, "/") {
			dir := basedir
			if ini.BaseName(dir) == "filter.d" {
				dir = ini.DirName(dir)
			}
			r.name = ini.SplitExt(ini.BaseName(name))
			n = c.readNamed(dir, ini.JoinPath("filter.d", r.name))
		} else {
			abs, err := filepath.Abs(name)
			if err != nil {
				return nil, err
			}
			r.name = abs
			n = c.readExplicit(abs)
		}
		if err := r.readFrom(n); err != nil {
			return nil, err
		}
		r.applyAutoOptions(jailVars["backend"])
		return r, nil
	}
	r, err := mk()
	if err != nil {
		return nil, fmt.Errorf("fail2ban: filter %q: %w", spec, err)
	}
	if err := r.getOptions(jv, false); err != nil {
		return nil, fmt.Errorf("fail2ban: filter %q: %w", spec, err)
	}
	stream, comb, err := r.convert()
	if err != nil {
		return nil, fmt.Errorf("fail2ban: filter %q: %w", spec, err)
	}
	f := r.newFilter()
	f.Name = name
	foldFilter(f, stream, c.splitLines)
	f.LogTimeZone = jailVars["logtimezone"]
	f.setRaw(comb)
	// Raw with every [Definition] option, as a jail would merge them.
	if ra, err := mk(); err == nil {
		if err := ra.getOptions(jv, true); err == nil {
			if all, err := ra.combined(nil); err == nil {
				f.setRaw(all)
			}
		}
	}
	return f, nil
}

func lastRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[len(r)-n:]
	}
	return string(r)
}
