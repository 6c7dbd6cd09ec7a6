//go:build linux

package nftables

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// The kernel tests run nft, listeners and clients in network namespaces of
// their own (two joined by a veth pair), so the host's firewall is never
// touched: every nft command of a test runs through `ip netns exec`.

var (
	toolsOnce sync.Once
	toolsErr  error
)

// needKernel skips tb unless it runs as root with ip and nft at hand;
// nft is installed with scripts/firewall-tools.sh when missing. With
// F2B_REQUIRE_ALL=1 a missing piece fails the test instead.
func needKernel(tb testing.TB) {
	tb.Helper()
	missing := func(format string, args ...any) {
		tb.Helper()
		if os.Getenv("F2B_REQUIRE_ALL") == "1" {
			tb.Fatalf(format, args...)
		}
		tb.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		missing("needs root for network namespaces and nftables")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		missing("needs the ip program (iproute2): %v", err)
	}
	toolsOnce.Do(func() {
		if CheckEnv() == nil {
			return
		}
		script, err := filepath.Abs("../../../scripts/firewall-tools.sh")
		if err == nil {
			var out []byte
			out, err = exec.Command(script).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%s: %w: %s", script, err, out)
			}
		}
		toolsErr = errors.Join(err, CheckEnv())
	})
	if toolsErr != nil {
		missing("nft is missing and could not be installed: %v", toolsErr)
	}
}

func randomID(tb testing.TB) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// netns is one test network namespace.
type netns struct {
	name string
}

// newNetns creates a namespace that the test's cleanup deletes.
func newNetns(tb testing.TB, role string) *netns {
	tb.Helper()
	ns := &netns{name: "f2b-nft-" + randomID(tb) + "-" + role}
	run(tb, "ip", "netns", "add", ns.name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns.name).CombinedOutput(); err != nil {
			tb.Errorf("deleting namespace %s: %v: %s", ns.name, err, out)
		}
	})
	run(tb, "ip", "-n", ns.name, "link", "set", "lo", "up")
	return ns
}

// nftArgv runs nft in the namespace.
func (ns *netns) nftArgv() []string { return []string{"ip", "netns", "exec", ns.name, "nft"} }

// nft runs nft with args in the namespace.
func (ns *netns) nft(tb testing.TB, args ...string) string {
	tb.Helper()
	return run(tb, append(ns.nftArgv(), args...)...)
}

// nftScript runs an nft script in the namespace.
func (ns *netns) nftScript(tb testing.TB, script string) {
	tb.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns.name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("nft -f -: %v\n%s\nscript:\n%s", err, out, script)
	}
}

// table reads the table in the namespace, as the sink reads it.
func (ns *netns) table(tb testing.TB, table, chain string) *snapshot {
	tb.Helper()
	snap, err := listTable(context.Background(), ns.nftArgv(), table, chain, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// sysSetns is the number of the setns system call, which package syscall
// does not name (golang.org/x/sys/unix does, but is no direct dependency).
var sysSetns = map[string]uintptr{"amd64": 308, "arm64": 268, "riscv64": 268, "386": 346, "arm": 375, "ppc64le": 350, "s390x": 339}

// do runs fn on a thread that has joined the namespace: sockets fn opens
// belong to it. The thread is never given back to the Go runtime, which
// ends it with the goroutine.
func (ns *netns) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns.name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		nr, ok := sysSetns[runtime.GOARCH]
		if !ok {
			errc <- fmt.Errorf("setns: no system call number known for %s", runtime.GOARCH)
			return
		}
		if _, _, errno := syscall.Syscall(nr, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
			errc <- fmt.Errorf("setns %s: %w", ns.name, errno)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// listen accepts (and closes) TCP connections on port, IPv4 and IPv6,
// until the test ends.
func (ns *netns) listen(tb testing.TB, port int) {
	tb.Helper()
	var l net.Listener
	err := ns.do(func() (err error) {
		l, err = net.Listen("tcp", fmt.Sprintf("[::]:%d", port))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
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

// dialTimeout bounds a connection attempt: a dropped SYN ends in it.
const dialTimeout = 400 * time.Millisecond

// dial connects from src to dst:port and returns the error.
func (ns *netns) dial(src, dst netip.Addr, port int) error {
	return ns.do(func() error {
		d := net.Dialer{Timeout: dialTimeout, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
		c, err := d.Dial("tcp", netip.AddrPortFrom(dst, uint16(port)).String())
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// pair is a server and a client namespace joined by a veth pair.
type pair struct {
	server, client *netns
	serverV4       netip.Addr
	clientV4       netip.Addr
	neighbourV4    netip.Addr // a second address of the client, same /24
	serverV6       netip.Addr
	clientV6       netip.Addr
}

func newPair(tb testing.TB) *pair {
	tb.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(250))
	if err != nil {
		tb.Fatal(err)
	}
	x := n.Int64() + 1
	p := &pair{
		server:      newNetns(tb, "s"),
		client:      newNetns(tb, "c"),
		serverV4:    netip.MustParseAddr(fmt.Sprintf("10.99.%d.1", x)),
		clientV4:    netip.MustParseAddr(fmt.Sprintf("10.99.%d.2", x)),
		neighbourV4: netip.MustParseAddr(fmt.Sprintf("10.99.%d.3", x)),
		serverV6:    netip.MustParseAddr("fd00:99::1"),
		clientV6:    netip.MustParseAddr("fd00:99::2"),
	}
	run(tb, "ip", "link", "add", "f2bs", "netns", p.server.name, "type", "veth", "peer", "name", "f2bc", "netns", p.client.name)
	for _, c := range [][]string{
		{p.server.name, "addr", "add", p.serverV4.String() + "/24", "dev", "f2bs"},
		{p.server.name, "addr", "add", p.serverV6.String() + "/64", "dev", "f2bs", "nodad"},
		{p.server.name, "link", "set", "f2bs", "up"},
		{p.client.name, "addr", "add", p.clientV4.String() + "/24", "dev", "f2bc"},
		{p.client.name, "addr", "add", p.neighbourV4.String() + "/24", "dev", "f2bc"},
		{p.client.name, "addr", "add", p.clientV6.String() + "/64", "dev", "f2bc", "nodad"},
		{p.client.name, "link", "set", "f2bc", "up"},
	} {
		run(tb, append([]string{"ip", "-n"}, c...)...)
	}
	p.waitLink(tb)
	return p
}

// waitLink waits until the client reaches the server over IPv4 and IPv6:
// a veth pair needs a moment after "up" before it carries packets.
func (p *pair) waitLink(tb testing.TB) {
	tb.Helper()
	var l net.Listener
	if err := p.server.do(func() (err error) {
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
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range []struct{ src, dst netip.Addr }{{p.clientV4, p.serverV4}, {p.neighbourV4, p.serverV4}, {p.clientV6, p.serverV6}} {
		for {
			err := p.client.dial(c.src, c.dst, 9)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("the veth pair does not carry %s -> %s: %v", c.src, c.dst, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// syncBuffer is a log destination the sink and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// driver runs one sink in the namespace ns.
type driver struct {
	tb   testing.TB
	s    *Sink
	in   chan engine.Event
	done chan error
	logs *syncBuffer
}

// startSink builds a sink from args and runs it with nft in ns, with
// short test timings; mod may change the sink before it runs.
func startSink(tb testing.TB, ns *netns, name string, args Arguments, mod func(*Sink)) *driver {
	tb.Helper()
	logs := &syncBuffer{}
	s, err := New(engine.Options{ID: "sink." + name, Name: name, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, &args)
	if err != nil {
		tb.Fatal(err)
	}
	s.nftArgv = ns.nftArgv()
	s.restoreIdle = 50 * time.Millisecond
	s.retryFirst = 100 * time.Millisecond
	if mod != nil {
		mod(s)
	}
	d := &driver{tb: tb, s: s, in: make(chan engine.Event, 256), done: make(chan error, 1), logs: logs}
	go func() { d.done <- s.Run(context.Background(), d.in, nil) }()
	tb.Cleanup(func() {
		if d.in != nil {
			close(d.in)
			<-d.done
		}
		if tb.Failed() {
			tb.Logf("logs of sink %s:\n%s", name, logs)
		}
	})
	return d
}

// stop closes the sink's input and returns Run's result.
func (d *driver) stop() error {
	close(d.in)
	d.in = nil
	select {
	case err := <-d.done:
		return err
	case <-time.After(30 * time.Second):
		d.tb.Fatal("the sink did not stop")
		return nil
	}
}

func (d *driver) send(evs ...engine.Event) {
	for _, ev := range evs {
		d.in <- ev
	}
}

// waitStats waits until the sink's counts reach want (keys not in want
// are not checked).
func (d *driver) waitStats(want map[string]int64) {
	d.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := d.s.Stats()
		ok := true
		for k, v := range want {
			if got[k] < v {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			d.tb.Fatalf("stats = %v, want at least %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func banEv(jail string, host netip.Addr, d time.Duration) engine.Event {
	now := time.Now()
	a := &engine.Action{Type: engine.Ban, Jail: jail, Host: host, HostText: host.String(), BanTime: d, Start: now, End: now.Add(d), Failures: 5, BanCount: 1}
	if d == engine.Permanent {
		a.End = time.Time{}
	}
	return engine.Event{Kind: engine.KindAction, Time: now, Action: a}
}

func prolongEv(jail string, host netip.Addr, d time.Duration) engine.Event {
	ev := banEv(jail, host, d)
	ev.Action.Type = engine.Prolong
	return ev
}

func unbanEv(jail string, host netip.Addr) engine.Event {
	now := time.Now()
	return engine.Event{Kind: engine.KindAction, Time: now, Action: &engine.Action{Type: engine.Unban, Jail: jail, Host: host, HostText: host.String(), Start: now, End: now}}
}

func restored(ev engine.Event) engine.Event {
	a := *ev.Action
	a.Restored = true
	ev.Action = &a
	return ev
}
