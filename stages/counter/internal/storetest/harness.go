package storetest

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
)

// Counter is what the suite needs of a counter.
type Counter interface {
	engine.Stage
	engine.Jail
	engine.Stats
}

// Harness runs a counter inside a synctest bubble and collects what it
// sends. Its consumer fails the test when an action reaches it before it
// was handed to the store (restored bans excepted: the store has them).
type Harness struct {
	t     testing.TB
	C     Counter
	Store *memstore.Store
	In    chan engine.Event

	out  chan engine.Event
	errc chan error
	done chan struct{}

	mu      sync.Mutex
	got     []engine.Event
	stopped bool
}

// Start runs c with input buffer size buf; events are queued before Run
// starts, so they are all at hand at once. store is the counter's store,
// nil for none.
func Start(t testing.TB, c Counter, store *memstore.Store, buf int, events ...engine.Event) *Harness {
	t.Helper()
	h := &Harness{
		t:     t,
		C:     c,
		Store: store,
		In:    make(chan engine.Event, max(buf, len(events))),
		out:   make(chan engine.Event),
		errc:  make(chan error, 1),
		done:  make(chan struct{}),
	}
	for _, ev := range events {
		h.In <- ev
	}
	go func() { h.errc <- c.Run(t.Context(), h.In, h.out) }()
	go func() {
		defer close(h.done)
		for ev := range h.out {
			a := ev.Action
			if a == nil {
				t.Errorf("non-action event %+v sent", ev)
				continue
			}
			if store != nil && !(a.Restored && a.Type == engine.Ban) && !store.Seen(a) {
				t.Errorf("%s reached out before it was handed to the store", Describe(ev))
			}
			h.mu.Lock()
			h.got = append(h.got, ev)
			h.mu.Unlock()
		}
	}()
	// Run is running (and has restored) once the bubble is idle, so
	// manual commands find it.
	synctest.Wait()
	t.Cleanup(func() {
		if !h.stopped {
			_ = h.Stop()
		}
	})
	return h
}

// Send queues events.
func (h *Harness) Send(events ...engine.Event) {
	for _, ev := range events {
		h.In <- ev
	}
}

// Take waits until the bubble is idle and returns the actions sent since
// the last Take.
func (h *Harness) Take() []engine.Event {
	synctest.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}

// Stop closes the input and returns Run's error once it has returned.
func (h *Harness) Stop() error {
	h.stopped = true
	close(h.In)
	err := <-h.errc
	close(h.out)
	<-h.done
	return err
}

// Failure is a failure of host at t.
func Failure(host string, t time.Time) engine.Event {
	return engine.Event{
		Kind: engine.KindFailure,
		Time: t,
		Failure: &engine.Failure{
			Matcher:  "matcher.test",
			Host:     netip.MustParseAddr(host),
			HostText: host,
			Lines:    []string{fmt.Sprintf("%s failed at %s", host, t.Format(time.TimeOnly))},
		},
	}
}

// Describe writes an action as "ban 192.0.2.1 #1 restored".
func Describe(ev engine.Event) string {
	a := ev.Action
	s := fmt.Sprintf("%s %s #%d", a.Type, a.Host, a.BanCount)
	if a.Restored {
		s += " restored"
	}
	return s
}

// DescribeAll describes each of evs.
func DescribeAll(evs []engine.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, Describe(ev))
	}
	return out
}
