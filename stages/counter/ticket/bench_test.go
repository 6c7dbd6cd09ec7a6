package ticket

import (
	"context"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// BenchmarkCounter feeds 1M failures over 100k hosts, one failure a
// millisecond round-robin: each host fails every 100s, so its fifth failure
// bans it (400s < find_time) and the next five come while it is banned
// (and prolong it). The "run" case goes through Run and channels, as the
// engine drives a counter; "direct" calls the per-event path alone;
// "increment" is "direct" with bantime.increment on.
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
					c.handle(event(i))
					if err := c.batch.Flush(ctx, out); err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b)
		})
	}
}

// BenchmarkTicket1MHosts feeds one failure from each of 1,000,000 distinct
// addresses (one in eight IPv6), as bench's memory row does for the
// window counter: with max_retry 5 none is banned and the counter keeps a
// ticket for each. Each failure has a sshd line and the captures the regex
// matcher gives it. It reports the memory the counter keeps per host, off
// the Go heap (offheap-B/host: host table and arena as mapped and written)
// and on it (heap-B/host: the live heap's growth over the run, after a
// collection).
func BenchmarkTicket1MHosts(b *testing.B) {
	const hosts = 1_000_000
	event := func(i int) engine.Event {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if i%8 == 7 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
		}
		s := a.String()
		return engine.Event{Kind: engine.KindFailure, Time: t0, Failure: &engine.Failure{
			Matcher:  "matcher.sshd",
			Host:     a,
			HostText: s,
			Fields:   map[string]string{"ip4": s, "user": "root"},
			Lines:    []string{"Nov 20 12:00:00 web1 sshd[" + strconv.Itoa(1000+i%30000) + "]: Failed password for root from " + s + " port 1024 ssh2"},
		}}
	}
	var offheap, heap float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := newCounter(b, DefaultArguments(), engine.LogClock{})
		for i := range hosts {
			c.handle(event(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := c.Status().CurrentlyFailed; got != hosts {
			b.Fatalf("%d hosts tracked, want %d", got, hosts)
		}
		offheap = float64(c.hosts.Mapped()+c.mem.Footprint()) / hosts
		heap = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / hosts
		runtime.KeepAlive(c)
		c.hosts.Release()
		c.mem.Release()
	}
	b.ReportMetric(offheap, "offheap-B/host")
	b.ReportMetric(heap, "heap-B/host")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/hosts, "ns/failure")
}
