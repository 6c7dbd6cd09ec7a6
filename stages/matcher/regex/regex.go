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
// counted as "no_date" (in run, the time the line was read is used).
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
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/failregex"
	"github.com/f2bproject/f2b/logtime"
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
		Build:   func(o engine.Options, a any) (engine.Stage, error) { return New(o, a.(*Arguments)) },
	})
}

// Matcher is the built stage.
type Matcher struct {
	opts     engine.Options
	set      *failregex.Set
	detector *logtime.Detector
	dns      *resolver
	stats    struct {
		matched, ignored, noDate, unresolved atomic.Int64
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

	// Compile what could be read, so every bad regex is reported at once.
	m := &Matcher{opts: opts, dns: newResolver(time.Now)}
	if len(fail) > 0 {
		m.set, err = failregex.Compile(confval.Texts(fail), confval.Texts(ignore), failregex.Options{AllowDNS: args.UseDNS})
		var list failregex.Errors
		switch {
		case errors.As(err, &list):
			for _, e := range list {
				errs = append(errs, &confval.AttrError{Attr: e.List, Index: e.Index, Err: e.Err})
			}
		case err != nil:
			errs = append(errs, confval.AttrErr("fail", err))
		}
	}
	m.detector, err = logtime.New(logtime.Options{Patterns: confval.Texts(patterns), Location: loc, Now: opts.Now})
	if err != nil {
		errs = append(errs, confval.AttrErr("date_pattern", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
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

// Stats implements engine.Stats.
func (m *Matcher) Stats() map[string]int64 {
	return map[string]int64{
		"matched":    m.stats.matched.Load(),
		"ignored":    m.stats.ignored.Load(),
		"no_date":    m.stats.noDate.Load(),
		"unresolved": m.stats.unresolved.Load(),
	}
}

// Run implements engine.Stage.
func (m *Matcher) Run(ctx context.Context, in <-chan engine.Event, out chan<- engine.Event) error {
	var last, mark time.Time // the last line time, and the last time sent on
	send := func(ev engine.Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ev := range in {
		for i := range ev.Lines {
			if !m.line(ctx, &ev.Lines[i], &last, &mark, send) {
				return nil
			}
		}
	}
	return nil
}

// line handles one line; it returns false when the stage must stop. last
// is the time of the last dated line and mark the last time sent on.
func (m *Matcher) line(ctx context.Context, l *engine.Line, last, mark *time.Time, send func(engine.Event) bool) bool {
	line := l.Text
	t, start, end, ok := m.detector.Match(line)
	text := line
	switch {
	case ok:
		*last = t
		if start == 0 {
			text = strings.TrimLeft(line[end:], " \t")
		} else {
			text = line[:start] + line[end:]
		}
	case !last.IsZero():
		t = *last
	case !l.Read.IsZero():
		t = l.Read
	default:
		m.stats.noDate.Add(1)
		return true
	}
	match, matched, ignored := m.set.Match(text)
	switch {
	case ignored:
		m.stats.ignored.Add(1)
	case matched:
		hosts := []netip.Addr{match.Host}
		if !match.Host.IsValid() {
			// A host name (use_dns): every address it resolves to fails.
			hosts = m.dns.resolve(ctx, match.HostText)
			if len(hosts) == 0 {
				m.stats.unresolved.Add(1)
				return true
			}
		}
		m.stats.matched.Add(1)
		for _, h := range hosts {
			f := &engine.Failure{
				Matcher:  m.opts.ID,
				Host:     h,
				HostText: match.HostText,
				Fields:   match.Fields,
				Lines:    []string{line},
			}
			if !send(engine.Event{Kind: engine.KindFailure, Time: t, Failure: f}) {
				return false
			}
		}
		if t.After(*mark) {
			*mark = t
		}
		return true
	}
	// Move the log's clock on, at most once per second of log time.
	if t.Sub(*mark) >= time.Second {
		*mark = t
		return send(engine.Event{Kind: engine.KindFailure, Time: t, Watermark: true})
	}
	return true
}
