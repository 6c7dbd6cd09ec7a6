package nftables

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// TestRegisterHCL decodes a block body through the registration, as the
// front end does, and builds the stage: numbers in ports, a protocol list.
func TestRegisterHCL(t *testing.T) {
	t.Parallel()
	r := engine.NewRegistry()
	Register(r)
	reg, ok := r.Lookup("sink", "nftables")
	if !ok || reg.In != engine.KindAction || reg.Out != engine.KindNone {
		t.Fatalf("registration = %+v, %v", reg, ok)
	}
	src := `
ports     = [22, "8000-8080", 25]
protocol  = ["udp", "tcp"]
block     = "reject"
prefix_v6 = 64
`
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	args := reg.NewArgs()
	if diags := gohcl.DecodeBody(f.Body, nil, args); diags.HasErrors() {
		t.Fatal(diags)
	}
	st, err := reg.Build(engine.Options{ID: "sink.web", Name: "web"}, args)
	if err != nil {
		t.Fatal(err)
	}
	c := st.(*Sink).cfg
	if c.table != "f2b" || c.chain != "input_web" || c.priority != -10 || !c.reject || c.prefix != [2]int{0, 64} {
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
	args = reg.NewArgs()
	st, err = reg.Build(engine.Options{Name: "drop"}, args)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.(*Sink).cfg.rules("sshd")[0]; got != "ip saddr @sshd_v4 meta l4proto tcp counter drop" {
		t.Errorf("default rule = %q", got)
	}
	if got := st.(*Sink).cfg.chainDecl(); got != "{ type filter hook input priority -10; policy accept; }" {
		t.Errorf("chain = %q", got)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(engine.Options{Name: "x"}, &tt.args)
			if err == nil {
				t.Fatal("no error")
			}
			var attrs []string
			var index []int
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ae *confval.AttrError
				if !errors.As(e, &ae) {
					t.Fatalf("%v is not an *AttrError", e)
				}
				attrs, index = append(attrs, ae.Attr), append(index, ae.Index)
			}
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
		if got := chainName(name); got != want {
			t.Errorf("chainName(%q) = %q, want %q", name, got, want)
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

func action(typ engine.ActionType, jail, host string, end time.Time) *engine.Action {
	a := &engine.Action{Type: typ, Jail: jail, Host: netip.MustParseAddr(host), End: end, BanTime: time.Hour}
	if end.IsZero() && typ != engine.Unban {
		a.BanTime = engine.Permanent
	}
	return a
}

// TestStateDiff: the changes sent to nft follow the bans, actions that
// cancel out cost nothing, and a network stays while a host in it is
// banned.
func TestStateDiff(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := newState([2]int{24, 0})
	st.apply(action(engine.Ban, "sshd", "192.0.2.7", now.Add(time.Hour)))
	st.apply(action(engine.Ban, "sshd", "192.0.2.9", now.Add(2*time.Hour)))
	st.apply(action(engine.Ban, "sshd", "2001:db8::1", time.Time{}))
	st.apply(action(engine.Ban, "sshd", "2001:db8::2", now.Add(time.Hour)))
	st.apply(action(engine.Unban, "sshd", "2001:db8::2", time.Time{}))
	ops := st.takeDirty(now, 100)
	slices.SortFunc(ops, func(a, b op) int { return a.key.net.Addr().Compare(b.key.net.Addr()) })
	if len(ops) != 2 || ops[0].kind != opAdd || ops[0].key.net != netip.MustParsePrefix("192.0.2.0/24") ||
		!ops[0].want.end.Equal(now.Add(2*time.Hour)) || ops[1].key.net != netip.MustParsePrefix("2001:db8::1/128") || !ops[1].want.end.IsZero() {
		t.Fatalf("ops = %+v", ops)
	}
	sc := &script{cfg: &config{table: "f2b"}}
	sc.ops(ops, now)
	want := "add element inet f2b sshd_v4 { 192.0.2.0/24 timeout 7200s }\nadd element inet f2b sshd_v6 { 2001:db8::1 }\n"
	if sc.String() != want {
		t.Errorf("script =\n%s\nwant\n%s", sc, want)
	}
	st.commit(ops)
	if len(st.dirty) != 0 {
		t.Errorf("dirty after take: %v", st.dirty)
	}

	// One host of the network leaves: the network stays, with the end of
	// the one left.
	st.apply(action(engine.Unban, "sshd", "192.0.2.9", time.Time{}))
	ops = st.takeDirty(now, 100)
	if len(ops) != 1 || ops[0].kind != opUpdate || !ops[0].want.end.Equal(now.Add(time.Hour)) {
		t.Fatalf("ops after one unban = %+v", ops)
	}
	st.commit(ops)
	sc = &script{cfg: &config{table: "f2b"}}
	sc.ops(ops, now.Add(-500*time.Millisecond))
	want = "add element inet f2b sshd_v4 { 192.0.2.0/24 }\ndelete element inet f2b sshd_v4 { 192.0.2.0/24 }\nadd element inet f2b sshd_v4 { 192.0.2.0/24 timeout 3601s }\n"
	if sc.String() != want {
		t.Errorf("update script =\n%s\nwant\n%s", sc, want)
	}
	// The last one leaves: the network goes.
	st.apply(action(engine.Unban, "sshd", "192.0.2.7", time.Time{}))
	ops = st.takeDirty(now, 100)
	if len(ops) != 1 || ops[0].kind != opDelete {
		t.Fatalf("ops after last unban = %+v", ops)
	}
	st.commit(ops)
	// A ban that is over is not added.
	st.apply(action(engine.Ban, "sshd", "198.51.100.1", now.Add(100*time.Millisecond)))
	if ops := st.takeDirty(now, 100); len(ops) != 0 {
		t.Errorf("ops of an ended ban = %+v", ops)
	}
	if a, d := counts([]op{{kind: opAdd}, {kind: opUpdate}, {kind: opDelete}}); a != 2 || d != 2 {
		t.Errorf("counts = %d, %d", a, d)
	}
}

func TestSame(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		want, have elemState
		same       bool
	}{
		{elemState{}, elemState{}, true},
		{elemState{}, elemState{end: end}, false},
		{elemState{end: end}, elemState{approx: true}, false},
		{elemState{end: end}, elemState{end: end.Add(time.Millisecond)}, false},
		{elemState{end: end}, elemState{end: end.Add(4 * time.Second), approx: true}, true},
		{elemState{end: end}, elemState{end: end.Add(-5 * time.Second), approx: true}, true},
		{elemState{end: end}, elemState{end: end.Add(6 * time.Second), approx: true}, false},
	}
	for _, tt := range tests {
		if got := same(tt.want, tt.have); got != tt.same {
			t.Errorf("same(%+v, %+v) = %v", tt.want, tt.have, got)
		}
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

// listing is nft 1.0.6's `nft -j list table inet f2b` of a table with a
// chain of this sink, one of another sink, and sets of both.
const listing = `{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"table": {"family": "inet", "name": "f2b", "handle": 1}},
{"set": {"family": "inet", "name": "sshd_v4", "table": "f2b", "type": "ipv4_addr", "handle": 1, "flags": ["timeout"], "elem": [{"elem": {"val": "1.2.3.4", "timeout": 100, "expires": 99}}, "1.2.3.5"]}},
{"set": {"family": "inet", "name": "sshd_v6", "table": "f2b", "type": "ipv6_addr", "handle": 2, "flags": ["interval", "timeout"], "elem": [{"elem": {"val": {"prefix": {"addr": "fd00::", "len": 64}}, "timeout": 3600, "expires": 3599}}, {"prefix": {"addr": "fd01::", "len": 64}}, {"range": ["fd02::1", "fd02::9"]}]}},
{"set": {"family": "inet", "name": "web_v4", "table": "f2b", "type": "ipv4_addr", "handle": 5, "flags": "timeout"}},
{"chain": {"family": "inet", "table": "f2b", "name": "input_drop", "handle": 3, "type": "filter", "hook": "input", "prio": -10, "policy": "accept"}},
{"chain": {"family": "inet", "table": "f2b", "name": "input_web", "handle": 4, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
{"rule": {"family": "inet", "table": "f2b", "chain": "input_drop", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@sshd_v4"}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "f2b", "chain": "input_drop", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@sshd_v6"}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "f2b", "chain": "input_web", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@web_v4"}}, {"drop": null}]}}]}`

func TestParseTable(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	snap := &snapshot{owned: map[string]bool{}, sets: map[string]*setInfo{}, chains: map[string]chainInfo{}, read: now}
	if err := parseTable([]byte(listing), "input_drop", snap); err != nil {
		t.Fatal(err)
	}
	if !snap.exists || snap.chain == nil || *snap.chain != (chainInfo{typ: "filter", hook: "input", policy: "accept", prio: -10}) {
		t.Errorf("table %v chain %+v", snap.exists, snap.chain)
	}
	if len(snap.owned) != 1 || !snap.owned["sshd"] || snap.others != 2 {
		t.Errorf("owned %v others %d", snap.owned, snap.others)
	}
	v4 := snap.sets["sshd_v4"]
	if v4.typ != "ipv4_addr" || !slices.Equal(v4.flags, []string{"timeout"}) || len(v4.elems) != 2 || v4.unknown != 0 {
		t.Fatalf("sshd_v4 = %+v", v4)
	}
	if e := v4.elems[netip.MustParsePrefix("1.2.3.4/32")]; !e.approx || !e.end.Equal(now.Add(99*time.Second)) {
		t.Errorf("1.2.3.4 = %+v", e)
	}
	if e, ok := v4.elems[netip.MustParsePrefix("1.2.3.5/32")]; !ok || !e.end.IsZero() {
		t.Errorf("1.2.3.5 = %+v %v", e, ok)
	}
	v6 := snap.sets["sshd_v6"]
	if len(v6.elems) != 2 || v6.unknown != 1 || !v6.elems[netip.MustParsePrefix("fd00::/64")].end.Equal(now.Add(3599*time.Second)) {
		t.Errorf("sshd_v6 = %+v", v6)
	}
	if w := snap.sets["web_v4"]; !slices.Equal(w.flags, []string{"timeout"}) {
		t.Errorf("web_v4 flags = %q", w.flags)
	}
	if err := parseTable([]byte("{"), "x", snap); err == nil {
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
