//go:build linux

package fwtest

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
	l, err := ns.serve(port)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
}

// serve accepts (and closes) TCP connections on port, IPv4 and IPv6,
// until the listener it returns is closed.
func (ns *Netns) serve(port int) (net.Listener, error) {
	var l net.Listener
	err := ns.Do(func() (err error) {
		l, err = net.Listen("tcp", fmt.Sprintf("[::]:%d", port))
		return err
	})
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l, nil
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

// ExpectOpen fails tb unless src, an address of ns, connects to
// dst:port.
func (ns *Netns) ExpectOpen(tb testing.TB, src, dst netip.Addr, port int) {
	tb.Helper()
	if err := ns.Dial(src, dst, port); err != nil {
		tb.Errorf("%s -> %s port %d: %v, want a connection", src, dst, port, err)
	}
}

// ExpectBlocked fails tb when src, an address of ns, connects to
// dst:port, and returns the error of the attempt.
func (ns *Netns) ExpectBlocked(tb testing.TB, src, dst netip.Addr, port int) error {
	tb.Helper()
	err := ns.Dial(src, dst, port)
	if err == nil {
		tb.Errorf("%s -> %s port %d connected, want it blocked", src, dst, port)
	}
	return err
}

// ExpectDropped fails tb unless the connection of src, an address of ns,
// to dst:port times out: its packets are dropped, not refused.
func (ns *Netns) ExpectDropped(tb testing.TB, src, dst netip.Addr, port int) {
	tb.Helper()
	if err := ns.Dial(src, dst, port); !IsTimeout(err) {
		tb.Errorf("%s -> %s port %d: %v, want a timeout", src, dst, port, err)
	}
}

// veth joins namespace a (device aDev) and b (device bDev) with a veth
// pair.
func veth(tb testing.TB, a *Netns, aDev string, b *Netns, bDev string) {
	tb.Helper()
	Run(tb, "ip", "link", "add", aDev, "netns", a.Name, "type", "veth", "peer", "name", bDev, "netns", b.Name)
}

// ipIn runs each of cmds as `ip -n NAMESPACE ARGS...`: a command's first
// word is the namespace's name.
func ipIn(tb testing.TB, cmds [][]string) {
	tb.Helper()
	for _, c := range cmds {
		Run(tb, append([]string{"ip", "-n"}, c...)...)
	}
}

// path is a connection a topology must carry: from src, an address of
// its client namespace, to dst.
type path struct{ src, dst netip.Addr }

// waitPaths waits until client carries every path to port 9 of dst, on
// which each of servers listens meanwhile: veth pairs need a moment after
// "up" before they carry packets. what names the topology in the failure
// after 10 s.
func waitPaths(tb testing.TB, what string, client *Netns, servers []*Netns, paths []path) {
	tb.Helper()
	for _, ns := range servers {
		l, err := ns.serve(9)
		if err != nil {
			tb.Fatal(err)
		}
		defer l.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range paths {
		for {
			err := client.Dial(c.src, c.dst, 9)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("%s does not carry %s -> %s: %v", what, c.src, c.dst, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
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
	veth(tb, p.Server, "f2bs", p.Client, "f2bc")
	ipIn(tb, [][]string{
		{p.Server.Name, "addr", "add", p.ServerV4.String() + "/24", "dev", "f2bs"},
		{p.Server.Name, "addr", "add", p.ServerV6.String() + "/64", "dev", "f2bs", "nodad"},
		{p.Server.Name, "link", "set", "f2bs", "up"},
		{p.Client.Name, "addr", "add", p.ClientV4.String() + "/24", "dev", "f2bc"},
		{p.Client.Name, "addr", "add", p.NeighbourV4.String() + "/24", "dev", "f2bc"},
		{p.Client.Name, "addr", "add", p.ClientV6.String() + "/64", "dev", "f2bc", "nodad"},
		{p.Client.Name, "link", "set", "f2bc", "up"},
	})
	waitPaths(tb, "the veth pair", p.Client, []*Netns{p.Server}, []path{{p.ClientV4, p.ServerV4}, {p.NeighbourV4, p.ServerV4}, {p.ClientV6, p.ServerV6}})
	return p
}

// ExpectOpen fails tb unless src, an address of the client, connects to
// dst:port.
func (p *Pair) ExpectOpen(tb testing.TB, src, dst netip.Addr, port int) {
	tb.Helper()
	p.Client.ExpectOpen(tb, src, dst, port)
}

// ExpectBlocked fails tb when src, an address of the client, connects to
// dst:port, and returns the error of the attempt.
func (p *Pair) ExpectBlocked(tb testing.TB, src, dst netip.Addr, port int) error {
	tb.Helper()
	return p.Client.ExpectBlocked(tb, src, dst, port)
}
