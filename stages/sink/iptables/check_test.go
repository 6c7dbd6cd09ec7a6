//go:build linux

package iptables

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// checkEvery is the sink's check interval in the tests.
const checkEvery = 200 * time.Millisecond

// TestCheckRestores: with ipset and without, at both hooks, and with no
// new ban, the periodic check finds what was removed behind the sink's
// back and puts back its chains, jumps, sets and bans within a few
// intervals: the IPv4 filter table flushed and the sink's chain deleted
// (with its set), then the IPv6 chain's rules flushed alone. Each is one
// warning naming what was missing; no batch failed.
func TestCheckRestores(t *testing.T) {
	t.Parallel()
	needKernel(t)
	both := cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.StringVal("forward")})
	for _, mode := range []cty.Value{ipsetOnVal, ipsetOffVal} {
		t.Run(fmt.Sprint("ipset=", mode.True()), func(t *testing.T) {
			t.Parallel()
			p := fwtest.NewPair(t)
			p.Server.Listen(t, 2222)
			d := startSink(t, p.Server, "drop", Arguments{UseIpset: mode, Hook: both}, func(s *Sink) { s.fw.CheckInterval = checkEvery })
			d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour), fwtest.Ban("sshd", p.ClientV6, time.Hour))
			d.Wait(map[string]int64{"iptables_elements_added": 2})
			p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
			within := 10 * checkEvery
			// The kernel's view: the rules that jump to the chain and
			// its rule or rules, as iptables-save lists them.
			holds := func(prog, chain, addr string) func() bool {
				return func() bool {
					out := p.Server.Run(t, prog+"-save", "-t", "filter")
					if mode.True() {
						set := "f2b-sshd"
						if prog == "ip6tables" {
							set += "-v6"
						}
						if !strings.Contains(out, "-A f2b-sshd -m set --match-set "+set+" src -j DROP") ||
							!strings.Contains(p.Server.Run(t, "ipset", "list", set), addr) {
							return false
						}
					} else if !strings.Contains(out, "-A f2b-sshd -s "+addr) {
						return false
					}
					return strings.Contains(out, "-A INPUT -p tcp -j f2b-sshd") && strings.Contains(out, "-A FORWARD -p tcp -j f2b-sshd")
				}
			}

			p.Server.Run(t, "iptables", "-w", "-F")
			p.Server.Run(t, "iptables", "-w", "-X", "f2b-sshd")
			if mode.True() {
				p.Server.Run(t, "ipset", "destroy", "f2b-sshd")
			}
			p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
			fwtest.Eventually(t, within, "the IPv4 chain, jumps and ban back", holds("iptables", "f2b-sshd", p.ClientV4.String()))
			p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)

			p.Server.Run(t, "ip6tables", "-w", "-F", "f2b-sshd")
			p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
			fwtest.Eventually(t, within, "the IPv6 chain's rules back", holds("ip6tables", "f2b-sshd", p.ClientV6.String()))
			p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)

			logs := d.Logs.String()
			want := []string{
				`missing="chain f2b-sshd (iptables)" restored=1`,
				`missing="ban rules of chain f2b-sshd (ip6tables)" restored=1`,
			}
			if mode.True() {
				want = []string{
					`missing="ipset set f2b-sshd, chain f2b-sshd (iptables)" restored=1`,
					`missing="rule of chain f2b-sshd (ip6tables)" restored=0`,
				}
			}
			for _, w := range want {
				if !strings.Contains(logs, w) {
					t.Errorf("logs lack %q:\n%s", w, logs)
				}
			}
			if n := strings.Count(logs, "level=WARN"); n != 2 {
				t.Errorf("%d warnings, want 2:\n%s", n, logs)
			}
			if st := d.S.Stats(); st["iptables_errors"] != 0 {
				t.Errorf("stats = %v, want no error", st)
			}
		})
	}
}
