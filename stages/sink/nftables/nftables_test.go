package nftables

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// TestRegisterHCL decodes a block body through the registration, as the
// front end does, and builds the stage: numbers in ports, a protocol list.
func TestRegisterHCL(t *testing.T) {
	t.Parallel()
	src := `
ports     = [22, "8000-8080", 25]
protocol  = ["udp", "tcp"]
block     = "reject"
prefix_v6 = 64
`
	st := fwtest.Build(t, Register, "nftables", src, engine.Options{ID: "sink.web", Name: "web"})
	c := st.(*Sink).cfg
	if c.table != "f2b" || !slices.Equal(c.chains, []hookChain{{"input_web", "input"}}) || c.priority != -10 || !c.Reject || c.prefix != [2]int{0, 64} {
		t.Errorf("config = %+v", c)
	}
	want := [2]string{
		"ip saddr @sshd_v4 meta l4proto { tcp, udp } th dport { 22, 25, 8000-8080 } counter reject",
		"ip6 saddr @sshd_v6 meta l4proto { tcp, udp } th dport { 22, 25, 8000-8080 } counter reject",
	}
	if got := c.rules("sshd"); got != want {
		t.Errorf("rules =\n%q\nwant\n%q", got, want)
	}
	// The defaults of an empty body.
	st = fwtest.Build(t, Register, "nftables", "", engine.Options{Name: "drop"})
	if got := st.(*Sink).cfg.rules("sshd")[0]; got != "ip saddr @sshd_v4 meta l4proto tcp counter drop" {
		t.Errorf("default rule = %q", got)
	}
	if got := st.(*Sink).cfg.chainDecl("input"); got != "{ type filter hook input priority -10; policy accept; }" {
		t.Errorf("chain = %q", got)
	}
}

// bothHooks is hook = ["input", "forward"].
var bothHooks = cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.StringVal("forward")})

// TestHooks: hook takes "input", "forward" or a list of both, as HCL gives
// them; each hook has its chain, and the start's script declares, flushes
// and fills each with the same rules and priority.
func TestHooks(t *testing.T) {
	t.Parallel()
	in, fwd := hookChain{"input_web", "input"}, hookChain{"forward_web", "forward"}
	for src, want := range map[string][]hookChain{
		``:                               {in},
		`hook = "input"`:                 {in},
		`hook = "forward"`:               {fwd},
		`hook = ["forward", "input"]`:    {in, fwd},
		`hook = [" Forward", "forward"]`: {fwd},
		`hook = ["input", "input"]`:      {in},
	} {
		st := fwtest.Build(t, Register, "nftables", src+"\npriority = 5\n", engine.Options{Name: "web"})
		c := st.(*Sink).cfg
		if !slices.Equal(c.chains, want) {
			t.Errorf("%s: chains %v, want %v", src, c.chains, want)
		}
		if len(c.chains)+len(c.unused) != 2 || !slices.Contains(c.ownChains(), "input_web") || !slices.Contains(c.ownChains(), "forward_web") {
			t.Errorf("%s: chains %v, unused %v", src, c.chains, c.unused)
		}
	}

	s, err := New(engine.Options{Name: "web"}, &Arguments{Hook: bothHooks, Ports: []string{"443"}, Block: "reject"})
	if err != nil {
		t.Fatal(err)
	}
	sc := &script{cfg: &s.cfg}
	sc.chains()
	sc.flushChains()
	sc.rules([]string{"sshd"})
	want := `add chain inet f2b input_web { type filter hook input priority -10; policy accept; }
add chain inet f2b forward_web { type filter hook forward priority -10; policy accept; }
flush chain inet f2b input_web
flush chain inet f2b forward_web
add rule inet f2b input_web ip saddr @sshd_v4 tcp dport 443 counter reject with tcp reset
add rule inet f2b input_web ip6 saddr @sshd_v6 tcp dport 443 counter reject with tcp reset
add rule inet f2b forward_web ip saddr @sshd_v4 tcp dport 443 counter reject with tcp reset
add rule inet f2b forward_web ip6 saddr @sshd_v6 tcp dport 443 counter reject with tcp reset
`
	if sc.String() != want {
		t.Errorf("script =\n%s\nwant\n%s", sc, want)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	p := 1 << 40
	tests := []struct {
		name  string
		args  Arguments
		attrs []string // the AttrError attributes, in order
		index []int
		msg   string
	}{
		{"table", Arguments{Table: "1f2b"}, []string{"table"}, []int{-1}, "not a usable table name"},
		{"table chars", Arguments{Table: "f2b;flush ruleset"}, []string{"table"}, []int{-1}, "not a usable"},
		{"priority", Arguments{Priority: &p}, []string{"priority"}, []int{-1}, "out of range"},
		{"block", Arguments{Block: "deny"}, []string{"block"}, []int{-1}, `unknown block "deny"`},
		{"ports", Arguments{Ports: []string{"22", "ssh", "0", "70000", "90-80", "1-2-3"}}, []string{"ports", "ports", "ports", "ports", "ports"}, []int{1, 2, 3, 4, 5}, "not a port"},
		{"protocol", Arguments{Protocol: cty.StringVal("icmp")}, []string{"protocol"}, []int{-1}, `unknown protocol "icmp"`},
		{"protocol list", Arguments{Protocol: cty.TupleVal([]cty.Value{cty.StringVal("tcp"), cty.NumberIntVal(1)})}, []string{"protocol"}, []int{-1}, "want"},
		{"protocol empty", Arguments{Protocol: cty.ListValEmpty(cty.String)}, []string{"protocol"}, []int{-1}, "empty"},
		{"all and more", Arguments{Protocol: cty.TupleVal([]cty.Value{cty.StringVal("all"), cty.StringVal("tcp")})}, []string{"protocol"}, []int{-1}, "alone"},
		{"all with ports", Arguments{Protocol: cty.StringVal("all"), Ports: []string{"22"}}, []string{"ports"}, []int{-1}, "takes no ports"},
		{"prefixes", Arguments{PrefixV4: 4, PrefixV6: 129}, []string{"prefix_v4", "prefix_v6"}, []int{-1, -1}, "out of range"},
		{"hook", Arguments{Hook: cty.StringVal("output")}, []string{"hook"}, []int{-1}, `unknown hook "output"; use "input", "forward", or both: ["input", "forward"]`},
		{"hook list", Arguments{Hook: cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.StringVal("prerouting")})}, []string{"hook"}, []int{-1}, `unknown hook "prerouting"`},
		{"hook type", Arguments{Hook: cty.NumberIntVal(1)}, []string{"hook"}, []int{-1}, `want "input", "forward"`},
		{"hook element", Arguments{Hook: cty.TupleVal([]cty.Value{cty.StringVal("input"), cty.True})}, []string{"hook"}, []int{-1}, `want "input"`},
		{"hook empty", Arguments{Hook: cty.ListValEmpty(cty.String)}, []string{"hook"}, []int{-1}, "empty"},
		{"hook and table", Arguments{Hook: cty.StringVal(""), Table: "-"}, []string{"table", "hook"}, []int{-1, -1}, `unknown hook ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(engine.Options{Name: "x"}, &tt.args)
			if err == nil {
				t.Fatal("no error")
			}
			attrs, index := fwtest.AttrErrors(t, err)
			if !slices.Equal(attrs, tt.attrs) || !slices.Equal(index, tt.index) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q: attrs %v %v, want %v %v and %q", err, attrs, index, tt.attrs, tt.index, tt.msg)
			}
		})
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args Arguments
		want string // the IPv4 rule
	}{
		{Arguments{}, "ip saddr @j_v4 meta l4proto tcp counter drop"},
		{Arguments{Ports: []string{"22"}}, "ip saddr @j_v4 tcp dport 22 counter drop"},
		{Arguments{Ports: []string{"23", "22", "22-23", "80-90", "85"}, Block: "reject"}, "ip saddr @j_v4 tcp dport { 22-23, 80-90 } counter reject with tcp reset"},
		{Arguments{Protocol: cty.StringVal("udp"), Block: "reject"}, "ip saddr @j_v4 meta l4proto udp counter reject"},
		{Arguments{Protocol: cty.StringVal("all")}, "ip saddr @j_v4 counter drop"},
		{Arguments{Protocol: cty.ListVal([]cty.Value{cty.StringVal("UDP"), cty.StringVal("tcp"), cty.StringVal("udp")})}, "ip saddr @j_v4 meta l4proto { tcp, udp } counter drop"},
	}
	for _, tt := range tests {
		s, err := New(engine.Options{}, &tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.cfg.rules("j")[0]; got != tt.want {
			t.Errorf("%+v: rule %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"drop":                  "input_drop",
		"":                      "input_f2b",
		"a b;c":                 "input_a_b_c",
		strings.Repeat("x", 40): "input_" + strings.Repeat("x", 32),
	} {
		if got := chainName("input", name); got != want {
			t.Errorf("chainName(input, %q) = %q, want %q", name, got, want)
		}
		fwd := "forward_" + strings.TrimPrefix(want, "input_")
		if got := chainName("forward", name); got != fwd {
			t.Errorf("chainName(forward, %q) = %q, want %q", name, got, fwd)
		}
	}
	if got := setBase("sshd-ddos_2"); got != "sshd-ddos_2" {
		t.Errorf("setBase kept name = %q", got)
	}
	for _, jail := range []string{"1st", "a b", "x;flush ruleset", strings.Repeat("y", 33), "jäil"} {
		got := setBase(jail)
		if !nameRE.MatchString(got) || !strings.HasPrefix(got, "j_") || got != setBase(jail) {
			t.Errorf("setBase(%q) = %q", jail, got)
		}
	}
	if setBase("a b") == setBase("a_b") {
		t.Error("mapped names collide")
	}
	if b, fam, ok := baseOfSet("sshd_v6"); !ok || b != "sshd" || fam != famV6 {
		t.Errorf("baseOfSet = %q %d %v", b, fam, ok)
	}
	if _, _, ok := baseOfSet("other"); ok {
		t.Error("baseOfSet(other) ok")
	}
}

// TestScriptOps: element changes as nft reads them (fwsync's tests check
// which changes the bans call for): an element ends with its timeout, a
// permanent one has none; an update adds the element first (so the
// delete cannot fail), deletes it and adds it with the new timeout,
// rounded up.
func TestScriptOps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key := func(n string) fwsync.Key { return fwsync.Key{Group: "sshd", Net: netip.MustParsePrefix(n)} }
	sc := &script{cfg: &config{table: "f2b"}}
	sc.ops([]fwsync.Op{
		{Kind: fwsync.Add, Key: key("192.0.2.0/24"), End: now.Add(2 * time.Hour)},
		{Kind: fwsync.Add, Key: key("2001:db8::1/128")},
	}, now)
	want := "add element inet f2b sshd_v4 { 192.0.2.0/24 timeout 7200s }\nadd element inet f2b sshd_v6 { 2001:db8::1 }\n"
	if sc.String() != want {
		t.Errorf("script =\n%s\nwant\n%s", sc, want)
	}
	sc = &script{cfg: &config{table: "f2b"}}
	sc.ops([]fwsync.Op{{Kind: fwsync.Update, Key: key("192.0.2.0/24"), End: now.Add(time.Hour)}}, now.Add(-500*time.Millisecond))
	want = "add element inet f2b sshd_v4 { 192.0.2.0/24 }\ndelete element inet f2b sshd_v4 { 192.0.2.0/24 }\nadd element inet f2b sshd_v4 { 192.0.2.0/24 timeout 3601s }\n"
	if sc.String() != want {
		t.Errorf("update script =\n%s\nwant\n%s", sc, want)
	}
	sc = &script{cfg: &config{table: "f2b"}}
	sc.ops([]fwsync.Op{{Kind: fwsync.Delete, Key: key("192.0.2.0/24")}}, now)
	want = "add element inet f2b sshd_v4 { 192.0.2.0/24 }\ndelete element inet f2b sshd_v4 { 192.0.2.0/24 }\n"
	if sc.String() != want {
		t.Errorf("delete script =\n%s\nwant\n%s", sc, want)
	}
}

func TestTimeoutText(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	for d, want := range map[time.Duration]string{
		time.Hour:                       " timeout 3600s",
		time.Hour + time.Millisecond:    " timeout 3601s",
		time.Millisecond:                " timeout 1s",
		100 * 365 * 24 * time.Hour:      " timeout 315360000s",
		-time.Second:                    " timeout 1s",
		3*time.Second - time.Nanosecond: " timeout 3s",
	} {
		if got := timeoutText(now.Add(d), now); got != want {
			t.Errorf("timeoutText(%v) = %q, want %q", d, got, want)
		}
	}
	if got := timeoutText(time.Time{}, now); got != "" {
		t.Errorf("permanent = %q", got)
	}
}

// listing is nft 1.0.6's `nft -j list table inet f2b` of a table with
// this sink's chains at the input and forward hooks, a chain of another
// sink, and sets of both.
const listing = `{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"table": {"family": "inet", "name": "f2b", "handle": 1}},
{"set": {"family": "inet", "name": "sshd_v4", "table": "f2b", "type": "ipv4_addr", "handle": 1, "flags": ["timeout"], "elem": [{"elem": {"val": "1.2.3.4", "timeout": 100, "expires": 99}}, "1.2.3.5"]}},
{"set": {"family": "inet", "name": "sshd_v6", "table": "f2b", "type": "ipv6_addr", "handle": 2, "flags": ["interval", "timeout"], "elem": [{"elem": {"val": {"prefix": {"addr": "fd00::", "len": 64}}, "timeout": 3600, "expires": 3599}}, {"prefix": {"addr": "fd01::", "len": 64}}, {"range": ["fd02::1", "fd02::9"]}]}},
{"set": {"family": "inet", "name": "web_v4", "table": "f2b", "type": "ipv4_addr", "handle": 5, "flags": "timeout"}},
{"chain": {"family": "inet", "table": "f2b", "name": "input_drop", "handle": 3, "type": "filter", "hook": "input", "prio": -10, "policy": "accept"}},
{"chain": {"family": "inet", "table": "f2b", "name": "input_web", "handle": 4, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
{"chain": {"family": "inet", "table": "f2b", "name": "forward_drop", "handle": 8, "type": "filter", "hook": "forward", "prio": -10, "policy": "accept"}},
{"set": {"family": "inet", "name": "fwd_v4", "table": "f2b", "type": "ipv4_addr", "handle": 9, "flags": ["timeout"]}},
{"rule": {"family": "inet", "table": "f2b", "chain": "forward_drop", "handle": 10, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@fwd_v4"}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "f2b", "chain": "input_drop", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@sshd_v4"}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "f2b", "chain": "input_drop", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@sshd_v6"}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "f2b", "chain": "input_web", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@web_v4"}}, {"drop": null}]}}]}`

func TestParseTable(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	snap := &snapshot{owned: map[string]bool{}, sets: map[string]*setInfo{}, chains: map[string]chainInfo{}, read: now}
	if err := parseTable([]byte(listing), []string{"input_drop", "forward_drop"}, snap); err != nil {
		t.Fatal(err)
	}
	if !snap.exists || snap.chains["input_drop"] != (chainInfo{typ: "filter", hook: "input", policy: "accept", prio: -10}) {
		t.Errorf("table %v chains %+v", snap.exists, snap.chains)
	}
	if c := snap.chains["forward_drop"]; c != (chainInfo{typ: "filter", hook: "forward", policy: "accept", prio: -10}) {
		t.Errorf("forward chain = %+v", c)
	}
	// The forward chain's rules make fwd_v4 the sink's too.
	if len(snap.owned) != 2 || !snap.owned["sshd"] || !snap.owned["fwd"] || snap.others != 2 {
		t.Errorf("owned %v others %d", snap.owned, snap.others)
	}
	v4 := snap.sets["sshd_v4"]
	if v4.typ != "ipv4_addr" || !slices.Equal(v4.flags, []string{"timeout"}) || len(v4.elems) != 2 || v4.unknown != 0 {
		t.Fatalf("sshd_v4 = %+v", v4)
	}
	if e := v4.elems[netip.MustParsePrefix("1.2.3.4/32")]; !e.Approx || !e.End.Equal(now.Add(99*time.Second)) {
		t.Errorf("1.2.3.4 = %+v", e)
	}
	if e, ok := v4.elems[netip.MustParsePrefix("1.2.3.5/32")]; !ok || !e.End.IsZero() {
		t.Errorf("1.2.3.5 = %+v %v", e, ok)
	}
	v6 := snap.sets["sshd_v6"]
	if len(v6.elems) != 2 || v6.unknown != 1 || !v6.elems[netip.MustParsePrefix("fd00::/64")].End.Equal(now.Add(3599*time.Second)) {
		t.Errorf("sshd_v6 = %+v", v6)
	}
	if w := snap.sets["web_v4"]; !slices.Equal(w.flags, []string{"timeout"}) {
		t.Errorf("web_v4 flags = %q", w.flags)
	}
	if err := parseTable([]byte("{"), []string{"x"}, snap); err == nil {
		t.Error("bad JSON: no error")
	}
}

func TestFindNft(t *testing.T) {
	t.Parallel()
	_, err := findNft("f2b-no-such-nft")
	if err == nil || !strings.Contains(err.Error(), "f2b-no-such-nft") {
		t.Errorf("err = %v", err)
	}
}

// TestRunWithoutNft: without the nft program Run fails at once, naming it.
func TestRunWithoutNft(t *testing.T) {
	t.Parallel()
	s, err := New(engine.Options{}, &Arguments{})
	if err != nil {
		t.Fatal(err)
	}
	s.nftName = "f2b-no-such-nft"
	in := make(chan engine.Event)
	close(in)
	err = s.Run(t.Context(), in, nil)
	if err == nil || !strings.Contains(err.Error(), "f2b-no-such-nft") {
		t.Errorf("Run = %v", err)
	}
}
