// Package journal is the `source "journal"` stage: it reads the systemd
// journal through journalctl and hands each entry on as the line
// fail2ban's systemd backend makes of it.
//
// # Reading
//
// The stage runs `journalctl --follow --output=json` (os/exec, no shell, no
// cgo) with the configured matches, reads one JSON object per line and
// turns each entry into "HOSTNAME IDENT[PID]: MESSAGE" exactly as
// fail2ban's FilterSystemd.formatJournalEntry does. The line carries the
// entry's own time in Line.Time, so the matcher needs no date in the text.
// In replay journalctl runs once without --follow and the stage ends with
// it.
//
// # Position
//
// With a store the stage saves the cursor of the last entry it handed on
// (and that entry's time) about once a second and when it stops, and
// resumes after it on the next start. With Options.Rewind it starts that
// far back instead and marks the entries up to the saved one as recounts.
// When journalctl exits while the stage runs, it is restarted from the last
// cursor after a back-off of 1 s doubling up to 30 s.
package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
)

// Arguments configure a journal source.
type Arguments struct {
	// Match are journalctl matches as journalctl takes them on its command
	// line: "FIELD=value" terms (ANDed when the fields differ, ORed when
	// the same field repeats) and "+" between alternatives.
	Match []string `hcl:"match,optional"`
	// Directory reads the journal files in this directory instead of the
	// system journal (journalctl --directory).
	Directory string `hcl:"directory,optional"`
	// Files reads these journal files instead of the system journal
	// (journalctl --file; globs as journalctl expands them).
	Files []string `hcl:"files,optional"`
	// From is where the first start reads from when no position is saved:
	// "end" (only new entries, the default) or "start" (the whole journal).
	From string `hcl:"from,optional"`
	// Journalctl is the journalctl binary; default "journalctl" on PATH.
	Journalctl string `hcl:"journalctl,optional"`
}

// From values.
const (
	FromEnd   = "end"
	FromStart = "start"
)

// Register adds source "journal" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "source",
		Type:    "journal",
		Out:     engine.KindLine,
		Summary: "reads the systemd journal through journalctl",
		NewArgs: func() any { return &Arguments{From: FromEnd, Journalctl: "journalctl"} },
		Build:   engine.Build(New),
	})
}

// Source is the built stage.
type Source struct {
	opts engine.Options
	args Arguments

	// backoff is the first and the longest wait before journalctl is
	// started again; tests shorten it.
	backoffMin, backoffMax time.Duration
	// saveEvery is how often the position is saved while lines flow.
	saveEvery time.Duration

	mu        sync.Mutex
	delivered position // the last entry handed on
	saved     position // the last position written to the store

	stats struct {
		lines, recount, restarts, bad atomic.Int64
	}
}

var _ engine.Stage = (*Source)(nil)

// New checks args and returns the stage. It does no I/O: journalctl is
// looked up and started by Run.
func New(opts engine.Options, args *Arguments) (*Source, error) {
	var errs []error
	errs = append(errs, CheckMatches(args.Match)...)
	for i, f := range args.Files {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, &confval.AttrError{Attr: "files", Index: i, Err: errors.New("empty file name")})
			continue
		}
		if _, err := filepath.Match(f, ""); err != nil {
			errs = append(errs, &confval.AttrError{Attr: "files", Index: i, Err: fmt.Errorf("bad glob pattern %q: %w", f, err)})
		}
	}
	if args.Directory != "" && strings.TrimSpace(args.Directory) == "" {
		errs = append(errs, confval.AttrErr("directory", errors.New("empty directory name")))
	}
	if args.Directory != "" && len(args.Files) > 0 {
		// journalctl refuses --directory together with --file.
		errs = append(errs, confval.AttrErr("files", errors.New("give either directory or files, not both: journalctl reads one or the other")))
	}
	switch args.From {
	case FromEnd, FromStart:
	default:
		errs = append(errs, confval.AttrErr("from", fmt.Errorf("want %q or %q, not %q", FromEnd, FromStart, args.From)))
	}
	if strings.TrimSpace(args.Journalctl) == "" {
		errs = append(errs, confval.AttrErr("journalctl", errors.New("empty path; leave it out to run journalctl from PATH")))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = engine.WallClock{}
	}
	return &Source{
		opts:       opts,
		args:       *args,
		backoffMin: time.Second,
		backoffMax: 30 * time.Second,
		saveEvery:  time.Second,
	}, nil
}

// CheckMatches checks each match term as sd_journal_add_match does (a
// field name of A-Z, 0-9 and "_" that does not start with "__", then
// "="), and that every "+" stands between two terms. The errors are
// *confval.AttrError of attribute "match" naming the term's index.
func CheckMatches(terms []string) []error {
	var errs []error
	for i, m := range terms {
		if m == "+" {
			if i == 0 || i == len(terms)-1 || terms[i-1] == "+" {
				errs = append(errs, &confval.AttrError{Attr: "match", Index: i, Err: errors.New(`"+" must stand between two matches`)})
			}
			continue
		}
		if err := checkTerm(m); err != nil {
			errs = append(errs, &confval.AttrError{Attr: "match", Index: i, Err: err})
		}
	}
	return errs
}

func checkTerm(m string) error {
	field, _, ok := strings.Cut(m, "=")
	switch {
	case !ok:
		return fmt.Errorf("%q is not a FIELD=value match (or \"+\")", m)
	case field == "":
		return fmt.Errorf("%q has no field name before \"=\"", m)
	case strings.HasPrefix(field, "__"):
		return fmt.Errorf("field %s starts with \"__\": journal addresses such as __CURSOR cannot be matched", field)
	}
	for _, c := range []byte(field) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("field name %q may hold only A-Z, 0-9 and \"_\" (journal field names are upper case)", field)
		}
	}
	return nil
}

// Stats implements engine.Stats.
func (s *Source) Stats() map[string]int64 {
	return map[string]int64{
		"lines":       s.stats.lines.Load(),
		"recount":     s.stats.recount.Load(),
		"restarts":    s.stats.restarts.Load(),
		"bad_entries": s.stats.bad.Load(),
	}
}

// JournalMatches implements engine.JournalReader: the match terms as
// journalctl takes them, "+" between alternatives, which is how
// fail2ban-client's status writes them too.
func (s *Source) JournalMatches() string { return strings.Join(s.args.Match, " ") }

// CheckEnv implements engine.EnvChecker: journalctl must be installed.
func (s *Source) CheckEnv() error {
	if _, err := lookpath.Find(s.args.Journalctl); err != nil {
		return confval.AttrErr("journalctl", err)
	}
	return nil
}
