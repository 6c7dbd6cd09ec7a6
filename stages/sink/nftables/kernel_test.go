//go:build linux

package nftables

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// TestBanUnban: a banned host cannot connect, over IPv4 and IPv6, until
// its unban; the element's timeout is the ban's time left; a prolong
// replaces it.
func TestBanUnban(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)

	d := startSink(t, p.Server, "drop", Arguments{}, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 1})
	if err := p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222); err != nil && !fwtest.IsTimeout(err) {
		t.Errorf("dropped connection: %v, want a timeout", err)
	}
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
	snap := table(t, p.Server, "f2b", "input_drop")
	e, ok := snap.sets["sshd_v4"].elems[netip.PrefixFrom(p.ClientV4, 32)]
	if left := time.Until(e.End); !ok || left < time.Hour-10*time.Second || left > time.Hour+time.Second {
		t.Errorf("element %v: %v left, want about 1h", ok, left)
	}

	d.Send(fwtest.Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 2})
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)

	d.Send(fwtest.Prolong("sshd", p.ClientV4, 5*time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 3, "nft_elements_deleted": 1})
	snap = table(t, p.Server, "f2b", "input_drop")
	e = snap.sets["sshd_v4"].elems[netip.PrefixFrom(p.ClientV4, 32)]
	if left := time.Until(e.End); left < 5*time.Hour-10*time.Second {
		t.Errorf("after prolong: %v left, want about 5h", left)
	}
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)

	d.Send(fwtest.Unban("sshd", p.ClientV4))
	d.Wait(map[string]int64{"nft_elements_deleted": 2})
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
	d.Send(fwtest.Unban("sshd", p.ClientV6))
	d.Wait(map[string]int64{"nft_elements_deleted": 3})
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	st := d.S.Stats()
	if st["nft_errors"] != 0 {
		t.Errorf("stats = %v", st)
	}
	// The table stays when the sink stops (flush_on_stop is false).
	if snap := table(t, p.Server, "f2b", "input_drop"); !snap.exists || snap.chains["input_drop"].hook != "input" || !snap.owned["sshd"] {
		t.Errorf("after stop: table %v chains %v owned %v", snap.exists, snap.chains, snap.owned)
	}
}

// TestPortsAndReject: a ban on port 22 leaves port 8080 open, and reject
// refuses at once instead of letting the client wait.
func TestPortsAndReject(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 22)
	p.Server.Listen(t, 8080)
	d := startSink(t, p.Server, "ssh", Arguments{Ports: []string{"22"}, Block: "reject"}, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour), fwtest.Ban("sshd", p.ClientV6, engine.Permanent))
	d.Wait(map[string]int64{"nft_elements_added": 2})
	for _, c := range []struct{ src, dst netip.Addr }{{p.ClientV4, p.ServerV4}, {p.ClientV6, p.ServerV6}} {
		if err := p.ExpectBlocked(t, c.src, c.dst, 22); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s port 22: %v, want connection refused", c.src, err)
		}
		p.ExpectOpen(t, c.src, c.dst, 8080)
	}
	// The permanent ban has no timeout in the kernel.
	if out := p.Server.Run(t, "nft", "list", "set", "inet", "f2b", "sshd_v6"); !strings.Contains(out, "elements = { "+p.ClientV6.String()+" }") {
		t.Errorf("sshd_v6:\n%s", out)
	}
}

// TestPrefix: with prefix_v4 = 24 a ban blocks the host's neighbours; the
// network stays while a banned host is in it.
func TestPrefix(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	d := startSink(t, p.Server, "net", Arguments{PrefixV4: 24}, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 1})
	p.ExpectBlocked(t, p.NeighbourV4, p.ServerV4, 2222)
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
	net := netip.PrefixFrom(p.ClientV4, 24).Masked()
	snap := table(t, p.Server, "f2b", "input_net")
	if s := snap.sets["sshd_v4"]; len(s.elems) != 1 || s.elems[net] == (fwsync.Elem{}) || !strings.Contains(strings.Join(s.flags, ","), "interval") {
		t.Errorf("sshd_v4 = %+v", s)
	}

	// The neighbour is banned too, longer: one element, the later end.
	d.Send(fwtest.Ban("sshd", p.NeighbourV4, 3*time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 2, "nft_elements_deleted": 1})
	d.Send(fwtest.Unban("sshd", p.ClientV4))
	// Wait for a batch after the unban: ban and unban a host elsewhere.
	d.Send(fwtest.Ban("sshd", netip.MustParseAddr("198.51.100.1"), time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 3})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	snap = table(t, p.Server, "f2b", "input_net")
	if e := snap.sets["sshd_v4"].elems[net]; time.Until(e.End) < 3*time.Hour-10*time.Second {
		t.Errorf("network element ends in %v, want about 3h", time.Until(e.End))
	}
	d.Send(fwtest.Unban("sshd", p.NeighbourV4))
	d.Wait(map[string]int64{"nft_elements_deleted": 2})
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectOpen(t, p.NeighbourV4, p.ServerV4, 2222)
}

// TestRestartReconciles: a sink that restarts with 20,000 restored bans
// leaves the kernel's elements alone (nft monitor sees no element change
// but the drift the test made), repairs the drift, and never touches a
// table that is not its own.
func TestRestartReconciles(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "r")
	nftScript(t, ns, "add table inet other\nadd set inet other keep { type ipv4_addr; }\nadd element inet other keep { 192.0.2.1 }\n")
	other := ns.Run(t, "nft", "list", "table", "inet", "other")

	burst := fwtest.RestartBurst(20000, 50)
	total := int64(len(burst))

	a := startSink(t, ns, "drop", Arguments{}, nil)
	a.Send(burst...)
	a.Wait(map[string]int64{"nft_elements_added": total})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		snap := table(t, ns, "f2b", "input_drop")
		c := 0
		for _, s := range snap.sets {
			c += len(s.elems)
		}
		return c
	}
	if got := count(); got != int(total) {
		t.Fatalf("kernel holds %d elements, want %d", got, total)
	}

	// Drift while f2b is down: one ban's element is gone, one has a
	// wrong timeout, one element no ban stands for.
	missing, short, stale := burst[7].Action.Host, burst[8].Action.Host, netip.MustParseAddr("10.200.0.1")
	nftScript(t, ns, fmt.Sprintf("delete element inet f2b sshd_v4 { %s }\ndelete element inet f2b sshd_v4 { %s }\nadd element inet f2b sshd_v4 { %s timeout 100s, %s timeout 1h }\n",
		missing, short, short, stale))

	mon := startMonitor(t, ns)
	// nft monitor prints the elements of the sets it has seen declared
	// only: declare ours again (a no-op in the kernel) while it listens.
	nftScript(t, ns, "add set inet f2b sshd_v4 { type ipv4_addr; flags timeout; }\nadd set inet f2b sshd_v6 { type ipv6_addr; flags timeout; }\n"+
		"add set inet f2b web_v4 { type ipv4_addr; flags timeout; }\nadd set inet f2b web_v6 { type ipv6_addr; flags timeout; }\n")
	mon.wait(t, "add set inet f2b web_v6")
	mon.reset()
	b := startSink(t, ns, "drop", Arguments{}, func(s *Sink) { s.fw.StaleGrace = 500 * time.Millisecond })
	// The same bans come back restored, as the counters send them.
	b.Send(burst...)
	b.Wait(map[string]int64{"nft_elements_added": 2, "nft_elements_deleted": 2})
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	lines := mon.stop(t)

	var changes []string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "element"):
			changes = append(changes, l)
		case strings.HasPrefix(l, "delete set"), strings.HasPrefix(l, "flush set"), strings.HasPrefix(l, "delete table"), strings.HasPrefix(l, "add set"):
			t.Errorf("restart changed a set or table: %s", l)
		case strings.Contains(l, "table inet other"):
			t.Errorf("restart touched another table: %s", l)
		}
	}
	want := map[string]bool{
		"add element inet f2b sshd_v4 { " + missing.String() + " timeout ": false,
		"delete element inet f2b sshd_v4 { " + short.String() + " ":        false,
		"add element inet f2b sshd_v4 { " + short.String() + " timeout ":   false,
		"delete element inet f2b sshd_v4 { " + stale.String() + " ":        false,
	}
	for _, c := range changes {
		matched := false
		for prefix := range want {
			if strings.HasPrefix(c+" ", prefix) {
				want[prefix], matched = true, true
			}
		}
		// The sink's add before a delete (so the delete cannot fail) is
		// a no-op on an element that is there: the monitor reports it.
		if !matched && !strings.HasPrefix(c, "add element inet f2b sshd_v4 { "+stale.String()+" ") && !strings.HasPrefix(c, "add element inet f2b sshd_v4 { "+short.String()+" ") {
			t.Errorf("unexpected change during the restart: %s", c)
		}
	}
	for prefix, seen := range want {
		if !seen {
			t.Errorf("monitor did not see %q…; changes:\n%s", prefix, strings.Join(changes, "\n"))
		}
	}
	if len(changes) > 6 {
		t.Errorf("%d element changes, want at most 6", len(changes))
	}
	snap := table(t, ns, "f2b", "input_drop")
	if got := len(snap.sets["sshd_v4"].elems) + len(snap.sets["sshd_v6"].elems) + len(snap.sets["web_v4"].elems); got != int(total) {
		t.Errorf("after the restart the kernel holds %d elements, want %d", got, total)
	}
	v4 := snap.sets["sshd_v4"]
	for _, h := range []netip.Addr{missing, short, burst[19999].Action.Host} {
		if e, ok := v4.elems[netip.PrefixFrom(h, 32)]; !ok || time.Until(e.End) < 59*time.Minute {
			t.Errorf("%s: %v, %v left; want about an hour", h, ok, time.Until(e.End))
		}
	}
	if _, ok := v4.elems[netip.PrefixFrom(stale, 32)]; ok {
		t.Errorf("stale element %s still there", stale)
	}
	if e, ok := snap.sets["web_v4"].elems[netip.MustParsePrefix("198.51.100.7/32")]; !ok || !e.End.IsZero() {
		t.Errorf("permanent ban: %v %+v", ok, e)
	}
	if got := ns.Run(t, "nft", "list", "table", "inet", "other"); got != other {
		t.Errorf("table other changed:\n%s\nwas\n%s", got, other)
	}
}

// monitor is `nft monitor` running in a namespace.
type monitor struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

// startMonitor starts nft monitor in ns and returns once it listens.
func startMonitor(t *testing.T, ns *fwtest.Netns) *monitor {
	t.Helper()
	m := &monitor{cmd: exec.Command("ip", "netns", "exec", ns.Name, "nft", "monitor"), done: make(chan struct{})}
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if m.cmd.ProcessState == nil {
			m.cmd.Process.Kill()
			m.cmd.Wait()
		}
	})
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			m.mu.Lock()
			m.lines = append(m.lines, sc.Text())
			m.mu.Unlock()
		}
	}()
	// A probe table shows when the monitor is listening.
	probe := "probe" + fwtest.RandomID(t)
	deadline := time.Now().Add(10 * time.Second)
	for !m.saw("add table inet " + probe) {
		if time.Now().After(deadline) {
			t.Fatal("nft monitor reports nothing")
		}
		nftScript(t, ns, "add table inet "+probe+"\ndelete table inet "+probe+"\n")
		time.Sleep(50 * time.Millisecond)
	}
	return m
}

// wait waits until the monitor printed a line starting with prefix.
func (m *monitor) wait(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !m.saw(prefix) {
		if time.Now().After(deadline) {
			t.Fatalf("nft monitor did not print %q", prefix)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reset forgets the lines printed so far.
func (m *monitor) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = nil
}

func (m *monitor) saw(prefix string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// stop ends the monitor (a process this test started) and returns the
// lines it printed after the probe.
func (m *monitor) stop(t *testing.T) []string {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let the last events through
	m.cmd.Process.Kill()
	m.cmd.Wait()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, l := range m.lines {
		if !strings.Contains(l, "table inet probe") && !strings.HasPrefix(l, "# ") && strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestResyncAfterTableDeleted: when an admin deletes the table, the next
// batch fails, is logged with nft's message, and the resync puts the
// table, chain, rules and every ban back.
func TestResyncAfterTableDeleted(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	d := startSink(t, p.Server, "drop", Arguments{}, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 1})
	p.Server.Run(t, "nft", "delete", "table", "inet", "f2b")
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)

	d.Send(fwtest.Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{"nft_errors": 1, "nft_elements_added": 3})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
	logs := d.Logs.String()
	if !strings.Contains(logs, "nft batch failed") || !strings.Contains(logs, "No such file or directory") {
		t.Errorf("logs lack the failure and nft's message:\n%s", logs)
	}
}

// TestRetryBackoff: while nft fails, the sink logs nft's message and
// retries with backoff; once nft works again every ban is in place.
func TestRetryBackoff(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	nft := fwtest.NewFlaky(t, "nft", "ip netns exec "+p.Server.Name+` nft "$@"`)
	d := startSink(t, p.Server, "drop", Arguments{}, func(s *Sink) { s.fw.Wrap, s.nftName = nil, nft.Path })
	fwtest.CheckRetry(t, p, d.Driver, "nft", nft)
}

// TestFlushOnStop: a sink with flush_on_stop removes its chain and sets,
// and the table once it is the last one in it; another sink's chain and
// sets in the same table stay.
func TestFlushOnStop(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "f")
	keep := startSink(t, ns, "keep", Arguments{Protocol: cty.StringVal("udp")}, nil)
	keep.Send(fwtest.Ban("dns", netip.MustParseAddr("192.0.2.1"), time.Hour))
	keep.Wait(map[string]int64{"nft_elements_added": 1})
	flush := startSink(t, ns, "flush", Arguments{FlushOnStop: true}, nil)
	flush.Send(fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.2"), time.Hour))
	flush.Wait(map[string]int64{"nft_elements_added": 1})
	if err := flush.Stop(); err != nil {
		t.Fatal(err)
	}
	snap := table(t, ns, "f2b", "input_keep")
	if _, ok := snap.chains["input_flush"]; ok || snap.sets["sshd_v4"] != nil || snap.sets["dns_v4"] == nil || snap.chains["input_keep"].hook != "input" || len(snap.sets["dns_v4"].elems) != 1 {
		t.Errorf("after the flushing sink stopped: chains %v sets %v", snap.chains, snap.sets)
	}
	if err := keep.Stop(); err != nil {
		t.Fatal(err)
	}

	last := startSink(t, ns, "keep", Arguments{Protocol: cty.StringVal("udp"), FlushOnStop: true}, nil)
	last.Send(fwtest.Ban("dns", netip.MustParseAddr("192.0.2.3"), time.Hour))
	last.Wait(map[string]int64{"nft_elements_added": 1})
	if err := last.Stop(); err != nil {
		t.Fatal(err)
	}
	if snap := table(t, ns, "f2b", "input_keep"); snap.exists {
		t.Errorf("table still there: %+v", snap)
	}
}

// TestConfigChange: a restart with another priority and a prefix
// replaces the chain and the sets the old configuration made.
func TestConfigChange(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "g")
	host := netip.MustParseAddr("192.0.2.9")
	a := startSink(t, ns, "drop", Arguments{}, nil)
	a.Send(fwtest.Ban("sshd", host, time.Hour))
	a.Wait(map[string]int64{"nft_elements_added": 1})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	prio := 5
	b := startSink(t, ns, "drop", Arguments{Priority: &prio, PrefixV4: 24}, nil)
	b.Send(fwtest.Restored(fwtest.Ban("sshd", host, time.Hour)))
	b.Wait(map[string]int64{"nft_elements_added": 1})
	snap := table(t, ns, "f2b", "input_drop")
	if c, ok := snap.chains["input_drop"]; !ok || c.prio != 5 {
		t.Errorf("chain = %+v %v", c, ok)
	}
	if s := snap.sets["sshd_v4"]; len(s.elems) != 1 || s.elems[netip.MustParsePrefix("192.0.2.0/24")] == (fwsync.Elem{}) {
		t.Errorf("sshd_v4 = %+v", s)
	}
	if b.S.Stats()["nft_errors"] != 0 {
		t.Errorf("stats = %v\n%s", b.S.Stats(), b.Logs)
	}
}

// BenchmarkBan20k applies 20,000 bans sent as a counter sends them (over a
// channel of the engine's default capacity) and reports the seconds until
// the kernel holds them all.
func BenchmarkBan20k(b *testing.B) {
	needKernel(b)
	ns := fwtest.NewNetns(b, "b")
	fwtest.BenchBans(b, 20000, "nft_elements_added", func() *fwtest.Driver {
		exec.Command("ip", "netns", "exec", ns.Name, "nft", "delete", "table", "inet", "f2b").Run()
		return startSink(b, ns, "bench", Arguments{}, nil).Driver
	})
}

// TestRulesAccepted: nft takes the rules of every protocol, port and
// block combination, at the input and the forward hook.
func TestRulesAccepted(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "k")
	protos := []cty.Value{
		cty.NilVal, cty.StringVal("udp"), cty.StringVal("all"), cty.StringVal("sctp"),
		cty.TupleVal([]cty.Value{cty.StringVal("tcp"), cty.StringVal("udp"), cty.StringVal("dccp"), cty.StringVal("udplite")}),
	}
	for i, proto := range protos {
		for _, ports := range [][]string{nil, {"22"}, {"22", "8000-8080"}} {
			for _, block := range []string{"drop", "reject"} {
				if proto == cty.StringVal("all") && ports != nil {
					continue
				}
				s, err := New(engine.Options{Name: fmt.Sprint("v", i)}, &Arguments{Protocol: proto, Ports: ports, Block: block, PrefixV6: 64, Hook: bothHooks})
				if err != nil {
					t.Fatal(err)
				}
				sc := &script{cfg: &s.cfg}
				sc.table()
				sc.chains()
				sc.set("sshd", famV4)
				sc.set("sshd", famV6)
				sc.flushChains()
				sc.rules([]string{"sshd"})
				cmd := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-c", "-f", "-")
				cmd.Stdin = strings.NewReader(sc.String())
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("nft refuses:\n%s%v: %s", sc, err, out)
				}
			}
		}
	}
}

// TestHardStop: a Run cancelled by its context returns the cause, and
// flush_on_stop still removes the table.
func TestHardStop(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "h")
	s, err := New(engine.Options{Name: "drop"}, &Arguments{FlushOnStop: true})
	if err != nil {
		t.Fatal(err)
	}
	s.fw.Wrap, s.fw.RestoreIdle = ns.Wrap(), fwtest.RestoreIdle
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan engine.Event, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, nil) }()
	in <- fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.1"), time.Hour)
	fwtest.WaitStats(t, s.Stats, map[string]int64{"nft_elements_added": 1})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if snap := table(t, ns, "f2b", "input_drop"); snap.exists {
		t.Error("table still there after a hard stop with flush_on_stop")
	}
}

// TestFirstBanDeclares: a jail's first ban declares its sets and rules in
// the transaction of its element; when a set of that name turned up since
// the start (of another type), that transaction fails and the resync
// replaces the set.
func TestFirstBanDeclares(t *testing.T) {
	t.Parallel()
	needKernel(t)
	ns := fwtest.NewNetns(t, "d")
	d := startSink(t, ns, "drop", Arguments{}, nil)
	d.Send(fwtest.Ban("sshd", netip.MustParseAddr("192.0.2.1"), time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 1})
	if st := d.S.Stats(); st["nft_batches"] != 1 || st["nft_errors"] != 0 {
		t.Errorf("stats after the first ban = %v, want one transaction", st)
	}
	nftScript(t, ns, "add set inet f2b web_v4 { type ipv6_addr; }\n")
	d.Send(fwtest.Ban("web", netip.MustParseAddr("192.0.2.2"), time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 2, "nft_errors": 1})
	snap := table(t, ns, "f2b", "input_drop")
	if s := snap.sets["web_v4"]; s == nil || s.typ != "ipv4_addr" || len(s.elems) != 1 || !snap.owned["web"] || !snap.owned["sshd"] {
		t.Errorf("web_v4 = %+v, owned %v", s, snap.owned)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}
