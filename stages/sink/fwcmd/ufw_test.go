//go:build linux

package fwcmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// ufwInNetns returns a program that runs the real ufw in the network
// namespace ns, with /etc/ufw and /etc/default/ufw replaced (in a mount
// namespace of its own) by copies in a temporary directory: ufw changes
// only the namespace's firewall and the test's files, never the host's.
func ufwInNetns(t *testing.T, ns *fwtest.Netns) string {
	t.Helper()
	ufw := fwtest.NeedPackage(t, "ufw", "ufw")
	for _, p := range []string{"unshare", "mount"} {
		fwtest.NeedPackage(t, p, "util-linux")
	}
	dir := t.TempDir()
	fwtest.Run(t, "cp", "-a", "/etc/ufw", filepath.Join(dir, "etc-ufw"))
	def, err := os.ReadFile("/etc/default/ufw")
	if err != nil {
		t.Fatal(err)
	}
	// No sysctl changes, not even the namespace's.
	sysctl := filepath.Join(dir, "sysctl.conf")
	if err := os.WriteFile(sysctl, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(def), "\n") {
		if !strings.HasPrefix(l, "IPT_SYSCTL=") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "IPT_SYSCTL="+sysctl)
	if err := os.WriteFile(filepath.Join(dir, "default-ufw"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "ufw")
	script := fmt.Sprintf(`#!/bin/sh
exec unshare -m /bin/sh -c 'd=$1; ns=$2; shift 2; mount --bind "$d/etc-ufw" /etc/ufw && mount --bind "$d/default-ufw" /etc/default/ufw && exec ip netns exec "$ns" %s "$@"' sh %s %s "$@"
`, ufw, dir, ns.Name)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper
}

// TestUfwReal: bans through the real ufw (on iptables) in the server's
// namespace block the client over IPv4 and IPv6 until the unban; a
// restart reads the sink's rules back and deletes a stale one.
func TestUfwReal(t *testing.T) {
	t.Parallel()
	fwtest.NeedRoot(t, "iptables", "ip6tables")
	p := fwtest.NewPair(t)
	ufw := ufwInNetns(t, p.Server)
	fwtest.Run(t, ufw, "--force", "enable")
	fwtest.Run(t, ufw, "allow", "2222/tcp")
	p.Server.Listen(t, 2222)
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)

	args := Arguments{Tool: "ufw", Bin: ufw, Ports: []string{"2222"}}
	d := startSink(t, args, nil)
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour))
	d.Send(fwtest.Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{"fwcmd_elements_added": 2})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
	p.ExpectOpen(t, p.NeighbourV4, p.ServerV4, 2222)
	d.Send(fwtest.Unban("sshd", p.ClientV4))
	d.Wait(map[string]int64{"fwcmd_elements_deleted": 1})
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := d.S.Stats(); st["fwcmd_errors"] != 0 {
		t.Errorf("stats = %v", st)
	}

	// A restart: the IPv6 ban ended while f2b was down, the neighbour's is
	// restored.
	e := startSink(t, args, func(s *Sink) { s.fw.StaleGrace = 200 * time.Millisecond })
	e.Send(fwtest.Restored(fwtest.Ban("sshd", p.NeighbourV4, time.Hour)))
	e.Wait(map[string]int64{"fwcmd_elements_added": 1, "fwcmd_elements_deleted": 1})
	p.ExpectOpen(t, p.ClientV6, p.ServerV6, 2222)
	p.ExpectBlocked(t, p.NeighbourV4, p.ServerV4, 2222)
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	status := fwtest.Run(t, ufw, "status")
	if strings.Count(status, "# f2b") != 1 || !strings.Contains(status, p.NeighbourV4.String()) {
		t.Errorf("ufw status:\n%s", status)
	}
}
