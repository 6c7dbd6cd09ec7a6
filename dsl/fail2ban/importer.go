package fail2ban

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// This file is `f2b import`: it turns the jails of a fail2ban configuration
// into an f2b pipeline. Each jail becomes
//
//   - a source "file" reading its logpath (shared by every jail that reads
//     the same files; on a first start from findtime ago, from = "recent",
//     as fail2ban does, or from the end for `logpath … tail`), or with
//     backend = systemd a source "journal" of its own reading the filter's
//     journalmatch (importer_journal.go),
//   - a matcher "regex" with its filter's failregex, ignoreregex,
//     prefregex, maxlines, datepattern, logtimezone and usedns,
//   - a counter "ticket" named after the jail (f2b status shows it as the
//     jail) with maxretry, findtime, bantime, maxmatches, ignoreself (as
//     "self"), ignoreip (host names included: the counter looks them up)
//     and the bantime.* options, counting as fail2ban-server does,
//   - one sink "command" per action, with the action's commands as
//     fail2ban-server would run them.
//
// What the pipeline cannot carry gets a warning naming the fail2ban file
// and line, never a silent drop.

// ImportOptions tune Import.
type ImportOptions struct {
	// All imports the disabled jails too, resolved as if they were
	// enabled; their blocks are written with enabled = false so that the
	// pipeline still does what fail2ban does.
	All bool
}

// HCLFile is one file of an imported pipeline.
type HCLFile struct {
	// Name is the file's name: CommonFile, or the jail's block name with
	// ".hcl".
	Name string
	// Jail is the fail2ban jail the file holds; "" for CommonFile.
	Jail string
	// Data is the file's text, formatted as hclwrite.Format does.
	Data []byte
}

// Result is an imported pipeline: its files, which together form one
// pipeline (a directory of *.hcl files), and the warnings about what could
// not be carried.
type Result struct {
	// Files are CommonFile first, then one file per jail in the order the
	// jails appear in the configuration.
	Files []HCLFile
	// Warnings name the fail2ban file and line they concern (Line is 0
	// for a whole file, File is "" when there is no place): first those of
	// reading the configuration, then those of the import.
	Warnings []Warning
}

// CommonFile is the name of the file holding what the jails share: the
// log sources.
const CommonFile = "common.hcl"

// ignoreSelfEntry is the counter's ignore entry for this host's own
// addresses, fail2ban's ignoreself (stages/counter/internal/ignore.Self).
const ignoreSelfEntry = "self"

// Joined returns every file in one text, each after a comment line naming
// it: a pipeline that is one file, as `f2b import` prints it without -o.
func (r *Result) Joined() []byte {
	var b bytes.Buffer
	for i, f := range r.Files {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "# ==== %s ====\n\n", f.Name)
		b.Write(f.Data)
	}
	return b.Bytes()
}

// Import translates the enabled jails of c (and with opts.All the disabled
// ones too) into an f2b pipeline; see the file comment. The error is
// non-nil only when c is nil.
func Import(c *Config, opts ImportOptions) (*Result, error) {
	if c == nil {
		return nil, errors.New("fail2ban: import: no configuration")
	}
	jails, readWarns := c.Jails(opts.All)
	im := &importer{
		c: c, jailIDs: names{}, sourceIDs: names{}, sinkIDs: names{},
		sourceByKey: map[string]*importSource{},
	}
	for _, j := range jails {
		im.plan(j)
	}
	res := &Result{}
	res.Files = append(res.Files, HCLFile{Name: CommonFile, Data: im.common()})
	taken := map[string]bool{CommonFile: true}
	for _, ij := range im.jails {
		name := ij.id + ".hcl"
		for i := 2; taken[name]; i++ {
			name = ij.id + "_" + strconv.Itoa(i) + ".hcl"
		}
		taken[name] = true
		res.Files = append(res.Files, HCLFile{Name: name, Jail: ij.j.Name, Data: im.jailFile(ij)})
	}
	w := &warnings{}
	w.add(readWarns...)
	w.add(im.grouped()...)
	res.Warnings = w.list
	return res, nil
}

// importer holds the state of one import.
type importer struct {
	c *Config

	jailIDs, sourceIDs, sinkIDs names

	jails       []*importJail
	sources     []*importSource
	sourceByKey map[string]*importSource

	warns []importWarning
}

// importWarning is a warning about one jail, grouped with the same
// warning about other jails at the same place.
type importWarning struct {
	at   Value
	jail string
	msg  string
}

// importSource is a source "file": a set of log paths and the jails that
// read them.
type importSource struct {
	id     string
	paths  []string
	tail   map[string]bool // paths some jail reads with `tail`
	head   map[string]bool // paths some jail reads without it
	jails  []*importJail
	active bool // some jail reading it is enabled
}

// importJail is one jail on its way to HCL.
type importJail struct {
	j   *Jail
	id  string
	src *importSource
	// off says why the jail's blocks are written with enabled = false;
	// "" when they are not.
	off     string
	journal *importJournal // backend systemd: the jail's source "journal"
}

// warn records a warning about jail j at v (the jail's section when v has
// no place).
func (im *importer) warn(j *Jail, v Value, format string, args ...any) {
	if v.File == "" {
		v = Value{File: j.Pos.File, Line: j.Pos.Line}
	}
	im.warns = append(im.warns, importWarning{at: Value{File: v.File, Line: v.Line}, jail: j.Name, msg: fmt.Sprintf(format, args...)})
}

// maxNamed is how many jails a grouped warning names.
const maxNamed = 8

// grouped returns the import warnings, one per place and message, naming
// every jail it concerns.
func (im *importer) grouped() []Warning {
	type key struct {
		file string
		line int
		msg  string
	}
	var order []key
	byKey := map[key][]string{}
	for _, w := range im.warns {
		k := key{w.at.File, w.at.Line, w.msg}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		if js := byKey[k]; len(js) == 0 || js[len(js)-1] != w.jail {
			byKey[k] = append(js, w.jail)
		}
	}
	out := make([]Warning, 0, len(order))
	for _, k := range order {
		js := byKey[k]
		who := "jail " + js[0]
		switch {
		case len(js) > maxNamed:
			who = fmt.Sprintf("jails %s and %d more", strings.Join(js[:maxNamed], ", "), len(js)-maxNamed)
		case len(js) > 1:
			who = "jails " + strings.Join(js, ", ")
		}
		out = append(out, Warning{File: k.file, Line: k.line, Msg: who + ": " + k.msg})
	}
	return out
}

// opt returns the jail option name with its place; ok is false when the
// configuration does not set it.
func opt(j *Jail, name string) (Value, bool) {
	v, ok := j.Options[name]
	return v, ok
}

// rel writes a file of the configuration relative to its directory.
func (im *importer) rel(file string) string {
	if r, ok := strings.CutPrefix(file, im.c.Dir+"/"); ok {
		return r
	}
	return file
}

// place writes "file:line" relative to the configuration directory.
func (im *importer) place(v Value) string {
	switch {
	case v.File == "":
		return ""
	case v.Line == 0:
		return im.rel(v.File)
	}
	return im.rel(v.File) + ":" + strconv.Itoa(v.Line)
}

// places writes the distinct places of vs.
func (im *importer) places(vs []Value) string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		if p := im.place(v); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// backendName is the backend without its options, lower-cased.
func backendName(b string) string {
	if i := strings.IndexByte(b, '['); i >= 0 {
		b = b[:i]
	}
	return strings.ToLower(py.Strip(b))
}

// plan names the jail's blocks, finds its source and decides whether its
// blocks can run.
func (im *importer) plan(j *Jail) {
	ij := &importJail{j: j, id: im.jailIDs.take(j.Name)}
	im.jails = append(im.jails, ij)
	backendAt, _ := opt(j, "backend")
	backend := backendName(j.Backend)
	var offs []string
	if !j.Enabled {
		at, _ := opt(j, "enabled")
		where := ""
		if p := im.place(at); p != "" {
			where = " (" + p + ")"
		}
		offs = append(offs, "the jail is disabled in fail2ban"+where+"; remove enabled = false from its blocks to run it")
	}
	switch {
	case strings.HasPrefix(backend, "systemd"):
		var off string
		ij.journal, off = im.journal(ij, backendAt)
		if off != "" {
			offs = append(offs, off)
		}
	case len(j.LogPath) == 0:
		lp, _ := opt(j, "logpath")
		offs = append(offs, "the jail has no logpath, so fail2ban cannot start it either")
		im.warn(j, lp, "no logpath: the jail's blocks are written with enabled = false and without a source")
	default:
		switch backend {
		case "auto", "polling", "pyinotify", "gamin":
		default:
			im.warn(j, backendAt, "unknown backend %s: the log files are read as with backend = auto", j.Backend)
		}
		ij.src = im.source(ij)
	}
	if v, ok := opt(j, "logencoding"); ok {
		switch strings.ToLower(py.Strip(v.Text)) {
		case "", "auto", "utf-8", "utf8", "ascii", "us-ascii":
		default:
			im.warn(j, v, "logencoding = %s cannot be carried: f2b reads log lines as UTF-8", v.Text)
		}
	}
	if j.Filter == nil || len(j.Filter.FailRegex) == 0 {
		at, _ := opt(j, "filter")
		offs = append(offs, "the jail has no failregex, so it never finds a failure")
		im.warn(j, at, "no failregex: the jail's blocks are written with enabled = false (a matcher needs at least one regex)")
	}
	ij.off = strings.Join(offs, ";\n")
	if ij.src != nil && ij.off == "" {
		ij.src.active = true
	}
}

// source returns the source reading the jail's log paths, shared with the
// jails that read the same files.
func (im *importer) source(ij *importJail) *importSource {
	j := ij.j
	uniq := map[string]bool{}
	var paths []string
	for _, p := range j.LogPath {
		if !uniq[p] {
			uniq[p] = true
			paths = append(paths, p)
		}
	}
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	key := strings.Join(sorted, "\x00")
	s := im.sourceByKey[key]
	if s == nil {
		s = &importSource{id: im.sourceIDs.take(sourceName(paths[0])), paths: paths, tail: map[string]bool{}, head: map[string]bool{}}
		im.sourceByKey[key] = s
		im.sources = append(im.sources, s)
	}
	for i, p := range j.LogPath {
		if i < len(j.LogTail) && j.LogTail[i] {
			s.tail[p] = true
		} else {
			s.head[p] = true
		}
	}
	s.jails = append(s.jails, ij)
	return s
}

// sourceName names a source after its first log path: /var/log/auth.log
// is auth_log, /var/log/nginx/*error.log nginx_error_log.
func sourceName(path string) string {
	p := strings.TrimPrefix(path, "/var/log/")
	p = strings.TrimPrefix(p, "/")
	var b strings.Builder
	for _, r := range p {
		switch {
		case r == '*' || r == '?' || r == '[' || r == ']':
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	parts := strings.FieldsFunc(b.String(), func(r rune) bool { return r == '_' })
	if len(parts) == 0 {
		return "logs"
	}
	return strings.Join(parts, "_")
}

// common writes CommonFile: a header and the sources.
func (im *importer) common() []byte {
	t := &hclText{}
	t.comment(0, fmt.Sprintf("Imported by `f2b import` from the fail2ban configuration in\n  %s\n"+
		"Every jail is a file of its own: a matcher (the filter), a counter (the jail's\n"+
		"ban logic, named after the jail: f2b status shows it as the jail) and one sink\n"+
		"\"command\" per action. This file holds what jails share.", im.c.Dir))
	for _, s := range im.sources {
		t.blank()
		var who []string
		for _, ij := range s.jails {
			lp, _ := opt(ij.j, "logpath")
			who = append(who, fmt.Sprintf("%s (%s)", ij.j.Name, im.place(lp)))
		}
		t.comment(0, "logpath of "+plural(len(who), "jail", "jails")+" "+strings.Join(who, ", "))
		var tails []string
		allTail := true
		for _, p := range s.paths {
			if s.tail[p] {
				tails = append(tails, p)
			}
			if s.head[p] {
				allTail = false
			}
		}
		from, fromNote := `"recent"`, "first start: from findtime ago, as fail2ban"
		switch {
		case allTail:
			from, fromNote = `"end"`, "logpath … tail"
			t.comment(0, "fail2ban reads "+strings.Join(tails, ", ")+" from the end (logpath … tail).")
		case len(tails) > 0:
			// One source starts all its files alike: of fail2ban's two
			// starts, the one that reads more, so no failure is missed.
			t.comment(0, "fail2ban reads "+strings.Join(tails, ", ")+" from the end (logpath … tail) for "+
				"some jails or paths and from findtime ago for the others; this source has one start "+
				"for all: from findtime ago, which reads more.")
		}
		t.open(0, "source "+label("file")+" "+label(s.id))
		if !s.active {
			t.comment(1, "Only jails written with enabled = false read these files.")
			t.attr(1, "enabled", "false", "")
		}
		t.attr(1, "paths", stringList(s.paths, 1), "")
		t.attr(1, "from", from, fromNote)
		t.close(0)
	}
	return t.formatted()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ignoreSelf reports whether fail2ban ignores the host's own addresses for
// j: ignoreself is on unless the jail turns it off (the server's default).
func (im *importer) ignoreSelf(j *Jail) bool {
	v, ok := opt(j, "ignoreself")
	return !ok || v.Text == "True"
}

// jailFile writes the file of one jail.
func (im *importer) jailFile(ij *importJail) []byte {
	j := ij.j
	t := &hclText{}
	head := fmt.Sprintf("Jail %s (%s)", strconv.Quote(j.Name), im.place(Value{File: j.Pos.File, Line: j.Pos.Line}))
	if v, ok := opt(j, "enabled"); ok && j.Enabled {
		head += ", enabled at " + im.place(v)
	}
	t.comment(0, head+".")
	if ij.id != j.Name {
		t.comment(0, fmt.Sprintf("Its blocks are named %s: a block name holds only letters, digits, \"_\" and \"-\".\n"+
			"f2b status shows the jail under the counter's name, %s.", ij.id, ij.id))
	}
	if ij.off != "" {
		t.comment(0, "Written with enabled = false: "+ij.off+".")
	}
	t.blank()
	if ij.journal != nil {
		im.journalBlock(t, ij)
		t.blank()
	}
	im.matcher(t, ij)
	t.blank()
	im.counter(t, ij)
	for _, a := range j.Actions {
		im.sink(t, ij, a)
	}
	return t.formatted()
}

// disabled writes enabled = false into a block of a jail that cannot run.
func disabled(t *hclText, ij *importJail) {
	if ij.off != "" {
		t.attr(1, "enabled", "false", "")
	}
}

// matcher writes the jail's matcher "regex".
func (im *importer) matcher(t *hclText, ij *importJail) {
	j, f := ij.j, ij.j.Filter
	if f == nil {
		f = &Filter{}
	}
	fspec, _ := opt(j, "filter")
	switch {
	case fspec.Text != "" && f.File != "":
		t.comment(0, fmt.Sprintf("filter %s (%s): %s", fspec.Text, im.place(fspec), im.rel(f.File)))
	case fspec.Text != "":
		t.comment(0, fmt.Sprintf("filter %s (%s)", fspec.Text, im.place(fspec)))
	default:
		t.comment(0, "The jail sets its regexes itself.")
	}
	t.open(0, "matcher "+label("regex")+" "+label(ij.id))
	disabled(t, ij)
	switch {
	case ij.src != nil:
		lp, _ := opt(j, "logpath")
		t.attr(1, "inputs", "[source."+ij.src.id+"]", "logpath, "+im.place(lp))
	case ij.journal != nil:
		bk, _ := opt(j, "backend")
		t.attr(1, "inputs", "[source."+ij.journal.id+"]", "backend, "+im.place(bk))
	}
	if f.PrefRegex.Text != "" {
		t.attr(1, "prefix", quoted(f.PrefRegex.Text), "prefregex, "+im.place(f.PrefRegex))
	}
	if len(f.FailRegex) > 0 {
		t.attr(1, "fail", regexList(valueTexts(f.FailRegex), 1), "failregex, "+im.places(f.FailRegex))
	} else {
		t.attr(1, "fail", "[]", "no failregex")
	}
	if len(f.IgnoreRegex) > 0 {
		t.attr(1, "ignore", regexList(valueTexts(f.IgnoreRegex), 1), "ignoreregex, "+im.places(f.IgnoreRegex))
	}
	if f.MaxLines > 1 {
		t.attr(1, "max_lines", strconv.Itoa(f.MaxLines), "maxlines, "+im.rawPlace(j, "maxlines"))
	}
	if len(f.DatePattern) > 0 {
		t.attr(1, "date_pattern", regexList(valueTexts(f.DatePattern), 1), "datepattern, "+im.places(f.DatePattern))
	}
	if f.LogTimeZone != "" {
		t.attr(1, "time_zone", quoted(f.LogTimeZone), "logtimezone, "+im.rawPlace(j, "logtimezone"))
	}
	t.attr(1, "trim_date_blanks", "false", "fail2ban keeps the blanks after a date that starts the line")
	ud := j.UseDNS
	if ij.j.Filter != nil {
		ud = ij.j.Filter.UseDNS
	}
	udAt := im.rawValue(j, "usedns")
	mode := strings.ToLower(ud)
	note := "usedns = " + ud
	if ud == "" {
		mode, note = "warn", "usedns = warn, fail2ban's default"
	} else if p := im.place(udAt); p != "" {
		note += ", " + p
	}
	switch mode {
	case "yes", "warn":
		t.attr(1, "use_dns", "true", note)
	case "no":
		t.attr(1, "use_dns", "false", note)
	case "raw":
		t.attr(1, "use_dns", "false", note+": host names are not matched")
		im.warn(j, udAt, "usedns = raw (failures of host names counted under the name, never resolved) cannot be carried: the matcher matches addresses only")
	default:
		t.attr(1, "use_dns", "false", note+": not a usedns value, fail2ban uses no")
		im.warn(j, udAt, "usedns = %s is not a value fail2ban knows; it uses no, and so does the matcher", ud)
	}
	t.close(0)
}

// rawValue returns the value of a filter option as the filter or the jail
// sets it, with its place.
func (im *importer) rawValue(j *Jail, name string) Value {
	if v, ok := opt(j, name); ok {
		if j.Filter == nil || j.Filter.Raw[name].Text == "" || j.Filter.Raw[name].Text == v.Text {
			return v
		}
	}
	if j.Filter != nil {
		if v, ok := j.Filter.Raw[name]; ok {
			return v
		}
	}
	v, _ := opt(j, name)
	return v
}

func (im *importer) rawPlace(j *Jail, name string) string { return im.place(im.rawValue(j, name)) }

// durationText writes seconds as a duration the stages read: the largest
// unit that divides it (1y, 1w, 1d, 1mo, 1h, 1m), else seconds.
func durationText(secs float64) string {
	if secs == math.Trunc(secs) && secs > 0 && secs < 1e15 {
		n := int64(secs)
		for _, u := range []struct {
			secs int64
			unit string
		}{{31557600, "y"}, {604800, "w"}, {86400, "d"}, {2629800, "mo"}, {3600, "h"}, {60, "m"}} {
			if n%u.secs == 0 {
				return strconv.FormatInt(n/u.secs, 10) + u.unit
			}
		}
		return strconv.FormatInt(n, 10) + "s"
	}
	return strconv.FormatFloat(secs, 'f', -1, 64) + "s"
}

// optNote writes "name, place" for a jail option, or the server's default.
func (im *importer) optNote(j *Jail, name string) string {
	if v, ok := opt(j, name); ok {
		return name + ", " + im.place(v)
	}
	return name + " not set: fail2ban-server's default"
}

// counter writes the jail's counter "ticket".
func (im *importer) counter(t *hclText, ij *importJail) {
	j := ij.j
	t.comment(0, fmt.Sprintf("Jail %s (%s): counts failures and bans as fail2ban-server does.",
		strconv.Quote(j.Name), im.place(Value{File: j.Pos.File, Line: j.Pos.Line})))
	t.open(0, "counter "+label("ticket")+" "+label(ij.id))
	disabled(t, ij)
	t.attr(1, "inputs", "[matcher."+ij.id+"]", "")

	maxRetry := 3 // FailManager's default
	if _, ok := opt(j, "maxretry"); ok {
		maxRetry = j.MaxRetry
	}
	if maxRetry < 1 {
		v, _ := opt(j, "maxretry")
		im.warn(j, v, "maxretry = %d bans at the first failure, as max_retry = 1 does", maxRetry)
		maxRetry = 1
	}
	t.attr(1, "max_retry", strconv.Itoa(maxRetry), im.optNote(j, "maxretry"))

	findTime := 600.0
	if _, ok := opt(j, "findtime"); ok {
		findTime = j.FindTime
	}
	if findTime > 0 {
		t.attr(1, "find_time", quoted(durationText(findTime)), im.optNote(j, "findtime"))
	} else {
		v, _ := opt(j, "findtime")
		im.warn(j, v, "findtime = %s is not a positive time; the counter keeps its default, 10m", v.Text)
	}

	// BanManager keeps the ban time as an int.
	banTime := 600.0
	if _, ok := opt(j, "bantime"); ok {
		banTime = math.Trunc(j.BanTime)
	}
	switch {
	case banTime == -1:
		t.attr(1, "ban_time", quoted("permanent"), "bantime = -1, "+im.place(j.Options["bantime"]))
	case banTime > 0:
		t.attr(1, "ban_time", quoted(durationText(banTime)), im.optNote(j, "bantime"))
	default:
		v, _ := opt(j, "bantime")
		im.warn(j, v, "bantime = %s makes bans end at once in fail2ban; the counter cannot do that and keeps its default, 10m", v.Text)
	}

	maxMatches := 5 // FailManager's default
	if _, ok := opt(j, "maxmatches"); ok {
		maxMatches = j.MaxMatches
	}
	if maxMatches >= 0 {
		t.attr(1, "max_matches", strconv.Itoa(maxMatches), im.optNote(j, "maxmatches"))
	} else {
		v, _ := opt(j, "maxmatches")
		im.warn(j, v, "maxmatches = %d is negative; the counter keeps max_retry lines", maxMatches)
	}

	im.ignore(t, j)
	im.increment(t, j)
	t.close(0)
}

// ignore writes the counter's ignore list from ignoreself and ignoreip:
// "self" first when ignoreself is on, then the ignoreip entries in
// fail2ban's order (addresses, prefixes and host names, which the counter
// looks up as fail2ban does), with warnings for what it cannot hold.
func (im *importer) ignore(t *hclText, j *Jail) {
	ipAt, _ := opt(j, "ignoreip")
	var list, notes []string
	if im.ignoreSelf(j) {
		list = append(list, ignoreSelfEntry)
		if v, ok := opt(j, "ignoreself"); ok {
			notes = append(notes, "ignoreself, "+im.place(v))
		} else {
			notes = append(notes, "ignoreself, on by default")
		}
	}
	if len(j.IgnoreIP) > 0 {
		notes = append(notes, "ignoreip, "+im.place(ipAt))
	}
	for _, e := range j.IgnoreIP {
		if s, ok := ignoreAddress(e); ok {
			list = append(list, s)
			continue
		}
		switch {
		case strings.EqualFold(e, ignoreSelfEntry):
			// fail2ban looks "self" up as a host name; the counter would
			// read it as this host's own addresses.
			im.warn(j, ipAt, "ignoreip entry %s is a host name the counter reads as this host's own addresses (ignoreself); put what it stands for in the counter's ignore list", e)
		case confval.IsHostName(e):
			list = append(list, strings.ToLower(e))
		case strings.HasPrefix(e, "file:"):
			im.warn(j, ipAt, "ignoreip entry %s reads addresses from a file, which the counter cannot; put them in its ignore list", e)
		default:
			im.warn(j, ipAt, "ignoreip entry %s is not an IP address, CIDR prefix or host name the counter can hold: put what it stands for in the counter's ignore list", e)
		}
	}
	if len(list) > 0 {
		t.attr(1, "ignore", stringList(list, 1), strings.Join(notes, "; "))
	}
	if v, ok := opt(j, "ignorecommand"); ok && py.Strip(v.Text) != "" {
		im.warn(j, v, "ignorecommand (a command deciding which hosts to ignore) cannot be carried: the counter ignores only the addresses, prefixes and host names of its ignore list")
	}
}

// ignoreAddress returns an ignoreip entry in the counter's syntax: an
// address or a CIDR prefix (a dotted IPv4 mask becomes a prefix length);
// ok is false for anything else.
func ignoreAddress(e string) (string, bool) {
	if a, err := netip.ParseAddr(e); err == nil {
		if a.Zone() != "" {
			return "", false
		}
		return e, true
	}
	addr, mask, ok := strings.Cut(e, "/")
	if !ok {
		return "", false
	}
	if _, err := netip.ParsePrefix(e); err == nil {
		return e, true
	}
	a, err1 := netip.ParseAddr(addr)
	m, err2 := netip.ParseAddr(mask)
	if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
		return "", false
	}
	b := m.As4()
	bits := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for bits&0x80000000 != 0 {
		n++
		bits <<= 1
	}
	if bits != 0 {
		return "", false
	}
	return addr + "/" + strconv.Itoa(n), true
}

// increment writes the bantime.* options.
func (im *importer) increment(t *hclText, j *Jail) {
	if j.BanTimeIncrement {
		t.attr(1, "ban_time_increment", "true", im.optNote(j, "bantime.increment"))
	}
	for _, o := range []struct{ opt, attr, val string }{
		{"bantime.factor", "ban_time_factor", j.BanTimeFactor},
		{"bantime.formula", "ban_time_formula", j.BanTimeFormula},
		{"bantime.multipliers", "ban_time_multipliers", j.BanTimeMultipliers},
	} {
		if _, ok := opt(j, o.opt); ok && py.Strip(o.val) != "" {
			t.attr(1, o.attr, quoted(py.Strip(o.val)), im.optNote(j, o.opt))
		}
	}
	if v, ok := opt(j, "bantime.maxtime"); ok && py.Strip(v.Text) != "" {
		if j.BanTimeMaxTime > 0 {
			t.attr(1, "ban_time_max", quoted(durationText(j.BanTimeMaxTime)), im.optNote(j, "bantime.maxtime"))
		} else {
			im.warn(j, v, "bantime.maxtime = %s is not a positive time (with -1 fail2ban makes every increased ban permanent); the counter cannot express that and sets no cap", v.Text)
		}
	}
	if v, ok := opt(j, "bantime.rndtime"); ok && py.Strip(v.Text) != "" {
		switch {
		case j.BanTimeRndTime > 0:
			t.attr(1, "ban_time_rnd", quoted(durationText(j.BanTimeRndTime)), im.optNote(j, "bantime.rndtime"))
		case j.BanTimeRndTime < 0:
			im.warn(j, v, "bantime.rndtime = %s is negative; the counter adds no random time", v.Text)
		}
	}
	if j.BanTimeOverallJails {
		v, _ := opt(j, "bantime.overalljails")
		im.warn(j, v, "bantime.overalljails (counting a host's bans in every jail) cannot be carried: the counter counts the bans of its own jail")
	}
}

// actionLine writes an action as the jail's action line names it:
// file[opt="value", …].
func actionLine(a *Action) string {
	name := a.File[strings.LastIndexByte(a.File, '/')+1:]
	if !a.Python {
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".conf"), ".local")
	}
	if len(a.Options) == 0 {
		return name
	}
	var parts []string
	for _, k := range sortedKeys(a.Options) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, a.Options[k]))
	}
	return name + "[" + strings.Join(parts, ", ") + "]"
}

// sink writes the sink "command" of one action of the jail.
func (im *importer) sink(t *hclText, ij *importJail, a *Action) {
	j := ij.j
	actAt, _ := opt(j, "action")
	spec := actionLine(a)
	if a.Python {
		im.warn(j, actAt, "action %s (%s) is a Python action, which f2b cannot run: it is left out", spec, im.rel(a.File))
		return
	}
	s, err := actionToSink(a)
	if err != nil {
		im.warn(j, actAt, "action %s (%s): its commands cannot be resolved as fail2ban-server would (%v): it is left out", spec, im.rel(a.File), err)
		return
	}
	if s.empty() {
		im.warn(j, actAt, "action %s (%s) has no commands: it is left out", spec, im.rel(a.File))
		return
	}
	if s.reload != "" {
		im.warn(j, a.Raw["actionreload"], "action %s: actionreload (run when fail2ban reloads) cannot be carried: sink \"command\" has no reload command", spec)
	}
	for _, k := range s.badFamilies {
		im.warn(j, a.Raw[k], "action %s: option %s names a family other than inet4 and inet6; the sink knows those two only", spec, k)
	}
	id := im.sinkIDs.take(ij.id + "_" + a.ActName)
	t.blank()
	t.comment(0, fmt.Sprintf("action %s (%s): %s,\n"+
		"its static tags resolved as fail2ban-server resolves them.", spec, im.place(actAt), im.rel(a.File)))
	t.open(0, "sink "+label("command")+" "+label(id))
	disabled(t, ij)
	t.attr(1, "inputs", "[counter."+ij.id+"]", "")
	for _, h := range sinkHooks {
		if c, ok := s.base[h.attr]; ok {
			t.attr(1, h.attr, shellScript(c, 1), "")
		}
	}
	for _, fam := range sinkFamilies {
		cmds, ok := s.family[fam]
		if !ok {
			continue
		}
		if len(cmds) == 0 {
			t.line(1, "family "+label(fam)+" {}")
			continue
		}
		t.open(1, "family "+label(fam))
		for _, h := range sinkHooks {
			if c, ok := cmds[h.attr]; ok {
				t.attr(2, h.attr, shellScript(c, 2), "")
			}
		}
		t.close(1)
	}
	if s.startOnDemand != nil {
		t.attr(1, "start_on_demand", strconv.FormatBool(*s.startOnDemand), "actionstart_on_demand, "+im.place(a.Raw["actionstart_on_demand"]))
	}
	if s.repairOnUnban {
		t.attr(1, "repair_on_unban", "true", "actionrepair_on_unban, "+im.place(a.Raw["actionrepair_on_unban"]))
	}
	if s.noRestored {
		t.attr(1, "no_restored", "true", "norestored, "+im.place(a.Raw["norestored"]))
	}
	if s.timeout > 0 {
		t.attr(1, "timeout", quoted(durationText(s.timeout)), "timeout, "+im.place(a.Raw["timeout"]))
	} else if s.timeout < 0 {
		im.warn(j, a.Raw["timeout"], "action %s: timeout = %s is not a positive time; the sink keeps its default, 60s", spec, a.Raw["timeout"].Text)
	}
	// Start, stop and flush run without a ban: their <bantime> is the
	// jail's ban time, which fail2ban keeps as an int.
	if s.usesTag("bantime", "start", "stop", "flush", "check", "repair") {
		banTime := int64(600)
		if _, ok := opt(j, "bantime"); ok {
			banTime = int64(math.Trunc(j.BanTime))
		}
		t.comment(1, "<bantime> of the commands that run without a ban: the jail's bantime")
		t.open(1, "tags =")
		t.attr(2, "bantime", quoted(strconv.FormatInt(banTime, 10)), "")
		t.close(1)
	}
	t.close(0)
}

// valueTexts returns the texts of vs.
func valueTexts(vs []Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Text
	}
	return out
}
