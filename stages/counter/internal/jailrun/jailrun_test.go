package jailrun

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/engine"
)

func TestFloors(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::3")
	const ft = 10 * time.Minute
	var f Floors
	if f.Behind(a, t0, t0, ft) {
		t.Fatal("behind with no floors")
	}
	f.Set(a, t0)
	f.Set(a, t0.Add(-time.Hour)) // an earlier start does not lower it
	f.Set(b, t0.Add(20*time.Minute))
	checks := []struct {
		host    netip.Addr
		at, now time.Time
		want    bool
	}{
		{a, t0, t0, true},                       // at the floor
		{a, t0.Add(-time.Hour), t0, true},       // before it
		{a, t0.Add(time.Nanosecond), t0, false}, // after it
		{c, t0, t0, false},                      // no floor
		{a, t0, t0.Add(ft), true},               // the floor is find_time old: kept
	}
	for _, ch := range checks {
		if got := f.Behind(ch.host, ch.at, ch.now, ft); got != ch.want {
			t.Errorf("Behind(%v, %v, now %v) = %v, want %v", ch.host, ch.at.Sub(t0), ch.now.Sub(t0), got, ch.want)
		}
	}
	// Past a's floor by more than find_time: a's floor goes, b's stays.
	now := t0.Add(ft + time.Nanosecond)
	if f.Behind(a, t0, now, ft) || f.Len() != 1 {
		t.Errorf("a's floor kept past find_time (%d floors)", f.Len())
	}
	if !f.Behind(b, t0, now, ft) {
		t.Errorf("b's floor lost")
	}
	// Past the newest floor: all go at once, whatever host asks.
	if f.Behind(c, t0, t0.Add(20*time.Minute+ft+1), ft) || f.Len() != 0 {
		t.Errorf("%d floors kept past the newest", f.Len())
	}
	// Times outside the clamped range do not overflow.
	f.Set(a, time.Time{})
	if !f.Behind(a, time.Time{}, time.Time{}, time.Duration(1<<63-1)) {
		t.Errorf("zero time not behind a zero floor")
	}
	if f.Behind(a, time.Time{}, t0, time.Hour) || f.Len() != 0 {
		t.Errorf("a zero floor kept %d floors at %v", f.Len(), t0)
	}
}

// TestRunTwice: a second Run of the same loop while one runs is refused.
func TestRunTwice(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var ctl Control
		l := Loop{
			Jail: "sshd", Clock: engine.LogClock{}, Batch: NewBatch(nil, nil, "sshd"), Control: &ctl,
			Handle: func(engine.Event) {}, Expire: func() {}, Wake: func() (int64, bool) { return 0, false },
		}
		in := make(chan engine.Event)
		out := make(chan engine.Event)
		errc := make(chan error, 1)
		go func() { errc <- l.Run(t.Context(), in, out) }()
		synctest.Wait()
		if err := l.Run(t.Context(), in, out); err == nil || !strings.Contains(err.Error(), "running already") {
			t.Errorf("second Run = %v", err)
		}
		if n, err := ctl.Call(t.Context(), "sshd", func() (int, error) { return 7, nil }); n != 7 || err != nil {
			t.Errorf("Call while running = %d, %v", n, err)
		}
		close(in)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		// Stopped: it can run again.
		in = make(chan engine.Event)
		close(in)
		if err := l.Run(t.Context(), in, out); err != nil {
			t.Errorf("Run after Run returned: %v", err)
		}
	})
}

// TestRunUnpacksBatches: each event a batch stands for reaches Handle,
// in order, as do lone events around it.
func TestRunUnpacksBatches(t *testing.T) {
	t.Parallel()
	var got []int64
	var ctl Control
	l := Loop{
		Jail: "sshd", Clock: engine.LogClock{}, Batch: NewBatch(nil, nil, "sshd"), Control: &ctl,
		Handle: func(ev engine.Event) { got = append(got, ev.Time.Unix()) },
		Expire: func() {}, Wake: func() (int64, bool) { return 0, false },
	}
	at := func(s int64) engine.Event { return engine.Event{Kind: engine.KindFailure, Time: time.Unix(s, 0)} }
	in := make(chan engine.Event, 3)
	in <- at(1)
	in <- engine.Event{Kind: engine.KindFailure, Time: time.Unix(4, 0), Events: []engine.Event{at(2), at(3), at(4)}}
	in <- at(5)
	close(in)
	if err := l.Run(t.Context(), in, make(chan engine.Event)); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("handled %v, want %v", got, want)
	}
}
