package fwtest

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Host returns the i-th of 65,536 IPv4 addresses per /8 from 10.1.0.0 on,
// for bursts of bans.
func Host(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(1 + i>>16), byte(i >> 8), byte(i)})
}

// RestartBurst is what the counters send at a restart: n4 restored bans
// of jail sshd (IPv4, each a millisecond longer than the one before), n6
// of IPv6 hosts, and a permanent one of jail web (198.51.100.7).
func RestartBurst(n4, n6 int) []engine.Event {
	burst := make([]engine.Event, 0, n4+n6+1)
	for i := range n4 {
		burst = append(burst, Restored(Ban("sshd", Host(i), time.Hour+time.Duration(i)*time.Millisecond)))
	}
	for i := range n6 {
		burst = append(burst, Restored(Ban("sshd", netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i+1)), 2*time.Hour)))
	}
	return append(burst, Restored(Ban("web", netip.MustParseAddr("198.51.100.7"), engine.Permanent)))
}

// BenchBans sends n bans of jail sshd to a sink that start runs (over a
// channel of the engine's capacity, as a counter sends them), and reports
// the seconds until the sink's count added reaches n, as s/Nk-bans.
// start runs before the clock does.
func BenchBans(b *testing.B, n int, added string, start func() *Driver) {
	evs := make([]engine.Event, n)
	for i := range evs {
		evs[i] = Ban("sshd", Host(i), time.Hour)
	}
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		d := start()
		b.StartTimer()
		begin := time.Now()
		go d.Send(evs...)
		d.Wait(map[string]int64{added: int64(n)})
		total += time.Since(begin)
		b.StopTimer()
		if err := d.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), fmt.Sprintf("s/%dk-bans", n/1000))
}
