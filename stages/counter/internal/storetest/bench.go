package storetest

import (
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// BenchFailures are the failures of the counters' BenchmarkCounter: one of
// each of n hosts 10.x.y.z, with an sshd line.
func BenchFailures(n int) []*engine.Failure {
	fs := make([]*engine.Failure, n)
	for i := range fs {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		fs[i] = &engine.Failure{
			Matcher:  "matcher.sshd",
			Host:     a,
			HostText: a.String(),
			Lines:    []string{"sshd[1]: Failed password for root from " + a.String()},
		}
	}
	return fs
}

// BenchEvent is failure i of BenchmarkCounter: the hosts of fs in turn,
// one failure a millisecond from T0.
func BenchEvent(fs []*engine.Failure, i int) engine.Event {
	return engine.Event{Kind: engine.KindFailure, Time: T0.Add(time.Duration(i) * time.Millisecond), Failure: fs[i%len(fs)]}
}

// ReportPerFailure reports the time per failure of a benchmark that feeds
// failures failures per round.
func ReportPerFailure(b *testing.B, failures int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(failures), "ns/failure")
}

// BenchRun is BenchmarkCounter's "run" case: each round, failures
// failures (BenchEvent of fs) go through the Run of a counter from
// newCounter and channels, as the engine drives a counter, and every host
// of fs must be banned.
func BenchRun(b *testing.B, newCounter func() Counter, fs []*engine.Failure, failures int) {
	b.ReportAllocs()
	for b.Loop() {
		c := newCounter()
		in := make(chan engine.Event, 256)
		out := make(chan engine.Event, 256)
		go func() {
			for i := range failures {
				in <- BenchEvent(fs, i)
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
		if c.Stats()["bans"] != int64(len(fs)) {
			b.Fatalf("stats %v", c.Stats())
		}
	}
	ReportPerFailure(b, failures)
}

// HostEvent is failure i of the counters' memory benchmark: one failure
// from each of many distinct addresses (one in eight IPv6) at T0, with an
// sshd line and the captures the regex matcher gives it.
func HostEvent(i int) engine.Event {
	a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	if i%8 == 7 {
		a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
	}
	s := a.String()
	return engine.Event{Kind: engine.KindFailure, Time: T0, Failure: &engine.Failure{
		Matcher:  "matcher.sshd",
		Host:     a,
		HostText: s,
		Fields:   map[string]string{"ip4": s, "user": "root"},
		Lines:    []string{"Nov 20 12:00:00 web1 sshd[" + strconv.Itoa(1000+i%30000) + "]: Failed password for root from " + s + " port 1024 ssh2"},
	}}
}

// MemoryBench runs the counters' memory benchmark: each round, run feeds
// HostEvent 0 to hosts-1 to a new counter and returns the bytes it keeps
// off the Go heap and a function that releases them. It reports those
// bytes per host (offheap-B/host), the live heap's growth over the round
// per host after a collection (heap-B/host), and ns/failure.
func MemoryBench(b *testing.B, hosts int, run func() (offheapBytes int, release func())) {
	var offheap, heap float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n, release := run()
		runtime.GC()
		runtime.ReadMemStats(&after)
		offheap = float64(n) / float64(hosts)
		heap = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(hosts)
		release() // after the reading: it keeps the counter alive
	}
	b.ReportMetric(offheap, "offheap-B/host")
	b.ReportMetric(heap, "heap-B/host")
	ReportPerFailure(b, hosts)
}
