package command

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		name     string
		args     Arguments
		want     []string // attribute of each error
		wantText string
	}{
		{name: "nothing", args: Arguments{}, want: []string{""}, wantText: "no command is set"},
		{name: "bad timeout", args: Arguments{Ban: "x", Timeout: "soon"}, want: []string{"timeout"}, wantText: "invalid duration"},
		{name: "permanent timeout", args: Arguments{Ban: "x", Timeout: "permanent"}, want: []string{"timeout"}, wantText: "finite"},
		{name: "family", args: Arguments{Ban: "x", Family: []FamilyArguments{{Name: "inet5"}, {Name: "inet6"}, {Name: "inet6"}}},
			want: []string{"family", "family"}, wantText: `unknown family "inet5"`},
		{name: "loop", args: Arguments{Ban: "x <a>", Tags: map[string]string{"a": "<b>", "b": "<a>"}}, want: []string{"ban"}, wantText: "circle"},
		{name: "tags", args: Arguments{Ban: "x", Tags: map[string]string{"a b": "1", "F-USER": "x", "ip?family=inet6": "x", "p?family=inet7": "x"}},
			want: []string{"tags", "tags", "tags", "tags"}},
		{name: "bantime without a ban", args: Arguments{Ban: "x", Start: "ipset create s timeout <bantime>"}, want: []string{"start"}, wantText: "tags = { bantime"},
		{name: "NUL", args: Arguments{Ban: "x", Family: []FamilyArguments{{Name: "inet6", Ban: str("a\x00b")}}}, want: []string{"ban"}, wantText: `family "inet6" ban holds a NUL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(engine.Options{}, &tt.args)
			if err == nil {
				t.Fatalf("New = %+v, want errors", s)
			}
			var got []string
			collect(err, func(attr string) { got = append(got, attr) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors at %q, want %q: %v", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

// collect calls f with the attribute of every error joined in err ("" for
// one that names none).
func collect(err error, f func(string)) {
	if ae, ok := err.(*confval.AttrError); ok {
		f(ae.Attr)
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collect(e, f)
		}
		return
	}
	f("")
}

// TestStaticTags: tags resolve recursively, per family, and leave dynamic,
// built-in and unknown tags alone; a tag named like a dynamic one is the
// value without a ban only.
func TestStaticTags(t *testing.T) {
	t.Parallel()
	s, err := New(engine.Options{}, &Arguments{
		Start: "start <chain> <bantime> <jail.name>",
		Ban:   "ban <chain> <ip> <br> <unknown> <<tbl>-<name>>",
		Tags: map[string]string{
			"chain": "f2b-<name>", "chain?family=inet6": "f2b6-<name>", "name": "sshd", "tbl": "t",
			"bantime": "600", "jail.name": "sshd",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !s.conditional || !s.onDemand {
		t.Errorf("a ?family= tag makes the action family-dependent: conditional %v, on demand %v", s.conditional, s.onDemand)
	}
	for slot, want := range map[int]string{
		famNone:  "ban f2b-sshd <ip> <br> <unknown> <t-sshd>",
		famInet4: "ban f2b-sshd <ip> <br> <unknown> <t-sshd>",
		famInet6: "ban f2b6-sshd <ip> <br> <unknown> <t-sshd>",
	} {
		if got := s.cmds[hBan][slot]; got != want {
			t.Errorf("ban for %q = %q, want %q", famNames[slot], got, want)
		}
	}
	if got := s.cmds[hStart][famNone]; got != "start f2b-sshd <bantime> <jail.name>" {
		t.Errorf("start = %q", got)
	}
	// Without a ban, <bantime> and <jail.name> come from tags.
	r := s.newRunner(t.Context())
	tk := r.noTicket("")
	got := replaceDynamic(r.ops[hStart][famNone], tk.lookup, tk.field, r.builtin).text
	if got != "start f2b-sshd 600 sshd" {
		t.Errorf("start runs %q", got)
	}
}

// TestRegisterHCL decodes a block body through the registration, as the
// front end does, and builds the stage.
func TestRegisterHCL(t *testing.T) {
	t.Parallel()
	r := engine.NewRegistry()
	Register(r)
	reg, ok := r.Lookup("sink", "command")
	if !ok || reg.In != engine.KindAction || reg.Out != engine.KindNone {
		t.Fatalf("registration = %+v, %v", reg, ok)
	}
	src := `
start = <<-SH
  nft add table inet f2b-table
  nft add set inet f2b-table <set> \{ type ipv4_addr\; \}
SH
ban   = "nft add element inet f2b-table <set> \\{ <ip> \\}"
unban = "nft delete element inet f2b-table <set> \\{ <ip> \\}"
family "inet6" {
  ban   = "nft add element inet f2b-table <set> \\{ <ip> \\}"
  start = ""
}
no_restored = true
tags = { set = "addr-set-sshd", "set?family=inet6" = "addr6-set-sshd" }
`
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	args := reg.NewArgs()
	if diags := gohcl.DecodeBody(f.Body, nil, args); diags.HasErrors() {
		t.Fatal(diags)
	}
	st, err := reg.Build(engine.Options{ID: "sink.nft"}, args)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*Sink)
	if s.timeout != 60*time.Second || !s.onDemand || !s.noRestored {
		t.Errorf("timeout %v, on demand %v, no_restored %v", s.timeout, s.onDemand, s.noRestored)
	}
	if got := s.cmds[hStart][famNone]; got != "nft add table inet f2b-table\nnft add set inet f2b-table addr-set-sshd \\{ type ipv4_addr\\; \\}\n" {
		t.Errorf("start = %q", got)
	}
	if s.cmds[hStart][famInet6] != "" || s.cmds[hBan][famInet6] != `nft add element inet f2b-table addr6-set-sshd \{ <ip> \}` {
		t.Errorf("inet6: start %q, ban %q", s.cmds[hStart][famInet6], s.cmds[hBan][famInet6])
	}
	if _, err := reg.Build(engine.Options{}, &Arguments{}); err == nil {
		t.Error("Build with no command: want an error")
	}
	if fmt.Sprint(s.Stats()) != "map[command_failures:0 commands:0 repairs:0]" {
		t.Errorf("Stats = %v", s.Stats())
	}
}
