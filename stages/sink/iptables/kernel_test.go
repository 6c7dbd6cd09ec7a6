//go:build linux

package iptables

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// The kernel tests run iptables, ipset, listeners and clients in network
// namespaces of their own: every command of a test runs through `ip netns
// exec`, so the host's firewall is never touched.

func needKernel(tb testing.TB) {
	tb.Helper()
	fwtest.NeedRoot(tb, "iptables", "ip6tables", "iptables-restore", "ipset")
}

// driver runs one sink.
type driver = fwtest.Running[*Sink]

func startSink(tb testing.TB, ns *fwtest.Netns, name string, args Arguments, mod func(*Sink)) *driver {
	tb.Helper()
	return fwtest.StartSink(tb, name, func(o engine.Options) (*Sink, error) { return New(o, &args) }, hooks, ns.Wrap(), mod)
}

var (
	ipsetOnVal  = cty.True
	ipsetOffVal = cty.False
)

// members reads set's elements in ns with their timeouts ("0": none).
func members(tb testing.TB, ns *fwtest.Netns, set string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(ns.Run(tb, "ipset", "save", set), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "add" {
			t := ""
			if len(f) >= 5 {
				t = f[4]
			}
			out[f[2]] = t
		}
	}
	return out
}

// TestBanUnban: with ipset and without, a banned host cannot connect,
// over IPv4 and IPv6, until its unban; with ipset the element's timeout
// is the ban's time left and a prolong replaces it.
func TestBanUnban(t *testing.T) {
	t.Parallel()
	needKernel(t)
	for _, mode := range []cty.Value{ipsetOnVal, ipsetOffVal} {
		t.Run(fmt.Sprint("ipset=", mode.True()), func(t *testing.T) {
			t.Parallel()
			p := fwtest.NewPair(t)
			p.Server.Listen(t, 2222)
			d := startSink(t, p.Server, "drop", Arguments{UseIpset: mode}, nil)
			d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour))
			d.Wait(map[string]int64{"iptables_elements_added": 1})
			if err := p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222); err != nil && !fwtest.IsTimeout(err) {
				t.Errorf("dropped connection: %v, want a timeout", err)
			}
			p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
			p.ExpectOpen(t, p.NeighbourV4, p.ServerV4, 2222)
			d.Send(fwtest.Ban("sshd", p.ClientV6, time.Hour))
			d.Wait(map[string]int64{"iptables_elements_added": 2})
			p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
			if mode.True() {
				m := members(t, p.Server, "f2b-sshd")
				if m[p.ClientV4.String()] < "3590" || len(m) != 1 {
					t.Errorf("f2b-sshd = %v, want %s with about 3600 s", m, p.ClientV4)
				}
				d.Send(fwtest.Prolong("sshd", p.ClientV4, 5*time.Hour))
				d.Wait(map[string]int64{"iptables_elements_added": 3, "iptables_elements_deleted": 1})
				if m := members(t, p.Server, "f2b-sshd"); m[p.ClientV4.String()] < "17990" {
					t.Errorf("after the prolong f2b-sshd = %v", m)
				}
				if m := members(t, p.Server, "f2b-sshd-v6"); len(m) != 1 {
					t.Errorf("f2b-sshd-v6 = %v", m)
				}
			} else {
				rules := p.Server.Run(t, "iptables", "-S", "f2b-sshd")
				if !strings.Contains(rules, "-A f2b-sshd -s "+p.ClientV4.String()+"/32 -j DROP") {
					t.Errorf("chain f2b-sshd:\n%s", rules)
				}
			}
			del := d.S.Stats()["iptables_elements_deleted"]
			d.Send(fwtest.Unban("sshd", p.ClientV4))
			d.Wait(map[string]int64{"iptables_elements_deleted": del + 1})
			p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
			p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
			d.Send(fwtest.Unban("sshd", p.ClientV6))
			d.Wait(map[string]int64{"iptables_elements_deleted": del + 2})
			p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
			if err := d.Stop(); err != nil {
				t.Fatal(err)
			}
			if st := d.S.Stats(); st["iptables_errors"] != 0 {
				t.Errorf("stats = %v", st)
			}
			// The chain and its jump stay when the sink stops.
			if out := p.Server.Run(t, "iptables", "-S", "INPUT"); !strings.Contains(out, "-A INPUT -p tcp -j f2b-sshd") {
				t.Errorf("INPUT after stop:\n%s", out)
			}
		})
	}
}

// TestPortsAndReject: a ban on port 22 leaves port 8080 open, reject
// refuses at once, and the rules of another chain stay as they are.
func TestPortsAndReject(t *testing.T) {
	t.Parallel()
	needKernel(t)
	for _, mode := range []cty.Value{ipsetOnVal, ipsetOffVal} {
		t.Run(fmt.Sprint("ipset=", mode.True()), func(t *testing.T) {
			t.Parallel()
			p := fwtest.NewPair(t)
			p.Server.Listen(t, 22)
			p.Server.Listen(t, 8080)
			for _, bin := range []string{"iptables", "ip6tables"} {
				p.Server.Run(t, bin, "-A", "INPUT", "-p", "udp", "--dport", "53", "-j", "ACCEPT")
			}
			d := startSink(t, p.Server, "ssh", Arguments{UseIpset: mode, Ports: []string{"22", "2000-2010"}, Block: "reject"}, nil)
			d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour), fwtest.Ban("sshd", p.ClientV6, engine.Permanent))
			d.Wait(map[string]int64{"iptables_elements_added": 2})
			for _, c := range []struct{ src, dst netip.Addr }{{p.ClientV4, p.ServerV4}, {p.ClientV6, p.ServerV6}} {
				if err := p.ExpectBlocked(t, c.src, c.dst, 22); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("%s port 22: %v, want connection refused", c.src, err)
				}
				p.ExpectOpen(t, c.src, c.dst, 8080)
			}
			for _, bin := range []string{"iptables", "ip6tables"} {
				out := p.Server.Run(t, bin, "-S", "INPUT")
				want := "-P INPUT ACCEPT\n-A INPUT -p tcp -m multiport --dports 22,2000:2010 -j f2b-sshd\n-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n"
				if out != want {
					t.Errorf("%s -S INPUT:\n%s\nwant\n%s", bin, out, want)
				}
			}
			if mode.True() {
				// The permanent ban has no timeout in the set.
				if m := members(t, p.Server, "f2b-sshd-v6"); m[p.ClientV6.String()] != "0" {
					t.Errorf("f2b-sshd-v6 = %v", m)
				}
			}
		})
	}
}

// TestPrefix: with prefix_v4 = 24 a ban blocks the host's neighbours
// (hash:net); a restart without the prefix replaces the set.
func TestPrefix(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	d := startSink(t, p.Server, "net", Arguments{UseIpset: ipsetOnVal, PrefixV4: 24}, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour))
	d.Wait(map[string]int64{"iptables_elements_added": 1})
	p.ExpectBlocked(t, p.NeighbourV4, p.ServerV4, 2222)
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
	if m := members(t, p.Server, "f2b-sshd"); len(m) != 1 || m[netip.PrefixFrom(p.ClientV4, 24).Masked().String()] == "" {
		t.Errorf("f2b-sshd = %v", m)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	e := startSink(t, p.Server, "net", Arguments{UseIpset: ipsetOnVal}, nil)
	e.Send(fwtest.Restored(fwtest.Ban("sshd", p.ClientV4, time.Hour)))
	e.Wait(map[string]int64{"iptables_elements_added": 1})
	if out := p.Server.Run(t, "ipset", "list", "-t", "f2b-sshd"); !strings.Contains(out, "Type: hash:ip") {
		t.Errorf("set not replaced:\n%s", out)
	}
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectOpen(t, p.NeighbourV4, p.ServerV4, 2222)
}

// TestRestartIpset: a restart with a few thousand restored bans changes
// no element but the drift made while the sink was down, never flushes,
// and leaves the rules and the other chains as they are.
func TestRestartIpset(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "r")
	ns.Run(t, "iptables", "-N", "other")
	ns.Run(t, "iptables", "-A", "other", "-s", "192.0.2.1", "-j", "DROP")
	ns.Run(t, "iptables", "-A", "INPUT", "-j", "other")
	burst := fwtest.RestartBurst(3000, 20)
	total := int64(len(burst))
	a := startSink(t, ns, "drop", Arguments{UseIpset: ipsetOnVal}, nil)
	a.Send(burst...)
	a.Wait(map[string]int64{"iptables_elements_added": total})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	rules := ns.Run(t, "iptables-save", "-t", "filter")

	// Drift while f2b is down: an element gone, one with a short
	// timeout, one no ban stands for.
	missing, short, stale := burst[7].Action.Host, burst[8].Action.Host, "10.200.0.1"
	ns.RunStdin(t, fmt.Sprintf("del f2b-sshd %s\nadd f2b-sshd %s timeout 100 -exist\nadd f2b-sshd %s timeout 3600\n", missing, short, stale), "ipset", "restore")
	before := members(t, ns, "f2b-sshd")

	b := startSink(t, ns, "drop", Arguments{UseIpset: ipsetOnVal}, func(s *Sink) { s.fw.StaleGrace = 300 * time.Millisecond })
	b.Send(burst...)
	b.Wait(map[string]int64{"iptables_elements_added": 2, "iptables_elements_deleted": 2})
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := b.S.Stats(); st["iptables_elements_added"] != 2 || st["iptables_elements_deleted"] != 2 || st["iptables_errors"] != 0 {
		t.Errorf("stats after the restart = %v, want 2 added (the missing one, the short one), 2 deleted (the short and the stale one)", st)
	}
	after := members(t, ns, "f2b-sshd")
	if len(after) != 3000 {
		t.Errorf("f2b-sshd holds %d elements, want 3000", len(after))
	}
	for _, h := range []string{missing.String(), short.String()} {
		if after[h] < "3500" {
			t.Errorf("%s: timeout %q, want about an hour", h, after[h])
		}
	}
	if _, ok := after[stale]; ok {
		t.Errorf("stale element %s still there", stale)
	}
	// Untouched elements kept their timeouts: none was re-added with a
	// fresh one (a fresh one would be larger than before).
	changed := 0
	for h, tm := range after {
		if h != missing.String() && h != short.String() && tm > before[h] {
			changed++
		}
	}
	if changed != 0 {
		t.Errorf("%d elements got a fresh timeout", changed)
	}
	if got := ns.Run(t, "iptables-save", "-t", "filter"); stripComments(got) != stripComments(rules) {
		t.Errorf("rules changed across the restart:\n%s\nwere\n%s", got, rules)
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRestartPlain: without ipset, a restart with a few thousand bans
// leaves the chain's rules (and their order) as they are but the drift.
func TestRestartPlain(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "p")
	burst := fwtest.RestartBurst(2000, 20)
	total := int64(len(burst))
	a := startSink(t, ns, "drop", Arguments{UseIpset: ipsetOffVal}, nil)
	a.Send(burst...)
	a.Wait(map[string]int64{"iptables_elements_added": total})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	missing, stale := burst[7].Action.Host, "10.200.0.1"
	ns.Run(t, "iptables", "-D", "f2b-sshd", "-s", missing.String(), "-j", "DROP")
	ns.Run(t, "iptables", "-A", "f2b-sshd", "-s", stale, "-j", "DROP")
	ns.Run(t, "iptables", "-A", "f2b-sshd", "-s", "10.200.0.2", "-j", "ACCEPT")
	before := ns.Run(t, "iptables", "-S", "f2b-sshd")

	b := startSink(t, ns, "drop", Arguments{UseIpset: ipsetOffVal}, func(s *Sink) { s.fw.StaleGrace = 300 * time.Millisecond })
	b.Send(burst...)
	b.Wait(map[string]int64{"iptables_elements_added": 1, "iptables_elements_deleted": 1})
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := b.S.Stats(); st["iptables_elements_added"] != 1 || st["iptables_elements_deleted"] != 1 || st["iptables_errors"] != 0 {
		t.Errorf("stats after the restart = %v", st)
	}
	after := strings.Split(strings.TrimSpace(ns.Run(t, "iptables", "-S", "f2b-sshd")), "\n")
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(before), "\n") {
		if !strings.Contains(l, stale+"/32") && !strings.Contains(l, "ACCEPT") {
			want = append(want, l)
		}
	}
	want = append(want, "-A f2b-sshd -s "+missing.String()+"/32 -j DROP")
	if !slices.Equal(after, want) {
		t.Errorf("chain after the restart has %d rules, want %d (the old ones in order, the missing one last)", len(after), len(want))
	}
}

// TestFlushOnStop: the sink's jumps, chains and sets go; another chain
// and its jump stay.
func TestFlushOnStop(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "f")
	ns.Run(t, "iptables", "-A", "INPUT", "-p", "udp", "-j", "ACCEPT")
	for _, mode := range []cty.Value{ipsetOnVal, ipsetOffVal} {
		d := startSink(t, ns, "drop", Arguments{UseIpset: mode, FlushOnStop: true, Protocol: cty.StringVal("all")}, nil)
		d.Send(fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.1"), time.Hour), fwtest.Ban("web", netip.MustParseAddr("2001:db8::1"), time.Hour))
		d.Wait(map[string]int64{"iptables_elements_added": 2})
		if out := ns.Run(t, "iptables", "-S", "INPUT"); !strings.Contains(out, "-A INPUT -j f2b-web") {
			t.Errorf("INPUT:\n%s", out)
		}
		if err := d.Stop(); err != nil {
			t.Fatal(err)
		}
		if out := ns.Run(t, "iptables", "-S"); strings.Contains(out, "f2b-") || !strings.Contains(out, "-A INPUT -p udp -j ACCEPT") {
			t.Errorf("after the stop:\n%s", out)
		}
		if out := ns.Run(t, "ip6tables", "-S"); strings.Contains(out, "f2b-") {
			t.Errorf("after the stop:\n%s", out)
		}
		if out := ns.Run(t, "ipset", "list", "-n"); strings.Contains(out, "f2b-") {
			t.Errorf("sets after the stop:\n%s", out)
		}
	}
}

// TestConfigChange: a restart with other ports replaces the jumps.
func TestConfigChange(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "g")
	host := netip.MustParseAddr("192.0.2.9")
	a := startSink(t, ns, "drop", Arguments{Ports: []string{"22"}}, nil)
	a.Send(fwtest.Ban("sshd", host, time.Hour))
	a.Wait(map[string]int64{"iptables_elements_added": 1})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	b := startSink(t, ns, "drop", Arguments{Ports: []string{"2222"}, Protocol: cty.TupleVal([]cty.Value{cty.StringVal("udp"), cty.StringVal("tcp")})}, nil)
	b.Send(fwtest.Restored(fwtest.Ban("sshd", host, time.Hour)))
	time.Sleep(200 * time.Millisecond)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	want := "-P INPUT ACCEPT\n-A INPUT -p udp -m multiport --dports 2222 -j f2b-sshd\n-A INPUT -p tcp -m multiport --dports 2222 -j f2b-sshd\n"
	if out := ns.Run(t, "iptables", "-S", "INPUT"); out != want {
		t.Errorf("INPUT:\n%s\nwant\n%s", out, want)
	}
	if st := b.S.Stats(); st["iptables_errors"] != 0 || st["iptables_elements_added"] != 0 {
		t.Errorf("stats = %v\n%s", st, b.Logs)
	}
}

// TestRetry: while ipset fails, the sink logs its message, counts and
// retries with backoff; once it works again every ban is in place.
func TestRetry(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	// First in PATH: an ipset that fails while told to.
	ipset := fwtest.NewFlaky(t, "ipset", `/usr/sbin/ipset "$@"`)
	d := startSink(t, p.Server, "drop", Arguments{UseIpset: ipsetOnVal}, func(s *Sink) {
		s.fw.Wrap = append(s.fw.Wrap, "env", "PATH="+ipset.Dir+":"+os.Getenv("PATH")+":/usr/sbin:/sbin")
	})
	fwtest.CheckRetry(t, p, d.Driver, "iptables", ipset)
}

// BenchmarkBan20k applies 20,000 bans through iptables and ipset and
// reports the seconds until the sets hold them all.
func BenchmarkBan20k(b *testing.B) { benchBans(b, ipsetOnVal, 20000) }

// BenchmarkBan5kPlain applies 5,000 bans as one rule each, without ipset
// (which scales worse: see the package doc).
func BenchmarkBan5kPlain(b *testing.B) { benchBans(b, ipsetOffVal, 5000) }

func benchBans(b *testing.B, mode cty.Value, n int) {
	needKernel(b)
	ns := fwtest.NewNetns(b, "b")
	fwtest.BenchBans(b, n, "iptables_elements_added", func() *fwtest.Driver {
		return startSink(b, ns, "bench", Arguments{UseIpset: mode, FlushOnStop: true}, nil).Driver
	})
}

// TestRestartUnchanged: for every mode and block type, a restart with the
// same bans leaves the filter table exactly as it was: the sink writes its
// rules as iptables-save lists them.
func TestRestartUnchanged(t *testing.T) {
	t.Parallel()
	needKernel(t)
	for _, c := range []Arguments{
		{UseIpset: ipsetOnVal, Block: "reject"},
		{UseIpset: ipsetOffVal, Block: "reject"},
		{UseIpset: ipsetOnVal, Block: "reject", Protocol: cty.StringVal("udp"), Ports: []string{"53"}},
		{UseIpset: ipsetOffVal, Block: "reject", Protocol: cty.StringVal("all"), PrefixV6: 64},
		{UseIpset: ipsetOffVal, Ports: []string{"1", "3", "5", "7", "9", "11", "13", "15", "17", "19", "21", "23", "25", "27-28"}},
	} {
		ns := fwtest.NewNetns(t, "u")
		bans := []engine.Event{
			fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.1"), time.Hour),
			fwtest.Ban("sshd", netip.MustParseAddr("2001:db8::1"), time.Hour),
		}
		a := startSink(t, ns, "x", c, nil)
		a.Send(bans...)
		a.Wait(map[string]int64{"iptables_elements_added": 2})
		if err := a.Stop(); err != nil {
			t.Fatal(err)
		}
		var before [2]string
		for i, bin := range []string{"iptables-save", "ip6tables-save"} {
			before[i] = stripComments(ns.Run(t, bin, "-t", "filter"))
		}
		b := startSink(t, ns, "x", c, nil)
		b.Send(fwtest.Restored(bans[0]), fwtest.Restored(bans[1]))
		time.Sleep(150 * time.Millisecond)
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		for i, bin := range []string{"iptables-save", "ip6tables-save"} {
			if got := stripComments(ns.Run(t, bin, "-t", "filter")); got != before[i] {
				t.Errorf("%+v: %s changed across a restart:\n%s\nwas\n%s", c, bin, got, before[i])
			}
		}
		if st := b.S.Stats(); st["iptables_elements_added"] != 0 || st["iptables_errors"] != 0 {
			t.Errorf("%+v: stats after the restart = %v", c, st)
		}
	}
}

// hooks are the sink's test hooks.
func hooks(s *Sink) *fwsync.Stage { return &s.fw }
