//go:build linux

package route

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// The kernel tests run ip, listeners and clients in network namespaces of
// their own, so the host's routes are never touched.

// driver runs one sink.
type driver = fwtest.Running[*Sink]

func startSink(tb testing.TB, ns *fwtest.Netns, args Arguments, mod func(*Sink)) *driver {
	tb.Helper()
	return fwtest.StartSink(tb, "bh", func(o engine.Options) (*Sink, error) { return New(o, &args) }, hooks, ns.Wrap(), mod)
}

func needKernel(tb testing.TB) {
	tb.Helper()
	fwtest.NeedRoot(tb)
}

// TestBlackhole: the server's replies to a banned host go nowhere, so
// the host cannot connect, over IPv4 and IPv6, until its unban.
func TestBlackhole(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	d := startSink(t, p.Server, Arguments{}, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour), fwtest.Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{"route_elements_added": 2})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
	p.ExpectOpen(t, p.NeighbourV4, p.ServerV4, 2222)
	if out := p.Server.Run(t, "ip", "-4", "route", "show", "proto", "252"); out != "blackhole "+p.ClientV4.String()+" \n" {
		t.Errorf("routes:\n%q", out)
	}
	// Another jail bans the same host: the route stays until both unban.
	d.Send(fwtest.Ban("web", p.ClientV4, time.Hour), fwtest.Unban("sshd", p.ClientV4), fwtest.Unban("sshd", p.ClientV6))
	d.Wait(map[string]int64{"route_elements_deleted": 1})
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	d.Send(fwtest.Unban("web", p.ClientV4))
	d.Wait(map[string]int64{"route_elements_deleted": 2})
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := d.S.Stats(); st["route_errors"] != 0 || st["route_elements_added"] != 2 {
		t.Errorf("stats = %v", st)
	}
}

// TestRestart: a restart with a few thousand bans changes no route but
// the drift, and never touches a route of another protocol.
func TestRestart(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "r")
	var burst []engine.Event
	for i := range 2000 {
		burst = append(burst, fwtest.Restored(fwtest.Ban("sshd", netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), time.Hour)))
	}
	burst = append(burst, fwtest.Restored(fwtest.Ban("sshd", netip.MustParseAddr("2001:db8::1"), time.Hour)))
	a := startSink(t, ns, Arguments{}, nil)
	a.Send(burst...)
	a.Wait(map[string]int64{"route_elements_added": int64(len(burst))})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	missing := burst[5].Action.Host.String()
	ns.Run(t, "ip", "route", "del", "blackhole", missing, "proto", "252")
	ns.Run(t, "ip", "route", "add", "blackhole", "10.200.0.1", "proto", "252")
	ns.Run(t, "ip", "route", "add", "blackhole", "10.200.0.2", "proto", "static")
	b := startSink(t, ns, Arguments{}, func(s *Sink) { s.fw.StaleGrace = 300 * time.Millisecond })
	b.Send(burst...)
	b.Wait(map[string]int64{"route_elements_added": 1, "route_elements_deleted": 1})
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := b.S.Stats(); st["route_elements_added"] != 1 || st["route_elements_deleted"] != 1 || st["route_errors"] != 0 {
		t.Errorf("stats after the restart = %v", st)
	}
	out := ns.Run(t, "ip", "-4", "route", "show", "proto", "252")
	if n := strings.Count(out, "\n"); n != 2000 || strings.Contains(out, "10.200.0.1 ") || !strings.Contains(out, "blackhole "+missing+" ") {
		t.Errorf("%d routes after the restart", n)
	}
	if out := ns.Run(t, "ip", "-4", "route", "show", "proto", "static"); out != "blackhole 10.200.0.2 \n" {
		t.Errorf("the static route: %q", out)
	}
}

// TestConflictAndFlush: a route the sink cannot add (another program's
// route for the address) is logged with ip's message and counted while
// the others apply; a restart with another type replaces the routes;
// flush_on_stop removes the sink's routes only.
func TestConflictAndFlush(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "f")
	ns.Run(t, "ip", "route", "add", "blackhole", "192.0.2.1", "proto", "static")
	a := startSink(t, ns, Arguments{}, nil)
	a.Send(fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.1"), time.Hour), fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.2"), time.Hour))
	a.Wait(map[string]int64{"route_elements_added": 1, "route_errors": 3})
	if logs := a.Logs.String(); !strings.Contains(logs, "File exists") {
		t.Errorf("logs lack ip's message:\n%s", logs)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	b := startSink(t, ns, Arguments{Type: "prohibit", FlushOnStop: true}, nil)
	b.Send(fwtest.Restored(fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.2"), time.Hour)), fwtest.Ban("sshd", netip.MustParseAddr("2001:db8::5"), time.Hour))
	b.Wait(map[string]int64{"route_elements_added": 2})
	if out := ns.Run(t, "ip", "-4", "route", "show", "proto", "252"); out != "prohibit 192.0.2.2 \n" {
		t.Errorf("routes: %q", out)
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	out := ns.Run(t, "ip", "route", "show", "table", "all", "proto", "252") + ns.Run(t, "ip", "-6", "route", "show", "table", "all", "proto", "252")
	if out != "" {
		t.Errorf("routes left after flush_on_stop: %q", out)
	}
	if out := ns.Run(t, "ip", "route", "show", "proto", "static"); out != fmt.Sprintf("blackhole %s \n", "192.0.2.1") {
		t.Errorf("the static route: %q", out)
	}
}

// hooks are the sink's test hooks.
func hooks(s *Sink) *fwsync.Stage { return &s.fw }
