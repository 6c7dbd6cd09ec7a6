package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/all"
	logsink "github.com/f2bproject/f2b/stages/sink/log"
	"github.com/f2bproject/f2b/stages/source/file"
	"github.com/spf13/cobra"
)

type replayOptions struct {
	io     IOStreams
	logs   []string
	config []string
	dryRun bool
	json   bool
	source string
	now    string
}

func newReplayCmd(io IOStreams, runF func(*replayOptions) error) *cobra.Command {
	opts := &replayOptions{io: io}
	cmd := &cobra.Command{
		Use:   "replay [LOG...] --config PATH",
		Short: "Run a pipeline over recorded logs on the logs' own clock",
		Long: `Replay runs the whole pipeline over recorded logs and prints the timeline of
bans and unbans it would produce. Time is the logs' own: windows, bans and
unbans follow the timestamps in the lines, so a day of logs replays in
seconds with the same result.

The LOG files (- for standard input) take the place of what the pipeline's
sources read: all sources, or only the one named by --source. Several LOG
files are merged in time order. Without LOG files each source reads its own
files once.

--dry-run swaps every sink for the recorder, so nothing is banned and no
command runs.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.logs = args
			if len(opts.config) == 0 {
				return &flagError{errors.New("--config is required")}
			}
			if runF != nil {
				return runF(opts)
			}
			return runReplay(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&opts.config, "config", "c", nil, "pipeline file or directory (repeatable)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "record actions instead of running the sinks")
	f.BoolVar(&opts.json, "json", false, "print one JSON object per line")
	f.StringVar(&opts.source, "source", "", "feed the LOG files to this source only (its name)")
	f.StringVar(&opts.now, "now", "", "reference time (RFC 3339) for dates without a year; default: the current time")
	return cmd
}

// batchHeap is the heap size at which a batch run (replay, regex) collects
// garbage. Not
// more: memory the heap has not used yet costs a page fault per page, as
// much as a collection saves (measured: 512 MB is slower than 256 MB).
const batchHeap = 256 << 20

// batchGC sets the collector for a batch run and returns the function that
// restores its settings.
//
// A replay's live heap is small (the pipeline, the lines in flight between
// stages, the timeline; counters keep their hosts off the Go heap) while
// it allocates about the size of its logs. By default it would collect
// every few tens of megabytes, each time for little garbage found; so no
// collection until the heap reaches heap (or a lower GOMEMLIMIT). But a
// live heap near that limit would make the collector run all the time: as
// soon as a collection finds more than half of heap live, the default
// settings come back.
func batchGC(heap int64) (restore func()) {
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(limit, heap))
	var done atomic.Bool
	back := func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	// watch arms a finalizer, which runs after the next collection.
	var watch func()
	watch = func() {
		// NOTE: not a tiny object (under 16 bytes without pointers),
		// whose finalizer may never run.
		runtime.SetFinalizer(&struct{ _ [64]byte }{}, func(any) {
			if done.Load() {
				return
			}
			metrics.Read(sample)
			if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > uint64(heap)/2 {
				done.Store(true)
				back()
				return
			}
			watch()
		})
	}
	watch()
	return func() {
		if !done.Swap(true) {
			back()
		}
	}
}

// recorderName is the node that collects the timeline in a replay.
const recorderName = "f2b_replay"

func runReplay(ctx context.Context, opts *replayOptions) error {
	// The replay's "now" is the moment it started, one instant for every
	// line: year-less dates resolve the same way from the first line to
	// the last (and a date detector reads no clock per line).
	began := time.Now()
	now := func() time.Time { return began }
	if opts.now != "" {
		t, err := time.Parse(time.RFC3339, opts.now)
		if err != nil {
			return &flagError{fmt.Errorf("--now: %v", err)}
		}
		now = func() time.Time { return t }
	}
	logger := slog.New(slog.NewTextHandler(opts.io.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))

	reg := all.Registry()
	bo := engine.BuildOptions{Logger: logger, Clock: engine.LogClock{}, Replay: true, Now: now}
	p, files, diags := loadAndCompile(opts.config, reg, bo)
	if diags.HasErrors() {
		dsl.SortDiagnostics(diags)
		dsl.WriteDiagnostics(opts.io.ErrOut, files, diags)
		return &exitError{code: ExitInvalid, err: errors.New("invalid pipeline"), reported: true}
	}

	rec := &recorder{}
	spec, err := replaySpec(p.Spec, opts)
	if err != nil {
		return err
	}
	rreg := reg.Clone()
	rreg.Replace(replaySourceRegistration())
	rreg.Replace(rec.registration())
	g, diags := p.Compile(spec, rreg, bo)
	if diags.HasErrors() {
		dsl.SortDiagnostics(diags)
		dsl.WriteDiagnostics(opts.io.ErrOut, files, diags)
		return &exitError{code: ExitInvalid, err: errors.New("invalid pipeline"), reported: true}
	}

	defer batchGC(batchHeap)()
	start := time.Now()
	runErr := g.Run(ctx, engine.RunOptions{})
	elapsed := time.Since(start)

	events := rec.sorted()
	stats := g.Stats()
	if err := printTimeline(opts, events, stats, elapsed); err != nil {
		return err
	}
	if runErr != nil {
		return &exitError{code: ExitError, err: runErr}
	}
	if stats["read_errors"] > 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("%d log file(s) could not be read", stats["read_errors"])}
	}
	return nil
}

// replaySpec rewrites the pipeline for a replay: LOG files replace what the
// sources read, the dry run drops the sinks, and a recorder reads every
// counter.
func replaySpec(in engine.Spec, opts *replayOptions) (engine.Spec, error) {
	var out engine.Spec
	var sources, counters []string
	for _, n := range in.Nodes {
		switch n.Kind {
		case "source":
			sources = append(sources, n.Name)
		case "counter":
			counters = append(counters, n.ID())
		}
	}
	if opts.source != "" && !slices.Contains(sources, opts.source) {
		hint := ""
		if len(sources) > 0 {
			hint = fmt.Sprintf("; the pipeline's sources are: %v", sources)
		}
		return out, &flagError{fmt.Errorf("--source %q names no source%s", opts.source, hint)}
	}
	for _, n := range in.Nodes {
		switch {
		case n.Kind == "source" && len(opts.logs) > 0:
			paths := opts.logs
			if opts.source != "" && n.Name != opts.source {
				paths = nil
			}
			n.Type, n.Args = replaySourceType, &replaySourceArgs{Paths: paths, Stdin: opts.io.In}
		case n.Kind == "sink" && opts.dryRun:
			continue
		case n.Kind == "sink" && n.Name == recorderName:
			return out, fmt.Errorf("sink.%s is reserved for replay; rename that sink", recorderName)
		}
		out.Nodes = append(out.Nodes, n)
	}
	if len(counters) > 0 {
		out.Nodes = append(out.Nodes, engine.NodeSpec{Kind: "sink", Type: recorderType, Name: recorderName, Inputs: counters, Args: &struct{}{}})
	}
	return out, nil
}

const (
	replaySourceType = "f2b_replay_source"
	recorderType     = "f2b_recorder"
)

type replaySourceArgs struct {
	Paths []string
	Stdin io.Reader // read for the path "-"
}

type replaySource struct {
	args   *replaySourceArgs
	logger *slog.Logger
	stats  file.Counts
}

func (s *replaySource) Run(ctx context.Context, _ <-chan engine.Event, out chan<- engine.Event) error {
	return file.ReadMerged(ctx, s.args.Paths, s.args.Stdin, s.logger, &s.stats, out)
}

func (s *replaySource) Stats() map[string]int64 {
	return map[string]int64{"lines": s.stats.Lines.Load(), "skipped": s.stats.Skipped.Load(), "read_errors": s.stats.Errors.Load()}
}

func replaySourceRegistration() engine.Registration {
	return engine.Registration{
		Kind: "source", Type: replaySourceType, Out: engine.KindLine,
		NewArgs: func() any { return &replaySourceArgs{} },
		Build: func(o engine.Options, a any) (engine.Stage, error) {
			return &replaySource{args: a.(*replaySourceArgs), logger: o.Logger}, nil
		},
	}
}

// recorder collects every action of a replay.
type recorder struct {
	mu     sync.Mutex
	events []engine.Event
}

func (r *recorder) registration() engine.Registration {
	return engine.Registration{
		Kind: "sink", Type: recorderType, In: engine.KindAction,
		NewArgs: func() any { return &struct{}{} },
		Build:   func(engine.Options, any) (engine.Stage, error) { return r, nil },
	}
}

// Run implements engine.Stage.
func (r *recorder) Run(_ context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	for ev := range in {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}
	return nil
}

// sorted returns the timeline in time order. Events of one jail keep the
// order their counter emitted them in; jails at the same instant are
// ordered by name so the output is the same on every run.
func (r *recorder) sorted() []engine.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.events)
	slices.SortStableFunc(out, func(a, b engine.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Action.Jail, b.Action.Jail)
	})
	return out
}

// replaySummary is the last line of a replay.
type replaySummary struct {
	Event          string  `json:"event"`
	Lines          int64   `json:"lines"`
	Matched        int64   `json:"matched"`
	Ignored        int64   `json:"ignored"`
	NoDate         int64   `json:"no_date"`
	Skipped        int64   `json:"skipped"`
	Bans           int     `json:"bans"`
	Unbans         int     `json:"unbans"`
	Prolongs       int     `json:"prolongs"`
	BannedAtEnd    int     `json:"banned_at_end"`
	Seconds        float64 `json:"seconds"`
	LinesPerSecond float64 `json:"lines_per_second"`
}

func summarize(events []engine.Event, stats map[string]int64, elapsed time.Duration) replaySummary {
	s := replaySummary{
		Event:   "summary",
		Lines:   stats["lines"],
		Matched: stats["matched"],
		Ignored: stats["ignored"],
		NoDate:  stats["no_date"],
		Skipped: stats["skipped"],
		Seconds: elapsed.Seconds(),
	}
	if elapsed > 0 {
		s.LinesPerSecond = float64(s.Lines) / elapsed.Seconds()
	}
	for _, ev := range events {
		switch ev.Action.Type {
		case engine.Ban:
			s.Bans++
		case engine.Unban:
			s.Unbans++
		case engine.Prolong:
			s.Prolongs++
		}
	}
	s.BannedAtEnd = s.Bans - s.Unbans
	return s
}

func printTimeline(opts *replayOptions, events []engine.Event, stats map[string]int64, elapsed time.Duration) error {
	w := opts.io.Out
	sum := summarize(events, stats, elapsed)
	if opts.json {
		for _, ev := range events {
			if _, err := w.Write(append(logsink.FormatJSON(ev), '\n')); err != nil {
				return err
			}
		}
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for _, ev := range events {
		if _, err := fmt.Fprintln(w, logsink.FormatText(ev)); err != nil {
			return err
		}
	}
	if len(events) > 0 {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "%d lines, %d matched, %d ignored, %d without date, %d skipped; %d bans, %d unbans, %d prolonged, %d banned at end; %.2fs (%s lines/s)\n",
		sum.Lines, sum.Matched, sum.Ignored, sum.NoDate, sum.Skipped, sum.Bans, sum.Unbans, sum.Prolongs, sum.BannedAtEnd, sum.Seconds, humanRate(sum.LinesPerSecond))
	return err
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// ReadsMatches implements engine.MatchesReader: the timeline shows no
// matched lines.
func (r *recorder) ReadsMatches() bool { return false }
