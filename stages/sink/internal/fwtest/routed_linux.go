//go:build linux

package fwtest

import (
	"net/netip"
	"testing"
	"time"
)

// Routed is a client and a server namespace joined through a router
// namespace that forwards between them: a sink under test runs in the
// router, as on a host whose containers' published ports (or whose
// router clients) are reached through its forward path, not its input.
type Routed struct {
	Client, Router, Server *Netns

	ClientV4    netip.Addr // the client's addresses
	NeighbourV4 netip.Addr // a second address of the client, same /24
	ClientV6    netip.Addr
	RouterV4    netip.Addr // the router's, on the client's side
	RouterV6    netip.Addr
	ServerV4    netip.Addr
	ServerV6    netip.Addr
}

// NewRouted makes the three namespaces: the client in 10.97.1.0/24 and
// fd00:97:1::/64, the server in 10.97.2.0/24 and fd00:97:2::/64, each
// with its default route through the router (.1 and ::1 of both), which
// forwards IPv4 and IPv6. It returns once the client reaches the server
// through the router, and the router itself.
func NewRouted(tb testing.TB) *Routed {
	tb.Helper()
	r := &Routed{
		Client:      NewNetns(tb, "c"),
		Router:      NewNetns(tb, "r"),
		Server:      NewNetns(tb, "s"),
		ClientV4:    netip.MustParseAddr("10.97.1.2"),
		NeighbourV4: netip.MustParseAddr("10.97.1.3"),
		ClientV6:    netip.MustParseAddr("fd00:97:1::2"),
		RouterV4:    netip.MustParseAddr("10.97.1.1"),
		RouterV6:    netip.MustParseAddr("fd00:97:1::1"),
		ServerV4:    netip.MustParseAddr("10.97.2.2"),
		ServerV6:    netip.MustParseAddr("fd00:97:2::2"),
	}
	c, rt, s := r.Client.Name, r.Router.Name, r.Server.Name
	veth(tb, r.Client, "f2bc", r.Router, "f2br0")
	veth(tb, r.Server, "f2bs", r.Router, "f2br1")
	ipIn(tb, [][]string{
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
	})
	r.Router.Run(tb, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	waitPaths(tb, "the router", r.Client, []*Netns{r.Server, r.Router}, []path{
		{r.ClientV4, r.ServerV4}, {r.NeighbourV4, r.ServerV4}, {r.ClientV6, r.ServerV6},
		{r.ClientV4, r.RouterV4}, {r.ClientV6, r.RouterV6},
	})
	return r
}

// CheckInputOnly checks a sink d of type typ (the prefix of its Stats
// keys) that has just started in the router, blocking at its input hook
// only, while the router and the server listen on port: a ban of the
// client closes the router's port, and the client's traffic through the
// router to the server still passes.
func (r *Routed) CheckInputOnly(tb testing.TB, d *Driver, typ string, port int) {
	tb.Helper()
	d.Send(Ban("sshd", r.ClientV4, time.Hour))
	d.Wait(map[string]int64{typ + "_elements_added": 1})
	r.Client.ExpectDropped(tb, r.ClientV4, r.RouterV4, port)
	r.Client.ExpectOpen(tb, r.ClientV4, r.ServerV4, port)
}

// CheckForward checks a sink d of type typ that has just started in the
// router, blocking at its forward hook only, after CheckInputOnly's sink
// stopped: the client's ban comes back restored, with a new one of its
// IPv6 address; then the client's traffic to the server is dropped, v4
// and v6, while its neighbour's passes, and so does the client's to the
// router itself.
func (r *Routed) CheckForward(tb testing.TB, d *Driver, typ string, port int) {
	tb.Helper()
	d.Send(Restored(Ban("sshd", r.ClientV4, time.Hour)), Ban("sshd", r.ClientV6, time.Hour))
	d.Wait(map[string]int64{typ + "_elements_added": 1})
	r.Client.ExpectDropped(tb, r.ClientV4, r.ServerV4, port)
	r.Client.ExpectDropped(tb, r.ClientV6, r.ServerV6, port)
	r.Client.ExpectOpen(tb, r.NeighbourV4, r.ServerV4, port)
	r.Client.ExpectOpen(tb, r.ClientV4, r.RouterV4, port)
}
