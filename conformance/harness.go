package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/failfilter"
	"github.com/f2bproject/f2b/failregex"
)

// testNow is fail2ban's TEST_NOW: 2005-08-14 12:00 CEST.
const testNow = 1124013600

// Paths inside the unpacked Debian package.
const (
	pkgDir     = "usr/lib/python3/dist-packages/fail2ban"
	logsDir    = pkgDir + "/tests/files/logs"
	testCfgDir = pkgDir + "/tests/config"
	stockDir   = "etc/fail2ban"
)

// Result is the outcome of a conformance run.
type Result struct {
	// Lines is the number of failJSON annotations read; Passed those whose
	// line met its expectation under every filter option combination that
	// checked it (lines a test.condition skips pass, as in fail2ban).
	Lines, Passed int
	// Other counts the lines without annotation that were checked (they
	// must not match), OtherPassed those that did not.
	Other, OtherPassed int
	// Checks counts the checks made: a line is checked once per filter
	// option combination that applies to it. Filters counts the
	// combinations built.
	Checks, Filters int
	// Failures describe the lines that did not pass, in file order.
	Failures []LineFailure
	// Coverage lists failregexes no sample exercised (fail2ban's per-regex
	// coverage rule) and greedy catch-alls before <HOST> that are not
	// anchored (its testReWrongGreedyCatchAll).
	Coverage []string
	// Errors are filters that could not be read or compiled.
	Errors []string
	// Backtracking lists the regexes of the filters read that run on the
	// backtracking engine, with the reason, once per distinct regex.
	Backtracking []string
	// TimedOut counts lines that ran out of time on the backtracking
	// engine (their results are then wrong).
	TimedOut uint64
}

// OK reports whether everything passed.
func (r *Result) OK() bool {
	return r.Passed == r.Lines && r.OtherPassed == r.Other && len(r.Coverage) == 0 && len(r.Errors) == 0 && r.TimedOut == 0
}

// LineFailure is one line that did not meet its expectation.
type LineFailure struct {
	File    string // the sample log, relative to tests/files/logs
	Line    int    // physical line number (1-based) of the log line
	Filter  string // the filter and its options, e.g. sshd{'mode': 'ddos'}
	Text    string // the log line
	Want    string // the annotation
	Got     string // what f2b found
	Problem string // what is wrong, in fail2ban's test's words where it has them
}

// String prints the failure on three lines: where, the line, expected and
// found.
func (f LineFailure) String() string {
	return fmt.Sprintf("%s:%d [%s] %s\n    line: %s\n    want: %s\n    got:  %s", f.File, f.Line, f.Filter, f.Problem, f.Text, f.Want, f.Got)
}

// Print writes the summary line and the failures.
func (r *Result) Print(w io.Writer) {
	for _, f := range r.Failures {
		fmt.Fprintln(w, f)
	}
	for _, c := range r.Coverage {
		fmt.Fprintln(w, "coverage:", c)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", e)
	}
	fmt.Fprintf(w, "conformance: %d/%d failJSON lines pass", r.Passed, r.Lines)
	fmt.Fprintf(w, " (%d checks, %d filter option combinations)", r.Checks, r.Filters)
	if r.Other > 0 {
		fmt.Fprintf(w, " (+%d/%d lines without annotation)", r.OtherPassed, r.Other)
	}
	if len(r.Coverage) > 0 {
		fmt.Fprintf(w, ", %d coverage problems", len(r.Coverage))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, ", %d filter errors", len(r.Errors))
	}
	if r.TimedOut > 0 {
		fmt.Fprintf(w, ", %d lines timed out", r.TimedOut)
	}
	fmt.Fprintln(w)
}

// Config tunes a run.
type Config struct {
	// RejectAmbiguous runs the filters with failfilter's
	// Options.RejectAmbiguous hardening, which fail2ban lacks: lines of the
	// corpus that hold two addresses fail then.
	RejectAmbiguous bool
}

// Run applies fail2ban's sample-log test rules (FilterSamplesRegex in
// fail2ban/tests/samplestestcase.py) to the Debian package unpacked at
// root, with the stock filters read by dsl/fail2ban and run by failfilter.
func Run(root string, cfg Config) (*Result, error) {
	loc, err := posixLocation("CET", testTZ, 3600, "CET")
	if err != nil {
		return nil, err
	}
	stock, err := fail2ban.Load(filepath.Join(root, stockDir))
	if err != nil {
		return nil, fmt.Errorf("conformance: reading the stock configuration: %w", err)
	}
	if err := linkTestCommon(root); err != nil {
		return nil, err
	}
	testCfg, err := fail2ban.Load(filepath.Join(root, testCfgDir))
	if err != nil {
		return nil, fmt.Errorf("conformance: reading the test configuration: %w", err)
	}
	h := &harness{root: root, cfg: cfg, loc: loc, res: &Result{}, lineOK: map[lineKey]bool{}, bt: map[string]bool{}}
	var tests []test
	for _, d := range []struct {
		cfg    *fail2ban.Config
		dir    string
		filter func(string) bool
	}{
		{stock, filepath.Join(root, stockDir, "filter.d"), func(n string) bool {
			return strings.HasSuffix(n, ".conf") && !strings.HasSuffix(n, "common.conf")
		}},
		{testCfg, filepath.Join(root, testCfgDir, "filter.d"), func(n string) bool {
			return strings.HasPrefix(n, "zzz-") && strings.HasSuffix(n, ".conf")
		}},
	} {
		ents, err := os.ReadDir(d.dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if n := e.Name(); d.filter(n) && !strings.HasPrefix(n, ".") {
				tests = append(tests, test{name: strings.TrimSuffix(n, ".conf"), cfg: d.cfg})
			}
		}
	}
	sort.Slice(tests, func(i, j int) bool { return tests[i].name < tests[j].name })
	for _, t := range tests {
		h.runTest(t)
	}
	// A line passes when every check of it passed.
	keys := make([]lineKey, 0, len(h.lineOK))
	for k := range h.lineOK {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if k.annotated {
			h.res.Lines++
			if h.lineOK[k] {
				h.res.Passed++
			}
		} else {
			h.res.Other++
			if h.lineOK[k] {
				h.res.OtherPassed++
			}
		}
	}
	sort.SliceStable(h.res.Failures, func(i, j int) bool {
		a, b := h.res.Failures[i], h.res.Failures[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return h.res, nil
}

// linkTestCommon makes the include of tests/config/filter.d/zzz-*.conf
// ("../../../../../../../config/filter.d/common.conf", written for the
// layout Debian's test runner sets up) find the stock common.conf, with a
// symbolic link inside the unpacked package (never in the repository).
func linkTestCommon(root string) error {
	link := filepath.Join(root, "usr", "config")
	if _, err := os.Stat(filepath.Join(link, "filter.d", "common.conf")); err == nil {
		return nil
	}
	if err := os.Symlink(filepath.Join("..", stockDir), link); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("conformance: linking the test configuration to the stock one: %w", err)
	}
	return nil
}

type test struct {
	name string
	cfg  *fail2ban.Config
}

type lineKey struct {
	file      string
	line      int
	annotated bool
}

type harness struct {
	root   string
	cfg    Config
	loc    *time.Location
	res    *Result
	lineOK map[lineKey]bool
	bt     map[string]bool // regexes already listed in Result.Backtracking
}

// filterEntry is a filter built for one option combination, with the
// failregexes samples exercised.
type filterEntry struct {
	name   string // fltName: test name + options
	flt    *failfilter.Filter
	regs   []string // the failregexes as fail2ban lists them (tags expanded)
	used   map[int]bool
	broken bool
}

// filterTest is an element of fail2ban's _filterTests.
type filterTest struct {
	entry *filterEntry
	opts  ordered // the options, test.* keys included
}

var annotRE = regexp.MustCompile(`^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$`)

func (h *harness) runTest(t test) {
	filters := map[string]*filterEntry{}
	usedRe := map[string]bool{}
	var (
		filterTests []filterTest
		commonOpts  ordered
	)
	files := []string{t.name}
	for i := 0; i < len(files); i++ {
		file := files[i]
		data, err := os.ReadFile(filepath.Join(h.root, logsDir, file))
		if err != nil {
			h.res.Errors = append(h.res.Errors, fmt.Sprintf("%s: %v", t.name, err))
			continue
		}
		lines := splitFileLines(data)
		ignoreBlock := false
		for ln := 0; ln < len(lines); ln++ {
			line := lines[ln]
			var faildata map[string]any
			annotated := false
			if m := annotRE.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
				switch m[1] {
				case "fileOptions":
					o, err := parseOrdered(m[2])
					if err != nil {
						h.errorf("%s:%d: %v", file, ln+1, err)
						continue
					}
					commonOpts = o
					continue
				case "filterOptions":
					list, err := parseOptionList(m[2])
					if err != nil {
						h.errorf("%s:%d: %v", file, ln+1, err)
						continue
					}
					filterTests = []filterTest{}
					ignoreBlock = false
					for _, o := range list {
						opts := commonOpts.merge(o)
						if c, ok := opts.get("test.condition"); ok && c != "" {
							ok, err := evalCond(c, t.name, opts)
							if err != nil {
								h.errorf("%s:%d: %v", file, ln+1, err)
							}
							ignoreBlock = !ok
						}
						if !ignoreBlock {
							fltOpts := opts.withoutTest()
							fltName, _ := opts.get("test.filter-name")
							if fltName == "" && len(fltOpts) > 0 {
								fltName = fltOpts.repr()
							}
							fltName = t.name + fltName
							filterTests = append(filterTests, filterTest{entry: h.readFilter(filters, t, fltName, fltOpts), opts: opts})
						}
					}
					continue
				case "addFILE":
					var name string
					if err := json.Unmarshal([]byte(m[2]), &name); err != nil {
						h.errorf("%s:%d: %v", file, ln+1, err)
						continue
					}
					files = append(files, name)
					continue
				}
				// failJSON: the expectation of the next physical line.
				if err := json.Unmarshal([]byte(m[2]), &faildata); err != nil {
					h.errorf("%s:%d: %v", file, ln+1, err)
					continue
				}
				annotated = true
				ln++
				if ln >= len(lines) {
					break
				}
				line = lines[ln]
			} else if ignoreBlock || strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			} else {
				faildata = map[string]any{}
			}
			key := lineKey{file: file, line: ln + 1, annotated: annotated}
			if _, seen := h.lineOK[key]; !seen {
				h.lineOK[key] = true
			}
			if ignoreBlock {
				continue
			}
			if filterTests == nil {
				filterTests = []filterTest{{entry: h.readFilter(filters, t, t.name, nil)}}
			}
			line = strings.TrimRight(line, "\r\n")
			for _, ft := range filterTests {
				if c, ok := faildata["constraint"].(string); ok && c != "" {
					ok, err := evalCond(c, t.name, ft.opts)
					if err != nil {
						h.errorf("%s:%d: %v", file, ln+1, err)
					}
					if !ok {
						continue
					}
				}
				e := ft.entry
				h.res.Checks++
				if e.broken {
					h.lineOK[key] = false
					continue
				}
				var ret []failfilter.Failure
				if lt, _ := ft.opts.get("logtype"); lt != "journal" {
					ret = e.flt.ProcessLine(line)
				} else {
					if p, _ := ft.opts.get("test.prefix-line"); p != "" {
						line = p + line
					}
					ret = e.flt.ProcessSplit("", time.Unix(testNow, 0).UTC().Format("2006-01-02T15:04:05"), line, time.Unix(testNow, 0))
				}
				var found []failfilter.Failure
				for _, r := range ret {
					if r.Pending || r.NoFail {
						e.used[r.Regex] = true
						usedRe[e.regs[r.Regex]] = true
						continue
					}
					found = append(found, r)
				}
				fail := func(problem, got string) {
					h.lineOK[key] = false
					want, _ := json.Marshal(faildata)
					h.res.Failures = append(h.res.Failures, LineFailure{
						File: file, Line: ln + 1, Filter: e.name, Text: line,
						Want: string(want), Got: got, Problem: problem,
					})
				}
				match, _ := faildata["match"].(bool)
				if len(found) == 0 {
					if match {
						fail("not matched when it should have", "no failure")
					}
					continue
				}
				if !match {
					fail("matched when it should not have", describe(found))
					continue
				}
				if len(found) > 1 {
					fail("several regexes matched", describe(found))
					continue
				}
				r := found[0]
				if problem := h.check(faildata, r); problem != "" {
					fail(problem, describe(found))
					continue
				}
				e.used[r.Regex] = true
				usedRe[e.regs[r.Regex]] = true
			}
		}
	}
	// The coverage rule: every failregex of every combination needs a sample.
	names := make([]string, 0, len(filters))
	for n := range filters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := filters[n]
		if e.broken {
			continue
		}
		h.res.TimedOut += e.flt.Stats().TimedOut
		for i, re := range e.regs {
			if !e.used[i] && !usedRe[re] {
				src, _ := e.flt.FailRegex(i)
				h.res.Coverage = append(h.res.Coverage, fmt.Sprintf("%s: regex has no samples: %d: %s", n, i, src))
			}
		}
	}
}

func (h *harness) errorf(format string, args ...any) {
	h.res.Errors = append(h.res.Errors, fmt.Sprintf(format, args...))
}

// readFilter returns the filter of a combination, building it on first use
// (fail2ban's _readFilter caches per test and fltName).
func (h *harness) readFilter(cache map[string]*filterEntry, t test, fltName string, opts ordered) *filterEntry {
	if e, ok := cache[fltName]; ok {
		return e
	}
	e := &filterEntry{name: fltName, used: map[int]bool{}}
	cache[fltName] = e
	h.res.Filters++
	spec := t.name
	if len(opts) > 0 {
		var parts []string
		for _, kv := range opts {
			parts = append(parts, fmt.Sprintf("%s=%q", kv.k, kv.v))
		}
		spec += "[" + strings.Join(parts, ", ") + "]"
	}
	conf, err := t.cfg.Filter(spec, nil)
	if err != nil {
		e.broken = true
		h.errorf("%s: %v", fltName, err)
		return e
	}
	def := failfilter.Definition{
		PrefRegex: conf.PrefRegex.Text,
		MaxLines:  conf.MaxLines,
	}
	for _, v := range conf.FailRegex {
		def.FailRegex = append(def.FailRegex, v.Text)
	}
	for _, v := range conf.IgnoreRegex {
		def.IgnoreRegex = append(def.IgnoreRegex, v.Text)
	}
	for _, v := range conf.DatePattern {
		def.DatePattern = append(def.DatePattern, v.Text)
	}
	flt, err := failfilter.New(def, failfilter.Options{
		Location:        h.loc,
		Now:             func() time.Time { return time.Unix(testNow, 0).In(h.loc) },
		CheckAllRegex:   true,
		ReturnRawHost:   true,
		RejectAmbiguous: h.cfg.RejectAmbiguous,
		// Semantics are under test here, not the defence against hostile
		// lines: a generous budget keeps slow (race-detector) runs exact.
		MatchTimeout: 5 * time.Second,
	})
	if err != nil {
		e.broken = true
		h.errorf("%s: %v", fltName, err)
		return e
	}
	e.flt = flt
	note := func(kind, src string, bt bool, why string) {
		if bt && !h.bt[kind+src] {
			h.bt[kind+src] = true
			h.res.Backtracking = append(h.res.Backtracking, fmt.Sprintf("%s %s (%s): %s", t.name, kind, why, src))
		}
	}
	if bt, why := flt.PrefBacktracking(); bt {
		note("prefregex", conf.PrefRegex.Text, bt, why)
	}
	for i := 0; i < flt.NumFail(); i++ {
		src, _ := flt.FailRegex(i)
		bt, why := flt.Backtracking(i)
		note("failregex", src, bt, why)
	}
	for i := range def.IgnoreRegex {
		bt, why := flt.IgnoreBacktracking(i)
		note("ignoreregex", def.IgnoreRegex[i], bt, why)
	}
	greedy := wrongGreed()
	for i := 0; i < flt.NumFail(); i++ {
		src, expanded := flt.FailRegex(i)
		e.regs = append(e.regs, expanded)
		if ok, _ := greedy.MatchString(expanded); ok {
			h.res.Coverage = append(h.res.Coverage, fmt.Sprintf("%s: regex %d has a greedy catch-all before <HOST> that is not anchored at the end: %s", fltName, i, src))
		}
	}
	return e
}

// wrongGreed is fail2ban's RE_WRONG_GREED over our expansion of <HOST>.
func wrongGreed() *failregex.Regexp {
	host := failfilter.ExpandTags("<HOST>", "yes")
	re, err := failregex.CompilePython(`\.[+\*](?!\?)[^\$\^]*`+regexp.QuoteMeta(host)+`.*(?:\.[+\*].*|[^\$])$`, failregex.RegexpOptions{})
	if err != nil {
		panic(err)
	}
	return re
}

// check compares a failure with its annotation as fail2ban's test does.
func (h *harness) check(want map[string]any, r failfilter.Failure) string {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := want[k]
		switch k {
		case "time", "match", "desc", "constraint":
			continue
		case "host":
			if fv, ok := r.Fields["host"]; ok {
				if s, _ := v.(string); s != fv {
					return fmt.Sprintf("host %q != %v", fv, v)
				}
				continue
			}
			s, _ := v.(string)
			if !hostEqual(r, s) {
				return fmt.Sprintf("host %q != %q", r.ID, s)
			}
		case "attempts":
			n, _ := v.(float64)
			got := r.Attempts
			if fv, ok := r.Fields["attempts"]; ok {
				got, _ = strconv.Atoi(fv)
			}
			if float64(got) != n {
				return fmt.Sprintf("attempts %d != %v", got, v)
			}
		case "users":
			var ws []string
			list, _ := v.([]any)
			for _, x := range list {
				s, _ := x.(string)
				ws = append(ws, s)
			}
			sort.Strings(ws)
			if !slices.Equal(ws, r.Users) {
				return fmt.Sprintf("users %q != %q", r.Users, ws)
			}
		default:
			fv, ok := r.Fields[k]
			switch v := v.(type) {
			case nil:
				if ok {
					return fmt.Sprintf("%s %q != None", k, fv)
				}
			case string:
				if !ok || fv != v {
					if !ok {
						return fmt.Sprintf("%s None != %q", k, v)
					}
					return fmt.Sprintf("%s %q != %q", k, fv, v)
				}
			default:
				if !ok || fv != fmt.Sprint(v) {
					return fmt.Sprintf("%s %q != %v", k, fv, v)
				}
			}
		}
	}
	if t, ok := want["time"].(string); ok {
		wt, err := h.parseTime(t)
		if err != nil {
			return fmt.Sprintf("bad time in annotation: %v", err)
		}
		if r.Time.IsZero() {
			return fmt.Sprintf("time None != %s", t)
		}
		if r.Time.Round(time.Microsecond).UnixMicro() != wt.UnixMicro() {
			return fmt.Sprintf("time %s != %s", r.Time.In(h.loc).Format("2006-01-02T15:04:05.999999"), t)
		}
	}
	return ""
}

// jsonTimeRE is what Python's strptime accepts for "%Y-%m-%dT%H:%M:%S" and
// "%Y-%m-%dT%H:%M:%S.%f" (one or two digits per field).
var jsonTimeRE = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$`)

// parseTime reads an annotation's local time as fail2ban's test does
// (strptime, then mktime in the pinned zone).
func (h *harness) parseTime(s string) (time.Time, error) {
	m := jsonTimeRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("time %q does not match %%Y-%%m-%%dT%%H:%%M:%%S[.%%f]", s)
	}
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	us := 0
	if m[7] != "" {
		us, _ = strconv.Atoi((m[7] + "00000")[:6])
	}
	return time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], us*1000, h.loc), nil
}

// hostEqual compares the failure id with an expected host as fail2ban's
// IPAddr.__eq__ does: addresses by value (and prefix length), anything
// else as text.
func hostEqual(r failfilter.Failure, want string) bool {
	if r.ID == want {
		return true
	}
	if !r.Host.IsValid() {
		return false
	}
	w := want
	if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
		w = w[1 : len(w)-1]
	}
	if p, err := netip.ParsePrefix(w); err == nil {
		return r.Bits == p.Bits() && p.Masked().Addr() == r.Host
	}
	a, err := netip.ParseAddr(w)
	return err == nil && r.Bits < 0 && a.Unmap() == r.Host
}

func describe(fs []failfilter.Failure) string {
	var parts []string
	for _, f := range fs {
		t := "None"
		if !f.Time.IsZero() {
			t = f.Time.Format("2006-01-02T15:04:05.999999Z07:00")
		}
		keys := make([]string, 0, len(f.Fields))
		for k := range f.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var fields []string
		for _, k := range keys {
			fields = append(fields, fmt.Sprintf("%s=%q", k, f.Fields[k]))
		}
		parts = append(parts, fmt.Sprintf("regex %d host %q time %s attempts %d users %q {%s}", f.Regex, f.ID, t, f.Attempts, f.Users, strings.Join(fields, " ")))
	}
	return strings.Join(parts, "; ")
}

// splitFileLines splits a file as Python's binary readline does (on "\n",
// keeping it), decoding as UTF-8 with invalid bytes replaced.
func splitFileLines(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i+1], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		out = append(out, strings.ToValidUTF8(sc.Text(), "\uFFFD"))
	}
	return out
}

// ordered is a JSON object with its key order (fail2ban's option dicts
// are keyed by their repr, which keeps the order).
type ordered []kv

type kv struct{ k, v string }

func (o ordered) get(k string) (string, bool) {
	for _, e := range o {
		if e.k == k {
			return e.v, true
		}
	}
	return "", false
}

// merge is Python's opts = common.copy(); opts.update(other).
func (o ordered) merge(other ordered) ordered {
	out := slices.Clone(o)
	for _, e := range other {
		found := false
		for i := range out {
			if out[i].k == e.k {
				out[i].v = e.v
				found = true
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}

func (o ordered) withoutTest() ordered {
	var out ordered
	for _, e := range o {
		if !strings.HasPrefix(e.k, "test.") {
			out = append(out, e)
		}
	}
	return out
}

// repr is Python's str() of the dict, fail2ban's cache key suffix.
func (o ordered) repr() string {
	var parts []string
	for _, e := range o {
		parts = append(parts, fmt.Sprintf("'%s': '%s'", e.k, e.v))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// parseOrdered reads a JSON object of strings keeping its key order.
func parseOrdered(s string) (ordered, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	return decodeObject(dec)
}

func decodeObject(dec *json.Decoder) (ordered, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("options: want an object, got %v", tok)
	}
	out := ordered{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, kv{k: kt.(string), v: fmt.Sprint(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseOptionList reads filterOptions: one object or a list of them.
func parseOptionList(s string) ([]ordered, error) {
	s = strings.TrimSpace(s)
	dec := json.NewDecoder(strings.NewReader(s))
	if !strings.HasPrefix(s, "[") {
		o, err := decodeObject(dec)
		return []ordered{o}, err
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []ordered
	for dec.More() {
		o, err := decodeObject(dec)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// condRE are the Python expressions fail2ban's sample logs use in
// test.condition and constraint.
var (
	condName = regexp.MustCompile(`^name\s*(==|!=)\s*'([^']*)'$`)
	condOpt  = regexp.MustCompile(`^opts\.get\('([^']*)'\)\s*(==|!=)\s*'([^']*)'$`)
)

// evalCond evaluates the literal forms of the conditions the corpus uses.
func evalCond(expr, name string, opts ordered) (bool, error) {
	expr = strings.TrimSpace(expr)
	if m := condName.FindStringSubmatch(expr); m != nil {
		return (name == m[2]) == (m[1] == "=="), nil
	}
	if m := condOpt.FindStringSubmatch(expr); m != nil {
		v, ok := opts.get(m[1])
		eq := ok && v == m[3]
		return eq == (m[2] == "=="), nil
	}
	return false, fmt.Errorf("unsupported condition %q", expr)
}
