//go:build linux

package nftables

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// TestForwardHook: a ban at the input hook leaves the router's forwarded
// traffic alone; with hook = "forward" the banned host's packets through
// the router are dropped while other hosts pass, and the input chain of
// the former configuration is gone. A forward chain deleted behind the
// sink's back, or its whole table, is put back; flush_on_stop removes
// both chains.
func TestForwardHook(t *testing.T) {
	t.Parallel()
	needKernel(t)
	r := fwtest.NewRouted(t)
	r.Server.Listen(t, 2222)
	r.Router.Listen(t, 2222)

	// Input only: the router's own port is closed, the server's is not.
	a := startSink(t, r.Router, "drop", Arguments{}, nil)
	r.CheckInputOnly(t, a.Driver, "nft", 2222)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	// Forward: the ban comes back restored, and a new one for IPv6.
	b := startSink(t, r.Router, "drop", Arguments{Hook: cty.StringVal("forward")}, nil)
	r.CheckForward(t, b.Driver, "nft", 2222)
	snap := table(t, r.Router, "f2b", "input_drop", "forward_drop")
	if _, ok := snap.chains["input_drop"]; ok || snap.chains["forward_drop"] != (chainInfo{typ: "filter", hook: "forward", prio: -10, policy: "accept"}) || !snap.owned["sshd"] {
		t.Errorf("chains %v owned %v, want forward_drop alone", snap.chains, snap.owned)
	}
	out := r.Router.Run(t, "nft", "list", "ruleset")
	for _, want := range []string{"chain forward_drop {", "type filter hook forward priority filter - 10; policy accept;", "ip saddr @sshd_v4 meta l4proto tcp counter packets ", "ip6 saddr @sshd_v6 meta l4proto tcp counter packets "} {
		if !strings.Contains(out, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, out)
		}
	}

	// The forward chain deleted behind the sink's back: a new jail's
	// first ban declares it again, with every jail's rules.
	nftScript(t, r.Router, "flush chain inet f2b forward_drop\ndelete chain inet f2b forward_drop\n")
	r.Client.ExpectOpen(t, r.ClientV4, r.ServerV4, 2222)
	b.Send(fwtest.Ban("web", netip.MustParseAddr("192.0.2.50"), time.Hour))
	b.Wait(map[string]int64{"nft_elements_added": 2})
	r.Client.ExpectDropped(t, r.ClientV4, r.ServerV4, 2222)
	if out := r.Router.Run(t, "nft", "list", "chain", "inet", "f2b", "forward_drop"); !strings.Contains(out, "hook forward priority filter - 10") || !strings.Contains(out, "@web_v4") || !strings.Contains(out, "@sshd_v6") {
		t.Errorf("forward_drop after the repair:\n%s", out)
	}

	// The table deleted: the next batch fails and the resync puts back
	// the table, the chain and every ban.
	r.Router.Run(t, "nft", "delete", "table", "inet", "f2b")
	b.Send(fwtest.Ban("sshd", r.NeighbourV4, time.Hour))
	b.Wait(map[string]int64{"nft_errors": 1, "nft_elements_added": 6})
	r.Client.ExpectDropped(t, r.NeighbourV4, r.ServerV4, 2222)
	r.Client.ExpectDropped(t, r.ClientV6, r.ServerV6, 2222)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}

	// Both hooks with flush_on_stop, beside a chain of the admin's in the
	// table: the restart blocks at both, the stop removes both chains
	// and the sets, and leaves the table with the admin's chain.
	nftScript(t, r.Router, "add chain inet f2b admin\n")
	c := startSink(t, r.Router, "drop", Arguments{Hook: bothHooks, FlushOnStop: true}, nil)
	c.Send(fwtest.Restored(fwtest.Ban("sshd", r.ClientV4, time.Hour)), fwtest.Restored(fwtest.Ban("sshd", r.ClientV6, time.Hour)),
		fwtest.Restored(fwtest.Ban("sshd", r.NeighbourV4, time.Hour)), fwtest.Restored(fwtest.Ban("web", netip.MustParseAddr("192.0.2.50"), time.Hour)),
		fwtest.Ban("web", netip.MustParseAddr("192.0.2.51"), time.Hour))
	c.Wait(map[string]int64{"nft_elements_added": 1})
	r.Client.ExpectDropped(t, r.ClientV4, r.RouterV4, 2222)
	r.Client.ExpectDropped(t, r.ClientV4, r.ServerV4, 2222)
	snap = table(t, r.Router, "f2b", "input_drop", "forward_drop")
	if snap.chains["input_drop"].prio != -10 || snap.chains["forward_drop"].hook != "forward" || snap.others != 1 {
		t.Errorf("chains %v, others %d", snap.chains, snap.others)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	snap = table(t, r.Router, "f2b", "input_drop", "forward_drop")
	if _, ok := snap.chains["admin"]; !ok || len(snap.chains) != 1 || len(snap.sets) != 0 {
		t.Errorf("after flush_on_stop: chains %v sets %v, want the admin's chain alone", snap.chains, snap.sets)
	}
	r.Client.ExpectOpen(t, r.ClientV4, r.ServerV4, 2222)
	for _, d := range []*driver{a, b, c} {
		if st := d.S.Stats(); d != b && st["nft_errors"] != 0 {
			t.Errorf("stats = %v\n%s", st, d.Logs)
		}
	}
}
