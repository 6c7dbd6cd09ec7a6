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
