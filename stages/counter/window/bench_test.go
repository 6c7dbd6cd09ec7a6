package window

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// BenchmarkCounter feeds 1M failures over 100k hosts, one failure a
// millisecond round-robin: each host fails every 100s, so its fifth failure
// bans it (400s < find_time) and the next five come while it is banned. The
// "run" case goes through Run and channels, as the engine drives a counter;
// "direct" calls the per-event path alone.
func BenchmarkCounter(b *testing.B) {
	const (
		failures = 1_000_000
		hosts    = 100_000
	)
	fs := make([]*engine.Failure, hosts)
	for i := range fs {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		fs[i] = &engine.Failure{
			Matcher:  "matcher.sshd",
			Host:     a,
			HostText: a.String(),
			Lines:    []string{"sshd[1]: Failed password for root from " + a.String()},
		}
	}
	event := func(i int) engine.Event {
		return engine.Event{Kind: engine.KindFailure, Time: t0.Add(time.Duration(i) * time.Millisecond), Failure: fs[i%hosts]}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/failures, "ns/failure")
	}

	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := newCounter(b, DefaultArguments(), engine.LogClock{})
			in := make(chan engine.Event, 256)
			out := make(chan engine.Event, 256)
			go func() {
				for i := range failures {
					in <- event(i)
				}
				close(in)
			}()
			done := make(chan struct{})
			go func() {
				for range out {
				}
				close(done)
			}()
			if err := c.Run(b.Context(), in, out); err != nil {
				b.Fatal(err)
			}
			close(out)
			<-done
			if c.Stats()["bans"] != hosts {
				b.Fatalf("stats %v", c.Stats())
			}
		}
		report(b)
	})

	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		out := make(chan engine.Event, 256)
		go func() {
			for range out {
			}
		}()
		defer close(out)
		for b.Loop() {
			c := newCounter(b, DefaultArguments(), engine.LogClock{})
			for i := range failures {
				c.handle(event(i))
				if err := c.batch.Flush(ctx, out); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
}
