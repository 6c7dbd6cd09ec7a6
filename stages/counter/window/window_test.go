package window

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/offheap"
	"github.com/f2bproject/f2b/stages/counter/internal/storetest"
)

var t0 = storetest.T0

const (
	hostA = "192.0.2.1"
	hostB = "192.0.2.2"
	hostC = "2001:db8:1::c"
	hostD = "198.51.100.4"
)

// failAt is a failure of host at t0+at whose line names host and at.
var failAt = storetest.FailAt

// fails are failures of host at each of ats.
func fails(host string, ats ...time.Duration) []engine.Event {
	evs := make([]engine.Event, len(ats))
	for i, at := range ats {
		evs[i] = failAt(host, at)
	}
	return evs
}

// mark is a watermark at t0+at.
func mark(at time.Duration) engine.Event {
	return engine.Event{Kind: engine.KindFailure, Time: t0.Add(at), Watermark: true}
}

func newCounter(t testing.TB, args Arguments, clock engine.Clock) *Counter {
	t.Helper()
	c, err := New(engine.Options{ID: "counter.sshd", Name: "sshd", Clock: clock}, &args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// args returns the defaults changed by mod.
func args(mod func(*Arguments)) Arguments {
	a := DefaultArguments()
	if mod != nil {
		mod(&a)
	}
	return a
}

// runAll drives c.Run over events on a log clock and returns what it emits,
// checking the invariants every action must keep.
func runAll(t testing.TB, c *Counter, events []engine.Event) []engine.Event {
	t.Helper()
	got := storetest.RunAll(t, c, events)
	for _, ev := range got {
		checkAction(t, c, ev)
	}
	return got
}

func checkAction(t testing.TB, c *Counter, ev engine.Event) {
	t.Helper()
	a := ev.Action
	if ev.Kind != engine.KindAction || a == nil || ev.Failure != nil {
		t.Fatalf("emitted %+v, want an action event", ev)
	}
	if a.Jail != "sshd" {
		t.Errorf("Jail = %q, want sshd", a.Jail)
	}
	if a.Failures != c.cfg.maxRetry {
		t.Errorf("%s: Failures = %d, want %d", describe(ev), a.Failures, c.cfg.maxRetry)
	}
	if a.HostText != a.Host.String() {
		t.Errorf("%s: HostText = %q", describe(ev), a.HostText)
	}
	if a.BanTime == engine.Permanent {
		if !a.End.IsZero() {
			t.Errorf("%s: permanent ban with End %v", describe(ev), a.End)
		}
	} else if !a.End.Equal(a.Start.Add(a.BanTime)) {
		t.Errorf("%s: End = %v, want Start+BanTime = %v", describe(ev), a.End, a.Start.Add(a.BanTime))
	}
	switch a.Type {
	case engine.Ban:
		if !ev.Time.Equal(a.Start) {
			t.Errorf("%s: Event.Time %v != Start %v", describe(ev), ev.Time, a.Start)
		}
		if len(a.Matches) < a.Failures && a.Matches != nil { // nil: none kept (KeepMatches)
			t.Errorf("%s: %d matches for %d failures", describe(ev), len(a.Matches), a.Failures)
		}
	case engine.Unban:
		if !ev.Time.Equal(a.End) {
			t.Errorf("%s: Event.Time %v != End %v", describe(ev), ev.Time, a.End)
		}
	default:
		t.Errorf("unexpected action type %v", a.Type)
	}
}

// describe writes an action as "ban 192.0.2.1 @4m0s #1 10m0s" (time from t0,
// ban count, ban time) or "unban 192.0.2.1 @14m0s #1".
func describe(ev engine.Event) string {
	a := ev.Action
	s := fmt.Sprintf("%s %s @%s #%d", a.Type, a.Host, ev.Time.Sub(t0), a.BanCount)
	if a.Type == engine.Ban {
		s += " " + confval.FormatDuration(a.BanTime)
	}
	return s
}

func describeAll(evs []engine.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, describe(ev))
	}
	return out
}

func TestCounter(t *testing.T) {
	t.Parallel()
	const (
		ns = time.Nanosecond
		s  = time.Second
		m  = time.Minute
	)
	tests := []struct {
		name      string
		args      func(*Arguments)
		events    []engine.Event
		want      []string
		wantStats map[string]int64 // only the keys given are checked
	}{
		{
			name:   "five within find_time ban",
			events: fails(hostA, 0, 1*m, 2*m, 3*m, 4*m),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s"},
			wantStats: map[string]int64{
				"failures": 5, "bans": 1, "unbans": 0, "ignored": 0, "failures_while_banned": 0,
			},
		},
		{
			name:   "fifth exactly find_time after the first still counts",
			events: fails(hostA, 0, 1*m, 2*m, 3*m, 10*m),
			want:   []string{"ban 192.0.2.1 @10m0s #1 10m0s"},
		},
		{
			name:   "fifth just inside find_time",
			events: fails(hostA, 0, 1*m, 2*m, 3*m, 10*m-ns),
			want:   []string{"ban 192.0.2.1 @9m59.999999999s #1 10m0s"},
		},
		{
			name:   "fifth just outside find_time",
			events: fails(hostA, 0, 1*m, 2*m, 3*m, 10*m+ns),
			want:   []string{},
		},
		{
			name:   "window slides on",
			events: fails(hostA, 0, 1*m, 2*m, 3*m, 10*m+ns, 11*m),
			want:   []string{"ban 192.0.2.1 @11m0s #1 10m0s"},
		},
		{
			name:   "equal times",
			events: fails(hostA, s, s, s, s, s),
			want:   []string{"ban 192.0.2.1 @1s #1 10m0s"},
		},
		{
			name:   "hosts count apart",
			events: slices.Concat(fails(hostA, 0, 1*m, 2*m, 3*m), fails(hostB, 4*m, 5*m, 6*m, 7*m)),
			want:   []string{},
		},
		{
			name:   "max_retry 1",
			args:   func(a *Arguments) { a.MaxRetry = 1 },
			events: fails(hostC, 7*s),
			want:   []string{"ban 2001:db8:1::c @7s #1 10m0s"},
		},
		{
			name:   "unban on a watermark after End, at End",
			events: append(fails(hostA, 0, 1*m, 2*m, 3*m, 4*m), mark(14*m), mark(14*m+ns)),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s", "unban 192.0.2.1 @14m0s #1"},
			wantStats: map[string]int64{
				"failures": 5, "bans": 1, "unbans": 1,
			},
		},
		{
			name:   "no unban at End exactly",
			events: append(fails(hostA, 0, 1*m, 2*m, 3*m, 4*m), mark(14*m)),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s"},
		},
		{
			name:   "unban on a later failure of another host, before it",
			events: append(fails(hostA, 0, 1*m, 2*m, 3*m, 4*m), failAt(hostB, 20*m)),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s", "unban 192.0.2.1 @14m0s #1"},
		},
		{
			name:   "watermarks alone emit nothing",
			events: []engine.Event{mark(0), mark(time.Hour)},
			want:   []string{},
		},
		{
			name:   "failures while banned do not reban",
			events: fails(hostA, 0, 1*m, 2*m, 3*m, 4*m, 5*m, 6*m, 7*m, 8*m, 9*m),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s"},
			wantStats: map[string]int64{
				"failures": 10, "bans": 1, "failures_while_banned": 5,
			},
		},
		{
			name: "after unban a new ban takes max_retry fresh failures",
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m), // ban, End 14m
				fails(hostA, 5*m, 6*m),              // while banned: not kept
				fails(hostA, 15*m, 16*m, 17*m, 18*m),
				fails(hostA, 19*m),
			),
			want: []string{
				"ban 192.0.2.1 @4m0s #1 10m0s",
				"unban 192.0.2.1 @14m0s #1",
				"ban 192.0.2.1 @19m0s #2 10m0s",
			},
		},
		{
			name: "input close keeps bans",
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m),
				fails(hostB, 0, 1*m, 2*m, 3*m, 5*m),
			),
			want: []string{"ban 192.0.2.1 @4m0s #1 10m0s", "ban 192.0.2.2 @5m0s #1 10m0s"},
			wantStats: map[string]int64{
				"bans": 2, "unbans": 0,
			},
		},
		{
			name: "escalation with factor 2 and a cap",
			args: func(a *Arguments) { a.BanTimeFactor = 2; a.BanTimeMax = "30m" },
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m),        // 10m, End 14m
				fails(hostA, 20*m, 21*m, 22*m, 23*m, 24*m), // 20m, End 44m
				fails(hostA, 50*m, 51*m, 52*m, 53*m, 54*m), // 40m capped to 30m, End 84m
				fails(hostA, 90*m, 91*m, 92*m, 93*m, 94*m), // capped, End 124m
				[]engine.Event{mark(200 * m)},
			),
			want: []string{
				"ban 192.0.2.1 @4m0s #1 10m0s",
				"unban 192.0.2.1 @14m0s #1",
				"ban 192.0.2.1 @24m0s #2 20m0s",
				"unban 192.0.2.1 @44m0s #2",
				"ban 192.0.2.1 @54m0s #3 30m0s",
				"unban 192.0.2.1 @1h24m0s #3",
				"ban 192.0.2.1 @1h34m0s #4 30m0s",
				"unban 192.0.2.1 @2h4m0s #4",
			},
		},
		{
			name: "escalation is per host",
			args: func(a *Arguments) { a.BanTimeFactor = 3 },
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m),
				fails(hostA, 20*m, 21*m, 22*m, 23*m, 24*m),
				fails(hostB, 30*m, 31*m, 32*m, 33*m, 34*m),
			),
			want: []string{
				"ban 192.0.2.1 @4m0s #1 10m0s",
				"unban 192.0.2.1 @14m0s #1",
				"ban 192.0.2.1 @24m0s #2 30m0s",
				"ban 192.0.2.2 @34m0s #1 10m0s",
			},
		},
		{
			name: "permanent bans never end",
			args: func(a *Arguments) { a.BanTime = "permanent"; a.BanTimeFactor = 2; a.BanTimeMax = "1h" },
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m),
				[]engine.Event{mark(10 * 365 * 24 * time.Hour)},
				fails(hostA, 10*365*24*time.Hour+s),
			),
			want: []string{"ban 192.0.2.1 @4m0s #1 permanent"},
			wantStats: map[string]int64{
				"bans": 1, "unbans": 0, "failures_while_banned": 1,
			},
		},
		{
			name: "ban_time -1 is permanent",
			args: func(a *Arguments) { a.BanTime = "-1"; a.MaxRetry = 2 },
			events: append(fails(hostC, 0, 1*m),
				mark(1000*time.Hour)),
			want: []string{"ban 2001:db8:1::c @1m0s #1 permanent"},
		},
		{
			name: "ignore addresses and prefixes, v4 and v6",
			args: func(a *Arguments) {
				a.MaxRetry = 1
				a.Ignore = []string{"127.0.0.1/8", "::1", "2001:db8::/32", "192.0.2.1", "::ffff:198.51.100.0/120"}
			},
			events: slices.Concat(
				fails("127.0.0.1", 0),
				fails("127.255.0.9", 0),
				fails("::1", 0),
				fails("2001:db8:ffff::1", 0),
				fails(hostA, 0),
				fails(hostD, 0),
				fails("2001:db9::1", s),
				fails(hostB, 2*s),
				fails("::2", 3*s),
			),
			want: []string{
				"ban 2001:db9::1 @1s #1 10m0s",
				"ban 192.0.2.2 @2s #1 10m0s",
				"ban ::2 @3s #1 10m0s",
			},
			wantStats: map[string]int64{
				"failures": 9, "ignored": 6, "bans": 3,
			},
		},
		{
			name: "late failure completes a window",
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m),
				fails(hostB, 5*m), // the clock moves to 5m
				fails(hostA, 4*m), // late: 0..4m is a full window
			),
			want: []string{"ban 192.0.2.1 @4m0s #1 10m0s"},
		},
		{
			name: "late failure makes a ban that has ended: lifted at once",
			args: func(a *Arguments) { a.BanTime = "1m" },
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m),
				fails(hostB, 6*m), // the clock moves to 6m
				fails(hostA, 4*m), // late: ban 4m..5m
			),
			want: []string{"ban 192.0.2.1 @4m0s #1 1m0s", "unban 192.0.2.1 @5m0s #1"},
		},
		{
			name: "late failure in the middle of a window bans when the window filled",
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 8*m),
				fails(hostA, 5*m), // 0, 1m, 2m, 5m, 8m lie within 10m
			),
			want: []string{"ban 192.0.2.1 @8m0s #1 10m0s"},
		},
		{
			name: "late failure outside every window does not ban",
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m),
				fails(hostB, 12*m),
				fails(hostA, 11*m), // 1m..11m holds 1m, 2m, 3m and itself: 4
			),
			want: []string{},
		},
		{
			name: "late events never lift a ban twice",
			events: slices.Concat(
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m), // End 14m
				[]engine.Event{mark(20 * m), mark(15 * m)},
				fails(hostA, 5*m), // late, after the unban: counted afresh
				[]engine.Event{mark(40 * m)},
			),
			want: []string{"ban 192.0.2.1 @4m0s #1 10m0s", "unban 192.0.2.1 @14m0s #1"},
			wantStats: map[string]int64{
				"bans": 1, "unbans": 1, "failures_while_banned": 0,
			},
		},
		{
			name: "unbans in End order, ties in ban order",
			args: func(a *Arguments) { a.BanTimeFactor = 2 },
			events: slices.Concat(
				fails(hostC, 0, 1*m, 2*m, 3*m),
				fails(hostB, 0, 1*m, 2*m, 3*m),
				fails(hostC, 4*m),                          // C #1 ends 14m
				fails(hostB, 4*m),                          // B #1 ends 14m too, banned after C
				fails(hostA, 0, 1*m, 2*m, 3*m, 4*m),        // A #1 ends 14m, banned last
				fails(hostA, 20*m, 21*m, 22*m, 23*m, 24*m), // A #2 lasts 20m: ends 44m
				fails(hostD, 25*m, 26*m, 27*m, 28*m, 29*m), // D #1 ends 39m
				[]engine.Event{mark(time.Hour)},
			),
			want: []string{
				"ban 2001:db8:1::c @4m0s #1 10m0s",
				"ban 192.0.2.2 @4m0s #1 10m0s",
				"ban 192.0.2.1 @4m0s #1 10m0s",
				"unban 2001:db8:1::c @14m0s #1",
				"unban 192.0.2.2 @14m0s #1",
				"unban 192.0.2.1 @14m0s #1",
				"ban 192.0.2.1 @24m0s #2 20m0s",
				"ban 198.51.100.4 @29m0s #1 10m0s",
				"unban 198.51.100.4 @39m0s #1",
				"unban 192.0.2.1 @44m0s #2",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, args(tt.args), engine.LogClock{})
			got := describeAll(runAll(t, c, tt.events))
			if !slices.Equal(got, tt.want) {
				t.Errorf("actions:\n got %q\nwant %q", got, tt.want)
			}
			stats := c.Stats()
			for k, want := range tt.wantStats {
				if stats[k] != want {
					t.Errorf("Stats()[%q] = %d, want %d (all: %v)", k, stats[k], want, stats)
				}
			}
		})
	}
}

func TestBanAction(t *testing.T) {
	t.Parallel()
	multi := failAt(hostA, 2*time.Minute)
	multi.Failure.Lines = []string{"first of two", "second of two"}
	tests := []struct {
		name        string
		events      []engine.Event
		wantMatches []string
		wantFields  map[string]string
		wantStart   time.Duration
	}{
		{
			name: "in order",
			events: slices.Concat(
				fails(hostA, 0, time.Minute),
				[]engine.Event{multi},
			),
			wantMatches: []string{"192.0.2.1 0s", "192.0.2.1 1m0s", "first of two", "second of two"},
			wantFields:  map[string]string{"at": "2m0s"},
			wantStart:   2 * time.Minute,
		},
		{
			name: "only the counted failures, oldest first, out of order",
			events: slices.Concat(
				fails(hostA, 0), // outside the window
				fails(hostA, 20*time.Minute, 25*time.Minute), // 20m..30m
				fails(hostA, 22*time.Minute),                 // late; fills 20m, 22m, 25m
			),
			wantMatches: []string{"192.0.2.1 20m0s", "192.0.2.1 22m0s", "192.0.2.1 25m0s"},
			wantFields:  map[string]string{"at": "22m0s"},
			wantStart:   25 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 3 }), engine.LogClock{})
			got := runAll(t, c, tt.events)
			if len(got) != 1 {
				t.Fatalf("got %q, want one ban", describeAll(got))
			}
			a := got[0].Action
			if !slices.Equal(a.Matches, tt.wantMatches) {
				t.Errorf("Matches = %q, want %q", a.Matches, tt.wantMatches)
			}
			if fmt.Sprint(a.Fields) != fmt.Sprint(tt.wantFields) {
				t.Errorf("Fields = %v, want %v", a.Fields, tt.wantFields)
			}
			if want := t0.Add(tt.wantStart); !a.Start.Equal(want) || !got[0].Time.Equal(want) {
				t.Errorf("Start = %v, Event.Time = %v, want %v", a.Start, got[0].Time, want)
			}
			if want := a.Start.Add(10 * time.Minute); !a.End.Equal(want) {
				t.Errorf("End = %v, want %v", a.End, want)
			}
		})
	}
}

// TestNoMatchesKept: told that no consumer reads Matches, the counter
// keeps no lines and bans the same hosts at the same times, without them.
func TestNoMatchesKept(t *testing.T) {
	t.Parallel()
	events := slices.Concat(fails(hostA, 0, time.Minute, 2*time.Minute), fails(hostB, 0, 5*time.Minute))
	keep := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 3 }), engine.LogClock{})
	drop := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 3 }), engine.LogClock{})
	drop.KeepMatches(false)
	kept, dropped := runAll(t, keep, events), runAll(t, drop, events)
	if !slices.Equal(describeAll(kept), describeAll(dropped)) {
		t.Fatalf("without matches: %q, with: %q", describeAll(dropped), describeAll(kept))
	}
	if len(kept) != 1 || len(kept[0].Action.Matches) != 3 {
		t.Fatalf("kept = %q, want one ban with 3 matches", describeAll(kept))
	}
	if m := dropped[0].Action.Matches; m != nil {
		t.Errorf("Matches = %q, want none kept", m)
	}
	if n := drop.mem.InUse(); n >= keep.mem.InUse() {
		t.Errorf("arena holds %d bytes without matches, %d with: want less", n, keep.mem.InUse())
	}
}

func TestBanned(t *testing.T) {
	t.Parallel()
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 2 }), engine.LogClock{})
	runAll(t, c, slices.Concat(
		fails(hostB, 0, time.Minute),
		fails(hostA, 0, 2*time.Minute),
		fails(hostC, 0, time.Second), // the earliest ban time, but banned last
	))
	got := c.Banned()
	var hosts []string
	for _, b := range got {
		hosts = append(hosts, b.Host.String())
	}
	if want := []string{hostB, hostA, hostC}; !slices.Equal(hosts, want) {
		t.Fatalf("Banned hosts = %q, want %q (ban order)", hosts, want)
	}
	want := BanInfo{
		Host:     netip.MustParseAddr(hostA),
		HostText: hostA,
		Start:    t0.Add(2 * time.Minute),
		End:      t0.Add(12 * time.Minute),
		BanTime:  10 * time.Minute,
		BanCount: 1,
		Failures: 2,
	}
	if got[1] != want {
		t.Errorf("Banned()[1] = %+v, want %+v", got[1], want)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      func(*Arguments)
		wantAttr  string // "" for no error
		wantIndex int
		wantMsg   string
	}{
		{name: "defaults"},
		{name: "full", args: func(a *Arguments) {
			a.MaxRetry, a.FindTime, a.BanTime = 3, "1h", "1d"
			a.BanTimeFactor, a.BanTimeMax = 1.5, "1w"
			a.Ignore = []string{"10.0.0.0/8", " ::1 ", "fe80::/10", "::ffff:1.2.3.4"}
		}},
		{name: "permanent cap means none", args: func(a *Arguments) { a.BanTimeMax = "permanent" }},
		{name: "max_retry zero", args: func(a *Arguments) { a.MaxRetry = 0 },
			wantAttr: "max_retry", wantIndex: -1, wantMsg: "between 1 and"},
		{name: "find_time permanent", args: func(a *Arguments) { a.FindTime = "permanent" },
			wantAttr: "find_time", wantIndex: -1, wantMsg: "cannot be permanent"},
		{name: "find_time empty", args: func(a *Arguments) { a.FindTime = "" },
			wantAttr: "find_time", wantIndex: -1, wantMsg: "empty duration"},
		{name: "ban_time bad unit", args: func(a *Arguments) { a.BanTime = "10x" },
			wantAttr: "ban_time", wantIndex: -1, wantMsg: "unknown unit"},
		{name: "factor below 1", args: func(a *Arguments) { a.BanTimeFactor = 0.5 },
			wantAttr: "ban_time_factor", wantIndex: -1, wantMsg: "at least 1"},
		{name: "factor zero", args: func(a *Arguments) { a.BanTimeFactor = 0 },
			wantAttr: "ban_time_factor", wantIndex: -1, wantMsg: "at least 1"},
		{name: "cap below ban_time", args: func(a *Arguments) { a.BanTime = "1h"; a.BanTimeMax = "30m" },
			wantAttr: "ban_time_max", wantIndex: -1, wantMsg: "shorter than ban_time"},
		{name: "cap not a duration", args: func(a *Arguments) { a.BanTimeMax = "soon" },
			wantAttr: "ban_time_max", wantIndex: -1, wantMsg: "invalid duration"},
		{name: "ignore bad host name", args: func(a *Arguments) { a.Ignore = []string{"10.0.0.0/8", "localhost", "self", "web_1.example"} },
			wantAttr: "ignore", wantIndex: 3, wantMsg: `"web_1.example" is not an address, a CIDR prefix such as "10.0.0.0/8", "self" (this host's addresses) or a host name`},
		{name: "ignore bad prefix", args: func(a *Arguments) { a.Ignore = []string{"::1", "::1", "10.0.0.0/33"} },
			wantAttr: "ignore", wantIndex: 2, wantMsg: "not a valid CIDR prefix"},
		{name: "ignore empty", args: func(a *Arguments) { a.Ignore = []string{" "} },
			wantAttr: "ignore", wantIndex: 0, wantMsg: "empty entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := args(tt.args)
			c, err := New(engine.Options{ID: "counter.sshd", Name: "sshd"}, &a)
			if tt.wantAttr == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v; want a counter", c, err)
				}
				return
			}
			storetest.WantAttrErr(t, err, tt.wantAttr, tt.wantIndex, tt.wantMsg)
		})
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	r := engine.NewRegistry()
	Register(r)
	reg, ok := r.Lookup("counter", "window")
	if !ok {
		t.Fatal("counter \"window\" is not registered")
	}
	if reg.In != engine.KindFailure || reg.Out != engine.KindAction {
		t.Errorf("In, Out = %v, %v; want failures, bans", reg.In, reg.Out)
	}
	a, ok := reg.NewArgs().(*Arguments)
	if !ok {
		t.Fatalf("NewArgs() = %T, want *Arguments", reg.NewArgs())
	}
	if want := DefaultArguments(); a.MaxRetry != want.MaxRetry || a.FindTime != want.FindTime ||
		a.BanTime != want.BanTime || a.BanTimeFactor != 1 || a.BanTimeMax != "" || a.Ignore != nil {
		t.Errorf("NewArgs() = %+v, want the defaults %+v", a, want)
	}
	st, err := reg.Build(engine.Options{ID: "counter.ssh", Name: "ssh"}, a)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if c := st.(*Counter); c.jail != "ssh" || c.cfg.findTime != 10*time.Minute || c.cfg.maxRetry != 5 {
		t.Errorf("built %+v", c.cfg)
	}
	a.MaxRetry = -1
	if _, err := reg.Build(engine.Options{ID: "counter.ssh", Name: "ssh"}, a); err == nil {
		t.Error("Build with max_retry -1: want an error")
	}
	if _, err := reg.Build(engine.Options{}, struct{}{}); err == nil {
		t.Error("Build with the wrong arguments type: want an error")
	}
}

func TestBanDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   func(*Arguments)
		counts []int32
		want   []time.Duration
	}{
		{name: "no escalation", counts: []int32{1, 2, 50}, want: []time.Duration{10 * time.Minute, 10 * time.Minute, 10 * time.Minute}},
		{
			name:   "factor 1.5 without cap",
			args:   func(a *Arguments) { a.BanTime = "1h"; a.BanTimeFactor = 1.5 },
			counts: []int32{1, 2, 3},
			want:   []time.Duration{time.Hour, 90 * time.Minute, 135 * time.Minute},
		},
		{
			name:   "overflow saturates",
			args:   func(a *Arguments) { a.BanTimeFactor = 10 },
			counts: []int32{1000},
			want:   []time.Duration{1<<63 - 1},
		},
		{
			name:   "overflow meets the cap",
			args:   func(a *Arguments) { a.BanTimeFactor = 10; a.BanTimeMax = "1y" },
			counts: []int32{1000},
			want:   []time.Duration{31557600 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, args(tt.args), engine.LogClock{})
			for i, n := range tt.counts {
				if got := c.banDuration(n); got != tt.want[i] {
					t.Errorf("banDuration(%d) = %v, want %v", n, got, tt.want[i])
				}
			}
		})
	}
}

// TestPurge feeds many hosts that fail once and checks that the counter
// forgets them once their window has passed.
func TestPurge(t *testing.T) {
	t.Parallel()
	const hosts = 100_000
	host := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	fail := func(i int, at time.Time) engine.Event {
		return engine.Event{Kind: engine.KindFailure, Time: at, Failure: &engine.Failure{Host: host(i), Lines: []string{"x"}}}
	}
	tests := []struct {
		name     string
		events   func(yield func(engine.Event))
		maxHosts int // len(hosts) and the tracked peak at the end
	}{
		{
			// One failure a second: about find_time (600) hosts live, plus
			// those added since the last purge.
			name: "spread over time",
			events: func(yield func(engine.Event)) {
				for i := range hosts {
					yield(fail(i, t0.Add(time.Duration(i)*time.Second)))
				}
			},
			maxHosts: 1300,
		},
		{
			// All at once, then the clock moves on: the map is rebuilt.
			name: "burst then quiet",
			events: func(yield func(engine.Event)) {
				for i := range hosts {
					yield(fail(i, t0.Add(time.Duration(i)*time.Microsecond)))
				}
				yield(mark(time.Hour))
			},
			maxHosts: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, DefaultArguments(), engine.LogClock{})
			in := make(chan engine.Event, 256)
			go func() {
				tt.events(func(ev engine.Event) { in <- ev })
				close(in)
			}()
			out := make(chan engine.Event)
			if err := c.Run(t.Context(), in, out); err != nil {
				t.Fatal(err)
			}
			// peak is the largest size since the map was last rebuilt.
			if c.hosts.Len() > tt.maxHosts || c.peak > tt.maxHosts {
				t.Errorf("%d hosts kept (peak %d), want at most %d", c.hosts.Len(), c.peak, tt.maxHosts)
			}
			if len(c.bans) != 0 || len(c.active) != 0 || len(c.queue) != 0 {
				t.Errorf("bans %d, active %d, queue %d", len(c.bans), len(c.active), len(c.queue))
			}
			// Every forgotten failure gave its lines and ring back.
			if got, want := c.mem.InUse(), keptBytes(c); got != want {
				t.Errorf("%d bytes in use in the arena, want the %d the kept failures hold", got, want)
			}
			if got := c.Stats()["failures"]; got != hosts {
				t.Errorf("failures = %d, want %d", got, hosts)
			}
		})
	}
}

// TestRebuildKeepsWindows forgets a burst of hosts, which rebuilds the
// host table and arena, while one host keeps failures (one of them multi-
// line, one longer than an arena chunk's largest block): its ban after
// the rebuild carries all its lines.
func TestRebuildKeepsWindows(t *testing.T) {
	t.Parallel()
	const burst = 2 * offheap.ShrinkMinHosts
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 3 }), engine.LogClock{})
	long := strings.Repeat("long line ", 10_000)
	var evs []engine.Event
	for i := range burst {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		evs = append(evs, engine.Event{Kind: engine.KindFailure, Time: t0, Failure: &engine.Failure{Host: a, HostText: a.String(), Lines: []string{"burst " + a.String()}}})
	}
	a1, a2, a3 := failAt(hostA, 9*time.Minute), failAt(hostA, 10*time.Minute+30*time.Second), failAt(hostA, 11*time.Minute)
	a1.Failure.Lines = []string{"first", long}
	a2.Failure.Lines = nil
	evs = append(evs, a1, a2, a3)
	got := runAll(t, c, evs)
	if len(got) != 1 || got[0].Action.Type != engine.Ban || got[0].Action.Host.String() != hostA {
		t.Fatalf("got %q, want one ban of %s", describeAll(got), hostA)
	}
	if want := []string{"first", long, hostA + " 11m0s"}; !slices.Equal(got[0].Action.Matches, want) {
		t.Errorf("Matches = %.80q, want %.80q", got[0].Action.Matches, want)
	}
	// The sweep at 10m30s forgot the burst and rebuilt the table: peak
	// counts from there.
	if c.peak > 1 || c.hosts.Len() != 1 {
		t.Errorf("peak %d, %d hosts, want the table rebuilt with %s alone", c.peak, c.hosts.Len(), hostA)
	}
	if c.mem.InUse() != 0 {
		t.Errorf("%d arena bytes in use after the ban, want 0", c.mem.InUse())
	}
}

// TestRingKeepsMaxRetry checks that a host keeps at most max_retry failures.
func TestRingKeepsMaxRetry(t *testing.T) {
	t.Parallel()
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 3 }), engine.LogClock{})
	// One failure every 6 minutes never puts three within 10 minutes.
	var evs []engine.Event
	for i := range 20 {
		evs = append(evs, failAt(hostA, time.Duration(i)*6*time.Minute))
	}
	// Late ones, older than all kept: dropped without a ban.
	evs = append(evs, failAt(hostA, 0), failAt(hostA, time.Minute))
	if got := runAll(t, c, evs); len(got) != 0 {
		t.Fatalf("got %q, want nothing", describeAll(got))
	}
	h := c.hosts.Get(keyOf(netip.MustParseAddr(hostA)))
	if h == nil || h.n > 3 || h.cap > 3 {
		t.Fatalf("host state = %+v, want at most 3 kept", h)
	}
	w := c.ringOf(h)
	var times []time.Duration
	for i := range int(h.n) {
		times = append(times, time.Unix(0, w.at(i).t).Sub(t0))
	}
	if want := []time.Duration{102 * time.Minute, 108 * time.Minute, 114 * time.Minute}; !slices.Equal(times, want) {
		t.Errorf("kept %v, want %v", times, want)
	}
}

// keptBytes is the arena bytes that c's kept failures hold: each host's
// ring block and the lines of its entries.
func keptBytes(c *Counter) int {
	n := 0
	for _, h := range c.hosts.All() {
		if h.cap == 0 {
			continue
		}
		n += len(c.mem.Bytes(h.ring))
		r := c.ringOf(h)
		for i := range int(h.n) {
			if l := r.at(i).lines; l != 0 {
				n += len(c.mem.Bytes(l))
			}
		}
	}
	return n
}

// TestRunModeTimer runs the counter on a clock that runs: one timer, armed
// for the earliest End, lifts bans without any event arriving.
func TestRunModeTimer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := storetest.NewFakeClock(t0)
		c := newCounter(t, args(func(a *Arguments) { a.BanTime = "1m"; a.MaxRetry = 2 }), clk)
		in := make(chan engine.Event)
		out := make(chan engine.Event)
		errc := make(chan error, 1)
		go func() { errc <- c.Run(t.Context(), in, out) }()
		recv := func() engine.Event {
			t.Helper()
			ev := <-out
			checkAction(t, c, ev)
			return ev
		}
		quiet := func() {
			t.Helper()
			synctest.Wait()
			select {
			case ev := <-out:
				t.Fatalf("unexpected %s", describe(ev))
			default:
			}
		}

		in <- failAt(hostA, 0)
		in <- failAt(hostA, time.Second) // ban A 1s..61s
		if got := describe(recv()); got != "ban 192.0.2.1 @1s #1 1m0s" {
			t.Fatalf("got %s", got)
		}
		in <- failAt(hostB, 10*time.Second)
		in <- failAt(hostB, 10*time.Second) // ban B 10s..70s
		if got := describe(recv()); got != "ban 192.0.2.2 @10s #1 1m0s" {
			t.Fatalf("got %s", got)
		}
		synctest.Wait()
		if got, want := clk.Armed(), []time.Time{t0.Add(61*time.Second + 1)}; !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("armed %v, want %v", got, want)
		}

		clk.Advance(61 * time.Second) // now == End of A: not yet
		quiet()
		clk.Advance(time.Nanosecond)
		if got := describe(recv()); got != "unban 192.0.2.1 @1m1s #1" {
			t.Fatalf("got %s", got)
		}
		synctest.Wait()
		if got, want := clk.Armed(), []time.Time{t0.Add(70*time.Second + 1)}; !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("armed %v, want %v (re-armed for B)", got, want)
		}

		// The clock's own time counts as now: an old event after the
		// clock has passed B's End lifts it, before the timer fires.
		clk.Set(t0.Add(2 * time.Minute))
		in <- mark(0)
		if got := describe(recv()); got != "unban 192.0.2.2 @1m10s #1" {
			t.Fatalf("got %s", got)
		}
		synctest.Wait()
		if got := clk.Armed(); len(got) != 0 {
			t.Fatalf("armed %v with no ban pending", got)
		}
		if n := clk.Timers(); n != 1 {
			t.Errorf("%d timers made, want one reused", n)
		}

		// A ban pending at the end is kept: no unban at close.
		in <- failAt(hostC, 2*time.Minute)
		in <- failAt(hostC, 2*time.Minute)
		recv()
		close(in)
		if err := <-errc; err != nil {
			t.Fatalf("Run: %v", err)
		}
		quiet()
		if got := c.Stats(); got["bans"] != 3 || got["unbans"] != 2 {
			t.Errorf("Stats = %v", got)
		}
	})
}

// TestHardStop checks that a blocked send gives way to ctx.
func TestHardStop(t *testing.T) {
	t.Parallel()
	storetest.HardStop(t, newCounter(t, args(func(a *Arguments) { a.MaxRetry = 1 }), engine.LogClock{}))
}

// TestConcurrentReaders reads Stats and Banned while Run changes them; run
// with -race.
func TestConcurrentReaders(t *testing.T) {
	t.Parallel()
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 2; a.BanTime = "1s" }), engine.LogClock{})
	s := storetest.ConcurrentReaders(t, c)
	if s["bans"] == 0 || s["unbans"] == 0 {
		t.Errorf("Stats = %v, want bans and unbans", s)
	}
}
