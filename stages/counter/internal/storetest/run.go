package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// T0 is the start of the counters' unit tests' log time.
var T0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// FailAt is a failure of host at T0+at whose line names host and at, with
// a capture "at".
func FailAt(host string, at time.Duration) engine.Event {
	return engine.Event{
		Kind: engine.KindFailure,
		Time: T0.Add(at),
		Failure: &engine.Failure{
			Matcher:  "matcher.sshd",
			Host:     netip.MustParseAddr(host),
			HostText: host,
			Fields:   map[string]string{"at": at.String()},
			Lines:    []string{fmt.Sprintf("%s %s", host, at)},
		},
	}
}

// RunAll drives c.Run over events, all at hand, and returns what it
// emits; it fails the test when Run fails.
func RunAll(t testing.TB, c Counter, events []engine.Event) []engine.Event {
	t.Helper()
	in := make(chan engine.Event, len(events))
	for _, ev := range events {
		in <- ev
	}
	close(in)
	out := make(chan engine.Event)
	var got []engine.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range out {
			got = append(got, ev)
		}
	}()
	err := c.Run(t.Context(), in, out)
	close(out)
	<-done
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return got
}

// HardStop checks that a send of c, built with max_retry 1 on a log
// clock, that nobody reads gives way to ctx.
func HardStop(t *testing.T, c Counter) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan engine.Event, 1)
		in <- FailAt("192.0.2.1", 0)
		out := make(chan engine.Event) // nobody reads
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx, in, out) }()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	})
}

// ConcurrentReaders reads Stats and Banned while c's Run bans and unbans
// (c built with max_retry 2 and ban_time "1s" on a log clock), for -race,
// and returns the Stats once Run has returned.
func ConcurrentReaders(t *testing.T, c interface {
	Counter
	Banned() []engine.BanInfo
}) map[string]int64 {
	in := make(chan engine.Event, 64)
	out := make(chan engine.Event, 64)
	go func() {
		for i := range 20_000 {
			in <- FailAt(fmt.Sprintf("10.0.%d.%d", i%7, i%13), time.Duration(i)*100*time.Millisecond)
		}
		close(in)
	}()
	go func() {
		for range out {
		}
	}()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = c.Stats()
			for _, b := range c.Banned() {
				if !b.Host.IsValid() || b.BanCount < 1 {
					t.Errorf("bad BanInfo %+v", b)
				}
			}
		}
	})
	err := c.Run(t.Context(), in, out)
	close(out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return c.Stats()
}
