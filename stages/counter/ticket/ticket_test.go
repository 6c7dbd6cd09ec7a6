package ticket

import (
	"errors"
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

// fails are failures of host at t0 plus each of secs seconds.
func fails(host string, secs ...float64) []engine.Event {
	evs := make([]engine.Event, len(secs))
	for i, s := range secs {
		evs[i] = failAt(host, time.Duration(s*float64(time.Second)))
	}
	return evs
}

// mark is a watermark at t0 plus s seconds.
func mark(s float64) engine.Event {
	return engine.Event{Kind: engine.KindFailure, Time: t0.Add(time.Duration(s * float64(time.Second))), Watermark: true}
}

func newCounter(t testing.TB, args Arguments, clock engine.Clock) *Counter {
	t.Helper()
	c, err := New(engine.Options{ID: "counter.sshd", Name: "sshd", Clock: clock, Replay: true}, &args)
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
		checkAction(t, ev)
	}
	return got
}

func checkAction(t testing.TB, ev engine.Event) {
	t.Helper()
	a := ev.Action
	if ev.Kind != engine.KindAction || a == nil || ev.Failure != nil {
		t.Fatalf("emitted %+v, want an action event", ev)
	}
	if a.Jail != "sshd" {
		t.Errorf("Jail = %q, want sshd", a.Jail)
	}
	if a.HostText != a.Host.String() {
		t.Errorf("%s: HostText = %q", describe(ev), a.HostText)
	}
	if a.Failures < 1 || a.BanCount < 1 {
		t.Errorf("%s: Failures = %d, BanCount = %d", describe(ev), a.Failures, a.BanCount)
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
	case engine.Unban:
		if !ev.Time.Equal(a.End) {
			t.Errorf("%s: Event.Time %v != End %v", describe(ev), ev.Time, a.End)
		}
	case engine.Prolong:
		// Event.Time is the ticket's time, which a late failure can put
		// before Start.
	default:
		t.Errorf("unexpected action type %v", a.Type)
	}
}

// describe writes an action as "ban 192.0.2.1 @4m0s #1 10m0s f5" (time
// from t0, ban count, ban time, failures), "prolong 192.0.2.1 @1m41s #1
// end 11m41s f2" or "unban 192.0.2.1 @14m0s #1".
func describe(ev engine.Event) string {
	a := ev.Action
	s := fmt.Sprintf("%s %s @%s #%d", a.Type, a.Host, ev.Time.Sub(t0), a.BanCount)
	switch a.Type {
	case engine.Ban:
		s += fmt.Sprintf(" %s f%d", confval.FormatDuration(a.BanTime), a.Failures)
	case engine.Prolong:
		s += fmt.Sprintf(" end %s f%d", a.End.Sub(t0), a.Failures)
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

// TestCounter covers the edges of fail2ban's counting. Every expected
// timeline here was checked against fail2ban 1.0.2's own classes with
// testdata/f2bdriver.py.
func TestCounter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      func(*Arguments)
		events    []engine.Event
		want      []string
		wantStats map[string]int64 // only the keys given are checked
	}{
		{
			name:   "five within find_time ban",
			events: fails(hostA, 0, 60, 120, 180, 240),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s f5"},
			wantStats: map[string]int64{
				"failures": 5, "bans": 1, "unbans": 0, "ignored": 0, "prolongs": 0,
			},
		},
		{
			// first < t - find_time is strict: 0 < 600-600 is false.
			name:   "a span of exactly find_time is not rescaled",
			events: fails(hostA, 0, 1, 2, 3, 600),
			want:   []string{"ban 192.0.2.1 @10m0s #1 10m0s f5"},
		},
		{
			// retry = round(4/601*600) = 4, then 5: a ban where an exact
			// window of [1s, 601s] holds only four.
			name:   "rescaled just past find_time, still a ban",
			events: fails(hostA, 0, 1, 2, 3, 601),
			want:   []string{"ban 192.0.2.1 @10m1s #1 10m0s f5"},
		},
		{
			// The ticket's last failure (3s) is exactly find_time older
			// than 603s: purged first, so 603s opens a new ticket. Without
			// the purge, round(4/603*600)+1 = 5 would ban.
			name:   "purge before count changes the result",
			events: fails(hostA, 0, 1, 2, 3, 603),
			want:   []string{},
		},
		{
			// find_time 40s: at 48s, round(3/48*40) = round(2.5) = 2 (half
			// to even), +1 = 3 < 4; at 49s, round(3/41*40) = 3, +1 = 4: the
			// ban comes one failure later than rounding half up would give.
			name:   "round half to even",
			args:   func(a *Arguments) { a.MaxRetry, a.FindTime = 4, "40s" },
			events: fails(hostA, 0, 20, 40, 48, 49),
			want:   []string{"ban 192.0.2.1 @49s #1 10m0s f5"},
		},
		{
			name:   "failures can exceed max_retry",
			args:   func(a *Arguments) { a.MaxRetry, a.FindTime = 4, "60s" },
			events: fails(hostA, 0, 40, 80, 100, 101),
			want:   []string{"ban 192.0.2.1 @1m41s #1 10m0s f5"},
		},
		{
			name:   "equal times",
			events: fails(hostA, 1, 1, 1, 1, 1),
			want:   []string{"ban 192.0.2.1 @1s #1 10m0s f5"},
		},
		{
			name:   "hosts count apart",
			events: slices.Concat(fails(hostA, 0, 60, 120, 180), fails(hostB, 240, 300, 360, 420)),
			want:   []string{},
		},
		{
			name:   "max_retry 1",
			args:   func(a *Arguments) { a.MaxRetry = 1 },
			events: fails(hostC, 7),
			want:   []string{"ban 2001:db8:1::c @7s #1 10m0s f1"},
		},
		{
			name:   "unban on a watermark after End, at End",
			events: append(fails(hostA, 0, 60, 120, 180, 240), mark(840), mark(840.000000001)),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s f5", "unban 192.0.2.1 @14m0s #1"},
			wantStats: map[string]int64{
				"failures": 5, "bans": 1, "unbans": 1,
			},
		},
		{
			name:   "no unban at End exactly",
			events: append(fails(hostA, 0, 60, 120, 180, 240), mark(840)),
			want:   []string{"ban 192.0.2.1 @4m0s #1 10m0s f5"},
		},
		{
			name:   "watermarks alone emit nothing",
			events: []engine.Event{mark(0), mark(3600)},
			want:   []string{},
		},
		{
			// Already banned: the new ticket's end (101s + 10m) is later
			// than the ban's (601s), so the ban is extended.
			name:   "prolong",
			args:   func(a *Arguments) { a.MaxRetry = 2 },
			events: slices.Concat(fails(hostA, 0, 1, 100, 101, 102), fails(hostB, 702)),
			want: []string{
				"ban 192.0.2.1 @1s #1 10m0s f2",
				"prolong 192.0.2.1 @1m41s #1 end 11m41s f2",
				"unban 192.0.2.1 @11m41s #1",
			},
			wantStats: map[string]int64{"bans": 1, "prolongs": 1, "unbans": 1, "failures": 6},
		},
		{
			// A failure at End finds the host still banned: it prolongs.
			name:   "a failure at End prolongs",
			args:   func(a *Arguments) { a.MaxRetry = 1 },
			events: fails(hostA, 0, 600, 1201),
			want: []string{
				"ban 192.0.2.1 @0s #1 10m0s f1",
				"prolong 192.0.2.1 @10m0s #1 end 20m0s f1",
				"unban 192.0.2.1 @20m0s #1",
				"ban 192.0.2.1 @20m1s #2 10m0s f1",
			},
		},
		{
			name: "permanent bans never end nor prolong",
			args: func(a *Arguments) { a.BanTime = "permanent"; a.MaxRetry = 2 },
			events: slices.Concat(
				fails(hostA, 0, 1, 2, 3),
				[]engine.Event{mark(10 * 365 * 24 * 3600)},
				fails(hostA, 10*365*24*3600+1, 10*365*24*3600+2),
			),
			want:      []string{"ban 192.0.2.1 @1s #1 permanent f2"},
			wantStats: map[string]int64{"bans": 1, "unbans": 0, "prolongs": 0},
		},
		{
			name:   "ban_time -1 is permanent",
			args:   func(a *Arguments) { a.BanTime = "-1"; a.MaxRetry = 2 },
			events: append(fails(hostC, 0, 60), mark(1000*3600)),
			want:   []string{"ban 2001:db8:1::c @1m0s #1 permanent f2"},
		},
		{
			name:   "ignored hosts",
			args:   func(a *Arguments) { a.MaxRetry = 1; a.Ignore = []string{"192.0.2.0/31", "2001:db8:1::c"} },
			events: slices.Concat(fails(hostA, 0), fails(hostB, 1), fails(hostC, 2)),
			want:   []string{"ban 192.0.2.2 @1s #1 10m0s f1"},
			wantStats: map[string]int64{
				"failures": 3, "ignored": 2, "bans": 1,
			},
		},
		{
			// With increment: ban n lasts 60s * 2^(n-1); a known bad host's
			// failure counts 2 (then 3, then 3 = max_retry) and adds two
			// to its real failure count.
			name: "increment: formula and known bad hosts",
			args: func(a *Arguments) { a.MaxRetry, a.BanTime, a.BanTimeIncrement = 3, "60s", true },
			events: slices.Concat(
				fails(hostA, 0, 1, 2, 100, 101, 300, 600),
			),
			want: []string{
				"ban 192.0.2.1 @2s #1 1m0s f3",
				"unban 192.0.2.1 @1m2s #1",
				"ban 192.0.2.1 @1m41s #2 2m0s f3",
				"unban 192.0.2.1 @3m41s #2",
				"ban 192.0.2.1 @5m0s #3 4m0s f2",
				"unban 192.0.2.1 @9m0s #3",
				"ban 192.0.2.1 @10m0s #4 8m0s f2",
			},
		},
		{
			// Failures while banned count (amplified) and reach
			// max_retry; only a ticket whose end is later prolongs.
			name: "increment: failures while banned",
			args: func(a *Arguments) { a.MaxRetry, a.BanTime, a.BanTimeIncrement = 3, "60s", true },
			events: slices.Concat(
				fails(hostA, 0, 1, 2, 100, 101, 102, 103, 104, 200, 201),
			),
			want: []string{
				"ban 192.0.2.1 @2s #1 1m0s f3",
				"unban 192.0.2.1 @1m2s #1",
				"ban 192.0.2.1 @1m41s #2 2m0s f3",
				"prolong 192.0.2.1 @3m20s #2 end 4m20s f2",
				"prolong 192.0.2.1 @3m21s #2 end 4m21s f2",
			},
			wantStats: map[string]int64{"bans": 2, "prolongs": 2},
		},
		{
			name: "increment: multipliers, the last repeating",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement, a.BanTimeMultipliers = 1, "60s", true, "1 5 30"
			},
			events: fails(hostA, 0, 100, 500, 3000, 5000),
			want: []string{
				"ban 192.0.2.1 @0s #1 1m0s f1",
				"unban 192.0.2.1 @1m0s #1",
				"ban 192.0.2.1 @1m40s #2 5m0s f1",
				"unban 192.0.2.1 @6m40s #2",
				"ban 192.0.2.1 @8m20s #3 30m0s f1",
				"unban 192.0.2.1 @38m20s #3",
				"ban 192.0.2.1 @50m0s #4 30m0s f1",
				"unban 192.0.2.1 @1h20m0s #4",
				"ban 192.0.2.1 @1h23m20s #5 30m0s f1",
			},
		},
		{
			name: "increment: ban_time_max caps",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement, a.BanTimeMax = 1, "60s", true, "100s"
			},
			events: fails(hostA, 0, 100, 500),
			want: []string{
				"ban 192.0.2.1 @0s #1 1m0s f1",
				"unban 192.0.2.1 @1m0s #1",
				"ban 192.0.2.1 @1m40s #2 1m40s f1",
				"unban 192.0.2.1 @3m20s #2",
				"ban 192.0.2.1 @8m20s #3 1m40s f1",
			},
		},
		{
			// Count 1 works (and so Build accepts it); count 2 divides by
			// zero: that ban lasts ban_time, as in fail2ban.
			name: "increment: a failing formula falls back to ban_time",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement = 1, "60s", true
				a.BanTimeFormula = "ban.Time * 3 if ban.Count < 2 else 1/0"
			},
			events: fails(hostA, 0, 100, 500),
			want: []string{
				"ban 192.0.2.1 @0s #1 1m0s f1",
				"unban 192.0.2.1 @1m0s #1",
				"ban 192.0.2.1 @1m40s #2 3m0s f1",
				"unban 192.0.2.1 @4m40s #2",
				"ban 192.0.2.1 @8m20s #3 1m0s f1",
			},
		},
		{
			// Multiplier 0 makes ban 2 last 0s. fail2ban's ban manager
			// set its next unban check from ban_time (the observer
			// shortens the ban afterwards), so nothing is lifted at 151s;
			// the late failure at 149.5s (a ticket earlier than the ban)
			// prolongs to 149.5s + ban_time... which fail2ban counts from
			// the ban's start: 150s + 100s.
			name: "a ban shortened below ban_time is lifted late; a late ticket prolongs from Start",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement, a.BanTimeMultipliers = 1, "100s", true, "1 0 5 7"
			},
			events: slices.Concat(fails(hostA, 0, 150), fails(hostB, 151), fails(hostA, 149.5), fails(hostC, 700), fails(hostA, 701)),
			want: []string{
				"ban 192.0.2.1 @0s #1 1m40s f1",
				"unban 192.0.2.1 @1m40s #1",
				"ban 192.0.2.1 @2m30s #2 0s f1",
				"ban 192.0.2.2 @2m31s #1 1m40s f1",
				"prolong 192.0.2.1 @2m29.5s #2 end 4m10s f1",
				"unban 192.0.2.1 @4m10s #2",
				"unban 192.0.2.2 @4m11s #1",
				"ban 2001:db8:1::c @11m40s #1 1m40s f1",
				"ban 192.0.2.1 @11m41s #3 8m20s f1",
			},
		},
		{
			// B's ban opens the unban gate at 160s, so the 0s ban of A is
			// lifted at 161s. The late failure at 149.5s is no later than
			// A's last ban (150s): fail2ban takes that ban as restored from
			// its database and does not record it, so A's ban at 701s is
			// again its third (500s), not a fourth (700s).
			name: "a ban no later than the last one does not count in the history",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement, a.BanTimeMultipliers = 1, "100s", true, "1 0 5 7"
			},
			events: slices.Concat(fails(hostA, 0), fails(hostB, 60), fails(hostA, 150), fails(hostC, 161),
				fails(hostA, 149.5), fails(hostD, 700), fails(hostA, 701)),
			want: []string{
				"ban 192.0.2.1 @0s #1 1m40s f1",
				"ban 192.0.2.2 @1m0s #1 1m40s f1",
				"unban 192.0.2.1 @1m40s #1",
				"ban 192.0.2.1 @2m30s #2 0s f1",
				"unban 192.0.2.1 @2m30s #2",
				"unban 192.0.2.2 @2m40s #1",
				"ban 2001:db8:1::c @2m41s #1 1m40s f1",
				"ban 192.0.2.1 @2m29.5s #3 8m20s f1",
				"unban 2001:db8:1::c @4m21s #1",
				"unban 192.0.2.1 @10m49.5s #3",
				"ban 198.51.100.4 @11m40s #1 1m40s f1",
				"ban 192.0.2.1 @11m41s #3 8m20s f1",
			},
		},
		{
			// The history of the 2s ban is purged once now - 1h is past
			// 2s + 3 * 60s, i.e. from 3783s on: at 3781s it still counts.
			name: "ban history kept until ban_history_age",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement, a.BanHistoryAge = 1, "60s", true, "1h"
			},
			events: fails(hostA, 2, 3782),
			want: []string{
				"ban 192.0.2.1 @2s #1 1m0s f1",
				"unban 192.0.2.1 @1m2s #1",
				"ban 192.0.2.1 @1h3m2s #2 2m0s f1",
			},
		},
		{
			name: "history forgotten: the next ban is a first ban again",
			args: func(a *Arguments) {
				a.MaxRetry, a.BanTime, a.BanTimeIncrement, a.BanHistoryAge = 1, "60s", true, "1h"
			},
			events: fails(hostA, 2, 3783),
			want: []string{
				"ban 192.0.2.1 @2s #1 1m0s f1",
				"unban 192.0.2.1 @1m2s #1",
				"ban 192.0.2.1 @1h3m3s #1 1m0s f1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, args(tt.args), engine.LogClock{})
			got := describeAll(runAll(t, c, tt.events))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			stats := c.Stats()
			for k, v := range tt.wantStats {
				if stats[k] != v {
					t.Errorf("Stats[%q] = %d, want %d (all: %v)", k, stats[k], v, stats)
				}
			}
		})
	}
}

// TestRescaleRounding checks FailTicket.adjustTime's arithmetic directly:
// retry / (t - first) * find_time, rounded half to even.
func TestRescaleRounding(t *testing.T) {
	t.Parallel()
	c := newCounter(t, args(func(a *Arguments) { a.FindTime = "40s" }), engine.LogClock{})
	tests := []struct {
		retry, first, last, at float64
		want                   float64 // retry after the rescale and the +1
		wantFirst              float64
	}{
		{retry: 3, first: 0, last: 40, at: 48, want: 2 + 1, wantFirst: 8},  // 2.5 -> 2
		{retry: 7, first: 0, last: 40, at: 80, want: 4 + 1, wantFirst: 40}, // 3.5 -> 4
		{retry: 3, first: 0, last: 40, at: 80, want: 2 + 1, wantFirst: 40}, // 1.5 -> 2
		{retry: 1, first: 0, last: 50, at: 80, want: 0 + 1, wantFirst: 40}, // 0.5 -> 0
		{retry: 5, first: 0, last: 30, at: 40, want: 5 + 1, wantFirst: 0},  // exactly find_time: no rescale
		{retry: 5, first: 0, last: 30, at: 20, want: 5 + 1, wantFirst: 0},  // older than last: no rescale
		{retry: 9, first: 0.5, last: 30, at: 40.75, want: 9 + 1, wantFirst: 0.75},
	}
	for _, tt := range tests {
		tk := &ticket{retry: tt.retry, first: tt.first, flags: tkOpen}
		c.setLast(tk, time.Unix(0, int64(tt.last*1e9)))
		c.add(tk, tt.at, time.Unix(0, int64(tt.at*1e9)), nil, 1, false)
		if tk.retry != tt.want || tk.first != tt.wantFirst {
			t.Errorf("retry %v first %v last %v, failure at %v: retry %v first %v, want %v %v",
				tt.retry, tt.first, tt.last, tt.at, tk.retry, tk.first, tt.want, tt.wantFirst)
		}
	}
}

func TestBanAction(t *testing.T) {
	t.Parallel()
	multi := failAt(hostA, 2*time.Minute)
	multi.Failure.Lines = []string{"first of two", "second of two"}
	tests := []struct {
		name        string
		mod         func(*Arguments)
		events      []engine.Event
		wantMatches []string
		wantFields  map[string]string
		wantStart   time.Duration
		wantFail    int
	}{
		{
			name:        "matches keep the newest max_matches lines; fields of the first failure",
			events:      slices.Concat(fails(hostA, 0, 60), []engine.Event{multi}),
			wantMatches: []string{"192.0.2.1 1m0s", "first of two", "second of two"},
			wantFields:  map[string]string{"at": "0s"},
			wantStart:   2 * time.Minute,
			wantFail:    3,
		},
		{
			name:        "max_matches 1",
			mod:         func(a *Arguments) { one := 1; a.MaxMatches = &one },
			events:      fails(hostA, 0, 60, 120),
			wantMatches: []string{"192.0.2.1 2m0s"},
			wantFields:  map[string]string{"at": "0s"},
			wantStart:   2 * time.Minute,
			wantFail:    3,
		},
		{
			name:        "max_matches 0 keeps nothing once a second failure comes",
			mod:         func(a *Arguments) { zero := 0; a.MaxMatches = &zero },
			events:      fails(hostA, 0, 60, 120),
			wantMatches: nil,
			wantFields:  map[string]string{"at": "0s"},
			wantStart:   2 * time.Minute,
			wantFail:    3,
		},
		{
			name:        "a late failure: Start is the ticket's newest time",
			events:      fails(hostA, 0, 120, 60),
			wantMatches: []string{"192.0.2.1 0s", "192.0.2.1 2m0s", "192.0.2.1 1m0s"},
			wantFields:  map[string]string{"at": "0s"},
			wantStart:   2 * time.Minute,
			wantFail:    3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, args(func(a *Arguments) {
				a.MaxRetry = 3
				if tt.mod != nil {
					tt.mod(a)
				}
			}), engine.LogClock{})
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
			if a.Failures != tt.wantFail {
				t.Errorf("Failures = %d, want %d", a.Failures, tt.wantFail)
			}
		})
	}
}

// TestNoMatchesKept: told that no consumer reads Matches, the counter
// makes the same bans without them.
func TestNoMatchesKept(t *testing.T) {
	t.Parallel()
	events := slices.Concat(fails(hostA, 0, 60, 120), fails(hostB, 0, 300))
	three := args(func(a *Arguments) { a.MaxRetry = 3 })
	keep := newCounter(t, three, engine.LogClock{})
	drop := newCounter(t, three, engine.LogClock{})
	drop.KeepMatches(false)
	kept, dropped := runAll(t, keep, events), runAll(t, drop, events)
	if !slices.Equal(describeAll(kept), describeAll(dropped)) {
		t.Fatalf("without matches: %q, with: %q", describeAll(dropped), describeAll(kept))
	}
	if len(kept) == 0 || len(kept[0].Action.Matches) == 0 {
		t.Fatalf("kept = %q, want a ban with matches", describeAll(kept))
	}
	for _, ev := range dropped {
		if ev.Action.Matches != nil {
			t.Errorf("%s: Matches = %q, want none kept", describe(ev), ev.Action.Matches)
		}
	}
	// A ban at the first failure (max_retry 1) keeps none either.
	one := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 1 }), engine.LogClock{})
	one.KeepMatches(false)
	got := runAll(t, one, fails(hostA, 0))
	if len(got) != 1 || got[0].Action.Matches != nil {
		t.Errorf("max_retry 1 without matches: %q, Matches %v", describeAll(got), got)
	}
}

func TestBanned(t *testing.T) {
	t.Parallel()
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 2 }), engine.LogClock{})
	runAll(t, c, slices.Concat(
		fails(hostB, 0, 60),
		fails(hostA, 0, 120),
		fails(hostC, 0, 1),     // the earliest ban time, but banned last
		fails(hostA, 180, 200), // prolongs A to 200s + 10m
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
		End:      t0.Add(200*time.Second + 10*time.Minute),
		BanTime:  80*time.Second + 10*time.Minute,
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
			a.BanTimeIncrement, a.BanTimeFactor, a.BanTimeMax, a.BanTimeRnd = true, "2.0 / 2.885385", "1w", "5m"
			a.BanTimeFormula = "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)"
			a.Ignore = []string{"10.0.0.0/8", " ::1 ", "fe80::/10", "::ffff:1.2.3.4"}
		}},
		{name: "multipliers", args: func(a *Arguments) { a.BanTimeMultipliers = " 1 5  30 60 " }},
		{name: "history kept forever", args: func(a *Arguments) { a.BanHistoryAge = "permanent" }},
		{name: "max_retry zero", args: func(a *Arguments) { a.MaxRetry = 0 },
			wantAttr: "max_retry", wantIndex: -1, wantMsg: "between 1 and"},
		{name: "max_matches negative", args: func(a *Arguments) { m := -1; a.MaxMatches = &m },
			wantAttr: "max_matches", wantIndex: -1, wantMsg: "between 0 and"},
		{name: "find_time permanent", args: func(a *Arguments) { a.FindTime = "permanent" },
			wantAttr: "find_time", wantIndex: -1, wantMsg: "cannot be permanent"},
		{name: "ban_time bad unit", args: func(a *Arguments) { a.BanTime = "10x" },
			wantAttr: "ban_time", wantIndex: -1, wantMsg: "unknown unit"},
		{name: "factor not a number", args: func(a *Arguments) { a.BanTimeFactor = "two" },
			wantAttr: "ban_time_factor", wantIndex: -1, wantMsg: "unknown name \"two\""},
		{name: "formula syntax", args: func(a *Arguments) { a.BanTimeFormula = "ban.Time * (2" },
			wantAttr: "ban_time_formula", wantIndex: -1, wantMsg: "column 14: expected \")\" at the end"},
		{name: "formula unknown name", args: func(a *Arguments) { a.BanTimeFormula = "ban.Time * banCount" },
			wantAttr: "ban_time_formula", wantIndex: -1, wantMsg: "write ban.Count"},
		{name: "formula no eval", args: func(a *Arguments) { a.BanTimeFormula = "eval(1)" },
			wantAttr: "ban_time_formula", wantIndex: -1, wantMsg: "unknown function \"eval\""},
		{name: "formula no strings", args: func(a *Arguments) { a.BanTimeFormula = "__import__('os')" },
			wantAttr: "ban_time_formula", wantIndex: -1, wantMsg: "column 12: unexpected character"},
		{name: "formula fails at count 1", args: func(a *Arguments) { a.BanTimeFormula = "ban.Time / (ban.Count - 1)" },
			wantAttr: "ban_time_formula", wantIndex: -1, wantMsg: "division by zero"},
		{name: "formula shifts a float", args: func(a *Arguments) { a.BanTimeFormula = "1.5 << ban.Count" },
			wantAttr: "ban_time_formula", wantIndex: -1, wantMsg: "unsupported operand type(s) for <<: 'float' and 'int'"},
		{name: "multipliers not ints", args: func(a *Arguments) { a.BanTimeMultipliers = "1 2.5" },
			wantAttr: "ban_time_multipliers", wantIndex: -1, wantMsg: "\"2.5\" is not an integer"},
		{name: "max permanent", args: func(a *Arguments) { a.BanTimeMax = "permanent" },
			wantAttr: "ban_time_max", wantIndex: -1, wantMsg: "cannot be permanent"},
		{name: "rnd bad", args: func(a *Arguments) { a.BanTimeRnd = "soon" },
			wantAttr: "ban_time_rnd", wantIndex: -1, wantMsg: "invalid duration"},
		{name: "overall jails", args: func(a *Arguments) { a.BanTimeOverallJails = true },
			wantAttr: "ban_time_overall_jails", wantIndex: -1, wantMsg: "not supported yet"},
		{name: "history age bad", args: func(a *Arguments) { a.BanHistoryAge = "0" },
			wantAttr: "ban_history_age", wantIndex: -1, wantMsg: "zero"},
		{name: "ignore bad host name", args: func(a *Arguments) { a.Ignore = []string{"10.0.0.0/8", "localhost", "self", "web_1.example"} },
			wantAttr: "ignore", wantIndex: 3, wantMsg: `"web_1.example" is not an address, a CIDR prefix such as "10.0.0.0/8", "self" (this host's addresses) or a host name`},
		{name: "ignore bad prefix", args: func(a *Arguments) { a.Ignore = []string{"::1", "::1", "10.0.0.0/33"} },
			wantAttr: "ignore", wantIndex: 2, wantMsg: "not a valid CIDR prefix"},
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

// TestNewReportsAll checks that every bad attribute of a block is
// reported at once.
func TestNewReportsAll(t *testing.T) {
	t.Parallel()
	a := args(func(a *Arguments) { a.MaxRetry, a.FindTime, a.BanTimeFormula = 0, "x", "(" })
	_, err := New(engine.Options{ID: "counter.sshd"}, &a)
	var attrs []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ae *confval.AttrError
		if errors.As(e, &ae) {
			attrs = append(attrs, ae.Attr)
		}
	}
	if want := []string{"max_retry", "find_time", "ban_time_formula"}; !slices.Equal(attrs, want) {
		t.Errorf("errors for %q, want %q", attrs, want)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	r := engine.NewRegistry()
	Register(r)
	reg, ok := r.Lookup("counter", "ticket")
	if !ok {
		t.Fatal("counter \"ticket\" is not registered")
	}
	if reg.In != engine.KindFailure || reg.Out != engine.KindAction {
		t.Errorf("In, Out = %v, %v; want failures, bans", reg.In, reg.Out)
	}
	a, ok := reg.NewArgs().(*Arguments)
	if !ok {
		t.Fatalf("NewArgs() = %T, want *Arguments", reg.NewArgs())
	}
	st, err := reg.Build(engine.Options{ID: "counter.ssh", Name: "ssh"}, a)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if c := st.(*Counter); c.jail != "ssh" || c.cfg.findTime != 10*time.Minute || c.cfg.maxRetry != 5 || c.cfg.maxMatches != 5 {
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

// TestIncreasedBanTime checks the bantime.increment formulas on their own,
// against values fail2ban's evformula gives.
func TestIncreasedBanTime(t *testing.T) {
	t.Parallel()
	seed := int64(42)
	tests := []struct {
		name   string
		mod    func(*Arguments)
		counts []int32
		want   []float64
	}{
		{
			name:   "default formula doubles up to 2^20",
			counts: []int32{1, 2, 3, 19, 20, 30},
			want:   []float64{1200, 2400, 4800, 600 << 19, 600 << 20, 600 << 20},
		},
		{
			name:   "factor 2",
			mod:    func(a *Arguments) { a.BanTimeFactor = "2" },
			counts: []int32{1, 2},
			want:   []float64{2400, 4800},
		},
		{
			name:   "factor below 1 never goes under ban_time",
			mod:    func(a *Arguments) { a.BanTimeFactor = "0.25" },
			counts: []int32{1, 2, 3},
			want:   []float64{600, 600, 1200},
		},
		{
			name: "jail.conf's exponential example",
			mod: func(a *Arguments) {
				a.BanTimeFactor = "2.0 / 2.885385"
				a.BanTimeFormula = "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)"
			},
			counts: []int32{1, 2},
			// 600 * exp(2f)/exp(f) = 600*exp(f), f = 2/2.885385
			want: []float64{1200.0014649367868, 2400.0058597507245},
		},
		{
			name:   "multipliers with a factor",
			mod:    func(a *Arguments) { a.BanTimeMultipliers, a.BanTimeFactor = "1 5 30", "2" },
			counts: []int32{1, 2, 3, 9},
			want:   []float64{6000, 36000, 36000, 36000},
		},
		{
			name:   "max caps, even below ban_time",
			mod:    func(a *Arguments) { a.BanTimeMax = "5m" },
			counts: []int32{1},
			want:   []float64{300},
		},
		{
			name:   "rnd adds a jitter drawn from the seeded generator",
			mod:    func(a *Arguments) { a.BanTimeRnd, a.BanTimeRndSeed = "100s", &seed },
			counts: []int32{1, 1},
			want:   []float64{1200 + 100*splitMixFloats(42, 1)[0], 1200 + 100*splitMixFloats(42, 2)[1]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(t, args(func(a *Arguments) {
				a.BanTimeIncrement = true
				if tt.mod != nil {
					tt.mod(a)
				}
			}), engine.LogClock{})
			for i, n := range tt.counts {
				got, err := c.increasedBanTime(n)
				if err != nil || got != tt.want[i] {
					t.Errorf("increasedBanTime(%d) = %v, %v; want %v", n, got, err, tt.want[i])
				}
			}
		})
	}
}

func splitMixFloats(seed uint64, n int) []float64 {
	r := splitMix{seed}
	out := make([]float64, n)
	for i := range out {
		out[i] = r.float64()
	}
	return out
}

// TestSplitMix pins the generator to SplitMix64's published first outputs
// for seed 0 (the Python driver must produce the same numbers).
func TestSplitMix(t *testing.T) {
	t.Parallel()
	r := splitMix{0}
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	for i, w := range want {
		if got := r.next(); got != w {
			t.Errorf("output %d = %#x, want %#x", i, got, w)
		}
	}
}

func TestRndSeed(t *testing.T) {
	t.Parallel()
	build := func(id string, replay bool) uint64 {
		a := DefaultArguments()
		c, err := New(engine.Options{ID: id, Replay: replay}, &a)
		if err != nil {
			t.Fatal(err)
		}
		return c.cfg.seed
	}
	if build("counter.a", true) != build("counter.a", true) {
		t.Error("replay seeds of the same node differ")
	}
	if build("counter.a", true) == build("counter.b", true) {
		t.Error("replay seeds of different nodes are equal")
	}
	if build("counter.a", false) == build("counter.a", false) {
		t.Error("run seeds are equal; want random ones")
	}
}

// TestPurge feeds many hosts that fail once and checks that the counter
// forgets them once their tickets are stale.
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
			name: "spread over time",
			events: func(yield func(engine.Event)) {
				for i := range hosts {
					yield(fail(i, t0.Add(time.Duration(i)*time.Second)))
				}
			},
			maxHosts: 1300,
		},
		{
			name: "burst then quiet",
			events: func(yield func(engine.Event)) {
				for i := range hosts {
					yield(fail(i, t0.Add(time.Duration(i)*time.Microsecond)))
				}
				yield(mark(3600))
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
			if c.hosts.Len() > tt.maxHosts || c.peak > tt.maxHosts {
				t.Errorf("%d hosts kept (peak %d), want at most %d", c.hosts.Len(), c.peak, tt.maxHosts)
			}
			if got, want := c.mem.InUse(), keptBytes(c); got != want {
				t.Errorf("%d bytes in use in the arena, want the %d the open tickets hold", got, want)
			}
			if got := c.Stats()["failures"]; got != hosts {
				t.Errorf("failures = %d, want %d", got, hosts)
			}
		})
	}
}

// TestHistoryPurge checks that ban histories do not pile up: banned hosts
// are forgotten once their history has aged out and the sweep runs.
func TestHistoryPurge(t *testing.T) {
	t.Parallel()
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry, a.BanTime, a.BanHistoryAge = 1, "1m", "1h" }), engine.LogClock{})
	var evs []engine.Event
	for i := range 5000 {
		a := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		evs = append(evs, engine.Event{Kind: engine.KindFailure, Time: t0.Add(time.Duration(i) * time.Second),
			Failure: &engine.Failure{Host: a, HostText: a.String(), Lines: []string{"x"}}})
	}
	// Hours later, one host fails now and then: sweeps run and forget the
	// old histories.
	for i := range 2000 {
		evs = append(evs, fails(hostA, float64(5*3600+i*600))...)
	}
	out := make(chan engine.Event, 1024)
	go func() {
		for range out {
		}
	}()
	in := make(chan engine.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	if err := c.Run(t.Context(), in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	if n := c.hosts.Len(); n > 10 {
		t.Errorf("%d hosts kept, want only the recent ones", n)
	}
}

// keptBytes is the arena bytes that c's open tickets hold.
func keptBytes(c *Counter) int {
	n := 0
	for _, h := range c.hosts.All() {
		for _, r := range []offheap.Ref{h.tk.matches, h.tk.info} {
			if r != 0 {
				n += len(c.mem.Bytes(r))
			}
		}
	}
	return n
}

// TestRunModeTimer runs the counter on a clock that runs: one timer, armed
// for the earliest End, lifts bans without any event arriving, and a
// prolong re-arms it.
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
			checkAction(t, ev)
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
		armed := func(want ...time.Time) {
			t.Helper()
			synctest.Wait()
			if got := clk.Armed(); !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Fatalf("armed %v, want %v", got, want)
			}
		}

		in <- failAt(hostA, 0)
		in <- failAt(hostA, time.Second) // ban A 1s..61s
		if got := describe(recv()); got != "ban 192.0.2.1 @1s #1 1m0s f2" {
			t.Fatalf("got %s", got)
		}
		in <- failAt(hostB, 10*time.Second)
		in <- failAt(hostB, 10*time.Second) // ban B 10s..70s
		if got := describe(recv()); got != "ban 192.0.2.2 @10s #1 1m0s f2" {
			t.Fatalf("got %s", got)
		}
		armed(t0.Add(61*time.Second + 1))

		// A fails twice more while banned: prolonged to 80s; B is next.
		in <- failAt(hostA, 20*time.Second)
		in <- failAt(hostA, 20*time.Second)
		if got := describe(recv()); got != "prolong 192.0.2.1 @20s #1 end 1m20s f2" {
			t.Fatalf("got %s", got)
		}
		armed(t0.Add(70*time.Second + 1))

		clk.Advance(70 * time.Second) // now == End of B: not yet
		quiet()
		clk.Advance(time.Nanosecond)
		if got := describe(recv()); got != "unban 192.0.2.2 @1m10s #1" {
			t.Fatalf("got %s", got)
		}
		armed(t0.Add(80*time.Second + 1))

		// The clock's own time counts as now: an old event after the
		// clock has passed A's End lifts it, before the timer fires.
		clk.Set(t0.Add(2 * time.Minute))
		in <- mark(0)
		if got := describe(recv()); got != "unban 192.0.2.1 @1m20s #1" {
			t.Fatalf("got %s", got)
		}
		armed()
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
		if got := c.Stats(); got["bans"] != 3 || got["unbans"] != 2 || got["prolongs"] != 1 {
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
	c := newCounter(t, args(func(a *Arguments) { a.MaxRetry = 2; a.BanTime = "1s"; a.BanTimeIncrement = true }), engine.LogClock{})
	s := storetest.ConcurrentReaders(t, c)
	if s["bans"] == 0 || s["unbans"] == 0 || s["prolongs"] == 0 {
		t.Errorf("Stats = %v, want bans, unbans and prolongs", s)
	}
}
