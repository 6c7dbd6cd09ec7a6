//go:build linux

package nftables

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// routed is a client and a server namespace joined through a router
// namespace that forwards between them: the sink runs in the router, as
// on a host whose containers' published ports are reached through its
// forward path.
type routed struct {
	client, router, server *fwtest.Netns

	clientV4, neighbourV4, clientV6 netip.Addr // the client's addresses
	routerV4                        netip.Addr // the router's, on the client's side
	serverV4, serverV6              netip.Addr
}

// newRouted makes the three namespaces: client 10.97.1.0/24 and
// fd00:97:1::/64, server 10.97.2.0/24 and fd00:97:2::/64, each with its
// default route through the router, which forwards IPv4 and IPv6.
func newRouted(tb testing.TB) *routed {
	tb.Helper()
	r := &routed{
		client:      fwtest.NewNetns(tb, "c"),
		router:      fwtest.NewNetns(tb, "r"),
		server:      fwtest.NewNetns(tb, "s"),
		clientV4:    netip.MustParseAddr("10.97.1.2"),
		neighbourV4: netip.MustParseAddr("10.97.1.3"),
		clientV6:    netip.MustParseAddr("fd00:97:1::2"),
		routerV4:    netip.MustParseAddr("10.97.1.1"),
		serverV4:    netip.MustParseAddr("10.97.2.2"),
		serverV6:    netip.MustParseAddr("fd00:97:2::2"),
	}
	c, rt, s := r.client.Name, r.router.Name, r.server.Name
	fwtest.Run(tb, "ip", "link", "add", "f2bc", "netns", c, "type", "veth", "peer", "name", "f2br0", "netns", rt)
	fwtest.Run(tb, "ip", "link", "add", "f2bs", "netns", s, "type", "veth", "peer", "name", "f2br1", "netns", rt)
	for _, cmd := range [][]string{
		{c, "addr", "add", "10.97.1.2/24", "dev", "f2bc"},
		{c, "addr", "add", "10.97.1.3/24", "dev", "f2bc"},
		{c, "addr", "add", "fd00:97:1::2/64", "dev", "f2bc", "nodad"},
		{c, "link", "set", "f2bc", "up"},
		{c, "route", "add", "default", "via", "10.97.1.1"},
		{c, "-6", "route", "add", "default", "via", "fd00:97:1::1"},
		{rt, "addr", "add", "10.97.1.1/24", "dev", "f2br0"},
		{rt, "addr", "add", "fd00:97:1::1/64", "dev", "f2br0", "nodad"},
		{rt, "addr", "add", "10.97.2.1/24", "dev", "f2br1"},
		{rt, "addr", "add", "fd00:97:2::1/64", "dev", "f2br1", "nodad"},
		{rt, "link", "set", "f2br0", "up"},
		{rt, "link", "set", "f2br1", "up"},
		{s, "addr", "add", "10.97.2.2/24", "dev", "f2bs"},
		{s, "addr", "add", "fd00:97:2::2/64", "dev", "f2bs", "nodad"},
		{s, "link", "set", "f2bs", "up"},
		{s, "route", "add", "default", "via", "10.97.2.1"},
		{s, "-6", "route", "add", "default", "via", "fd00:97:2::1"},
	} {
		fwtest.Run(tb, append([]string{"ip", "-n"}, cmd...)...)
	}
	r.router.Run(tb, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	r.waitRoutes(tb)
	return r
}

// waitRoutes waits until the client reaches the server through the
// router, and the router itself: veth pairs need a moment after "up".
func (r *routed) waitRoutes(tb testing.TB) {
	tb.Helper()
	for _, ns := range []*fwtest.Netns{r.server, r.router} {
		var l net.Listener
		if err := ns.Do(func() (err error) {
			l, err = net.Listen("tcp", "[::]:9")
			return err
		}); err != nil {
			tb.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range []struct{ src, dst netip.Addr }{{r.clientV4, r.serverV4}, {r.neighbourV4, r.serverV4}, {r.clientV6, r.serverV6}, {r.clientV4, r.routerV4}} {
		for {
			err := r.client.Dial(c.src, c.dst, 9)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("the router does not carry %s -> %s: %v", c.src, c.dst, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// open fails tb unless src connects to dst:port.
func (r *routed) open(tb testing.TB, src, dst netip.Addr, port int) {
	tb.Helper()
	if err := r.client.Dial(src, dst, port); err != nil {
		tb.Errorf("%s -> %s port %d: %v, want a connection", src, dst, port, err)
	}
}

// dropped fails tb unless src's connection to dst:port times out (its
// packets are dropped).
func (r *routed) dropped(tb testing.TB, src, dst netip.Addr, port int) {
	tb.Helper()
	if err := r.client.Dial(src, dst, port); !fwtest.IsTimeout(err) {
		tb.Errorf("%s -> %s port %d: %v, want a timeout", src, dst, port, err)
	}
}

// TestForwardHook: a ban at the input hook leaves the router's forwarded
// traffic alone; with hook = "forward" the banned host's packets through
// the router are dropped while other hosts pass, and the input chain of
// the former configuration is gone. A forward chain deleted behind the
// sink's back, or its whole table, is put back; flush_on_stop removes
// both chains.
func TestForwardHook(t *testing.T) {
	t.Parallel()
	needKernel(t)
	r := newRouted(t)
	r.server.Listen(t, 2222)
	r.router.Listen(t, 2222)

	// Input only: the router's own port is closed, the server's is not.
	a := startSink(t, r.router, "drop", Arguments{}, nil)
	a.Send(fwtest.Ban("sshd", r.clientV4, time.Hour))
	a.Wait(map[string]int64{"nft_elements_added": 1})
	r.dropped(t, r.clientV4, r.routerV4, 2222)
	r.open(t, r.clientV4, r.serverV4, 2222)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	// Forward: the ban comes back restored, and a new one for IPv6.
	b := startSink(t, r.router, "drop", Arguments{Hook: cty.StringVal("forward")}, nil)
	b.Send(fwtest.Restored(fwtest.Ban("sshd", r.clientV4, time.Hour)), fwtest.Ban("sshd", r.clientV6, time.Hour))
	b.Wait(map[string]int64{"nft_elements_added": 1})
	r.dropped(t, r.clientV4, r.serverV4, 2222)
	r.dropped(t, r.clientV6, r.serverV6, 2222)
	r.open(t, r.neighbourV4, r.serverV4, 2222)
	r.open(t, r.clientV4, r.routerV4, 2222)
	snap := table(t, r.router, "f2b", "input_drop", "forward_drop")
	if _, ok := snap.chains["input_drop"]; ok || snap.chains["forward_drop"] != (chainInfo{typ: "filter", hook: "forward", prio: -10, policy: "accept"}) || !snap.owned["sshd"] {
		t.Errorf("chains %v owned %v, want forward_drop alone", snap.chains, snap.owned)
	}
	out := r.router.Run(t, "nft", "list", "ruleset")
	for _, want := range []string{"chain forward_drop {", "type filter hook forward priority filter - 10; policy accept;", "ip saddr @sshd_v4 meta l4proto tcp counter packets ", "ip6 saddr @sshd_v6 meta l4proto tcp counter packets "} {
		if !strings.Contains(out, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, out)
		}
	}

	// The forward chain deleted behind the sink's back: a new jail's
	// first ban declares it again, with every jail's rules.
	nftScript(t, r.router, "flush chain inet f2b forward_drop\ndelete chain inet f2b forward_drop\n")
	r.open(t, r.clientV4, r.serverV4, 2222)
	b.Send(fwtest.Ban("web", netip.MustParseAddr("192.0.2.50"), time.Hour))
	b.Wait(map[string]int64{"nft_elements_added": 2})
	r.dropped(t, r.clientV4, r.serverV4, 2222)
	if out := r.router.Run(t, "nft", "list", "chain", "inet", "f2b", "forward_drop"); !strings.Contains(out, "hook forward priority filter - 10") || !strings.Contains(out, "@web_v4") || !strings.Contains(out, "@sshd_v6") {
		t.Errorf("forward_drop after the repair:\n%s", out)
	}

	// The table deleted: the next batch fails and the resync puts back
	// the table, the chain and every ban.
	r.router.Run(t, "nft", "delete", "table", "inet", "f2b")
	b.Send(fwtest.Ban("sshd", r.neighbourV4, time.Hour))
	b.Wait(map[string]int64{"nft_errors": 1, "nft_elements_added": 6})
	r.dropped(t, r.neighbourV4, r.serverV4, 2222)
	r.dropped(t, r.clientV6, r.serverV6, 2222)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}

	// Both hooks with flush_on_stop, beside a chain of the admin's in the
	// table: the restart blocks at both, the stop removes both chains
	// and the sets, and leaves the table with the admin's chain.
	nftScript(t, r.router, "add chain inet f2b admin\n")
	c := startSink(t, r.router, "drop", Arguments{Hook: bothHooks, FlushOnStop: true}, nil)
	c.Send(fwtest.Restored(fwtest.Ban("sshd", r.clientV4, time.Hour)), fwtest.Restored(fwtest.Ban("sshd", r.clientV6, time.Hour)),
		fwtest.Restored(fwtest.Ban("sshd", r.neighbourV4, time.Hour)), fwtest.Restored(fwtest.Ban("web", netip.MustParseAddr("192.0.2.50"), time.Hour)),
		fwtest.Ban("web", netip.MustParseAddr("192.0.2.51"), time.Hour))
	c.Wait(map[string]int64{"nft_elements_added": 1})
	r.dropped(t, r.clientV4, r.routerV4, 2222)
	r.dropped(t, r.clientV4, r.serverV4, 2222)
	snap = table(t, r.router, "f2b", "input_drop", "forward_drop")
	if snap.chains["input_drop"].prio != -10 || snap.chains["forward_drop"].hook != "forward" || snap.others != 1 {
		t.Errorf("chains %v, others %d", snap.chains, snap.others)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	snap = table(t, r.router, "f2b", "input_drop", "forward_drop")
	if _, ok := snap.chains["admin"]; !ok || len(snap.chains) != 1 || len(snap.sets) != 0 {
		t.Errorf("after flush_on_stop: chains %v sets %v, want the admin's chain alone", snap.chains, snap.sets)
	}
	r.open(t, r.clientV4, r.serverV4, 2222)
	for _, d := range []*driver{a, b, c} {
		if st := d.S.Stats(); d != b && st["nft_errors"] != 0 {
			t.Errorf("stats = %v\n%s", st, d.Logs)
		}
	}
}
