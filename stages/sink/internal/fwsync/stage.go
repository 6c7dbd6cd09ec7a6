package fwsync

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
)

// Stage is what a firewall sink keeps of its driver: the logger and clock
// of its options, the hooks its tests set, and the driver of the current
// Run, whose counts Stats reports.
type Stage struct {
	typ    string
	Logger *slog.Logger
	Clock  engine.Clock
	// RestoreIdle, StaleGrace and RetryFirst, when set, replace the
	// Config's (the tests shorten them).
	RestoreIdle, StaleGrace, RetryFirst time.Duration
	// CheckInterval, when set, replaces DefaultCheckInterval (the tests
	// shorten it); negative: no periodic check.
	CheckInterval time.Duration
	// Wrap is put before every program the sink runs: the tests set it to
	// `ip netns exec NAME`, which runs the programs (by name) in a
	// network namespace of theirs.
	Wrap []string

	driver atomic.Pointer[Driver]
}

// Init sets st up for a sink of type typ (the prefix of the Stats keys)
// built with opts.
func (st *Stage) Init(typ string, opts engine.Options) {
	st.typ = typ
	st.Logger = opts.Logger
	if st.Logger == nil {
		st.Logger = slog.New(slog.DiscardHandler)
	}
	st.Clock = opts.Clock
}

// Run runs a driver of b until in is closed (or ctx is done), with cfg
// completed by the Stage's type, logger, clock and tunings; a zero
// cfg.CheckInterval takes DefaultCheckInterval.
func (st *Stage) Run(ctx context.Context, in <-chan engine.Event, cfg Config, b Backend) error {
	cfg.Type, cfg.Logger, cfg.Clock = st.typ, st.Logger, st.Clock
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	if st.CheckInterval != 0 {
		cfg.CheckInterval = st.CheckInterval
	}
	for _, t := range []struct{ dst, src *time.Duration }{
		{&cfg.RestoreIdle, &st.RestoreIdle}, {&cfg.StaleGrace, &st.StaleGrace}, {&cfg.RetryFirst, &st.RetryFirst},
	} {
		if *t.src > 0 {
			*t.dst = *t.src
		}
	}
	d := New(cfg, b)
	st.driver.Store(d)
	return d.Run(ctx, in)
}

// Runner returns the runner of the sink's programs.
func (st *Stage) Runner() *fwrun.Runner { return &fwrun.Runner{Wrap: st.Wrap} }

// Stats returns the counts of the current (or last) Run's driver, zero
// before any (see Driver.Stats).
func (st *Stage) Stats() map[string]int64 {
	if d := st.driver.Load(); d != nil {
		return d.Stats()
	}
	return stats(st.typ, 0, 0, 0, 0)
}

// Now is the time bans are weighed on: clock's, or the wall clock when
// clock is nil or gives no time (a replay: targets live on the wall
// clock).
func Now(clock engine.Clock) time.Time {
	if clock != nil {
		if t := clock.Now(); !t.IsZero() {
			return t
		}
	}
	return time.Now()
}
