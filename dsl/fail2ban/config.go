package fail2ban

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
)

// Version is the fail2ban version whose client this package mirrors; it is
// the value of the automatic option fail2ban_version.
const Version = "1.0.2"

// Sentinel errors, besides those of package ini (ini.ErrParse,
// ini.ErrNoSection, ini.ErrNoOption, ini.ErrInterpolation, ini.ErrNoFiles).
var (
	// ErrOptionSyntax: a `name[opt=value, …]` spec is malformed.
	ErrOptionSyntax = errors.New("bad option syntax")
	// ErrTagRecursion: <tag> definitions refer to themselves, or one tag is
	// replaced more than MaxTagReplaceCount times.
	ErrTagRecursion = errors.New("recursive tag definitions")
	// ErrTimeValue: a time value is not something str2seconds accepts.
	ErrTimeValue = errors.New("bad time value")
	// ErrNotFound: a filter or action has no file.
	ErrNotFound = errors.New("not found")
	// ErrValue: an option's value has the wrong type (an integer that is not).
	ErrValue = errors.New("bad value")
)

// Value is an option's text and the file and line where it was defined.
type Value = ini.Value

// Pos is a place in a configuration file.
type Pos struct {
	File string
	Line int
}

// String returns "file:line".
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Warning is something fail2ban-client would log, or a jail that cannot be
// resolved, at the place it concerns. Line is 0 when the place is a whole
// file, File is "" when there is no place.
type Warning struct {
	File string
	Line int
	Msg  string
}

// String returns the warning as "file:line: message".
func (w Warning) String() string {
	switch {
	case w.File == "":
		return w.Msg
	case w.Line == 0:
		return w.File + ": " + w.Msg
	}
	return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg)
}

// Config is a fail2ban configuration directory as fail2ban-client reads it.
// It is safe for concurrent use.
type Config struct {
	// Dir is the configuration directory as given to Load, without
	// trailing slashes (the automatic option fail2ban_confpath).
	Dir string
	// JailFiles are the files the jail configuration was read from, in
	// order (jail.conf and its includes, jail.d, jail.local …).
	JailFiles []string

	rd    *ini.Reader
	jail  *ini.Config
	warns []Warning

	mu    sync.Mutex
	named map[string]*namedConfig
}

type namedConfig struct {
	cfg   *ini.Config
	files []string
	warns []Warning
	err   error
}

// Load reads the jail configuration under dir (jail.conf, jail.d/*.conf,
// jail.local, jail.d/*.local, with their includes such as paths-*.conf).
// Filters and actions are read when Jails or Filter needs them. Errors
// name the file and line.
func Load(dir string) (*Config, error) {
	if d := strings.TrimRight(dir, "/"); d != "" {
		dir = d
	}
	c := &Config{Dir: dir, rd: ini.NewReader(), named: map[string]*namedConfig{}}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("fail2ban: configuration directory %s: %w", dir, ini.ErrNoFiles)
	}
	cfg, warns, err := c.rd.ReadNamed(dir, "jail")
	c.warns = iniWarnings(warns)
	switch {
	case errors.Is(err, ini.ErrNoFiles) && len(ini.NamedFiles(dir, "jail")) == 0:
		// A directory with only filters (fail2ban-regex -c) is fine.
		cfg = ini.NewConfig()
		c.warns = append(c.warns, Warning{File: dir, Msg: "no jail configuration (jail.conf, jail.local, jail.d) in this directory"})
	case err != nil:
		return nil, fmt.Errorf("fail2ban: %w", err)
	}
	c.jail = cfg
	c.JailFiles = cfg.Files
	return c, nil
}

func iniWarnings(errs []*ini.Error) []Warning {
	var out []Warning
	for _, e := range errs {
		out = append(out, Warning{File: e.File, Line: e.Line, Msg: e.Msg})
	}
	return out
}

// readNamed reads (once) the configuration name ("filter.d/sshd") under
// dir.
func (c *Config) readNamed(dir, name string) *namedConfig {
	key := dir + "\x00" + name
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.named[key]; ok {
		return n
	}
	n := &namedConfig{files: ini.NamedFiles(dir, name)}
	cfg, warns, err := c.rd.ReadNamed(dir, name)
	n.cfg, n.warns, n.err = cfg, iniWarnings(warns), err
	c.named[key] = n
	return n
}

// readExplicit reads one file with its includes (fail2ban-regex's
// readexplicit for a filter file outside a filter.d directory).
func (c *Config) readExplicit(path string) *namedConfig {
	key := "\x00explicit\x00" + path
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.named[key]; ok {
		return n
	}
	n := &namedConfig{files: []string{path}}
	cfg, warns, err := c.rd.ReadFiles([]string{path})
	if err == nil && len(cfg.Files) == 0 {
		err = &ini.Error{File: path, Msg: "cannot read file", Err: ini.ErrNoFiles}
	}
	n.cfg, n.warns, n.err = cfg, iniWarnings(warns), err
	c.named[key] = n
	return n
}

// warnings collects warnings without repeating one.
type warnings struct {
	list []Warning
	seen map[Warning]bool
}

func (w *warnings) add(ws ...Warning) {
	if w.seen == nil {
		w.seen = map[Warning]bool{}
	}
	for _, x := range ws {
		if !w.seen[x] {
			w.seen[x] = true
			w.list = append(w.list, x)
		}
	}
}

func (w *warnings) at(v Value, format string, args ...any) {
	w.add(Warning{File: v.File, Line: v.Line, Msg: fmt.Sprintf(format, args...)})
}

// warnErr turns err into a warning at its own place, or at v when it has
// none.
func (w *warnings) warnErr(v Value, prefix string, err error) {
	msg := err.Error()
	var ie *ini.Error
	if errors.As(err, &ie) && ie.File != "" {
		v = Value{File: ie.File, Line: ie.Line}
		msg = strings.Replace(msg, ie.Error(), ie.Msg, 1)
	}
	if prefix != "" {
		msg = prefix + ": " + msg
	}
	w.add(Warning{File: v.File, Line: v.Line, Msg: msg})
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
