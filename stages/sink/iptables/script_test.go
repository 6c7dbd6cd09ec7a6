//go:build unix

package iptables

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
)

// fakeTools is a program that stands for every program the sink runs (it
// is put before them, as a namespace's `ip netns exec` is): it logs each
// command line and the scripts given on standard input, prints the
// listing saves holds for iptables-save, ip6tables-save or "ipset" (ipset
// save), and fails iptables -C (no rule is there).
type fakeTools struct {
	dir, path string
}

func newFakeTools(t *testing.T, saves map[string]string) *fakeTools {
	t.Helper()
	dir := t.TempDir()
	f := &fakeTools{dir: dir, path: filepath.Join(dir, "fake")}
	for name, text := range saves {
		if err := os.WriteFile(filepath.Join(dir, name+".out"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf(`#!/bin/sh
d='%s'
echo "\$ $*" >> "$d/log"
case "$1" in
*-restore) cat >> "$d/log" ;;
ipset) if [ "$2" = restore ]; then cat >> "$d/log"; else cat "$d/ipset.out" 2>/dev/null; fi ;;
*-save) cat "$d/$1.out" 2>/dev/null ;;
*) exit 1 ;;
esac
exit 0
`, dir)
	if err := os.WriteFile(f.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// log returns what the programs were given, and empties it.
func (f *fakeTools) log(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(f.dir, "log"))
	return string(b)
}

// fakeBackend is the backend of a sink built from args, with ipset or
// without, whose programs f runs.
func fakeBackend(t *testing.T, f *fakeTools, args Arguments, ipset bool) *backend {
	t.Helper()
	s, err := New(engine.Options{Name: "x"}, &args)
	if err != nil {
		t.Fatal(err)
	}
	return &backend{cfg: &s.cfg, logger: slog.New(slog.DiscardHandler), run: &fwrun.Runner{Wrap: []string{f.path}}, ipset: ipset, bins: [2]string{"iptables", "ip6tables"}, ipsetBin: "ipset"}
}

// TestScriptBothHooks: on an empty table with both hooks, the sink
// creates the sets, then the chain with its set rule, jumped to from the
// top of INPUT and FORWARD, in one iptables-restore per family.
func TestScriptBothHooks(t *testing.T) {
	t.Parallel()
	f := newFakeTools(t, nil)
	b := fakeBackend(t, f, Arguments{Hook: cty.TupleVal([]cty.Value{cty.StringVal("forward"), cty.StringVal("input")})}, true)
	held, err := b.Sync(context.Background(), []string{"sshd"})
	if err != nil {
		t.Fatal(err)
	}
	if len(held["sshd"]) != 0 {
		t.Errorf("held = %v", held)
	}
	want := `$ iptables-save -t filter
$ ip6tables-save -t filter
$ ipset save
$ ipset restore -exist
create f2b-sshd hash:ip family inet timeout 0 maxelem 1048576
create f2b-sshd-v6 hash:ip family inet6 timeout 0 maxelem 1048576
$ iptables-restore -w --noflush
*filter
:f2b-sshd - [0:0]
-A f2b-sshd -m set --match-set f2b-sshd src -j DROP
-I INPUT 1 -p tcp -j f2b-sshd
-I FORWARD 1 -p tcp -j f2b-sshd
COMMIT
$ ip6tables-restore -w --noflush
*filter
:f2b-sshd - [0:0]
-A f2b-sshd -m set --match-set f2b-sshd-v6 src -j DROP
-I INPUT 1 -p tcp -j f2b-sshd
-I FORWARD 1 -p tcp -j f2b-sshd
COMMIT
`
	if got := f.log(t); got != want {
		t.Errorf("programs ran:\n%s\nwant\n%s", got, want)
	}
}

// forwardSave is a filter table left by a sink with hook "input" (plain
// rules), beside a rule of Docker's in FORWARD.
const forwardSave = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:f2b-sshd - [0:0]
-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
-A FORWARD -j DOCKER-USER
-A f2b-sshd -s 192.0.2.1/32 -j DROP
COMMIT
`

// TestScriptForwardPlain: a restart with hook "forward" (no ipset) keeps
// the chain's bans, inserts the jump at the top of FORWARD once iptables
// -C says it is not there, and deletes the jump of INPUT, no longer
// configured; flush_on_stop deletes the jumps of both, and the chain.
func TestScriptForwardPlain(t *testing.T) {
	t.Parallel()
	f := newFakeTools(t, map[string]string{"iptables-save": forwardSave})
	b := fakeBackend(t, f, Arguments{Hook: cty.StringVal("forward"), Ports: []string{"22"}}, false)
	held, err := b.Sync(context.Background(), []string{"sshd"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := held["sshd"][netip.MustParsePrefix("192.0.2.1/32")]; !ok || len(held["sshd"]) != 1 {
		t.Errorf("held = %v", held)
	}
	want := `$ iptables-save -t filter
$ ip6tables-save -t filter
$ iptables -w -C FORWARD -p tcp -m multiport --dports 22 -j f2b-sshd
$ iptables-restore -w --noflush
*filter
-I FORWARD 1 -p tcp -m multiport --dports 22 -j f2b-sshd
-D INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
COMMIT
$ ip6tables-restore -w --noflush
*filter
:f2b-sshd - [0:0]
-I FORWARD 1 -p tcp -m multiport --dports 22 -j f2b-sshd
COMMIT
`
	if got := f.log(t); got != want {
		t.Errorf("programs ran:\n%s\nwant\n%s", got, want)
	}

	// The stop, with the listing before the restart (the fake keeps no
	// state): every jump to the chain goes, then the chain.
	if err := b.Teardown(context.Background(), []string{"sshd"}); err != nil {
		t.Fatal(err)
	}
	want = `$ iptables-save -t filter
$ iptables-restore -w --noflush
*filter
-D INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
-F f2b-sshd
-X f2b-sshd
COMMIT
$ ip6tables-save -t filter
`
	if got := f.log(t); got != want {
		t.Errorf("programs ran at the stop:\n%s\nwant\n%s", got, want)
	}
}

// TestScriptForwardIpsetTeardown: flush_on_stop with hook "forward" and
// ipset deletes the jumps from FORWARD and INPUT, the chains, then the
// sets.
func TestScriptForwardIpsetTeardown(t *testing.T) {
	t.Parallel()
	f := newFakeTools(t, map[string]string{
		"iptables-save":  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:f2b-sshd - [0:0]\n-A INPUT -j f2b-sshd\n-A FORWARD -j f2b-sshd\n-A FORWARD -j ACCEPT\n-A f2b-sshd -m set --match-set f2b-sshd src -j DROP\nCOMMIT\n",
		"ip6tables-save": "*filter\n:FORWARD ACCEPT [0:0]\n:f2b-sshd - [0:0]\n-A FORWARD -j f2b-sshd\n-A f2b-sshd -m set --match-set f2b-sshd-v6 src -j DROP\nCOMMIT\n",
		"ipset":          "create f2b-sshd hash:ip family inet hashsize 1024 maxelem 1048576 timeout 0\ncreate f2b-sshd-v6 hash:ip family inet6 hashsize 1024 maxelem 1048576 timeout 0\n",
	})
	b := fakeBackend(t, f, Arguments{Hook: cty.StringVal("forward"), Protocol: cty.StringVal("all")}, true)
	if err := b.Teardown(context.Background(), []string{"sshd"}); err != nil {
		t.Fatal(err)
	}
	want := `$ iptables-save -t filter
$ iptables-restore -w --noflush
*filter
-D FORWARD -j f2b-sshd
-D INPUT -j f2b-sshd
-F f2b-sshd
-X f2b-sshd
COMMIT
$ ip6tables-save -t filter
$ ip6tables-restore -w --noflush
*filter
-D FORWARD -j f2b-sshd
-F f2b-sshd
-X f2b-sshd
COMMIT
$ ipset save
$ ipset restore -exist
destroy f2b-sshd
destroy f2b-sshd-v6
`
	if got := f.log(t); got != want {
		t.Errorf("programs ran at the stop:\n%s\nwant\n%s", got, want)
	}
}
