package regex

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/zclconf/go-cty/cty"
)

var testNow = func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }

func newMatcher(t *testing.T, fail, ignore []string) *Matcher {
	t.Helper()
	args := &Arguments{Fail: strList(fail), Ignore: strList(ignore), TimeZone: "UTC"}
	m, err := New(engine.Options{ID: "matcher.t", Now: testNow}, args)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func strList(s []string) cty.Value {
	if len(s) == 0 {
		return cty.NullVal(cty.List(cty.String))
	}
	vals := make([]cty.Value, len(s))
	for i, v := range s {
		vals[i] = cty.StringVal(v)
	}
	return cty.ListVal(vals)
}

// feed runs the matcher over lines and returns what it emitted.
func feed(t *testing.T, m *Matcher, lines ...string) []engine.Event {
	t.Helper()
	in := make(chan engine.Event, len(lines))
	out := make(chan engine.Event, 2*len(lines)+1)
	for _, l := range lines {
		in <- engine.Event{Kind: engine.KindLine, Lines: []engine.Line{{Text: l}}}
	}
	close(in)
	if err := m.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var evs []engine.Event
	for ev := range out {
		evs = append(evs, ev.Unpack()...)
	}
	return evs
}

func failures(evs []engine.Event) []engine.Event {
	var out []engine.Event
	for _, ev := range evs {
		if ev.Failure != nil {
			out = append(out, ev)
		}
	}
	return out
}

func TestDateIsCutBeforeRegexes(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, []string{`^\S+ sshd\[\d+\]: Failed password for <F-USER>\S+</F-USER> from <HOST> port \d+ ssh2$`}, nil)
	evs := failures(feed(t, m,
		"Mar  1 06:00:00 web1 sshd[1]: Failed password for root from 203.0.113.7 port 22 ssh2",
		"2026-03-01T06:00:01.5+01:00 web1 sshd[1]: Failed password for bob from 2001:DB8::1 port 22 ssh2",
	))
	if len(evs) != 2 {
		t.Fatalf("got %d failures, want 2", len(evs))
	}
	if got := evs[0].Failure; got.Host.String() != "203.0.113.7" || got.Captures()["user"] != "root" || got.Matcher != "matcher.t" {
		t.Errorf("first failure = %+v", got)
	}
	if want := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC); !evs[0].Time.Equal(want) {
		t.Errorf("first time = %v, want %v", evs[0].Time, want)
	}
	if got := evs[1].Failure; got.Host.String() != "2001:db8::1" || got.HostText != "2001:DB8::1" {
		t.Errorf("second failure host = %v (%q)", got.Host, got.HostText)
	}
	// Fractions are dropped, as fail2ban does.
	if want := time.Date(2026, 3, 1, 5, 0, 1, 0, time.UTC); !evs[1].Time.Equal(want) {
		t.Errorf("second time = %v, want %v", evs[1].Time, want)
	}
	if evs[1].Failure.Lines[0] != "2026-03-01T06:00:01.5+01:00 web1 sshd[1]: Failed password for bob from 2001:DB8::1 port 22 ssh2" {
		t.Errorf("the failure must keep the whole line, got %q", evs[1].Failure.Lines[0])
	}
}

func TestLinesWithoutDate(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, []string{`fail from <HOST>$`}, nil)
	evs := feed(t, m,
		"fail from 192.0.2.1",                   // no date yet: skipped
		"Mar  1 06:00:00 h fail from 192.0.2.2", // dated
		"fail from 192.0.2.3",                   // takes 06:00:00
	)
	f := failures(evs)
	if len(f) != 2 || f[0].Failure.Host.String() != "192.0.2.2" || f[1].Failure.Host.String() != "192.0.2.3" {
		t.Fatalf("failures = %+v", f)
	}
	if !f[1].Time.Equal(f[0].Time) {
		t.Errorf("dateless line time = %v, want the previous line's %v", f[1].Time, f[0].Time)
	}
	if got := m.Stats()["no_date"]; got != 1 {
		t.Errorf("no_date = %d, want 1", got)
	}
}

func TestIgnoreAndWatermarks(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, []string{`fail from <HOST>$`}, []string{`fail from 192\.0\.2\.9$`})
	evs := feed(t, m,
		"2026-03-01T06:00:00Z h fail from 192.0.2.9",
		"2026-03-01T06:00:00Z h nothing",
		"2026-03-01T06:00:10Z h nothing",
		"2026-03-01T06:00:10Z h nothing again",
		"2026-03-01T06:01:00Z h fail from 192.0.2.1",
		"2026-03-01T06:01:00.5Z h nothing",
	)
	var kinds []string
	for _, ev := range evs {
		switch {
		case ev.Watermark:
			kinds = append(kinds, "mark "+ev.Time.Format("15:04:05"))
		case ev.Failure != nil:
			kinds = append(kinds, "fail "+ev.Failure.Host.String())
		}
	}
	want := "mark 06:00:00,mark 06:00:10,fail 192.0.2.1"
	if strings.Join(kinds, ",") != want {
		t.Errorf("events = %v, want %s", kinds, want)
	}
	if m.Stats()["ignored"] != 1 || m.Stats()["matched"] != 1 {
		t.Errorf("stats = %v", m.Stats())
	}
}

func TestNewReportsEveryBadAttribute(t *testing.T) {
	t.Parallel()
	args := &Arguments{
		Fail:        cty.ListVal([]cty.Value{cty.StringVal("ok from <HOST>"), cty.StringVal("no host here"), cty.StringVal("(bad <HOST>")}),
		DatePattern: cty.StringVal("%Q nonsense"),
		TimeZone:    "Nowhere/Land",
	}
	_, err := New(engine.Options{}, args)
	if err == nil {
		t.Fatal("want an error")
	}
	got := map[string]bool{}
	for _, attr := range []string{"fail[1]", "fail[2]", "time_zone"} {
		got[attr] = strings.Contains(err.Error(), attr)
	}
	for attr, ok := range got {
		if !ok {
			t.Errorf("error does not mention %s: %v", attr, err)
		}
	}
	var ae *confval.AttrError
	if !errors.As(err, &ae) {
		t.Errorf("error is not an AttrError: %v", err)
	}
}

func TestParseZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		offset  int
		wantErr bool
	}{
		{in: "UTC", offset: 0},
		{in: "UTC+0200", offset: 7200},
		{in: "UTC-5", offset: -5 * 3600},
		{in: "+02:00", offset: 7200},
		{in: "-0930", offset: -(9*3600 + 30*60)},
		{in: "Europe/Zurich", offset: 3600}, // in January
		{in: "UTC+99", wantErr: true},
		{in: "+1", offset: 3600},
		{in: "+123", wantErr: true},
		{in: "Atlantis/Capital", wantErr: true},
	}
	for _, tt := range tests {
		loc, err := ParseZone(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseZone(%q) error = %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		_, off := time.Date(2026, 1, 15, 12, 0, 0, 0, loc).Zone()
		if off != tt.offset {
			t.Errorf("ParseZone(%q) offset = %d, want %d", tt.in, off, tt.offset)
		}
	}
}

func TestHugeAndBrokenLines(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, []string{`^\S+ sshd\[\d+\]: Failed password for (?:invalid user )?.*? from <HOST> port \d+ ssh2$`}, nil)
	huge := "2026-03-01T06:00:00Z h sshd[1]: Failed password for " + strings.Repeat("a from 1.2.3.4 ", 70000) + " from 203.0.113.1 port 22 ssh2"
	evs := failures(feed(t, m,
		huge,
		"",
		"\xff\xfe\xfd",
		"2026-03-01T06:00:01Z h sshd[1]: Failed password for \xff\xfe from 203.0.113.2 port 22 ssh2",
	))
	if len(evs) != 2 {
		t.Fatalf("got %d failures, want 2", len(evs))
	}
	if evs[0].Failure.Host.String() != "203.0.113.1" || evs[1].Failure.Host.String() != "203.0.113.2" {
		t.Errorf("hosts = %v, %v", evs[0].Failure.Host, evs[1].Failure.Host)
	}
}

func TestUseDNSResolvesNames(t *testing.T) {
	t.Parallel()
	args := &Arguments{Fail: strList([]string{`fail from <HOST>$`}), TimeZone: "UTC", UseDNS: true}
	m, err := New(engine.Options{ID: "matcher.t", Now: testNow}, args)
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	m.dns.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		lookups++
		if host == "bad.example" {
			return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}, nil
		}
		return nil, errors.New("no such host")
	}
	f := failures(feed(t, m,
		"2026-03-01T06:00:00Z h fail from bad.example",
		"2026-03-01T06:00:01Z h fail from bad.example",
		"2026-03-01T06:00:02Z h fail from nowhere.example",
		"2026-03-01T06:00:03Z h fail from 203.0.113.4",
	))
	var got []string
	for _, ev := range f {
		got = append(got, ev.Failure.Host.String())
	}
	if strings.Join(got, ",") != "192.0.2.1,2001:db8::1,192.0.2.1,2001:db8::1,203.0.113.4" {
		t.Fatalf("hosts = %v", got)
	}
	if lookups != 2 {
		t.Errorf("lookups = %d, want 2 (the cache answers the repeat)", lookups)
	}
	if m.Stats()["unresolved"] != 1 {
		t.Errorf("unresolved = %d", m.Stats()["unresolved"])
	}
}

// TestJournalLineTime: a line that carries its time (the journal's) keeps
// it, and the regexes see the whole text, no date cut out of it.
func TestJournalLineTime(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, []string{`^\S+ sshd\[\d+\]: (?:Mar  1 06:00:00 )?Failed password for \S+ from <HOST> port \d+ ssh2$`}, nil)
	when := time.Date(2026, 5, 2, 10, 30, 0, 123456000, time.UTC)
	in := make(chan engine.Event, 1)
	out := make(chan engine.Event, 10)
	in <- engine.Event{Kind: engine.KindLine, Lines: []engine.Line{
		{Text: "web1 sshd[7]: Failed password for root from 192.0.2.7 port 22 ssh2", Origin: "journal", At: when.UnixNano()},
		// A date inside the message is text like any other.
		{Text: "web1 sshd[7]: Mar  1 06:00:00 Failed password for root from 192.0.2.8 port 22 ssh2", Origin: "journal", At: when.Add(time.Second).UnixNano()},
	}}
	close(in)
	if err := m.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var evs []engine.Event
	for ev := range out {
		evs = append(evs, ev.Unpack()...)
	}
	f := failures(evs)
	if len(f) != 2 {
		t.Fatalf("failures = %+v, want 2", evs)
	}
	if f[0].Failure.Host.String() != "192.0.2.7" || !f[0].Time.Equal(when) {
		t.Errorf("first failure at %v = %+v, want 192.0.2.7 at %v", f[0].Time, f[0].Failure, when)
	}
	if f[1].Failure.Host.String() != "192.0.2.8" || !f[1].Time.Equal(when.Add(time.Second)) {
		t.Errorf("second failure at %v = %+v, want the line's own time, not the date in its text", f[1].Time, f[1].Failure)
	}
	if got := f[0].Failure.Lines; len(got) != 1 || got[0] != "web1 sshd[7]: Failed password for root from 192.0.2.7 port 22 ssh2" {
		t.Errorf("matched lines = %q, want the whole text", got)
	}
	if st := m.Stats(); st["no_date"] != 0 || st["matched"] != 2 {
		t.Errorf("stats = %v", st)
	}
}

// TestBatchGoesOnTogether: the failures of one batch of lines leave in
// one event, in line order; a lone failure leaves as itself.
func TestBatchGoesOnTogether(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, []string{`fail from <HOST>$`}, nil)
	in := make(chan engine.Event, 2)
	out := make(chan engine.Event, 10)
	in <- engine.Event{Kind: engine.KindLine, Lines: []engine.Line{
		{Text: "2026-03-01T06:00:00Z h fail from 192.0.2.1"},
		{Text: "2026-03-01T06:00:00Z h nothing here"},
		{Text: "2026-03-01T06:00:01Z h fail from 192.0.2.2"},
		{Text: "2026-03-01T06:00:05Z h fail from 192.0.2.3"},
	}}
	in <- engine.Event{Kind: engine.KindLine, Lines: []engine.Line{{Text: "2026-03-01T06:00:05Z h fail from 192.0.2.4"}}}
	close(in)
	if err := m.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var sent []engine.Event
	for ev := range out {
		sent = append(sent, ev)
	}
	if len(sent) != 2 {
		t.Fatalf("sent %d events, want 2 (one per batch of lines): %+v", len(sent), sent)
	}
	var hosts []string
	for _, ev := range sent[0].Unpack() {
		if ev.Failure != nil {
			hosts = append(hosts, ev.Failure.Host.String())
		}
	}
	if strings.Join(hosts, ",") != "192.0.2.1,192.0.2.2,192.0.2.3" {
		t.Errorf("first batch = %v, want the three failures in line order", hosts)
	}
	if last := sent[0].Events[len(sent[0].Events)-1]; !sent[0].Time.Equal(last.Time) {
		t.Errorf("batch time %v, want the last event's %v", sent[0].Time, last.Time)
	}
	if sent[1].Events != nil || sent[1].Failure == nil || sent[1].Failure.Host.String() != "192.0.2.4" {
		t.Errorf("second event = %+v, want the lone failure itself", sent[1])
	}
}
