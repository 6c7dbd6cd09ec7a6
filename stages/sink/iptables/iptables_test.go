package iptables

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// TestRegisterHCL decodes a block body through the registration, as the
// front end does, and builds the stage.
func TestRegisterHCL(t *testing.T) {
	t.Parallel()
	src := `
use_ipset = false
iptables  = "iptables-legacy"
ports     = [22, "8000-8080"]
protocol  = ["udp", "tcp"]
block     = "reject"
prefix_v6 = 64
`
	st := fwtest.Build(t, Register, "iptables", src, engine.Options{ID: "sink.web", Name: "web"})
	c := st.(*Sink).cfg
	if c.useIpset != ipsetOff || c.bins != [2]string{"iptables-legacy", "ip6tables-legacy"} || !slices.Equal(c.from, []string{"INPUT"}) || !c.Reject || c.prefix != [2]int{0, 64} {
		t.Errorf("config = %+v", c)
	}
	want := []string{
		"-p tcp -m multiport --dports 22,8000:8080 -j f2b-sshd",
		"-p udp -m multiport --dports 22,8000:8080 -j f2b-sshd",
	}
	if got := c.jumps("sshd"); !slices.Equal(got, want) {
		t.Errorf("jumps = %q, want %q", got, want)
	}
	if got := c.banRule(netip.MustParsePrefix("2001:db8::/64"), famV6); got != "-s 2001:db8::/64 -j REJECT --reject-with icmp6-port-unreachable" {
		t.Errorf("ban rule = %q", got)
	}
	// The defaults.
	st = fwtest.Build(t, Register, "iptables", "", engine.Options{Name: "drop"})
	c = st.(*Sink).cfg
	if c.useIpset != ipsetAuto || c.bins[0] != "iptables" || c.setRule("sshd", famV6) != "-m set --match-set f2b-sshd-v6 src -j DROP" {
		t.Errorf("defaults = %+v, %q", c, c.setRule("sshd", famV6))
	}
	if got := c.jumps("sshd"); !slices.Equal(got, []string{"-p tcp -j f2b-sshd"}) {
		t.Errorf("default jumps = %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  Arguments
		attrs []string
		msg   string
	}{
		{"use_ipset", Arguments{UseIpset: cty.StringVal("yes")}, []string{"use_ipset"}, `"yes" is not a setting`},
		{"use_ipset number", Arguments{UseIpset: cty.NumberIntVal(1)}, []string{"use_ipset"}, "want true, false"},
		{"iptables", Arguments{Iptables: "nft"}, []string{"iptables"}, "not an iptables program"},
		{"chain", Arguments{Chain: "INPUT -j ACCEPT"}, []string{"chain"}, "not a chain name"},
		{"hook", Arguments{Hook: cty.StringVal("output")}, []string{"hook"}, `unknown hook "output"; use "input", "forward", or both: ["input", "forward"]`},
		{"hook list", Arguments{Hook: cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.StringVal("prerouting")})}, []string{"hook"}, `unknown hook "prerouting"`},
		{"hook type", Arguments{Hook: cty.NumberIntVal(1)}, []string{"hook"}, `want "input", "forward"`},
		{"hook element", Arguments{Hook: cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.True})}, []string{"hook"}, `want "input"`},
		{"hook empty", Arguments{Hook: cty.ListValEmpty(cty.String)}, []string{"hook"}, "empty"},
		{"hook and chain", Arguments{Hook: cty.StringVal("forward"), Chain: "FORWARD"}, []string{"chain"}, "set hook or chain, not both"},
		{"hook and block", Arguments{Hook: cty.StringVal(""), Block: "deny"}, []string{"hook", "block"}, `unknown hook ""`},
		{"block", Arguments{Block: "deny"}, []string{"block"}, `unknown block "deny"`},
		{"ports", Arguments{Ports: []string{"ssh", "9-8"}}, []string{"ports", "ports"}, "not a port"},
		{"protocol", Arguments{Protocol: cty.StringVal("icmp")}, []string{"protocol"}, `unknown protocol "icmp"`},
		{"all with ports", Arguments{Protocol: cty.StringVal("all"), Ports: []string{"22"}}, []string{"ports"}, "takes no ports"},
		{"prefixes", Arguments{PrefixV4: 4, PrefixV6: 129}, []string{"prefix_v4", "prefix_v6"}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(engine.Options{Name: "x"}, &tt.args)
			if err == nil {
				t.Fatal("no error")
			}
			attrs, _ := fwtest.AttrErrors(t, err)
			if !slices.Equal(attrs, tt.attrs) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q: attrs %v, want %v and %q", err, attrs, tt.attrs, tt.msg)
			}
		})
	}
}

// TestHooks: hook takes "input", "forward" or a list of both, as HCL
// gives them, and picks the chains that jump to the sink's (INPUT,
// FORWARD); the hooks' chains not picked are the stale ones. Chain, set
// alone, is the one chain to jump from.
func TestHooks(t *testing.T) {
	t.Parallel()
	for src, want := range map[string][2][]string{
		``:                               {{"INPUT"}, {"FORWARD"}},
		`hook = "input"`:                 {{"INPUT"}, {"FORWARD"}},
		`hook = "forward"`:               {{"FORWARD"}, {"INPUT"}},
		`hook = ["forward", "input"]`:    {{"INPUT", "FORWARD"}, nil},
		`hook = [" Forward", "forward"]`: {{"FORWARD"}, {"INPUT"}},
		`chain = "FORWARD"`:              {{"FORWARD"}, {"INPUT"}},
		`chain = "admin-in"`:             {{"admin-in"}, {"INPUT", "FORWARD"}},
	} {
		c := fwtest.Build(t, Register, "iptables", src, engine.Options{Name: "web"}).(*Sink).cfg
		if !slices.Equal(c.from, want[0]) || !slices.Equal(c.stale, want[1]) {
			t.Errorf("%s: from %q stale %q, want %q", src, c.from, c.stale, want)
		}
	}
}

// TestJumpsSplit: more ports than one multiport match takes are spread
// over several jumps (a range takes two of the 15 slots).
func TestJumpsSplit(t *testing.T) {
	t.Parallel()
	var ports []string
	for p := 1; p <= 14; p++ {
		ports = append(ports, strconv.Itoa(p*2))
	}
	ports = append(ports, "100-200")
	s, err := New(engine.Options{Name: "x"}, &Arguments{Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	got := s.cfg.jumps("sshd")
	if len(got) != 2 || !strings.HasSuffix(got[1], "--dports 100:200 -j f2b-sshd") {
		t.Errorf("jumps = %q", got)
	}
}

// TestNames: a jail name chains and sets cannot hold becomes a stable
// hash within their length limits.
func TestNames(t *testing.T) {
	t.Parallel()
	if stem("sshd") != "sshd" || stem("nginx-http.auth") != "nginx-http.auth" {
		t.Error("plain names changed")
	}
	for _, j := range []string{"a jail with spaces", "-x", strings.Repeat("j", 25), "x;y"} {
		s := stem(j)
		if s != stem(j) || !fwconf.StemRE.MatchString(s) || len(setOf(s, famV6)) > 31 || len(chainOf(s)) > 28 {
			t.Errorf("stem(%q) = %q", j, s)
		}
	}
}

// TestIpsetScript: timeouts round up, stay within ipset's limit, and a
// permanent ban has timeout 0.
func TestIpsetScript(t *testing.T) {
	t.Parallel()
	now := time.Now()
	b := &backend{cfg: &config{}}
	ops := []fwsync.Op{
		{Kind: fwsync.Add, Key: fwsync.Key{Group: "sshd", Net: netip.MustParsePrefix("192.0.2.1/32")}, End: now.Add(1500 * time.Millisecond)},
		{Kind: fwsync.Update, Key: fwsync.Key{Group: "sshd", Net: netip.MustParsePrefix("2001:db8::/64")}, End: now.Add(100 * 24 * time.Hour)},
		{Kind: fwsync.Add, Key: fwsync.Key{Group: "web", Net: netip.MustParsePrefix("192.0.2.2/32")}},
		{Kind: fwsync.Delete, Key: fwsync.Key{Group: "web", Net: netip.MustParsePrefix("192.0.2.3/32")}},
	}
	want := "add f2b-sshd 192.0.2.1 timeout 2\nadd f2b-sshd-v6 2001:db8::/64 timeout 2147483\nadd f2b-web 192.0.2.2 timeout 0\ndel f2b-web 192.0.2.3\n"
	if got := b.ipsetScript(ops, now); got != want {
		t.Errorf("script:\n%s\nwant\n%s", got, want)
	}
	if !timeout(now.Add(30*24*time.Hour), now).IsZero() || timeout(now.Add(time.Hour), now) != now.Add(time.Hour) {
		t.Error("timeout cap")
	}
}

// TestReadRules: rules of the sink's chain that are not bans as it
// writes them are deleted, duplicates too.
func TestReadRules(t *testing.T) {
	t.Parallel()
	b := &backend{cfg: &config{}}
	held := map[netip.Prefix]fwsync.Elem{}
	del := b.readRules("sshd", famV4, []string{
		"-s 192.0.2.1/32 -j DROP",
		"-s 192.0.2.1/32 -j DROP",
		"-s 192.0.2.2/32 -j ACCEPT",
		"-m set --match-set f2b-sshd src -j DROP",
		"-s 192.0.2.0/24 -j DROP",
	}, held)
	want := []string{"-D f2b-sshd -s 192.0.2.1/32 -j DROP", "-D f2b-sshd -s 192.0.2.2/32 -j ACCEPT", "-D f2b-sshd -m set --match-set f2b-sshd src -j DROP"}
	if !slices.Equal(del, want) || len(held) != 2 {
		t.Errorf("deletions %q, held %v", del, held)
	}
}
