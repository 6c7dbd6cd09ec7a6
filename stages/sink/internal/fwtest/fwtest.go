//go:build linux

// Package fwtest holds what the tests of the firewall sinks share: network
// namespaces of their own (two joined by a veth pair), so a test's
// firewall commands, routes, listeners and clients never touch the host;
// and helpers to make actions. Only tests import it.
package fwtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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
	"github.com/f2bproject/f2b/internal/lookpath"
)

// Missing skips tb, or fails it when F2B_REQUIRE_ALL=1 (CI), where every
// tool must be there.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("F2B_REQUIRE_ALL") == "1" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

var (
	toolsOnce sync.Once
	toolsErr  error
)

// NeedRoot skips tb unless it runs as root with ip at hand, and installs
// the firewall tools (scripts/firewall-tools.sh: nft, iptables, ipset)
// when one of tools is missing.
func NeedRoot(tb testing.TB, tools ...string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		Missing(tb, "needs root for network namespaces")
	}
	if _, err := lookpath.Find("ip"); err != nil {
		Missing(tb, "needs the ip program (iproute2): %v", err)
	}
	missing := func() error {
		var errs []error
		for _, t := range tools {
			if _, err := lookpath.Find(t); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	if missing() == nil {
		return
	}
	toolsOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "../../../../scripts/firewall-tools.sh")
		out, err := exec.Command(script).CombinedOutput()
		if err != nil {
			toolsErr = fmt.Errorf("%s: %w: %s", script, err, out)
		}
	})
	if err := errors.Join(toolsErr, missing()); err != nil {
		Missing(tb, "firewall tools missing and not installable: %v", err)
	}
}

// RandomID returns 8 random hex digits.
func RandomID(tb testing.TB) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// Run runs args and returns their combined output; a failure fails tb.
func Run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Netns is one test network namespace.
type Netns struct {
	Name string
}

// NewNetns creates a namespace that the test's cleanup deletes.
func NewNetns(tb testing.TB, role string) *Netns {
	tb.Helper()
	ns := &Netns{Name: "f2b-t-" + RandomID(tb) + "-" + role}
	Run(tb, "ip", "netns", "add", ns.Name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns.Name).CombinedOutput(); err != nil {
			tb.Errorf("deleting namespace %s: %v: %s", ns.Name, err, out)
		}
	})
	Run(tb, "ip", "-n", ns.Name, "link", "set", "lo", "up")
	return ns
}

// Wrap is the command prefix that runs a program in the namespace.
func (ns *Netns) Wrap() []string { return []string{"ip", "netns", "exec", ns.Name} }

// Run runs args in the namespace and returns their combined output.
func (ns *Netns) Run(tb testing.TB, args ...string) string {
	tb.Helper()
	return Run(tb, append(ns.Wrap(), args...)...)
}

// RunStdin runs args in the namespace with stdin.
func (ns *Netns) RunStdin(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	all := append(ns.Wrap(), args...)
	cmd := exec.Command(all[0], all[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s\nstdin:\n%s", strings.Join(args, " "), err, out, stdin)
	}
	return string(out)
}

// sysSetns is the number of the setns system call, which package syscall
// does not name (golang.org/x/sys/unix does, but is no direct dependency).
var sysSetns = map[string]uintptr{"amd64": 308, "arm64": 268, "riscv64": 268, "386": 346, "arm": 375, "ppc64le": 350, "s390x": 339}

// Do runs fn on a thread that has joined the namespace: sockets fn opens
// belong to it. The thread is never given back to the Go runtime, which
// ends it with the goroutine.
func (ns *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns.Name)
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
			errc <- fmt.Errorf("setns %s: %w", ns.Name, errno)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Listen accepts (and closes) TCP connections on port, IPv4 and IPv6,
// until the test ends.
func (ns *Netns) Listen(tb testing.TB, port int) {
	tb.Helper()
	var l net.Listener
	err := ns.Do(func() (err error) {
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

// DialTimeout bounds a connection attempt: a dropped SYN ends in it.
const DialTimeout = 400 * time.Millisecond

// Dial connects from src to dst:port and returns the error.
func (ns *Netns) Dial(src, dst netip.Addr, port int) error {
	return ns.Do(func() error {
		d := net.Dialer{Timeout: DialTimeout, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
		c, err := d.Dial("tcp", netip.AddrPortFrom(dst, uint16(port)).String())
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// Pair is a server and a client namespace joined by a veth pair.
type Pair struct {
	Server, Client *Netns
	ServerV4       netip.Addr
	ClientV4       netip.Addr
	NeighbourV4    netip.Addr // a second address of the client, same /24
	ServerV6       netip.Addr
	ClientV6       netip.Addr
}

// NewPair makes a server and a client namespace that reach each other
// over IPv4 and IPv6.
func NewPair(tb testing.TB) *Pair {
	tb.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(250))
	if err != nil {
		tb.Fatal(err)
	}
	x := n.Int64() + 1
	p := &Pair{
		Server:      NewNetns(tb, "s"),
		Client:      NewNetns(tb, "c"),
		ServerV4:    netip.MustParseAddr(fmt.Sprintf("10.98.%d.1", x)),
		ClientV4:    netip.MustParseAddr(fmt.Sprintf("10.98.%d.2", x)),
		NeighbourV4: netip.MustParseAddr(fmt.Sprintf("10.98.%d.3", x)),
		ServerV6:    netip.MustParseAddr("fd00:98::1"),
		ClientV6:    netip.MustParseAddr("fd00:98::2"),
	}
	Run(tb, "ip", "link", "add", "f2bs", "netns", p.Server.Name, "type", "veth", "peer", "name", "f2bc", "netns", p.Client.Name)
	for _, c := range [][]string{
		{p.Server.Name, "addr", "add", p.ServerV4.String() + "/24", "dev", "f2bs"},
		{p.Server.Name, "addr", "add", p.ServerV6.String() + "/64", "dev", "f2bs", "nodad"},
		{p.Server.Name, "link", "set", "f2bs", "up"},
		{p.Client.Name, "addr", "add", p.ClientV4.String() + "/24", "dev", "f2bc"},
		{p.Client.Name, "addr", "add", p.NeighbourV4.String() + "/24", "dev", "f2bc"},
		{p.Client.Name, "addr", "add", p.ClientV6.String() + "/64", "dev", "f2bc", "nodad"},
		{p.Client.Name, "link", "set", "f2bc", "up"},
	} {
		Run(tb, append([]string{"ip", "-n"}, c...)...)
	}
	p.waitLink(tb)
	return p
}

// waitLink waits until the client reaches the server over IPv4 and IPv6:
// a veth pair needs a moment after "up" before it carries packets.
func (p *Pair) waitLink(tb testing.TB) {
	tb.Helper()
	var l net.Listener
	if err := p.Server.Do(func() (err error) {
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
	for _, c := range []struct{ src, dst netip.Addr }{{p.ClientV4, p.ServerV4}, {p.NeighbourV4, p.ServerV4}, {p.ClientV6, p.ServerV6}} {
		for {
			err := p.Client.Dial(c.src, c.dst, 9)
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

// ExpectOpen fails tb unless src connects to dst:port.
func (p *Pair) ExpectOpen(tb testing.TB, src, dst netip.Addr, port int) {
	tb.Helper()
	if err := p.Client.Dial(src, dst, port); err != nil {
		tb.Errorf("%s -> %s port %d: %v, want a connection", src, dst, port, err)
	}
}

// ExpectBlocked fails tb when src connects to dst:port, and returns the
// error of the attempt.
func (p *Pair) ExpectBlocked(tb testing.TB, src, dst netip.Addr, port int) error {
	tb.Helper()
	err := p.Client.Dial(src, dst, port)
	if err == nil {
		tb.Errorf("%s -> %s port %d connected, want it blocked", src, dst, port)
	}
	return err
}

// IsTimeout reports whether err is a timeout (a dropped packet).
func IsTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// SyncBuffer is a log destination a sink and its test share.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Ban is a ban of host by jail for d (engine.Permanent: no end).
func Ban(jail string, host netip.Addr, d time.Duration) engine.Event {
	now := time.Now()
	a := &engine.Action{Type: engine.Ban, Jail: jail, Host: host, HostText: host.String(), BanTime: d, Start: now, End: now.Add(d), Failures: 5, BanCount: 1}
	if d == engine.Permanent {
		a.End = time.Time{}
	}
	return engine.Event{Kind: engine.KindAction, Time: now, Action: a}
}

// Prolong is a prolong of host's ban to d from now.
func Prolong(jail string, host netip.Addr, d time.Duration) engine.Event {
	ev := Ban(jail, host, d)
	ev.Action.Type = engine.Prolong
	return ev
}

// Unban is the unban of host by jail.
func Unban(jail string, host netip.Addr) engine.Event {
	now := time.Now()
	return engine.Event{Kind: engine.KindAction, Time: now, Action: &engine.Action{Type: engine.Unban, Jail: jail, Host: host, HostText: host.String(), Start: now, End: now}}
}

// Restored marks ev's action as restored from the ban store.
func Restored(ev engine.Event) engine.Event {
	a := *ev.Action
	a.Restored = true
	ev.Action = &a
	return ev
}

// WaitStats waits until stats() reaches want (keys not in want are not
// checked) and fails tb after 20 s.
func WaitStats(tb testing.TB, stats func() map[string]int64, want map[string]int64) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := stats()
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
			tb.Fatalf("stats = %v, want at least %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var installMu sync.Mutex

// NeedPackage makes sure program bin is installed, installing Debian
// package pkg (apt-get, as root) when it is not; it skips tb (fails it
// with F2B_REQUIRE_ALL=1) when that cannot be done. It returns the path
// of bin.
func NeedPackage(tb testing.TB, bin, pkg string) string {
	tb.Helper()
	if p, err := lookpath.Find(bin); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		Missing(tb, "needs %s (package %s), which only root can install", bin, pkg)
	}
	installMu.Lock()
	defer installMu.Unlock()
	if p, err := lookpath.Find(bin); err == nil {
		return p
	}
	install := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, err := install()
	if err != nil {
		// No package lists yet: update them once and try again.
		exec.Command("apt-get", "update").Run()
		out, err = install()
	}
	p, ferr := lookpath.Find(bin)
	if ferr != nil {
		Missing(tb, "needs %s (package %s), which could not be installed: %v\n%s", bin, pkg, err, out)
	}
	return p
}
