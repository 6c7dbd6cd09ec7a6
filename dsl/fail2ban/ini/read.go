package ini

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// IncludesSection is the section whose "before" and "after" options name
// files to read before and after the file holding it.
const IncludesSection = "INCLUDES"

// KnownPrefix starts the name of the section that keeps, for a section
// overridden by a later file, the values it had before ("KNOWN/sshd").
const KnownPrefix = "KNOWN/"

// Reader reads configuration files the way fail2ban-client does with its
// shared configuration: each file is parsed once and each include list is
// computed once per Reader, however many configurations use them. A Reader
// is safe for concurrent use.
type Reader struct {
	mu    sync.Mutex
	files map[string]*fileEntry
	incs  map[string][]string
}

type fileEntry struct {
	f    *File  // nil when the file could not be read
	warn *Error // why it could not be read, when that is worth a warning
}

// NewReader returns a Reader with empty caches.
func NewReader() *Reader {
	return &Reader{files: map[string]*fileEntry{}, incs: map[string][]string{}}
}

// Config is a set of files merged in order: [DEFAULT] options and sections
// merged across files, later files winning per option; conditional sections
// ("[Init?family=inet6]") folded into their base section with the condition
// appended to each option name; and for every section overridden by a later
// file a "KNOWN/<name>" section holding the values it overrode.
type Config struct {
	Defaults *Section
	Files    []string // the files read, in order
	sections map[string]*Section
	order    []string
}

// NewConfig returns an empty configuration.
func NewConfig() *Config { return newConfig() }

func newConfig() *Config {
	return &Config{Defaults: newSection(DefaultSection, "", 0), sections: map[string]*Section{}}
}

// configOf wraps one parsed file without merging (a single-file parser).
func configOf(f *File) *Config {
	c := &Config{Defaults: f.Defaults, sections: map[string]*Section{}}
	for _, s := range f.Sections {
		c.sections[s.Name] = s
		c.order = append(c.order, s.Name)
	}
	return c
}

// Clone returns a deep copy, so that merging into it leaves c unchanged.
func (c *Config) Clone() *Config {
	n := &Config{Defaults: c.Defaults.clone(), Files: c.Files, sections: make(map[string]*Section, len(c.sections)), order: append([]string(nil), c.order...)}
	for k, s := range c.sections {
		n.sections[k] = s.clone()
	}
	return n
}

// Sections returns every section name in order, including KNOWN/ ones but
// not DEFAULT.
func (c *Config) Sections() []string { return c.order }

// Section returns the section called name, or nil.
func (c *Config) Section(name string) *Section { return c.sections[name] }

// HasSection reports whether section name exists (DEFAULT does not count).
func (c *Config) HasSection(name string) bool { return c.sections[name] != nil }

// HasOption is ConfigParser.has_option: the option is set in the section or
// in DEFAULT.
func (c *Config) HasOption(section, option string) bool {
	option = py.Lower(option)
	if section == "" || section == DefaultSection {
		return c.Defaults.Has(option)
	}
	s := c.sections[section]
	return s != nil && (s.Has(option) || c.Defaults.Has(option))
}

// MergeSection sets opts into section name, creating it; with a non-empty
// pref every name gets pref in front, skipping names that already start with
// it (fail2ban's merge_section).
func (c *Config) MergeSection(name string, opts *Options, pref string) {
	s := c.sections[name]
	if s == nil {
		s = newSection(name, "", 0)
		c.sections[name] = s
		c.order = append(c.order, name)
	}
	if pref == "" {
		s.Update(opts)
		return
	}
	for _, k := range opts.Keys() {
		if !strings.HasPrefix(k, pref) && k != "__name__" {
			v, _ := opts.Get(k)
			s.Set(pref+k, v)
		}
	}
}

// MergeDefaults sets opts into [DEFAULT].
func (c *Config) MergeDefaults(opts *Options) { c.Defaults.Update(opts) }

// SplitConditional splits a conditional name, "Init?family=inet6" into
// "Init" and "?family=inet6" (fail2ban's CONDITIONAL_RE, ^(\w+)(\?.+)$);
// ok is false for a name that is not conditional.
func SplitConditional(name string) (string, string, bool) {
	q := strings.IndexByte(name, '?')
	if q <= 0 || q == len(name)-1 {
		return "", "", false
	}
	for _, r := range name[:q] {
		if !py.IsWord(r) {
			return "", "", false
		}
	}
	cond := name[q:]
	if strings.Contains(strings.TrimSuffix(cond, "\n"), "\n") {
		return "", "", false
	}
	return name[:q], cond, true
}

func (c *Config) merge(f *File) {
	c.Defaults.Update(f.Defaults.Options)
	if c.Defaults.File == "" && f.Defaults.Line > 0 {
		c.Defaults.File, c.Defaults.Line = f.Path, f.Defaults.Line
	}
	for _, s := range f.Sections {
		name, opts := s.Name, s.Options
		if base, cond, ok := SplitConditional(name); ok {
			name = base
			opts = NewOptions()
			for _, k := range s.Keys() {
				v, _ := s.Get(k)
				opts.Set(k+cond, v)
			}
		}
		if prev := c.sections[name]; prev != nil {
			known := NewOptions()
			for _, k := range prev.Keys() {
				if opts.Has(k) {
					v, _ := prev.Get(k)
					known.Set(k, v)
				}
			}
			c.MergeSection(KnownPrefix+name, known, "")
			prev.Update(opts)
			continue
		}
		c.sections[name] = &Section{Name: name, File: s.File, Line: s.Line, Options: opts.Clone()}
		c.order = append(c.order, name)
	}
}

// parse returns the cached parse of path; nil when it cannot be read.
func (r *Reader) parse(path string) (*File, *Error, error) {
	r.mu.Lock()
	e, ok := r.files[path]
	r.mu.Unlock()
	if ok {
		return e.f, e.warn, nil
	}
	data, err := os.ReadFile(path)
	e = &fileEntry{}
	if err == nil {
		f, perr := Parse(path, data)
		switch {
		case errors.Is(perr, ErrDecode):
			e.warn = perr.(*Error)
		case perr != nil:
			return nil, nil, perr
		default:
			e.f = f
		}
	}
	r.mu.Lock()
	r.files[path] = e
	r.mu.Unlock()
	return e.f, e.warn, nil
}

// Lines returns the physical line of each line of v's text when v is an
// option's value as read by r, resolved or not, and interpolation kept its
// line structure (interpolation only ever adds lines, so equal counts mean
// line i of the text comes from line i of the definition); otherwise nil.
func (r *Reader) Lines(v Value) []int {
	if v.File == "" {
		return nil
	}
	r.mu.Lock()
	e := r.files[v.File]
	r.mu.Unlock()
	if e == nil || e.f == nil {
		return nil
	}
	pl := e.f.Lines(v.Line)
	if len(pl) != strings.Count(v.Text, "\n")+1 {
		return nil
	}
	return pl
}

// Parsed returns the parse of path as read by r (parsing it if needed), or
// nil when it cannot be read.
func (r *Reader) Parsed(path string) (*File, error) {
	f, _, err := r.parse(path)
	return f, err
}

// expandLocal is _expandConfFilesWithLocal: every file is followed by its
// sibling .local when that exists and is not in the list already.
func expandLocal(files []string) []string {
	out := make([]string, 0, len(files))
	for _, fn := range files {
		out = append(out, fn)
		local := splitExt(fn) + ".local"
		if !contains(files, local) && isFile(local) {
			out = append(out, local)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *Reader) includes(files []string, seen []string, warns *[]*Error) ([]string, error) {
	files = expandLocal(files)
	key := strings.Join(files, "\x01")
	r.mu.Lock()
	full, ok := r.incs[key]
	r.mu.Unlock()
	if ok {
		return full, nil
	}
	full = []string{}
	for _, fn := range files {
		l, err := r.includesOf(fn, seen, warns)
		if err != nil {
			return nil, err
		}
		full = append(full, l...)
	}
	r.mu.Lock()
	r.incs[key] = full
	r.mu.Unlock()
	return full, nil
}

// includesOf is __getIncludesUncached: the files [INCLUDES] before= names
// (recursively), the file, then the after= files. A file already on the
// include stack is skipped.
func (r *Reader) includesOf(resource string, seen []string, warns *[]*Error) ([]string, error) {
	f, warn, err := r.parse(resource)
	if err != nil {
		return nil, err
	}
	if warn != nil {
		*warns = append(*warns, warn)
	}
	if f == nil {
		return nil, nil
	}
	dir := dirName(resource)
	var before, after []string
	if sec := f.Section(IncludesSection); sec != nil {
		single := configOf(f)
		for _, which := range []string{"before", "after"} {
			if !sec.Has(which) && !f.Defaults.Has(which) {
				continue
			}
			v, err := single.Get(IncludesSection, which, nil)
			if err != nil {
				return nil, err
			}
			for _, inc := range strings.Split(v.Text, "\n") {
				p := joinPath(dir, inc)
				if contains(seen, p) {
					continue
				}
				s := append(append([]string(nil), seen...), resource)
				l, err := r.includes([]string{p}, s, warns)
				if err != nil {
					return nil, err
				}
				if which == "before" {
					before = append(before, l...)
				} else {
					after = append(after, l...)
				}
			}
		}
	}
	out := append(before, resource)
	return append(out, after...), nil
}

// ReadFiles reads files, each followed by its .local sibling and surrounded
// by its includes, and merges them in that order. Files that do not exist
// or cannot be opened are skipped, as fail2ban skips them; a file that is
// not UTF-8 is skipped with a warning. A syntax error is an error naming the
// file and line.
func (r *Reader) ReadFiles(files []string) (*Config, []*Error, error) {
	var warns []*Error
	full, err := r.includes(files, nil, &warns)
	if err != nil {
		return nil, warns, err
	}
	c := newConfig()
	for _, fn := range full {
		f, _, err := r.parse(fn)
		if err != nil {
			return nil, warns, err
		}
		if f == nil {
			continue
		}
		c.Files = append(c.Files, fn)
		c.merge(f)
	}
	return c, warns, nil
}

// NamedFiles returns the files fail2ban reads for the configuration name
// under dir, in order: name.conf, name.d/*.conf sorted, name.local,
// name.d/*.local sorted; only those that exist.
func NamedFiles(dir, name string) []string {
	base := joinPath(dir, name)
	cands := []string{base + ".conf"}
	cands = append(cands, globSuffix(base+".d", ".conf")...)
	cands = append(cands, base+".local")
	cands = append(cands, globSuffix(base+".d", ".local")...)
	var out []string
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// ReadNamed reads the configuration name (for example "jail" or
// "filter.d/sshd") under dir as fail2ban's ConfigReader does: the files of
// NamedFiles, with their .local siblings and includes. It fails with
// ErrNoFiles when none of them exists or can be read.
func (r *Reader) ReadNamed(dir, name string) (*Config, []*Error, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, &Error{File: dir, Msg: "base configuration directory does not exist", Err: ErrNoFiles}
	}
	files := NamedFiles(dir, name)
	if len(files) == 0 {
		return nil, nil, &Error{Msg: fmt.Sprintf("found no accessible config files for %s under %s", py.Repr(name), dir), Err: ErrNoFiles}
	}
	c, warns, err := r.ReadFiles(files)
	if err != nil {
		return nil, warns, err
	}
	for _, f := range files {
		if !contains(c.Files, f) {
			warns = append(warns, &Error{File: f, Msg: "could not read config file", Err: ErrNoFiles})
		}
	}
	if len(c.Files) == 0 {
		return nil, warns, &Error{Msg: fmt.Sprintf("found no accessible config files for %s under %s", py.Repr(name), dir), Err: ErrNoFiles}
	}
	return c, warns, nil
}

// globSuffix is glob.glob(dir + "/*" + suffix), sorted: names not starting
// with a dot.
func globSuffix(dir, suffix string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, suffix) {
			continue
		}
		out = append(out, joinPath(dir, n))
	}
	sort.Strings(out)
	return out
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// joinPath is os.path.join(dir, p).
func joinPath(dir, p string) string {
	switch {
	case strings.HasPrefix(p, "/"), dir == "":
		return p
	case strings.HasSuffix(dir, "/"):
		return dir + p
	}
	return dir + "/" + p
}

// JoinPath is os.path.join(dir, p) for two parts.
func JoinPath(dir, p string) string { return joinPath(dir, p) }

// DirName is os.path.dirname.
func DirName(p string) string { return dirName(p) }

// BaseName is os.path.basename.
func BaseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// SplitExt returns p without its extension (os.path.splitext(p)[0]).
func SplitExt(p string) string { return splitExt(p) }

// dirName is os.path.dirname.
func dirName(p string) string {
	i := strings.LastIndexByte(p, '/') + 1
	head := p[:i]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

// splitExt returns p without its extension (os.path.splitext(p)[0]).
func splitExt(p string) string {
	slash := strings.LastIndexByte(p, '/')
	dot := strings.LastIndexByte(p, '.')
	if dot <= slash {
		return p
	}
	// a dot that only leads the base name is not an extension
	for i := slash + 1; i < dot; i++ {
		if p[i] != '.' {
			return p[:dot]
		}
	}
	return p
}
