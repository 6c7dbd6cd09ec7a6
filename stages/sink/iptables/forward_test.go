//go:build linux

package iptables

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// TestForwardHook, with ipset and without, on a router whose FORWARD ends
// in an accepting rule (as Docker's accept published traffic): a ban with
// the default hook closes the router's own port and leaves forwarded
// traffic alone; with hook = "forward" the banned host's packets through
// the router are dropped, v4 and v6, a neighbour passes, and the INPUT
// jump of the former configuration is gone; with both hooks and
// flush_on_stop the stop removes the jumps from INPUT and FORWARD, the
// chains and the sets, and leaves the accepting rule.
func TestForwardHook(t *testing.T) {
	t.Parallel()
	needKernel(t)
	for _, mode := range []cty.Value{ipsetOnVal, ipsetOffVal} {
		t.Run(fmt.Sprint("ipset=", mode.True()), func(t *testing.T) {
			t.Parallel()
			r := fwtest.NewRouted(t)
			r.Server.Listen(t, 2222)
			r.Router.Listen(t, 2222)
			bins := []string{"iptables", "ip6tables"}
			for _, bin := range bins {
				r.Router.Run(t, bin, "-A", "FORWARD", "-j", "ACCEPT")
			}

			// Input only: the router's own port is closed, the server's
			// is not.
			a := startSink(t, r.Router, "drop", Arguments{UseIpset: mode}, nil)
			r.CheckInputOnly(t, a.Driver, "iptables", 2222)
			if err := a.Stop(); err != nil {
				t.Fatal(err)
			}

			// Forward: the ban comes back restored, and a new one for IPv6.
			b := startSink(t, r.Router, "drop", Arguments{UseIpset: mode, Hook: cty.StringVal("forward")}, nil)
			r.CheckForward(t, b.Driver, "iptables", 2222)
			for _, bin := range bins {
				if out := r.Router.Run(t, bin, "-S", "INPUT"); out != "-P INPUT ACCEPT\n" {
					t.Errorf("%s -S INPUT:\n%s\nwant no jump", bin, out)
				}
				want := "-P FORWARD ACCEPT\n-A FORWARD -p tcp -j f2b-sshd\n-A FORWARD -j ACCEPT\n"
				if out := r.Router.Run(t, bin, "-S", "FORWARD"); out != want {
					t.Errorf("%s -S FORWARD:\n%s\nwant\n%s", bin, out, want)
				}
			}
			if err := b.Stop(); err != nil {
				t.Fatal(err)
			}

			// Both hooks with flush_on_stop: the restart blocks at both,
			// the stop removes everything of the sink's.
			both := cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.StringVal("forward")})
			c := startSink(t, r.Router, "drop", Arguments{UseIpset: mode, Hook: both, FlushOnStop: true}, nil)
			c.Send(fwtest.Restored(fwtest.Ban("sshd", r.ClientV4, time.Hour)), fwtest.Restored(fwtest.Ban("sshd", r.ClientV6, time.Hour)),
				fwtest.Ban("web", netip.MustParseAddr("192.0.2.51"), time.Hour))
			c.Wait(map[string]int64{"iptables_elements_added": 1})
			r.Client.ExpectDropped(t, r.ClientV4, r.RouterV4, 2222)
			r.Client.ExpectDropped(t, r.ClientV4, r.ServerV4, 2222)
			r.Client.ExpectDropped(t, r.ClientV6, r.ServerV6, 2222)
			if out := r.Router.Run(t, "iptables", "-S", "FORWARD"); !strings.Contains(out, "-A FORWARD -p tcp -j f2b-web\n") || !strings.Contains(out, "-A FORWARD -p tcp -j f2b-sshd\n") {
				t.Errorf("FORWARD:\n%s", out)
			}
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
			for _, bin := range bins {
				if out := r.Router.Run(t, bin, "-S"); strings.Contains(out, "f2b-") || !strings.Contains(out, "-A FORWARD -j ACCEPT\n") {
					t.Errorf("%s after the stop:\n%s", bin, out)
				}
			}
			if out := r.Router.Run(t, "ipset", "list", "-n"); strings.Contains(out, "f2b-") {
				t.Errorf("sets after the stop:\n%s", out)
			}
			r.Client.ExpectOpen(t, r.ClientV4, r.ServerV4, 2222)
			r.Client.ExpectOpen(t, r.ClientV6, r.ServerV6, 2222)
			r.Client.ExpectOpen(t, r.ClientV4, r.RouterV4, 2222)
			for _, d := range []*driver{a, b, c} {
				if st := d.S.Stats(); st["iptables_errors"] != 0 {
					t.Errorf("stats = %v\n%s", st, d.Logs)
				}
			}
		})
	}
}
