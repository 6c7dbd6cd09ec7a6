package logsink

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func action(typ engine.ActionType, at time.Time, a engine.Action) engine.Event {
	a.Type = typ
	if a.Jail == "" {
		a.Jail = "sshd"
	}
	return engine.Event{Kind: engine.KindAction, Time: at, Action: &a}
}

var (
	host4 = netip.MustParseAddr("203.0.113.7")
	host6 = netip.MustParseAddr("2001:db8::1")
)

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ev       engine.Event
		wantJSON string
		wantText string
	}{
		{
			name:     "ban",
			ev:       action(engine.Ban, t0, engine.Action{Host: host4, Failures: 5, BanTime: time.Hour, Start: t0, End: t0.Add(time.Hour), BanCount: 1}),
			wantJSON: `{"event":"ban","time":"2026-01-02T03:04:05Z","jail":"sshd","host":"203.0.113.7","failures":5,"ban_time":"1h0m0s","end":"2026-01-02T04:04:05Z"}`,
			wantText: `2026-01-02T03:04:05Z  ban      sshd      203.0.113.7      failures=5 ban_time=1h0m0s end=2026-01-02T04:04:05Z`,
		},
		{
			name:     "unban",
			ev:       action(engine.Unban, t0.Add(time.Hour), engine.Action{Host: host4, Failures: 5, BanTime: time.Hour, Start: t0, End: t0.Add(time.Hour), BanCount: 1}),
			wantJSON: `{"event":"unban","time":"2026-01-02T04:04:05Z","jail":"sshd","host":"203.0.113.7","failures":5,"ban_time":"1h0m0s"}`,
			wantText: `2026-01-02T04:04:05Z  unban    sshd      203.0.113.7      failures=5 ban_time=1h0m0s`,
		},
		{
			name: "prolong IPv6 with fraction and ban count",
			ev: action(engine.Prolong, time.Date(2026, 1, 2, 4, 10, 0, 500e6, time.UTC),
				engine.Action{Host: host6, Failures: 9, BanTime: 2 * time.Hour, End: time.Date(2026, 1, 2, 6, 10, 0, 500e6, time.UTC), BanCount: 2}),
			wantJSON: `{"event":"prolong","time":"2026-01-02T04:10:00.5Z","jail":"sshd","host":"2001:db8::1","failures":9,"ban_time":"2h0m0s","ban_count":2,"end":"2026-01-02T06:10:00.5Z"}`,
			wantText: `2026-01-02T04:10:00.5Z  prolong  sshd      2001:db8::1      failures=9 ban_time=2h0m0s ban_count=2 end=2026-01-02T06:10:00.5Z`,
		},
		{
			name: "permanent",
			ev: action(engine.Ban, time.Date(2026, 1, 2, 5, 0, 0, 0, time.UTC),
				engine.Action{Host: netip.MustParseAddr("198.51.100.4"), Failures: 5, BanTime: engine.Permanent, End: t0.Add(99 * time.Hour), BanCount: 1}),
			wantJSON: `{"event":"ban","time":"2026-01-02T05:00:00Z","jail":"sshd","host":"198.51.100.4","failures":5,"ban_time":"permanent"}`,
			wantText: `2026-01-02T05:00:00Z  ban      sshd      198.51.100.4     failures=5 ban_time=permanent`,
		},
		{
			name:     "unban of a repeat offender keeps ban_count",
			ev:       action(engine.Unban, t0, engine.Action{Host: host4, Failures: 12, BanTime: 4 * time.Hour, BanCount: 3}),
			wantJSON: `{"event":"unban","time":"2026-01-02T03:04:05Z","jail":"sshd","host":"203.0.113.7","failures":12,"ban_time":"4h0m0s","ban_count":3}`,
			wantText: `2026-01-02T03:04:05Z  unban    sshd      203.0.113.7      failures=12 ban_time=4h0m0s ban_count=3`,
		},
		{
			name: "long IPv6 and jail, local time zone",
			ev: action(engine.Ban, t0.In(time.FixedZone("CEST", 2*3600)), engine.Action{
				Jail: "nginx-http-auth", Host: netip.MustParseAddr("2001:DB8:85A3:0:0:8A2E:370:7334"), Failures: 3,
				BanTime: 10 * time.Minute, End: t0.Add(10 * time.Minute).In(time.FixedZone("CEST", 2*3600)), BanCount: 1,
			}),
			wantJSON: `{"event":"ban","time":"2026-01-02T03:04:05Z","jail":"nginx-http-auth","host":"2001:db8:85a3::8a2e:370:7334","failures":3,"ban_time":"10m0s","end":"2026-01-02T03:14:05Z"}`,
			wantText: `2026-01-02T03:04:05Z  ban      nginx-http-auth  2001:db8:85a3::8a2e:370:7334  failures=3 ban_time=10m0s end=2026-01-02T03:14:05Z`,
		},
		{
			name: "zero event time falls back to the ban's start",
			ev: action(engine.Ban, time.Time{}, engine.Action{Host: host4, Failures: 5, BanTime: time.Hour,
				Start: t0, End: t0.Add(time.Hour)}),
			wantJSON: `{"event":"ban","time":"2026-01-02T03:04:05Z","jail":"sshd","host":"203.0.113.7","failures":5,"ban_time":"1h0m0s","end":"2026-01-02T04:04:05Z"}`,
			wantText: `2026-01-02T03:04:05Z  ban      sshd      203.0.113.7      failures=5 ban_time=1h0m0s end=2026-01-02T04:04:05Z`,
		},
		{
			name:     "odd jail and unparsed host are quoted in text",
			ev:       action(engine.Ban, t0, engine.Action{Jail: "my jail", HostText: "bad\"host\n", Failures: 1, BanTime: time.Second}),
			wantJSON: `{"event":"ban","time":"2026-01-02T03:04:05Z","jail":"my jail","host":"bad\"host\n","failures":1,"ban_time":"1s"}`,
			wantText: `2026-01-02T03:04:05Z  ban      "my jail"  "bad\"host\n"    failures=1 ban_time=1s`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(FormatJSON(tt.ev)); got != tt.wantJSON {
				t.Errorf("FormatJSON:\n got %s\nwant %s", got, tt.wantJSON)
			}
			if got := FormatText(tt.ev); got != tt.wantText {
				t.Errorf("FormatText:\n got %s\nwant %s", got, tt.wantText)
			}
			if !json.Valid(FormatJSON(tt.ev)) {
				t.Errorf("FormatJSON is not valid JSON: %s", FormatJSON(tt.ev))
			}
			if strings.ContainsAny(FormatText(tt.ev), "\n\r") {
				t.Errorf("FormatText spans lines: %q", FormatText(tt.ev))
			}
		})
	}
}

func TestFormatNoAction(t *testing.T) {
	t.Parallel()
	ev := engine.Event{Kind: engine.KindFailure, Watermark: true, Time: t0}
	if got := FormatJSON(ev); got != nil {
		t.Errorf("FormatJSON(no action) = %q, want nil", got)
	}
	if got := FormatText(ev); got != "" {
		t.Errorf("FormatText(no action) = %q, want empty", got)
	}
}

// TestJSONKeyOrder checks the replay contract: the first six keys, in order.
func TestJSONKeyOrder(t *testing.T) {
	t.Parallel()
	ev := action(engine.Prolong, t0, engine.Action{Host: host6, Failures: 9, BanTime: time.Hour, End: t0.Add(time.Hour), BanCount: 4})
	dec := json.NewDecoder(bytes.NewReader(FormatJSON(ev)))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		if _, err := dec.Token(); err != nil { // the value
			t.Fatal(err)
		}
	}
	want := "event,time,jail,host,failures,ban_time,ban_count,end"
	if got := strings.Join(keys, ","); got != want {
		t.Errorf("keys = %s, want %s", got, want)
	}
}

// TestJSONStrings round-trips jails and hosts that need escaping: the
// output decodes to what encoding/json decodes its own encoding to.
func TestJSONStrings(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"", "sshd", `quote"back\slash`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "<html>&amp;",
		"ünïcödé ✓ 😀", "line\u2028sep\u2029para", "bad utf8 \xff\xfe end", "\xc3", "trunc \xe2\x82",
		"{\"ip\":\"x\"}", "x; touch /tmp/pwned", "$(touch /tmp/pwned)", "`id`",
	}
	for _, s := range inputs {
		ev := action(engine.Ban, t0, engine.Action{Jail: s, HostText: s, Failures: 1, BanTime: time.Minute})
		if s == "" {
			ev.Action.Jail = "" // keep the empty jail
		}
		line := FormatJSON(ev)
		if !json.Valid(line) {
			t.Errorf("%q: invalid JSON %s", s, line)
			continue
		}
		var got struct{ Jail, Host string }
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := roundTrip(t, s)
		if got.Host != want || (s != "" && got.Jail != want) {
			t.Errorf("%q: decoded jail %q host %q, want %q", s, got.Jail, got.Host, want)
		}
	}
}

func roundTrip(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\xff", "\u2028", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		if !json.Valid(b) {
			t.Fatalf("%q: invalid JSON %s", s, b)
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if want := roundTrip(t, s); got != want {
			t.Fatalf("%q: decoded %q, want %q", s, got, want)
		}
	})
}

func TestFormatAllocations(t *testing.T) {
	ev := action(engine.Prolong, t0, engine.Action{Host: host6, Failures: 9, BanTime: 90 * time.Minute, End: t0.Add(time.Hour), BanCount: 2})
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], ev) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times per call, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendText(buf[:0], ev) }); n != 0 {
		t.Errorf("AppendText allocates %v times per call, want 0", n)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := action(engine.Ban, t0, engine.Action{Host: host4, Failures: 5, BanTime: time.Hour, End: t0.Add(time.Hour), BanCount: 1})
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], ev)
	}
}

func BenchmarkAppendText(b *testing.B) {
	ev := action(engine.Ban, t0, engine.Action{Host: host4, Failures: 5, BanTime: time.Hour, End: t0.Add(time.Hour), BanCount: 1})
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendText(buf[:0], ev)
	}
}
