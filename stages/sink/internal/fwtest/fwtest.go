// Package fwtest holds what the tests of the firewall sinks share: network
// namespaces of their own (Linux only: two joined by a veth pair, Pair,
// or a client and a server joined through a router, Routed), so a
// test's firewall commands, routes, listeners and clients never touch the
// host; a driver that runs a sink and waits for its counts; and helpers
// to make actions. Only tests import it.
package fwtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
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

// Action is an action of type typ by jail on host for d from now
// (engine.Permanent: no end; an unban ends now).
func Action(typ engine.ActionType, jail string, host netip.Addr, d time.Duration) engine.Event {
	now := time.Now()
	a := &engine.Action{Type: typ, Jail: jail, Host: host, HostText: host.String(), BanTime: d, Start: now, End: now.Add(d), Failures: 5, BanCount: 1}
	switch {
	case typ == engine.Unban:
		a.BanTime, a.End = 0, now
	case d == engine.Permanent:
		a.End = time.Time{}
	}
	return engine.Event{Kind: engine.KindAction, Time: now, Action: a}
}

// Event is Action with the host written out, restored from the ban store
// when restored is set.
func Event(typ engine.ActionType, jail, host string, d time.Duration, restored bool) engine.Event {
	ev := Action(typ, jail, netip.MustParseAddr(host), d)
	ev.Action.Restored = restored
	return ev
}

// Ban is a ban of host by jail for d (engine.Permanent: no end).
func Ban(jail string, host netip.Addr, d time.Duration) engine.Event {
	return Action(engine.Ban, jail, host, d)
}

// Prolong is a prolong of host's ban to d from now.
func Prolong(jail string, host netip.Addr, d time.Duration) engine.Event {
	return Action(engine.Prolong, jail, host, d)
}

// Unban is the unban of host by jail.
func Unban(jail string, host netip.Addr) engine.Event {
	return Action(engine.Unban, jail, host, 0)
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
		cmd := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, err := install()
	if err != nil {
		// No package lists yet: update them once and try again.
		exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "update").Run()
		out, err = install()
	}
	p, ferr := lookpath.Find(bin)
	if ferr != nil {
		Missing(tb, "needs %s (package %s), which could not be installed: %v\n%s", bin, pkg, err, out)
	}
	return p
}

// IsTimeout reports whether err is a timeout (a dropped packet).
func IsTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// AttrErrors returns the attributes (and indexes) that err, a joined
// error of *confval.AttrError values as the sinks' New functions return,
// names in order; anything else fails tb.
func AttrErrors(tb testing.TB, err error) (attrs []string, index []int) {
	tb.Helper()
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		tb.Fatalf("%v is not a joined error", err)
	}
	for _, e := range j.Unwrap() {
		var ae *confval.AttrError
		if !errors.As(e, &ae) {
			tb.Fatalf("%v is not an *AttrError", e)
		}
		attrs, index = append(attrs, ae.Attr), append(index, ae.Index)
	}
	return attrs, index
}

// Eventually waits until cond holds, polling it every 20 ms, and fails tb
// when it does not within d.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
