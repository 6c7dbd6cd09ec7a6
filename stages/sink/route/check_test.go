//go:build linux

package route

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// checkEvery is the sink's check interval in the tests.
const checkEvery = 200 * time.Millisecond

// TestCheckRestores: with no new ban, the periodic check finds a route
// deleted behind the sink's back, and one replaced by a route of another
// type, and puts them back within a few intervals. Each is one warning
// naming how many routes were missing; no batch failed.
func TestCheckRestores(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	d := startSink(t, p.Server, Arguments{}, func(s *Sink) { s.fw.CheckInterval = checkEvery })
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour), fwtest.Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{"route_elements_added": 2})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)

	routed := func(fam, typ string, a netip.Addr) func() bool {
		return func() bool {
			out := strings.Split(strings.TrimSpace(p.Server.Run(t, "ip", fam, "route", "show", "proto", "252")), "\n")
			return len(out) == 1 && strings.HasPrefix(out[0]+" ", typ+" "+a.String()+" ")
		}
	}
	within := 10 * checkEvery

	p.Server.Run(t, "ip", "route", "del", "blackhole", p.ClientV4.String(), "proto", "252")
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	fwtest.Eventually(t, within, "the IPv4 route back", routed("-4", "blackhole", p.ClientV4))
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)

	p.Server.Run(t, "ip", "-6", "route", "replace", "unreachable", p.ClientV6.String(), "proto", "252")
	fwtest.Eventually(t, within, "the IPv6 blackhole back", routed("-6", "blackhole", p.ClientV6))
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := d.Logs.String()
	want := `missing="routes missing: 1 of 2 (blackhole, table 254, proto 252)" restored=1`
	if n := strings.Count(logs, want); n != 2 {
		t.Errorf("logs hold %q %d times, want 2:\n%s", want, n, logs)
	}
	if n := strings.Count(logs, "level=WARN"); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, logs)
	}
	if st := d.S.Stats(); st["route_errors"] != 0 || st["route_elements_added"] != 4 {
		t.Errorf("stats = %v, want no error and 4 routes added", st)
	}
}

// TestCheckHeld: Check reports nothing while the routes the sink holds
// are there (a route ip refused, or another program's route of the
// sink's protocol, is none of them), and counts those that go.
func TestCheckHeld(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "c")
	ns.Run(t, "ip", "route", "add", "blackhole", "192.0.2.1", "proto", "static")
	s, err := New(engine.Options{Name: "bh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{cfg: &s.cfg, logger: slog.New(slog.DiscardHandler), run: &fwrun.Runner{Wrap: ns.Wrap()}, ip: "ip"}
	ctx := context.Background()
	check := func(want ...string) {
		t.Helper()
		got, err := b.Check(ctx, []string{""})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Check = %q, %v; want %q", got, err, want)
		}
	}
	check()
	if _, err := b.Sync(ctx, []string{""}); err != nil {
		t.Fatal(err)
	}
	add := func(s string) fwsync.Op {
		return fwsync.Op{Kind: fwsync.Add, Key: fwsync.Key{Net: netip.MustParsePrefix(s)}}
	}
	ops := []fwsync.Op{add("192.0.2.1/32"), add("192.0.2.2/32"), add("2001:db8::2/128"), add("198.51.100.0/24")}
	var pe *fwsync.PartialError
	if err := b.Apply(ctx, ops); err == nil || !errors.As(err, &pe) || len(pe.Failed) != 1 {
		t.Fatalf("Apply = %v, want the conflicting route failed", err)
	}
	check()
	ns.Run(t, "ip", "route", "add", "blackhole", "10.9.9.9", "proto", "252")
	check()
	ns.Run(t, "ip", "route", "del", "blackhole", "198.51.100.0/24", "proto", "252")
	ns.Run(t, "ip", "-6", "route", "del", "blackhole", "2001:db8::2", "proto", "252")
	check("routes missing: 2 of 3 (blackhole, table 254, proto 252)")
	// A resync reads the routes again: what it finds is what the sink holds.
	if _, err := b.Sync(ctx, []string{""}); err != nil {
		t.Fatal(err)
	}
	check()
	if err := b.Apply(ctx, []fwsync.Op{{Kind: fwsync.Delete, Key: fwsync.Key{Net: netip.MustParsePrefix("192.0.2.2/32")}}}); err != nil {
		t.Fatal(err)
	}
	check()
}
