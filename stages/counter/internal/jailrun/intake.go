package jailrun

import (
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/ignore"
)

// Intake is the first step of every failure a counter gets: the host is
// made a plain address, and failures of ignored hosts and failures read
// again behind a restored ban are dropped. It counts what it saw; the
// counts are safe to read from any goroutine.
type Intake struct {
	Ignore   *ignore.List // nil: nothing ignored
	FindTime time.Duration
	Logger   *slog.Logger
	// Floors holds the starts of the saved bans (see Batch.Restore).
	Floors Floors

	Failures atomic.Int64 // every failure received
	Ignored  atomic.Int64 // of ignored hosts
	Behind   atomic.Int64 // at or before a saved ban's start of their host
	Counted  atomic.Int64 // passed on to be counted
}

// Admit returns the host of f, unmapped and zoneless, and the failure's
// time (now when it has none), or false when the failure is not to be
// counted. eventNow is the counter's latest event time, which ages the
// floors.
func (in *Intake) Admit(f *engine.Failure, t, now, eventNow time.Time) (netip.Addr, time.Time, bool) {
	in.Failures.Add(1)
	host := f.Host.Unmap()
	if host.Zone() != "" {
		host = host.WithZone("")
	}
	if !host.IsValid() {
		in.Logger.Debug("failure without a valid host dropped", "host", f.HostText)
		return host, t, false
	}
	if in.Ignore.Contains(host) {
		in.Ignored.Add(1)
		return host, t, false
	}
	if t.IsZero() {
		t = now
	}
	if in.Floors.Behind(host, t, eventNow, in.FindTime) {
		in.Behind.Add(1) // read again on start; the restored ban stands for it
		return host, t, false
	}
	in.Counted.Add(1)
	return host, t, true
}
