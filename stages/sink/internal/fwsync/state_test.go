package fwsync

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

func action(typ engine.ActionType, jail, host string, end time.Time) *engine.Action {
	a := &engine.Action{Type: typ, Jail: jail, Host: netip.MustParseAddr(host), End: end, BanTime: time.Hour}
	if end.IsZero() && typ != engine.Unban {
		a.BanTime = engine.Permanent
	}
	return a
}

// TestStateDiff: the changes sent to the target follow the bans, actions
// that cancel out cost nothing, and a network stays while a host in it is
// banned, with the latest end among them.
func TestStateDiff(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := Config{Prefix: [2]int{24, 0}, GroupOf: func(j string) string { return j }, Timeout: func(end, _ time.Time) time.Time { return end }}
	st := newState(&cfg)
	ready := map[string]bool{"sshd": true}
	st.apply(action(engine.Ban, "sshd", "192.0.2.7", now.Add(time.Hour)))
	st.apply(action(engine.Ban, "sshd", "192.0.2.9", now.Add(2*time.Hour)))
	st.apply(action(engine.Ban, "sshd", "2001:db8::1", time.Time{}))
	st.apply(action(engine.Ban, "sshd", "2001:db8::2", now.Add(time.Hour)))
	st.apply(action(engine.Unban, "sshd", "2001:db8::2", time.Time{}))
	ops := st.takeDirty(now, 100, ready)
	slices.SortFunc(ops, func(a, b Op) int { return a.Key.Net.Addr().Compare(b.Key.Net.Addr()) })
	if len(ops) != 2 || ops[0].Kind != Add || ops[0].Key.Net != netip.MustParsePrefix("192.0.2.0/24") ||
		!ops[0].End.Equal(now.Add(2*time.Hour)) || ops[1].Key.Net != netip.MustParsePrefix("2001:db8::1/128") || !ops[1].End.IsZero() {
		t.Fatalf("ops = %+v", ops)
	}
	st.commit(ops)
	if len(st.dirty) != 0 {
		t.Errorf("dirty after take: %v", st.dirty)
	}

	// One host of the network leaves: the network stays, with the end of
	// the one left.
	st.apply(action(engine.Unban, "sshd", "192.0.2.9", time.Time{}))
	ops = st.takeDirty(now, 100, ready)
	if len(ops) != 1 || ops[0].Kind != Update || !ops[0].End.Equal(now.Add(time.Hour)) {
		t.Fatalf("ops after one unban = %+v", ops)
	}
	st.commit(ops)
	// The last one leaves: the network goes.
	st.apply(action(engine.Unban, "sshd", "192.0.2.7", time.Time{}))
	ops = st.takeDirty(now, 100, ready)
	if len(ops) != 1 || ops[0].Kind != Delete {
		t.Fatalf("ops after last unban = %+v", ops)
	}
	st.commit(ops)
	// A ban that is over is not added.
	st.apply(action(engine.Ban, "sshd", "198.51.100.1", now.Add(100*time.Millisecond)))
	if ops := st.takeDirty(now, 100, ready); len(ops) != 0 {
		t.Errorf("ops of an ended ban = %+v", ops)
	}
	if a, d := counts([]Op{{Kind: Add}, {Kind: Update}, {Kind: Delete}}); a != 2 || d != 2 {
		t.Errorf("counts = %d, %d", a, d)
	}
}

// TestSame: an element read back from the target (whole seconds) is left
// alone within 5 s of the wanted end; one the driver wrote must match.
func TestSame(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := Config{Timeout: func(end, _ time.Time) time.Time { return end }}
	st := newState(&cfg)
	tests := []struct {
		want time.Time
		have Elem
		same bool
	}{
		{time.Time{}, Elem{}, true},
		{time.Time{}, Elem{End: end}, false},
		{end, Elem{Approx: true}, false},
		{end, Elem{End: end.Add(time.Millisecond)}, false},
		{end, Elem{End: end.Add(4 * time.Second), Approx: true}, true},
		{end, Elem{End: end.Add(-5 * time.Second), Approx: true}, true},
		{end, Elem{End: end.Add(6 * time.Second), Approx: true}, false},
	}
	for _, tt := range tests {
		if got := st.same(tt.want, tt.have); got != tt.same {
			t.Errorf("same(%v, %+v) = %v", tt.want, tt.have, got)
		}
	}
	// A target without timeouts: whatever it holds serves.
	cfg.Timeout = nil
	if !st.same(end, Elem{}) {
		t.Error("same without timeouts = false")
	}
}
