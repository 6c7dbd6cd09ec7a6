package state

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// benchBan is the n-th ban of a benchmark: a distinct host, two matches.
func benchBan(n int) *engine.Action {
	h := netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
	return &engine.Action{Type: engine.Ban, Jail: "sshd", Host: h, HostText: h.String(), Failures: 5,
		BanTime: time.Hour, Start: t0, End: t0.Add(time.Hour), BanCount: 1,
		Matches: []string{
			"Mar  1 12:00:00 host sshd[123]: Failed password for root from " + h.String() + " port 22 ssh2",
			"Mar  1 12:00:01 host sshd[123]: Failed password for root from " + h.String() + " port 22 ssh2",
		}}
}

// BenchmarkRecordBulk records 20,000 bans per op in calls of 256 actions,
// as counters do when they restore or meet a flood.
func BenchmarkRecordBulk(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const total, call = 20000, 256
	actions := make([]*engine.Action, total)
	for i := range actions {
		actions[i] = benchBan(i)
	}
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < total; i += call {
			if err := s.Record(actions[i:min(i+call, total)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "bans/s")
}

// BenchmarkRecordOne records one ban per call: the latency a counter waits
// for before it sends a ban on (one fsync'ed transaction).
func BenchmarkRecordOne(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := 0
	for b.Loop() {
		if err := s.Record([]*engine.Action{benchBan(n)}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bans/s")
}

// BenchmarkRecordParallel records one ban per call from 8 goroutines per
// CPU: group commit lets them share fsyncs.
func BenchmarkRecordParallel(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Record([]*engine.Action{benchBan(int(next.Add(1)))}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bans/s")
}
