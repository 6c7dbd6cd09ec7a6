package ticket

import (
	"context"
	"testing"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/storetest"
)

// BenchmarkCounter feeds 1M failures over 100k hosts, one failure a
// millisecond round-robin: each host fails every 100s, so its fifth failure
// bans it (400s < find_time) and the next five come while it is banned
// (and prolong it). The "run" case goes through Run and channels, as the
// engine drives a counter; "direct" calls the per-event path alone;
// "increment" is "direct" with bantime.increment on.
func BenchmarkCounter(b *testing.B) {
	const failures = 1_000_000
	fs := storetest.BenchFailures(100_000)

	b.Run("run", func(b *testing.B) {
		storetest.BenchRun(b, func() storetest.Counter {
			return newCounter(b, DefaultArguments(), engine.LogClock{})
		}, fs, failures)
	})

	for _, bc := range []struct {
		name string
		args Arguments
	}{
		{"direct", DefaultArguments()},
		{"increment", args(func(a *Arguments) { a.BanTimeIncrement = true })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			out := make(chan engine.Event, 256)
			go func() {
				for range out {
				}
			}()
			defer close(out)
			for b.Loop() {
				c := newCounter(b, bc.args, engine.LogClock{})
				for i := range failures {
					c.handle(storetest.BenchEvent(fs, i))
					if err := c.batch.Flush(ctx, out); err != nil {
						b.Fatal(err)
					}
				}
			}
			storetest.ReportPerFailure(b, failures)
		})
	}
}

// BenchmarkTicket1MHosts feeds one failure from each of 1,000,000 distinct
// addresses (see storetest.MemoryBench), as bench's memory row does for the
// window counter: with max_retry 5 none is banned and the counter keeps a
// ticket for each.
func BenchmarkTicket1MHosts(b *testing.B) {
	const hosts = 1_000_000
	storetest.MemoryBench(b, hosts, func() (int, func()) {
		c := newCounter(b, DefaultArguments(), engine.LogClock{})
		for i := range hosts {
			c.handle(storetest.HostEvent(i))
		}
		if got := c.Status().CurrentlyFailed; got != hosts {
			b.Fatalf("%d hosts tracked, want %d", got, hosts)
		}
		return c.hosts.Mapped() + c.mem.Footprint(), func() {
			c.hosts.Release()
			c.mem.Release()
		}
	})
}
