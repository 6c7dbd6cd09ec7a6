package route

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

func TestNew(t *testing.T) {
	t.Parallel()
	s, err := New(engine.Options{Name: "bh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{cfg: &s.cfg}
	if got := b.line("add", s.cfg.typ, netip.MustParsePrefix("2001:db8::1/128")); got != "route add blackhole 2001:db8::1/128 proto 252 table 254" {
		t.Errorf("line = %q", got)
	}
	s, err = New(engine.Options{Name: "bh"}, &Arguments{Type: "prohibit", RouteProto: 200, Table: 100, PrefixV4: 24})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg != (config{typ: "prohibit", proto: "200", table: "100", prefix: [2]int{24, 0}}) {
		t.Errorf("config = %+v", s.cfg)
	}
	_, err = New(engine.Options{Name: "bh"}, &Arguments{Type: "drop", RouteProto: 4, Table: 255, PrefixV6: 8})
	attrs, _ := fwtest.AttrErrors(t, err)
	if !slices.Equal(attrs, []string{"type", "route_proto", "table", "prefix_v6"}) || !strings.Contains(err.Error(), `unknown route type "drop"`) {
		t.Errorf("error %v: %v", err, attrs)
	}
}

func TestFailedLines(t *testing.T) {
	t.Parallel()
	got := failedLines("RTNETLINK answers: File exists\nCommand failed -:1\nRTNETLINK answers: No such process\nCommand failed -:3")
	if len(got) != 2 || got[0] != "RTNETLINK answers: File exists" || got[2] != "RTNETLINK answers: No such process" {
		t.Errorf("failedLines = %v", got)
	}
}
