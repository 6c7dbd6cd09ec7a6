// Package notifytest is the test kit of the sinks that notify people
// (mail, webhook) and of sink exec: ban events, a log destination safe
// for a sink's goroutines, and helpers that run a sink over events and
// check its counters. It is for tests only.
package notifytest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// T0 is the time of the events Ban returns.
var T0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Ban returns a ban event at T0 in jail sshd (5 failures, one hour, first
// ban) of host: an address, or any other text for HostText. Its one
// matched line is match followed by host. mod changes the action.
func Ban(host, match string, mod ...func(*engine.Action)) engine.Event {
	a := &engine.Action{
		Type: engine.Ban, Jail: "sshd", Failures: 5, BanTime: time.Hour,
		Start: T0, End: T0.Add(time.Hour), BanCount: 1,
		Matches: []string{match + host},
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		a.Host = addr
	} else {
		a.HostText = host
	}
	for _, m := range mod {
		m(a)
	}
	return engine.Event{Kind: engine.KindAction, Time: T0, Action: a}
}

// Logs is a log destination safe for a sink's goroutines.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a text logger at debug level writing to w; nil w
// discards.
func Logger(w io.Writer) *slog.Logger {
	if w == nil {
		w = io.Discard
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// RunAll feeds events to a sink, closes its input and returns Run's error
// once Run has returned.
func RunAll(t testing.TB, s engine.Stage, events ...engine.Event) error {
	t.Helper()
	in := make(chan engine.Event, len(events))
	for _, ev := range events {
		in <- ev
	}
	close(in)
	return s.Run(t.Context(), in, nil)
}

// Run is RunAll that fails the test when Run fails.
func Run(t testing.TB, s engine.Stage, events ...engine.Event) {
	t.Helper()
	if err := RunAll(t, s, events...); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// WantStats checks the counters of want in s.Stats(); counters want does
// not name may hold anything.
func WantStats(t testing.TB, s engine.Stats, want map[string]int64) {
	t.Helper()
	got := s.Stats()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stats %s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

// Flood runs s over n events from ev through an unbuffered input, so
// each send waits for Run, and fails the test when Run stops reading for
// 10 s (a hanging server must cost notifications, never the pipeline),
// or fails, or does not return 10 s after the input closed.
func Flood(t testing.TB, s engine.Stage, n int, ev func(i int) engine.Event) {
	t.Helper()
	in := make(chan engine.Event)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background(), in, nil) }()
	for i := range n {
		select {
		case in <- ev(i):
		case <-time.After(10 * time.Second):
			t.Fatalf("Run stopped reading its input at event %d while the server hangs", i)
		}
	}
	close(in)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the drain timeout")
	}
}

// HardStop queues events for s, starts Run, cancels its context once the
// worker has had 50 ms to reach a hanging server, and fails the test
// unless Run returns the cancellation within 10 s.
func HardStop(t testing.TB, s engine.Stage, events ...engine.Event) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan engine.Event, len(events)+1)
	for _, ev := range events {
		in <- ev
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, nil) }()
	time.Sleep(50 * time.Millisecond) // let the worker reach the hanging server
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want a cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run ignored the hard stop")
	}
}
