// Package regex is the `matcher "regex"` stage: it finds the timestamp of
// each line, cuts it out, and runs fail2ban-style failure regexes over the
// rest to find the failing host.
//
// # Lines
//
// The date found by date detection is cut out of the line before the
// regexes run, as fail2ban does. A date at the very start of the line goes
// with the blanks after it, so "^" anchors at what follows the date (the
// host name in syslog lines). A line without a date takes the time of the
// previous dated line; before the first dated line it is skipped and
// counted as "no_date" (in run, the time the line was read is used). A
// line whose source knows its time (Line.Time, the journal's) takes that
// time, and the regexes see its whole text.
//
// # Time
//
// The matcher is where the log's clock lives: besides failures it emits a
// watermark whenever the log time moves past the last time it reported, so
// counters unban on the log's own clock in a replay even when no failure
// arrives.
package regex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/failfilter"
	"github.com/zclconf/go-cty/cty"
)

// Arguments configure a regex matcher.
type Arguments struct {
	// Fail are the failure regexes: a heredoc with one per line, or a list.
	Fail cty.Value `hcl:"fail"`
	// Ignore are regexes that discard a failure when they match its line.
	Ignore cty.Value `hcl:"ignore,optional"`
	// DatePattern replaces the default date detection: one or more
	// strftime-like patterns (fail2ban's datepattern syntax).
	DatePattern cty.Value `hcl:"date_pattern,optional"`
	// TimeZone is the zone of timestamps that carry none: an IANA name
	// ("Europe/Berlin"), "UTC", or a fixed offset ("UTC+0200", "+02:00").
	// Empty means the machine's local zone.
	TimeZone string `hcl:"time_zone,optional"`
	// UseDNS lets <HOST> match host names as well as addresses; a name is
	// resolved and each of its addresses counts a failure.
	UseDNS bool `hcl:"use_dns,optional"`
	// Prefix is fail2ban's prefregex: a line must match it before the fail
	// regexes are tried, and its <F-CONTENT>…</F-CONTENT> is what they see.
	Prefix string `hcl:"prefix,optional"`
	// MaxLines is fail2ban's maxlines: the fail regexes see the last
	// MaxLines lines joined by newlines.
	MaxLines int `hcl:"max_lines,optional"`
	// TrimDateBlanks drops the blanks after a date that starts the line,
	// so "^" anchors at what follows it. Default true; fail2ban keeps them,
	// and imported filters set false to match it exactly.
	TrimDateBlanks *bool `hcl:"trim_date_blanks,optional"`
	// RejectAmbiguous drops a failure whose line the same regex would also
	// match with another address in place of the one found (attacker text
	// holding an address). fail2ban has no such check; default false.
	RejectAmbiguous bool `hcl:"reject_ambiguous,optional"`
	// RegexTimeout is the time budget of one line on the backtracking
	// engine (regexes that need lookaround or backreferences); default 100ms.
	RegexTimeout string `hcl:"regex_timeout,optional"`
}

// Register adds matcher "regex" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "matcher",
		Type:    "regex",
		In:      engine.KindLine,
		Out:     engine.KindFailure,
		Summary: "finds failures with fail2ban-style regexes",
		NewArgs: func() any { return &Arguments{} },
		Build:   engine.Build(New),
	})
}

// Matcher is the built stage.
type Matcher struct {
	opts   engine.Options
	filter *failfilter.Filter
	dns    *resolver
	// fails is the failures of the current line, reused from line to
	// line (Run's goroutine only): what is kept of one is copied into the
	// engine.Failure sent on.
	fails []failfilter.Failure
	slab  []engine.Failure // room for the next failures (Run's goroutine only)
	stats struct {
		matched, ignored, noDate, timedOut, unresolved atomic.Int64
	}
}

var _ engine.Stage = (*Matcher)(nil)

// New compiles the regexes and the date detection.
func New(opts engine.Options, args *Arguments) (*Matcher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = engine.WallClock{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var errs []error
	fail, err := confval.Lines(args.Fail)
	if err != nil {
		errs = append(errs, confval.AttrErr("fail", err))
	} else if len(fail) == 0 {
		errs = append(errs, confval.AttrErr("fail", errors.New("no regex given")))
	}
	ignore, err := confval.Lines(args.Ignore)
	if err != nil {
		errs = append(errs, confval.AttrErr("ignore", err))
	}
	patterns, err := confval.Lines(args.DatePattern)
	if err != nil {
		errs = append(errs, confval.AttrErr("date_pattern", err))
	}
	loc, zoneErr := ParseZone(args.TimeZone)
	if zoneErr != nil {
		errs = append(errs, confval.AttrErr("time_zone", zoneErr))
		loc = time.UTC
	}
	if args.MaxLines < 0 {
		errs = append(errs, confval.AttrErr("max_lines", fmt.Errorf("must be at least 1, not %d", args.MaxLines)))
	}
	var budget time.Duration
	if args.RegexTimeout != "" {
		budget, err = confval.ParseDuration(args.RegexTimeout, false)
		if err != nil || budget == confval.Permanent {
			errs = append(errs, confval.AttrErr("regex_timeout", fmt.Errorf("want a duration such as \"10ms\": %v", err)))
		}
	}
	if len(fail) == 0 {
		return nil, errors.Join(errs...)
	}

	// Compile what could be read, so every bad regex is reported at once.
	m := &Matcher{opts: opts, dns: newResolver(time.Now)}
	useDNS := "no"
	if args.UseDNS {
		useDNS = "yes"
	}
	def := failfilter.Definition{
		FailRegex:   confval.Texts(fail),
		IgnoreRegex: confval.Texts(ignore),
		PrefRegex:   args.Prefix,
		DatePattern: confval.Texts(patterns),
		MaxLines:    max(args.MaxLines, 0),
		UseDNS:      useDNS,
	}
	m.filter, err = failfilter.New(def, failfilter.Options{
		Location:        loc,
		Now:             opts.Now,
		MatchTimeout:    budget,
		RejectAmbiguous: args.RejectAmbiguous,
		TrimDateBlanks:  args.TrimDateBlanks == nil || *args.TrimDateBlanks,
		// Counters read the captures of few failures (the one that
		// completes a ban, a ticket's first): a map for each would be
		// the largest cost of a failure.
		CompactFields: true,
		Resolve: func(name string) []netip.Addr {
			addrs := m.dns.resolve(context.Background(), name)
			if len(addrs) == 0 {
				m.stats.unresolved.Add(1)
			}
			return addrs
		},
	})
	if err != nil {
		errs = append(errs, defErrors(err)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// attrOf maps fail2ban's filter option names to the matcher's attributes.
var attrOf = map[string]string{
	"failregex":   "fail",
	"ignoreregex": "ignore",
	"prefregex":   "prefix",
	"datepattern": "date_pattern",
	"maxlines":    "max_lines",
	"logtimezone": "time_zone",
}

// defErrors turns the filter engine's errors into attribute errors.
func defErrors(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		var de *failfilter.DefError
		if d, ok := e.(*failfilter.DefError); ok {
			de = d
		}
		switch {
		case de != nil:
			attr := attrOf[de.Field]
			if attr == "" {
				attr = de.Field
			}
			out = append(out, &confval.AttrError{Attr: attr, Index: de.Index, Err: de.Err})
		default:
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, sub := range j.Unwrap() {
					walk(sub)
				}
				return
			}
			out = append(out, confval.AttrErr("fail", e))
		}
	}
	walk(err)
	return out
}

// ParseZone reads a time_zone value: "" (local), an IANA name, "UTC", or a
// fixed offset written "UTC+0200", "UTC-5", "+02:00" or "-0500".
func ParseZone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return time.Local, nil
	case "UTC", "GMT", "Z":
		return time.UTC, nil
	}
	off := strings.TrimPrefix(strings.TrimPrefix(s, "UTC"), "GMT")
	if off != "" && (off[0] == '+' || off[0] == '-') {
		sign := 1
		if off[0] == '-' {
			sign = -1
		}
		digits := strings.ReplaceAll(off[1:], ":", "")
		var h, m int
		switch len(digits) {
		case 1, 2:
			_, err := fmt.Sscanf(digits, "%d", &h)
			if err != nil {
				return nil, fmt.Errorf("bad zone offset %q", s)
			}
		case 4:
			if _, err := fmt.Sscanf(digits, "%02d%02d", &h, &m); err != nil {
				return nil, fmt.Errorf("bad zone offset %q", s)
			}
		default:
			return nil, fmt.Errorf("bad zone offset %q; write e.g. \"UTC+0200\" or \"+02:00\"", s)
		}
		if h > 14 || m > 59 {
			return nil, fmt.Errorf("zone offset %q is out of range", s)
		}
		return time.FixedZone(s, sign*(h*3600+m*60)), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", s)
	}
	return loc, nil
}

// Advice implements engine.Advisor: it names the regexes that run on the
// backtracking engine (lookaround, backreferences, conditionals), which is
// slower than the linear one and bounded by regex_timeout per line.
func (m *Matcher) Advice() []error {
	var out []error
	note := func(attr string, index int, slow bool, why string) {
		if slow {
			out = append(out, &confval.AttrError{Attr: attr, Index: index,
				Err: fmt.Errorf("this regex runs on the backtracking engine (%s), not the linear one: slower, and each line is bounded by regex_timeout", why)})
		}
	}
	if slow, why := m.filter.PrefBacktracking(); slow {
		note("prefix", -1, slow, why)
	}
	for i := 0; i < m.filter.NumFail(); i++ {
		slow, why := m.filter.Backtracking(i)
		note("fail", i, slow, why)
	}
	return out
}

// Stats implements engine.Stats.
func (m *Matcher) Stats() map[string]int64 {
	return map[string]int64{
		"matched":       m.stats.matched.Load(),
		"ignored":       m.stats.ignored.Load(),
		"no_date":       m.stats.noDate.Load(),
		"regex_timeout": m.stats.timedOut.Load(),
		"unresolved":    m.stats.unresolved.Load(),
	}
}

// Run implements engine.Stage. The failures of a batch of lines go on
// together, in one event (see engine.Event.Events), once the batch is
// done: a busy log costs one channel hand-off per batch, not one per
// failure, and a live log's batch is what the source had at hand, so
// nothing waits for more input.
func (m *Matcher) Run(ctx context.Context, in <-chan engine.Event, out chan<- engine.Event) error {
	var (
		// The log's time as read, and as sent on; no date yet.
		clk     = logClock{next: time.Time{}.Add(time.Second)}
		pending []engine.Event // made from the current batch, not sent yet
	)
	emit := func(ev engine.Event) { pending = append(pending, ev) }
	for ev := range in {
		for i := range ev.Lines {
			m.line(&ev.Lines[i], &clk, emit)
		}
		var batch engine.Event
		switch len(pending) {
		case 0:
			continue
		case 1:
			batch = pending[0]
		default:
			// NOTE: the receiver owns the sent slice: a copy of exactly
			// its size, and pending is reused.
			evs := slices.Clone(pending)
			batch = engine.Event{Kind: engine.KindFailure, Time: evs[len(evs)-1].Time, Events: evs}
		}
		clear(pending)
		pending = pending[:0]
		if !engine.Send(ctx, out, batch) {
			return nil
		}
	}
	return nil
}

// logClock is the log's time as a matcher has read it (last) and as it
// has sent it on (mark): a watermark goes whenever last gets a second
// past mark.
type logClock struct {
	last, mark time.Time
	next       time.Time // mark + 1s, kept so that a line costs a comparison
}

// sent notes that the events sent on reached t.
func (c *logClock) sent(t time.Time) {
	if t.After(c.mark) {
		c.mark, c.next = t, t.Add(time.Second)
	}
}

// line handles one line and hands what it makes to emit.
func (m *Matcher) line(l *engine.Line, clk *logClock, emit func(engine.Event)) {
	last := &clk.last
	before := m.filter.Stats()
	var fails []failfilter.Failure
	if l.At != 0 {
		// The source knows the line's time (the journal): the whole text
		// is the message, as fail2ban's journal backend hands it over,
		// and no date is looked for in it.
		fails = m.filter.ProcessSplit("", "", l.Text, l.Time())
	} else {
		clear(m.fails) // drop the last line's Fields and Lines for the GC
		fails = m.filter.ProcessLineInto(l.Text, m.fails[:0])
		m.fails = fails
	}
	after := m.filter.Stats()
	// Atomic adds only when there is something to add: most lines have
	// nothing ignored and nothing timed out.
	if n := after.Ignored - before.Ignored; n != 0 {
		m.stats.ignored.Add(int64(n))
	}
	if n := after.TimedOut - before.TimedOut; n != 0 {
		m.stats.timedOut.Add(int64(n))
	}
	if d := m.filter.LastDate(); d.After(*last) {
		*last = d
	}
	dated := after.NoDate == before.NoDate
	for _, f := range fails {
		if !f.Host.IsValid() {
			m.stats.unresolved.Add(1) // a host name that did not resolve
			continue
		}
		t := f.Time
		switch {
		case !t.IsZero():
		case !last.IsZero():
			t = *last
		case l.ReadAt != 0:
			t = l.Read()
		default:
			m.stats.noDate.Add(1)
			continue
		}
		m.stats.matched.Add(1)
		ef := m.newFailure()
		*ef = engine.Failure{
			Matcher:  m.opts.ID,
			Host:     f.Host,
			HostText: f.HostText,
			Names:    f.Names,
			Values:   f.Values,
			Lines:    f.Lines,
		}
		emit(engine.Event{Kind: engine.KindFailure, Time: t, Failure: ef})
		clk.sent(t)
	}
	if !dated && len(fails) == 0 && last.IsZero() && l.ReadAt == 0 {
		m.stats.noDate.Add(1)
	}
	// Move the log's clock on, at most once per second of log time.
	if !last.Before(clk.next) {
		clk.mark, clk.next = *last, last.Add(time.Second)
		emit(engine.Event{Kind: engine.KindFailure, Time: *last, Watermark: true})
	}
}

// failureSlab is how many engine.Failures one allocation holds.
const failureSlab = 64

// newFailure returns room for a failure to send on. Failures are handed
// out of slabs, one allocation for many: a slab lives as long as one of
// its failures does, a few kilobytes.
func (m *Matcher) newFailure() *engine.Failure {
	if len(m.slab) == 0 {
		m.slab = make([]engine.Failure, failureSlab)
	}
	f := &m.slab[0]
	m.slab = m.slab[1:]
	return f
}
