package memstore

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// TestRecordRules: a Ban writes the record, a Prolong moves its end, an
// Unban ends it unless it ended an earlier ban, and a failing store saves
// nothing but still sees the actions.
func TestRecordRules(t *testing.T) {
	s := New()
	host := netip.MustParseAddr("192.0.2.1")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ban := &engine.Action{Type: engine.Ban, Jail: "sshd", Host: host, Start: t0, End: t0.Add(time.Hour), BanTime: time.Hour, BanCount: 2}
	prolong := &engine.Action{Type: engine.Prolong, Jail: "sshd", Host: host, Start: t0, End: t0.Add(2 * time.Hour), BanTime: 2 * time.Hour}
	stale := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: host, Start: t0.Add(-time.Hour), End: t0}
	if err := s.Record([]*engine.Action{ban, prolong, stale}); err != nil {
		t.Fatal(err)
	}
	r, ok := s.Get("sshd", host)
	if !ok || r.Ended || !r.End.Equal(t0.Add(2*time.Hour)) || r.BanTime != 2*time.Hour || r.BanCount != 2 {
		t.Fatalf("after ban, prolong, stale unban: %+v %v", r, ok)
	}
	unban := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: host, Start: t0, End: t0.Add(30 * time.Minute)}
	fail := errors.New("disk full")
	s.Fail(fail)
	if err := s.Record([]*engine.Action{unban}); !errors.Is(err, fail) {
		t.Fatalf("Record with Fail set = %v", err)
	}
	if !s.Seen(unban) || s.Saved(unban) || s.Calls() != 2 {
		t.Fatalf("failed Record: seen %v saved %v calls %d", s.Seen(unban), s.Saved(unban), s.Calls())
	}
	s.Fail(nil)
	if err := s.Record([]*engine.Action{unban}); err != nil {
		t.Fatal(err)
	}
	bans, _ := s.Bans("sshd")
	if len(bans) != 1 || !bans[0].Ended || !bans[0].End.Equal(t0.Add(30*time.Minute)) || !bans[0].Start.Equal(t0) {
		t.Fatalf("after unban: %+v", bans)
	}
}

// TestPositions: positions are copied in and out, and nil deletes.
func TestPositions(t *testing.T) {
	s := New()
	v := []byte("abc")
	if err := s.SavePositions(map[string][]byte{"a": v, "b": []byte("x")}); err != nil {
		t.Fatal(err)
	}
	v[0] = 'z'
	got, ok, _ := s.Position("a")
	if !ok || string(got) != "abc" {
		t.Fatalf("Position(a) = %q %v, want abc", got, ok)
	}
	got[0] = 'z'
	if again, _, _ := s.Position("a"); string(again) != "abc" {
		t.Fatalf("Position(a) after changing the returned slice = %q", again)
	}
	if err := s.SavePositions(map[string][]byte{"b": nil}); err != nil {
		t.Fatal(err)
	}
	s.PutPosition("c", []byte("y"))
	if p := s.Positions(); len(p) != 2 || string(p["c"]) != "y" || p["b"] != nil {
		t.Fatalf("Positions() = %q", p)
	}
}
