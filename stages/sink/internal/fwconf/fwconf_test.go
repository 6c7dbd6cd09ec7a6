package fwconf

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

func TestParsePorts(t *testing.T) {
	t.Parallel()
	got, errs := ParsePorts([]string{"23", " 22 ", "22-23", "80-90", "85", "91", "100-200"})
	want := []PortRange{{22, 23}, {80, 91}, {100, 200}}
	if len(errs) != 0 || !slices.Equal(got, want) {
		t.Errorf("ParsePorts = %v, %v; want %v", got, errs, want)
	}
	if Slots(got) != 6 || got[0].Text("-") != "22-23" || (PortRange{22, 22}).Text(":") != "22" || got[1].Text(":") != "80:91" {
		t.Errorf("slots %d, texts %q %q", Slots(got), got[0].Text("-"), got[1].Text(":"))
	}
	_, errs = ParsePorts([]string{"22", "ssh", "0", "70000", "90-80", "1-2-3", ""})
	var index []int
	for _, e := range errs {
		var ae *confval.AttrError
		if !errors.As(e, &ae) || ae.Attr != AttrPorts {
			t.Fatalf("%v is not an *AttrError of ports", e)
		}
		index = append(index, ae.Index)
	}
	if !slices.Equal(index, []int{1, 2, 3, 4, 5, 6}) || !strings.Contains(errs[3].Error(), "ends before it starts") {
		t.Errorf("errors %v at %v", errs, index)
	}
}

func TestParseProtocols(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v     cty.Value
		known []string
		want  []string
		all   bool
		err   string
	}{
		{cty.NilVal, Protocols, []string{"tcp"}, false, ""},
		{cty.NullVal(cty.String), Protocols, []string{"tcp"}, false, ""},
		{cty.StringVal("udplite"), Protocols, []string{"udplite"}, false, ""},
		{cty.ListVal([]cty.Value{cty.StringVal("UDP"), cty.StringVal(" tcp"), cty.StringVal("udp")}), Protocols, []string{"tcp", "udp"}, false, ""},
		{cty.StringVal("all"), Protocols, nil, true, ""},
		{cty.StringVal("udplite"), []string{"tcp", "udp"}, nil, false, `unknown protocol "udplite"; use "tcp", "udp" or "all"`},
		{cty.TupleVal([]cty.Value{cty.StringVal("all"), cty.StringVal("tcp")}), Protocols, nil, false, "alone"},
		{cty.TupleVal([]cty.Value{cty.StringVal("all"), cty.StringVal("all")}), Protocols, nil, false, "alone"},
		{cty.ListValEmpty(cty.String), Protocols, nil, false, "empty"},
		{cty.TupleVal([]cty.Value{cty.StringVal("tcp"), cty.NumberIntVal(1)}), Protocols, nil, false, "want"},
		{cty.NumberIntVal(6), Protocols, nil, false, "want"},
		{cty.UnknownVal(cty.String), Protocols, nil, false, "not known"},
	}
	for _, tt := range tests {
		got, all, err := ParseProtocols(tt.v, tt.known)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%#v: error %v, want %q", tt.v, err, tt.err)
			}
			continue
		}
		if err != nil || all != tt.all || !slices.Equal(got, tt.want) {
			t.Errorf("%#v = %v, %v, %v; want %v, %v", tt.v, got, all, err, tt.want, tt.all)
		}
	}
}

// TestParseFilter: the errors name their attribute, in the order block,
// ports, protocol; "all" takes no ports.
func TestParseFilter(t *testing.T) {
	t.Parallel()
	f, errs := ParseFilter("reject", []string{"22"}, cty.StringVal("udp"), Protocols)
	if len(errs) != 0 || !f.Reject || !slices.Equal(f.Protocols, []string{"udp"}) || len(f.Ports) != 1 {
		t.Errorf("filter %+v, %v", f, errs)
	}
	attrs := func(errs []error) []string {
		out, _ := fwtest.AttrErrors(t, errors.Join(errs...))
		return out
	}
	_, errs = ParseFilter("deny", []string{"x"}, cty.StringVal("icmp"), Protocols)
	if got := attrs(errs); !slices.Equal(got, []string{AttrBlock, AttrPorts, AttrProtocol}) || !strings.Contains(errs[0].Error(), `unknown block "deny"`) {
		t.Errorf("errors %v: %v", errs, got)
	}
	f, errs = ParseFilter("", []string{"22"}, cty.StringVal("all"), Protocols)
	if got := attrs(errs); !slices.Equal(got, []string{AttrPorts}) || !strings.Contains(errs[0].Error(), "takes no ports") || f.Reject {
		t.Errorf("errors %v: %v", errs, got)
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	if p, errs := ParsePrefixes(24, 128); p != [2]int{24, 0} || len(errs) != 0 {
		t.Errorf("ParsePrefixes(24, 128) = %v, %v", p, errs)
	}
	p, errs := ParsePrefixes(4, 129)
	if p != [2]int{} || len(errs) != 2 {
		t.Fatalf("ParsePrefixes(4, 129) = %v, %v", p, errs)
	}
	for i, attr := range []string{AttrPrefixV4, AttrPrefixV6} {
		var ae *confval.AttrError
		if !errors.As(errs[i], &ae) || ae.Attr != attr || !strings.Contains(ae.Error(), "out of range") {
			t.Errorf("error %d: %v", i, errs[i])
		}
	}
}

func TestJailName(t *testing.T) {
	t.Parallel()
	if Stem("sshd") != "sshd" || Stem("nginx-http.auth") != "nginx-http.auth" {
		t.Error("plain names changed")
	}
	for _, j := range []string{"a jail with spaces", "-x", strings.Repeat("j", 25), "x;y"} {
		s := Stem(j)
		if s != Stem(j) || !StemRE.MatchString(s) || !strings.HasPrefix(s, "j") || len(s) != 13 {
			t.Errorf("Stem(%q) = %q", j, s)
		}
	}
	if Stem("a b") == Stem("a_b") {
		t.Error("mapped names collide")
	}
	re := regexp.MustCompile(`^[a-z]+$`)
	if got := JailName("a1", re, "j_", 8); len(got) != 2+16 || got[:2] != "j_" {
		t.Errorf("JailName = %q", got)
	}
}

type stage struct{ a *args }

func (stage) Run(context.Context, <-chan engine.Event, chan<- engine.Event) error { return nil }

type args struct{ X int }

// TestRegister: the registration builds the stage from its arguments,
// refuses arguments of another type, and turns a failed build into a nil
// stage.
func TestRegister(t *testing.T) {
	t.Parallel()
	r := engine.NewRegistry()
	Register(r, "x", "does x", func() *args { return &args{X: 1} }, func(_ engine.Options, a *args) (*stage, error) {
		if a.X < 0 {
			return nil, errors.New("negative")
		}
		return &stage{a}, nil
	})
	reg, ok := r.Lookup("sink", "x")
	if !ok || reg.In != engine.KindAction || reg.Out != engine.KindNone || reg.Summary != "does x" {
		t.Fatalf("registration = %+v, %v", reg, ok)
	}
	a := reg.NewArgs().(*args)
	if a.X != 1 {
		t.Errorf("defaults = %+v", a)
	}
	st, err := reg.Build(engine.Options{}, a)
	if err != nil || st.(*stage).a != a {
		t.Errorf("Build = %v, %v", st, err)
	}
	if st, err := reg.Build(engine.Options{}, &args{X: -1}); err == nil || st != nil {
		t.Errorf("failed Build = %#v, %v; want a nil Stage", st, err)
	}
	if _, err := reg.Build(engine.Options{}, struct{}{}); err == nil || !strings.Contains(err.Error(), "want *fwconf.args") {
		t.Errorf("Build of other arguments: %v", err)
	}
}
