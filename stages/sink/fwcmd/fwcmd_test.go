package fwcmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// fakeTool is a program in a temporary directory that records each run
// (argv, each argument in brackets, and the standard input of a run with
// "-f -") and fails while a flag file exists.
type fakeTool struct {
	dir, log, flag string
}

func newFake(t *testing.T, names ...string) *fakeTool {
	t.Helper()
	dir := t.TempDir()
	f := &fakeTool{dir: dir, log: filepath.Join(dir, "log"), flag: filepath.Join(dir, "fail")}
	script := fmt.Sprintf(`#!/bin/sh
if [ -e %[1]s ]; then echo "ERROR: simulated failure" >&2; exit 1; fi
{ printf '%%s' "$(basename "$0")"; for a in "$@"; do printf ' [%%s]' "$a"; done; echo; } >> %[2]s
case " $* " in
*" -f - "*) printf 'stdin: ' >> %[2]s; tr '\n' ';' >> %[2]s; echo >> %[2]s;;
*" show added "*) echo "Added user rules (see 'ufw status' for running firewall):"; cat %[3]s/added 2>/dev/null;;
*" -T show "*) cat %[3]s/table 2>/dev/null;;
esac
exit 0
`, f.flag, f.log, dir)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// runs returns the recorded runs and forgets them.
func (f *fakeTool) runs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	os.Remove(f.log)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func argv(parts ...string) string {
	var sb strings.Builder
	sb.WriteString(parts[0])
	for _, p := range parts[1:] {
		sb.WriteString(" [" + p + "]")
	}
	return sb.String()
}

// driver runs one sink.
type driver = fwtest.Running[*Sink]

func startSink(t *testing.T, args Arguments, mod func(*Sink)) *driver {
	t.Helper()
	return fwtest.StartSink(t, "fw", func(o engine.Options) (*Sink, error) { return New(o, &args) }, hooks, nil, mod)
}

var action = fwtest.Event

// TestFirewalld: runtime rich rules per port and protocol, with
// firewalld's timeout; a prolong replaces the rule with a new timeout.
func TestFirewalld(t *testing.T) {
	t.Parallel()
	f := newFake(t, "firewall-cmd")
	d := startSink(t, Arguments{Tool: "firewalld", Bin: filepath.Join(f.dir, "firewall-cmd"), Ports: []string{"22", "8000-8080"}, Block: "reject"}, nil)
	d.Send(action(engine.Ban, "sshd", "192.0.2.1", time.Hour, false))
	d.Wait(map[string]int64{"fwcmd_elements_added": 1})
	d.Send(action(engine.Ban, "sshd", "2001:db8::1", engine.Permanent, false))
	d.Wait(map[string]int64{"fwcmd_elements_added": 2})
	d.Send(action(engine.Prolong, "sshd", "192.0.2.1", 2*time.Hour, false))
	d.Wait(map[string]int64{"fwcmd_elements_added": 3})
	d.Send(action(engine.Unban, "sshd", "2001:db8::1", 0, false))
	d.Wait(map[string]int64{"fwcmd_elements_deleted": 2})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	r4 := func(p string) string {
		return `rule family="ipv4" source address="192.0.2.1" port port="` + p + `" protocol="tcp" reject`
	}
	r6 := func(p string) string {
		return `rule family="ipv6" source address="2001:db8::1" port port="` + p + `" protocol="tcp" reject`
	}
	want := []string{
		argv("firewall-cmd", "--add-rich-rule="+r4("22"), "--add-rich-rule="+r4("8000-8080"), "--timeout=3600s"),
		argv("firewall-cmd", "--add-rich-rule="+r6("22"), "--add-rich-rule="+r6("8000-8080")),
		argv("firewall-cmd", "--remove-rich-rule="+r4("22"), "--remove-rich-rule="+r4("8000-8080")),
		argv("firewall-cmd", "--add-rich-rule="+r4("22"), "--add-rich-rule="+r4("8000-8080"), "--timeout=7200s"),
		argv("firewall-cmd", "--remove-rich-rule="+r6("22"), "--remove-rich-rule="+r6("8000-8080")),
	}
	if got := f.runs(t); !slices.Equal(got, want) {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestShorewall: the restored burst is one run per family, with
// shorewall6 for IPv6; an unban is "allow".
func TestShorewall(t *testing.T) {
	t.Parallel()
	f := newFake(t, "shorewall", "shorewall6")
	d := startSink(t, Arguments{Tool: "shorewall", Bin: filepath.Join(f.dir, "shorewall"), Bin6: filepath.Join(f.dir, "shorewall6"), PrefixV6: 64}, nil)
	d.Send(action(engine.Ban, "sshd", "192.0.2.1", time.Hour, true))
	d.Send(action(engine.Ban, "web", "192.0.2.2", time.Hour, true))
	d.Send(action(engine.Ban, "sshd", "2001:db8::1", time.Hour, true))
	d.Wait(map[string]int64{"fwcmd_elements_added": 3})
	d.Send(action(engine.Unban, "sshd", "192.0.2.1", 0, false))
	d.Wait(map[string]int64{"fwcmd_elements_deleted": 1})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	got := f.runs(t)
	if len(got) == 3 {
		slices.Sort(got[:2])
		got[0] = strings.Replace(got[0], "[192.0.2.2] [192.0.2.1]", "[192.0.2.1] [192.0.2.2]", 1)
	}
	// One run per family for the burst, both jails' bans in it.
	want := []string{
		argv("shorewall", "drop", "192.0.2.1", "192.0.2.2"),
		argv("shorewall6", "drop", "2001:db8::/64"),
		argv("shorewall", "allow", "192.0.2.1"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPf: the anchor's table and rule are loaded at a jail's first ban,
// bans of a batch are one pfctl run, the table is read back at start,
// and flush_on_stop empties the anchor.
func TestPf(t *testing.T) {
	t.Parallel()
	f := newFake(t, "pfctl")
	// The table holds a ban from before (kept) and a stale one (deleted).
	if err := os.WriteFile(filepath.Join(f.dir, "table"), []byte("   192.0.2.1\n   192.0.2.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startSink(t, Arguments{Tool: "pf", Bin: filepath.Join(f.dir, "pfctl"), Ports: []string{"22", "80"}, Protocol: cty.TupleVal([]cty.Value{cty.StringVal("udp"), cty.StringVal("tcp")}), FlushOnStop: true},
		func(s *Sink) { s.fw.StaleGrace = 100 * time.Millisecond })
	d.Send(action(engine.Ban, "sshd", "192.0.2.1", time.Hour, true))
	d.Send(action(engine.Ban, "sshd", "192.0.2.2", time.Hour, true))
	d.Send(action(engine.Ban, "sshd", "2001:db8::2", time.Hour, true))
	d.Wait(map[string]int64{"fwcmd_elements_added": 2, "fwcmd_elements_deleted": 1})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	a := []string{"pfctl", "-a", "f2b/sshd"}
	want := []string{
		argv(append(a, "-f", "-")...),
		"stdin: table <f2b-sshd> persist counters;block quick proto { tcp udp } from <f2b-sshd> to any port { 22 80 };",
		argv(append(a, "-t", "f2b-sshd", "-T", "show")...),
		argv(append(a, "-t", "f2b-sshd", "-T", "add", "192.0.2.2", "2001:db8::2")...),
		argv(append(a, "-t", "f2b-sshd", "-T", "delete", "192.0.2.99")...),
		argv(append(a, "-t", "f2b-sshd", "-T", "kill")...),
		argv(append(a, "-F", "rules")...),
	}
	got := f.runs(t)
	if len(got) == len(want) && strings.Contains(got[3], "2001:db8::2") && strings.Contains(got[3], "192.0.2.2") {
		got[3] = want[3] // the order within one run is free
	}
	if !slices.Equal(got, want) {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUfwArgv: ufw rules are prepended with the sink's comment, read
// back from `ufw show added` at start, and deleted by their spec.
func TestUfwArgv(t *testing.T) {
	t.Parallel()
	f := newFake(t, "ufw")
	added := "ufw deny from 192.0.2.1 to any port 22 proto tcp comment 'f2b'\nufw deny from 192.0.2.5 to any port 22 proto tcp comment 'by admin'\n"
	if err := os.WriteFile(filepath.Join(f.dir, "added"), []byte(added), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startSink(t, Arguments{Tool: "ufw", Bin: filepath.Join(f.dir, "ufw"), Ports: []string{"22"}}, nil)
	d.Send(action(engine.Ban, "sshd", "192.0.2.1", time.Hour, true))
	d.Send(action(engine.Ban, "sshd", "192.0.2.5", time.Hour, true))
	d.Wait(map[string]int64{"fwcmd_elements_added": 1})
	d.Send(action(engine.Unban, "sshd", "192.0.2.1", 0, false))
	d.Wait(map[string]int64{"fwcmd_elements_deleted": 1})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		argv("ufw", "show", "added"),
		argv("ufw", "prepend", "deny", "from", "192.0.2.5", "to", "any", "port", "22", "proto", "tcp", "comment", "f2b"),
		argv("ufw", "delete", "deny", "from", "192.0.2.1", "to", "any", "port", "22", "proto", "tcp"),
	}
	if got := f.runs(t); !slices.Equal(got, want) {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFailureRetried: a failing program is logged with its message and
// counted; the ban is retried with backoff until it works, while other
// bans go on.
func TestFailureRetried(t *testing.T) {
	t.Parallel()
	f := newFake(t, "shorewall")
	d := startSink(t, Arguments{Tool: "shorewall", Bin: filepath.Join(f.dir, "shorewall"), Bin6: filepath.Join(f.dir, "shorewall")}, nil)
	d.Wait(map[string]int64{})
	if err := os.WriteFile(f.flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.Send(action(engine.Ban, "sshd", "192.0.2.1", time.Hour, false))
	d.Wait(map[string]int64{"fwcmd_errors": 3})
	if logs := d.Logs.String(); !strings.Contains(logs, "ERROR: simulated failure") {
		t.Errorf("logs lack the program's message:\n%s", logs)
	}
	os.Remove(f.flag)
	d.Wait(map[string]int64{"fwcmd_elements_added": 1})
	if got := f.runs(t); !slices.Equal(got, []string{argv("shorewall", "drop", "192.0.2.1")}) {
		t.Errorf("runs: %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args  Arguments
		attrs []string
	}{
		{Arguments{Tool: "iptables"}, []string{"tool"}},
		{Arguments{Tool: "ufw", Bin6: "x"}, []string{"bin6"}},
		{Arguments{Tool: "shorewall", Ports: []string{"22"}}, []string{"ports"}},
		{Arguments{Tool: "ufw", Protocol: cty.StringVal("sctp")}, []string{"protocol"}},
		{Arguments{Tool: "pf", Block: "deny", PrefixV4: 33}, []string{"block", "prefix_v4"}},
	}
	for _, tt := range tests {
		_, err := New(engine.Options{}, &tt.args)
		if err == nil {
			t.Errorf("%+v: no error", tt.args)
			continue
		}
		attrs, _ := fwtest.AttrErrors(t, err)
		if !slices.Equal(attrs, tt.attrs) {
			t.Errorf("%+v: %v, want attributes %v", tt.args, err, tt.attrs)
		}
	}
	s, err := New(engine.Options{}, &Arguments{Tool: "shorewall"})
	if err != nil || s.cfg.bins != [2]string{"shorewall", "shorewall6"} {
		t.Errorf("%+v %v", s, err)
	}
	if group("sshd") != "sshd" || group("a b") == "a b" || len(pfTable(group(strings.Repeat("x", 40)))) > 31 {
		t.Error("group names")
	}
}

// hooks are the sink's test hooks.
func hooks(s *Sink) *fwsync.Stage { return &s.fw }
