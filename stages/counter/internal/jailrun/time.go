package jailrun

import (
	"log/slog"
	"strings"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Times inside the counters (their unban queues, windows and floors) are
// Unix nanoseconds clamped to ±(2^62-1), about the years 1824 to 2116, so
// the difference of two, or a time less a duration of at most MaxNanos,
// always fits in an int64.
const (
	MinNanos = -(1<<62 - 1)
	MaxNanos = 1<<62 - 1
)

// minTime and maxTime are the clamp bounds as times.
var (
	minTime = time.Unix(0, MinNanos)
	maxTime = time.Unix(0, MaxNanos)
)

// Nanos is t in clamped Unix nanoseconds; the zero time gives MinNanos.
func Nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return MinNanos
	case t.After(maxTime):
		return MaxNanos
	}
	return t.UnixNano()
}

// Now is a counter's now, kept by its Run goroutine: the latest event time
// it has seen, and the clock it runs on. In a replay (engine.LogClock) the
// events alone move it; in a daemon the wall clock moves it too, so bans
// end on time while the logs are quiet.
type Now struct {
	Clock  engine.Clock
	Latest time.Time // the latest event time seen
}

// Get is the counter's now: the later of Latest and the clock's time.
func (n *Now) Get() time.Time {
	now := n.Latest
	if w := n.Clock.Now(); w.After(now) {
		now = w
	}
	return now
}

// See moves Latest on to the time of an input event, when it is later,
// and returns the counter's now.
func (n *Now) See(t time.Time) time.Time {
	if t.After(n.Latest) {
		n.Latest = t
	}
	return n.Get()
}

// Sweeps paces a counter's purge of its host table. A purge scans the
// whole table, so it is due only once find_time has passed on the event
// clock since the last one and a quarter as many entries (kept failures,
// opened tickets) have been added since as the table holds: amortised
// O(1) per failure. It goes by the latest event time, not the wall clock,
// since the counters compare event times only.
type Sweeps struct {
	last  time.Time // event time of the last purge
	since int       // entries added since the last purge
}

// Added counts an entry added to the table.
func (s *Sweeps) Added() { s.since++ }

// Due reports whether a purge of a table of size hosts is due at the
// event time latest.
func (s *Sweeps) Due(latest time.Time, size int, findTime time.Duration) bool {
	return s.since > 0 && s.since >= size/4 && latest.Sub(s.last) >= findTime
}

// Done notes a purge at the event time latest.
func (s *Sweeps) Done(latest time.Time) {
	s.last, s.since = latest, 0
}

// Setup is what a counter takes of opts besides its store: the name of
// its jail (opts.Name, else the node's ID without "counter."), its logger
// (one that discards when none is given) and its clock (the wall clock
// when none is given).
func Setup(opts engine.Options) (jail string, logger *slog.Logger, clock engine.Clock) {
	logger = opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clock = opts.Clock
	if clock == nil {
		clock = engine.WallClock{}
	}
	jail = opts.Name
	if jail == "" {
		jail = strings.TrimPrefix(opts.ID, "counter.")
	}
	return jail, logger, clock
}
