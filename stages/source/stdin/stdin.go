// Package stdin is the `source "stdin"` stage: it reads log lines from the
// process's standard input until it ends, e.g. `journalctl -f | f2b run`.
package stdin

import (
	"context"
	"log/slog"
	"os"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/source/file"
)

// Arguments configure a stdin source; it has none.
type Arguments struct{}

// Register adds source "stdin" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "source",
		Type:    "stdin",
		Out:     engine.KindLine,
		Summary: "reads log lines from standard input",
		NewArgs: func() any { return &Arguments{} },
		Build:   engine.Build(New),
	})
}

// Source reads standard input.
type Source struct {
	logger *slog.Logger
	stats  file.Counts
}

var _ engine.Stage = (*Source)(nil)

// New returns the stage.
func New(opts engine.Options, _ *Arguments) (*Source, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{logger: logger}, nil
}

// Stats implements engine.Stats.
func (s *Source) Stats() map[string]int64 {
	return map[string]int64{"lines": s.stats.Lines.Load(), "skipped": s.stats.Skipped.Load()}
}

// Run implements engine.Stage.
func (s *Source) Run(ctx context.Context, _ <-chan engine.Event, out chan<- engine.Event) error {
	return file.ReadMerged(ctx, []string{"-"}, os.Stdin, s.logger, &s.stats, out)
}
