package sinkfmt

import (
	"net/netip"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

func TestSuggest(t *testing.T) {
	t.Parallel()
	names := []string{"ip", "jail", "failures", "time", "ban_time", "ban_count", "matches", "family"}
	tests := []struct{ in, want string }{
		{in: "ipp", want: "ip"},
		{in: "IP", want: "ip"},
		{in: "jial", want: "jail"},
		{in: "bantime", want: "ban_time"},
		{in: "bancount", want: "ban_count"},
		{in: "failure", want: "failures"},
		{in: "HOME", want: ""},
		{in: "user", want: ""},
		{in: "xyzzy", want: ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, names); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	if got := Seconds(engine.Permanent); got != -1 {
		t.Errorf("Seconds(Permanent) = %d", got)
	}
	if got := Seconds(time.Millisecond); got != 1 {
		t.Errorf("Seconds(1ms) = %d, want 1", got)
	}
	if got := Seconds(90 * time.Minute); got != 5400 {
		t.Errorf("Seconds(90m) = %d", got)
	}
	if got := string(AppendDuration(nil, engine.Permanent)); got != "permanent" {
		t.Errorf("AppendDuration(Permanent) = %q", got)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	unban := engine.Event{Action: &engine.Action{Type: engine.Unban, Start: start, End: start.Add(time.Hour)}}
	if got := EventTime(unban); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("EventTime(unban without time) = %v, want the ban's end", got)
	}
	a := &engine.Action{HostText: "example.org"}
	if Host(a) != "example.org" {
		t.Errorf("Host without address = %q", Host(a))
	}
	a.Host = netip.MustParseAddr("::ffff:1.2.3.4").Unmap()
	if Host(a) != "1.2.3.4" {
		t.Errorf("Host = %q", Host(a))
	}
}
