package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/failfilter"
	regexmatcher "github.com/f2bproject/f2b/stages/matcher/regex"
	"github.com/f2bproject/f2b/stages/source/lines"
	"github.com/spf13/cobra"
)

type regexOptions struct {
	io       IOStreams
	confDir  string
	json     bool
	now      string
	timezone string
	missed   int
	log      string
	filter   string
}

func newRegexCmd(io IOStreams, runF func(*regexOptions) error) *cobra.Command {
	opts := &regexOptions{io: io}
	cmd := &cobra.Command{
		Use:   "regex LOG FILTER",
		Short: "Test a filter against a log, as fail2ban-regex does",
		Long: `Regex runs a filter over a log and reports what it matches: hits per regex,
date template hits, lines matched, ignored and missed, with samples of the
missed lines. Nothing is counted, banned or run.

FILTER is a fail2ban filter name with its options (sshd[mode=aggressive],
looked up in CONFDIR/filter.d), a filter file, or a failure regex. LOG is a
file, or - for standard input.

With the filter option logtype=journal each line is a journal message line
(HOST IDENT[PID]: MESSAGE) whose time is "now", as fail2ban's journal
backend hands them over.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.log, opts.filter = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runRegex(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.confDir, "config", "c", "/etc/fail2ban", "fail2ban configuration directory holding filter.d")
	f.BoolVar(&opts.json, "json", false, "print one JSON object per failure")
	f.StringVar(&opts.now, "now", "", "pin \"now\" (RFC 3339) for dates without a year")
	f.StringVar(&opts.timezone, "timezone", "", "zone of dates that carry none (default: $TZ, else local)")
	f.IntVar(&opts.missed, "print-missed", 20, "how many missed lines to show")
	return cmd
}

// filterSource is a filter to test and how it was named.
type filterSource struct {
	def     failfilter.Definition
	what    string // for the report: "filter sshd (/etc/fail2ban/filter.d/sshd.conf)"
	journal bool
}

var filterNameRE = regexp.MustCompile(`^[\w.+-]+(?:\[.*\])?$`)

// resolveFilter turns FILTER into a definition: a filter file, a filter
// name with options under confDir, or a regex.
func resolveFilter(spec, confDir string) (*filterSource, error) {
	isFile := false
	if st, err := os.Stat(spec); err == nil && st.Mode().IsRegular() {
		isFile = true
	}
	if !isFile && !filterNameRE.MatchString(spec) {
		return &filterSource{def: failfilter.Definition{FailRegex: []string{spec}}, what: "failregex " + spec}, nil
	}
	dir := confDir
	if isFile {
		dir = filepath.Dir(filepath.Dir(spec))
		if abs, err := filepath.Abs(spec); err == nil {
			spec = abs
		}
	}
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		if isFile {
			return nil, err
		}
		return nil, fmt.Errorf("filter %s: %w (set the fail2ban configuration directory with -c)", spec, err)
	}
	f, err := cfg.Filter(spec, nil)
	if err != nil {
		return nil, err
	}
	src := &filterSource{
		def: failfilter.Definition{
			FailRegex:   texts(f.FailRegex),
			IgnoreRegex: texts(f.IgnoreRegex),
			PrefRegex:   f.PrefRegex.Text,
			DatePattern: texts(f.DatePattern),
			MaxLines:    f.MaxLines,
			LogTimeZone: f.LogTimeZone,
			UseDNS:      f.UseDNS,
		},
		what:    fmt.Sprintf("filter %s (%s)", spec, f.File),
		journal: f.LogType == "journal",
	}
	return src, nil
}

func texts(vs []fail2ban.Value) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if strings.TrimSpace(v.Text) != "" {
			out = append(out, v.Text)
		}
	}
	return out
}

// regexFailure is one failure in --json output.
type regexFailure struct {
	Line     int64             `json:"line"`
	Time     string            `json:"time"`
	Host     string            `json:"host"`
	Attempts int               `json:"attempts"`
	Fields   map[string]string `json:"fields"`
}

func runRegex(opts *regexOptions) error {
	// A run is a batch: its live heap is small while it allocates about
	// the size of the log (see batchGC).
	defer batchGC(batchHeap)()
	loc := time.Local
	if opts.timezone != "" {
		var err error
		if loc, err = regexmatcher.ParseZone(opts.timezone); err != nil {
			return &flagError{fmt.Errorf("--timezone: %v", err)}
		}
	}
	now := time.Now
	if opts.now != "" {
		t, err := time.Parse(time.RFC3339, opts.now)
		if err != nil {
			return &flagError{fmt.Errorf("--now: %v", err)}
		}
		now = func() time.Time { return t }
	}
	src, err := resolveFilter(opts.filter, opts.confDir)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	flt, err := failfilter.New(src.def, failfilter.Options{
		Location:      loc,
		Now:           now,
		CheckAllRegex: true,
		ReturnRawHost: true,
		NoDetails:     !opts.json, // the report only counts
	})
	if err != nil {
		return &exitError{code: ExitInvalid, err: fmt.Errorf("%s: %w", src.what, err)}
	}

	var in io.Reader
	if opts.log == "-" {
		in = opts.io.In
	} else {
		f, err := os.Open(opts.log)
		if err != nil {
			return &exitError{code: ExitError, err: err}
		}
		defer f.Close()
		in = f
	}

	rep := newRegexReport(flt)
	out := bufio.NewWriter(opts.io.Out)
	defer out.Flush()
	enc := json.NewEncoder(out)
	sc := lines.NewScanner(in)
	emit := func(line string, no int64, fails []failfilter.Failure) error {
		found := rep.add(no, line, fails)
		if !opts.json {
			return nil
		}
		for _, f := range found {
			rf := regexFailure{Line: no, Host: f.ID, Attempts: f.Attempts, Fields: f.Fields}
			if !f.Time.IsZero() {
				rf.Time = f.Time.In(loc).Format(time.RFC3339Nano)
			}
			if rf.Fields == nil {
				rf.Fields = map[string]string{}
			}
			if err := enc.Encode(rf); err != nil {
				return err
			}
		}
		return nil
	}
	readErr := func(err error) error {
		return &exitError{code: ExitError, err: fmt.Errorf("%s: %w", opts.log, err)}
	}
	start := time.Now()
	if src.journal {
		for {
			line, no, err := sc.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return readErr(err)
			}
			if err := emit(line, no, flt.ProcessSplit("", "", line, now())); err != nil {
				return err
			}
		}
	} else {
		// The dates and regexes of the lines ahead run on another CPU.
		var nextErr error
		next := func() (string, int64, error) {
			line, no, err := sc.Next()
			if err != nil && !errors.Is(err, io.EOF) {
				nextErr = err
			}
			return line, no, err
		}
		if err := flt.ProcessAll(next, emit); err != nil {
			if nextErr != nil {
				return readErr(nextErr)
			}
			return err
		}
	}
	rep.skipped = sc.Skipped()
	rep.elapsed = time.Since(start)
	if !opts.json {
		rep.write(out, src.what, opts.missed)
	}
	return nil
}

// regexReport gathers what fail2ban-regex reports.
type regexReport struct {
	flt                     *failfilter.Filter
	hits                    []int
	lines, matched, missedN int64
	ignoredBefore           uint64
	ignoredLines            int64
	noDateBefore            uint64
	templates               map[string]int
	template                string // the last line's template, counted in templateN
	templateN               int
	missed                  []string
	skipped                 int64
	elapsed                 time.Duration
	found                   []failfilter.Failure // add's result, reused
}

func newRegexReport(flt *failfilter.Filter) *regexReport {
	return &regexReport{flt: flt, hits: make([]int, flt.NumFail()), templates: map[string]int{}}
}

// add records one line's results and returns its failures (valid until
// the next call).
func (r *regexReport) add(no int64, line string, fails []failfilter.Failure) []failfilter.Failure {
	r.lines++
	found := r.found[:0]
	hit := false
	for _, f := range fails {
		if f.Regex >= 0 && f.Regex < len(r.hits) {
			r.hits[f.Regex]++
		}
		hit = true
		if !f.NoFail && !f.Pending {
			found = append(found, f)
		}
	}
	st := r.flt.Stats()
	ignored := st.Ignored != r.ignoredBefore
	r.ignoredBefore = st.Ignored
	if st.NoDate == r.noDateBefore {
		if name := r.flt.DateTemplate(); name != "" {
			// Counted in the map when the template changes: most logs
			// have one.
			if name != r.template {
				r.flushTemplate()
				r.template = name
			}
			r.templateN++
		}
	}
	r.noDateBefore = st.NoDate
	switch {
	case len(found) > 0:
		r.matched++
	case hit || ignored:
		// As fail2ban-regex counts: a line only helper regexes (NOFAIL,
		// pending) or an ignoreregex took is "ignored".
		r.ignoredLines++
	case strings.TrimSpace(line) != "":
		r.missedN++
		if len(r.missed) < 1000 {
			r.missed = append(r.missed, fmt.Sprintf("%6d | %s", no, line))
		}
	}
	r.found = found
	return found
}

// flushTemplate counts the last template's lines in the map.
func (r *regexReport) flushTemplate() {
	if r.templateN > 0 {
		r.templates[r.template] += r.templateN
	}
	r.templateN = 0
}

func (r *regexReport) write(w io.Writer, what string, showMissed int) {
	r.flushTemplate()
	st := r.flt.Stats()
	fmt.Fprintf(w, "Running tests\n=============\n\nUse %s\n\nResults\n=======\n\n", what)
	total := 0
	for _, h := range r.hits {
		total += h
	}
	fmt.Fprintf(w, "Failregex: %d total\n", total)
	fmt.Fprintln(w, "|-  #) [# of hits] regular expression")
	for i, h := range r.hits {
		src, _ := r.flt.FailRegex(i)
		note := ""
		if bt, why := r.flt.Backtracking(i); bt {
			note = "  (backtracking: " + why + ")"
		}
		fmt.Fprintf(w, "|  %2d) [%d] %s%s\n", i+1, h, src, note)
	}
	fmt.Fprintln(w, "`-")
	fmt.Fprintf(w, "\nIgnoreregex: %d total\n", st.Ignored)
	fmt.Fprintln(w, "\nDate template hits:")
	fmt.Fprintln(w, "|- [# of hits] date format")
	names := make([]string, 0, len(r.templates))
	for name := range r.templates {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return r.templates[names[i]] > r.templates[names[j]] })
	for _, name := range names {
		fmt.Fprintf(w, "|  [%d] %s\n", r.templates[name], name)
	}
	fmt.Fprintln(w, "`-")
	fmt.Fprintf(w, "\nLines: %d lines, %d ignored, %d matched, %d missed", r.lines, r.ignoredLines, r.matched, r.missedN)
	if r.skipped > 0 {
		fmt.Fprintf(w, ", %d too long", r.skipped)
	}
	fmt.Fprintf(w, "\n[processed in %.2f sec", r.elapsed.Seconds())
	if r.elapsed > 0 {
		fmt.Fprintf(w, ", %s lines/s", humanRate(float64(r.lines)/r.elapsed.Seconds()))
	}
	fmt.Fprintln(w, "]")
	if st.NoDate > 0 {
		fmt.Fprintf(w, "Lines without a date: %d\n", st.NoDate)
	}
	if st.TimedOut > 0 {
		fmt.Fprintf(w, "Lines over the regex time budget: %d\n", st.TimedOut)
	}
	if len(r.missed) > 0 && showMissed > 0 {
		n := min(showMissed, len(r.missed))
		fmt.Fprintf(w, "\n|- Missed line(s) (first %d of %d):\n", n, r.missedN)
		for _, m := range r.missed[:n] {
			fmt.Fprintf(w, "|  %s\n", m)
		}
		fmt.Fprintln(w, "`-")
	}
}
