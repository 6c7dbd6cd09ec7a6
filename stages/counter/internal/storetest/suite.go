package storetest

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
	"github.com/f2bproject/f2b/stages/counter/jailerr"
)

// The suite's jail and hosts. The counter under test must be built with
// max_retry 2, find_time and ban_time "10m", no escalation, and Ignored in
// its ignore list.
const (
	Jail    = "sshd"
	Ignored = "203.0.113.250"
	hostA   = "192.0.2.1"
	hostB   = "192.0.2.2"
	hostC   = "192.0.2.3"
	hostD   = "2001:db8::d"
	hostE   = "192.0.2.5"
)

// Build builds the counter under test from opts (its Store, Logger and
// Clock set by the suite).
type Build func(opts engine.Options) (Counter, error)

// Suite runs the persistence and manual-command checks every counter must
// pass. Each runs in a synctest bubble on the wall clock, which starts at
// 2000-01-01 there.
func Suite(t *testing.T, build Build) {
	tests := map[string]func(t *testing.T, build Build){
		"saved before sent":     testSavedBeforeSent,
		"restore":               testRestore,
		"floors":                testFloors,
		"manual":                testManual,
		"unban forgets":         testUnbanForgets,
		"unban after restart":   testUnbanSurvivesRestart,
		"store errors":          testStoreErrors,
		"group commit":          testGroupCommit,
		"not running":           testNotRunning,
		"nil store keeps none":  testNilStore,
		"cancelled manual call": testCancelledCall,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { test(t, build) })
		})
	}
}

// NewCounter builds a counter on store with a logger that counts its error logs
// in errs (which may be nil).
func NewCounter(t testing.TB, build Build, store engine.Store, errs *atomic.Int64) Counter {
	t.Helper()
	opts := engine.Options{
		ID:     "counter." + Jail,
		Name:   Jail,
		Logger: slog.New(&countingHandler{errs: errs}),
		Clock:  engine.WallClock{},
	}
	if store != nil {
		opts.Store = store
	}
	c, err := build(opts)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return c
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func want(t testing.TB, what string, got []engine.Event, want ...string) {
	t.Helper()
	if g := DescribeAll(got); !slices.Equal(g, want) {
		t.Fatalf("%s: got %q, want %q", what, g, want)
	}
}

func stop(t testing.TB, h *Harness) {
	t.Helper()
	if err := h.Stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// testSavedBeforeSent: a ban and its unban are saved before they are
// sent (the harness checks the order), and the store ends up with the ban
// as ended history.
func testSavedBeforeSent(t *testing.T, build Build) {
	store := memstore.New()
	c := NewCounter(t, build, store, nil)
	now := time.Now()
	h := Start(t, c, store, 16)
	h.Send(Failure(hostA, now), Failure(hostA, now))
	got := h.Take()
	want(t, "ban", got, "ban 192.0.2.1 #1")
	r, ok := store.Get(Jail, addr(hostA))
	if !ok || r.Ended || !r.Start.Equal(now) || r.BanCount != 1 || r.BanTime != 10*time.Minute {
		t.Fatalf("stored %+v, %v; want a running ban from %v", r, ok, now)
	}
	time.Sleep(10*time.Minute + time.Second)
	want(t, "unban", h.Take(), "unban 192.0.2.1 #1")
	if r, _ := store.Get(Jail, addr(hostA)); !r.Ended || !r.End.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("stored %+v, want ended at %v", r, now.Add(10*time.Minute))
	}
	stop(t, h)
	if s := c.Stats(); s["bans"] != 1 || s["unbans"] != 1 || s["store_errors"] != 0 {
		t.Errorf("Stats = %v", s)
	}
}

// testRestore: running bans come back once, as restored bans; bans that
// ended while down, and running bans of a host now ignored, are unbanned
// (restored) and saved as ended; ended ones are history only. A second
// start restores only what still runs.
func testRestore(t *testing.T, build Build) {
	store := memstore.New()
	now := time.Now()
	rec := func(host string, start, end time.Time, bt time.Duration, count int) engine.BanRecord {
		return engine.BanRecord{Jail: Jail, Host: addr(host), HostText: host, Start: start, End: end,
			BanTime: bt, BanCount: count, Failures: 4, Matches: []string{host + " line"}}
	}
	ended := rec(hostC, now.Add(-time.Hour), now.Add(-50*time.Minute), 10*time.Minute, 2)
	ended.Ended = true
	other := rec(hostA, now.Add(-time.Minute), now.Add(9*time.Minute), 10*time.Minute, 1)
	other.Jail = "other"
	store.Put(
		rec(hostA, now.Add(-time.Minute), now.Add(9*time.Minute), 10*time.Minute, 3),
		rec(hostD, now.Add(-2*time.Hour), time.Time{}, engine.Permanent, 1),
		rec(hostB, now.Add(-20*time.Minute), now.Add(-10*time.Minute), 10*time.Minute, 1),
		rec(Ignored, now.Add(-time.Minute), now.Add(9*time.Minute), 10*time.Minute, 1),
		ended, other,
	)
	c := NewCounter(t, build, store, nil)
	h := Start(t, c, store, 16)
	got := h.Take()
	want(t, "restore", got,
		"ban 2001:db8::d #1 restored", "ban 192.0.2.1 #3 restored",
		"unban 192.0.2.2 #1 restored", "unban 203.0.113.250 #1 restored")
	a := got[1].Action
	if !a.Start.Equal(now.Add(-time.Minute)) || !a.End.Equal(now.Add(9*time.Minute)) || a.BanTime != 10*time.Minute ||
		a.Failures != 4 || !slices.Equal(a.Matches, []string{hostA + " line"}) || a.Jail != Jail {
		t.Errorf("restored ban %+v", a)
	}
	if d := got[0].Action; d.BanTime != engine.Permanent || !d.End.IsZero() {
		t.Errorf("restored permanent ban %+v", d)
	}
	if u := got[2]; !u.Time.Equal(now.Add(-10*time.Minute)) || !u.Action.End.Equal(u.Time) {
		t.Errorf("lapsed unban at %v (%+v), want at its end", u.Time, u.Action)
	}
	if u := got[3]; !u.Time.Equal(now) {
		t.Errorf("unban of the ignored host at %v, want now", u.Time)
	}
	for _, host := range []string{hostB, Ignored} {
		if r, _ := store.Get(Jail, addr(host)); !r.Ended {
			t.Errorf("%s not saved as ended: %+v", host, r)
		}
	}
	if n := store.Calls(); n != 1 {
		t.Errorf("%d Record calls for the restore, want 1 (the unbans)", n)
	}
	st := c.Status()
	if st.Name != Jail || st.CurrentlyBanned != 2 || st.TotalBanned != 0 || len(st.Banned) != 2 ||
		st.Banned[0].Host != addr(hostD) || st.Banned[1].Host != addr(hostA) || st.Banned[1].BanCount != 3 {
		t.Errorf("Status = %+v", st)
	}
	if s := c.Stats(); s["restored"] != 2 || s["bans"] != 0 {
		t.Errorf("Stats = %v", s)
	}

	time.Sleep(9*time.Minute + time.Second)
	want(t, "restored ban ends", h.Take(), "unban 192.0.2.1 #3")
	stop(t, h)

	c = NewCounter(t, build, store, nil)
	h = Start(t, c, store, 16)
	want(t, "second start", h.Take(), "ban 2001:db8::d #1 restored")
	stop(t, h)
	if n := store.Calls(); n != 2 {
		t.Errorf("%d Record calls in all, want 2", n)
	}
}

// testFloors: failures at or before the start of a saved ban of their host
// are lines read again on start; they are not counted. Later ones are.
func testFloors(t *testing.T, build Build) {
	store := memstore.New()
	now := time.Now()
	ended := engine.BanRecord{Jail: Jail, Host: addr(hostC), Start: now.Add(-3 * time.Minute),
		End: now.Add(-150 * time.Second), BanTime: 30 * time.Second, BanCount: 1, Ended: true}
	store.Put(ended, engine.BanRecord{Jail: Jail, Host: addr(hostE), Start: now.Add(-2 * time.Minute),
		End: now.Add(-time.Minute), BanTime: time.Minute, BanCount: 1})
	c := NewCounter(t, build, store, nil)
	h := Start(t, c, store, 16)
	want(t, "restore", h.Take(), "unban 192.0.2.5 #1 restored")
	h.Send(Failure(hostE, now.Add(-4*time.Minute)), Failure(hostE, now.Add(-2*time.Minute)),
		Failure(hostC, now.Add(-5*time.Minute)), Failure(hostC, now.Add(-3*time.Minute)))
	want(t, "failures behind the floors", h.Take())
	if s, st := c.Stats(), c.Status(); s["failures_behind_restored"] != 4 || st.TotalFailed != 0 || st.CurrentlyFailed != 0 {
		t.Fatalf("Stats = %v, Status = %+v", s, st)
	}
	h.Send(Failure(hostE, now.Add(-time.Minute)))
	synctest.Wait()
	if st := c.Status(); st.TotalFailed != 1 || st.CurrentlyFailed != 1 {
		t.Errorf("after one counted failure: Status = %+v", st)
	}
	h.Send(Failure(hostE, now))
	want(t, "failures after the floor", h.Take(), "ban 192.0.2.5 #2")
	stop(t, h)
}

// testManual: ban, unban and unban-all by hand, each saved and sent.
func testManual(t *testing.T, build Build) {
	store := memstore.New()
	c := NewCounter(t, build, store, nil)
	h := Start(t, c, store, 16)
	ctx := t.Context()
	now := time.Now()

	if err := c.Ban(ctx, addr(hostA)); err != nil {
		t.Fatalf("Ban: %v", err)
	}
	got := h.Take()
	want(t, "manual ban", got, "ban 192.0.2.1 #1")
	if a := got[0].Action; a.Failures != 0 || !a.Start.Equal(now) || a.BanTime != 10*time.Minute || len(a.Matches) != 0 {
		t.Errorf("manual ban %+v", a)
	}
	if r, ok := store.Get(Jail, addr(hostA)); !ok || r.Ended {
		t.Errorf("manual ban stored as %+v, %v", r, ok)
	}
	for _, host := range []string{hostA, "::ffff:" + hostA} {
		if err := c.Ban(ctx, addr(host)); !errors.Is(err, jailerr.ErrAlreadyBanned) {
			t.Errorf("Ban(%s) again = %v, want ErrAlreadyBanned", host, err)
		}
	}
	// fail2ban's banip bans an ignored host all the same.
	if err := c.Ban(ctx, addr(Ignored)); err != nil {
		t.Fatalf("Ban(ignored): %v", err)
	}
	want(t, "manual ban of an ignored host", h.Take(), "ban 203.0.113.250 #1")
	if st := c.Status(); st.CurrentlyBanned != 2 || st.TotalBanned != 2 {
		t.Errorf("Status = %+v", st)
	}

	time.Sleep(time.Minute)
	ok, err := c.Unban(ctx, addr(hostA))
	if !ok || err != nil {
		t.Fatalf("Unban = %v, %v", ok, err)
	}
	got = h.Take()
	want(t, "manual unban", got, "unban 192.0.2.1 #1")
	if ev := got[0]; !ev.Time.Equal(now.Add(time.Minute)) || !ev.Action.End.Equal(ev.Time) || !ev.Action.Start.Equal(ev.Time) {
		t.Errorf("manual unban at %v: %+v", ev.Time, ev.Action)
	}
	if r, ok := store.Get(Jail, addr(hostA)); !ok || !r.Forgotten() || !r.Start.Equal(now.Add(time.Minute)) {
		t.Errorf("after Unban the store holds %+v, %v; want A forgotten at the unban (fail2ban's unbanip deletes its history)", r, ok)
	}
	if ok, err := c.Unban(ctx, addr(hostA)); ok || err != nil {
		t.Errorf("Unban of a host not banned = %v, %v", ok, err)
	}
	want(t, "unban of a host not banned", h.Take())

	// An unban clears the host's failures: one more does not ban it.
	h.Send(Failure(hostB, time.Now()))
	synctest.Wait()
	if err := c.Ban(ctx, addr(hostB)); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Unban(ctx, addr(hostB)); !ok || err != nil {
		t.Fatalf("Unban = %v, %v", ok, err)
	}
	if st := c.Status(); st.CurrentlyFailed != 0 {
		t.Errorf("after an unban CurrentlyFailed = %d, want 0", st.CurrentlyFailed)
	}
	h.Send(Failure(hostB, time.Now()))
	want(t, "ban and unban of B, then one failure", h.Take(), "ban 192.0.2.2 #1", "unban 192.0.2.2 #1")

	if err := c.Ban(ctx, addr(hostD)); err != nil {
		t.Fatal(err)
	}
	n, err := c.UnbanAll(ctx)
	if n != 2 || err != nil {
		t.Fatalf("UnbanAll = %d, %v; want 2", n, err)
	}
	want(t, "unban all", h.Take(), "ban 2001:db8::d #1", "unban 203.0.113.250 #1", "unban 2001:db8::d #1")
	if st := c.Status(); st.CurrentlyBanned != 0 || len(st.Banned) != 0 || st.TotalBanned != 4 {
		t.Errorf("Status = %+v", st)
	}
	if s := c.Stats(); s["unbans"] != 4 {
		t.Errorf("Stats = %v", s)
	}
	stop(t, h)

	if err := c.Ban(ctx, addr(hostA)); !errors.Is(err, jailerr.ErrNotRunning) {
		t.Errorf("Ban after Run returned = %v, want ErrNotRunning", err)
	}
}

// testUnbanForgets: a manual unban forgets the host's ban history, in the
// counter and in the store, as fail2ban's unbanip deletes the host's rows
// from its database, even for a host not banned; unban --all forgets the
// whole jail's. The next ban of such a host is a first ban.
func testUnbanForgets(t *testing.T, build Build) {
	store := memstore.New()
	now := time.Now()
	past := engine.BanRecord{Jail: Jail, Host: addr(hostC), HostText: hostC, Start: now.Add(-time.Hour),
		End: now.Add(-50 * time.Minute), BanTime: 10 * time.Minute, BanCount: 2, Failures: 2, Ended: true}
	other := past
	other.Jail = "other"
	store.Put(past, other)
	c := NewCounter(t, build, store, nil)
	h := Start(t, c, store, 16)
	ctx := t.Context()
	want(t, "restore of history only", h.Take())

	for range 2 {
		if err := c.Ban(ctx, addr(hostA)); err != nil {
			t.Fatal(err)
		}
		if ok, err := c.Unban(ctx, addr(hostA)); !ok || err != nil {
			t.Fatalf("Unban = %v, %v", ok, err)
		}
	}
	want(t, "ban, unban, ban, unban", h.Take(), "ban 192.0.2.1 #1", "unban 192.0.2.1 #1", "ban 192.0.2.1 #1", "unban 192.0.2.1 #1")

	// C is not banned, but has history: the unban reports no ban and
	// still forgets it.
	if ok, err := c.Unban(ctx, addr(hostC)); ok || err != nil {
		t.Fatalf("Unban of a host not banned = %v, %v", ok, err)
	}
	want(t, "unban of a host not banned", h.Take())
	if r, ok := store.Get(Jail, addr(hostC)); !ok || !r.Forgotten() {
		t.Errorf("history of C kept: %+v, %v", r, ok)
	}
	if err := c.Ban(ctx, addr(hostC)); err != nil {
		t.Fatal(err)
	}
	want(t, "ban of C after its history went", h.Take(), "ban 192.0.2.3 #1")

	// unban --all: every host's history goes, in this jail only.
	if err := c.Ban(ctx, addr(hostB)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.UnbanAll(ctx); n != 2 || err != nil {
		t.Fatalf("UnbanAll = %d, %v", n, err)
	}
	want(t, "unban all", h.Take(), "ban 192.0.2.2 #1", "unban 192.0.2.3 #1", "unban 192.0.2.2 #1")
	recs, _ := store.Bans(Jail)
	for _, r := range recs {
		if !r.Forgotten() {
			t.Errorf("after UnbanAll the jail holds %+v, want every record forgotten", r)
		}
	}
	if len(recs) != 3 {
		t.Errorf("after UnbanAll the jail's records are %+v, want A, B and C forgotten", recs)
	}
	if recs, _ := store.Bans("other"); len(recs) != 1 || recs[0].Forgotten() {
		t.Errorf("another jail's records are %+v, want its one kept", recs)
	}
	if err := c.Ban(ctx, addr(hostC)); err != nil {
		t.Fatal(err)
	}
	want(t, "ban after unban --all", h.Take(), "ban 192.0.2.3 #1")
	stop(t, h)
}

// testUnbanSurvivesRestart: the failures behind a ban lifted by hand are
// read again after a restart (the sources re-read the last find_time),
// and must not ban the host again: the forgotten record keeps the moment
// of the unban, behind which failures do not count.
func testUnbanSurvivesRestart(t *testing.T, build Build) {
	store := memstore.New()
	c := NewCounter(t, build, store, nil)
	h := Start(t, c, store, 16)
	at := time.Now()
	h.Send(Failure(hostA, at))
	h.Send(Failure(hostA, at))
	want(t, "ban by failures", h.Take(), "ban 192.0.2.1 #1")
	// B has one failure and no ban: an unban of it forgets no failure,
	// in the counter as after a restart.
	h.Send(Failure(hostB, at))
	time.Sleep(time.Second)
	if ok, err := c.Unban(t.Context(), addr(hostA)); !ok || err != nil {
		t.Fatalf("Unban = %v, %v", ok, err)
	}
	if ok, err := c.Unban(t.Context(), addr(hostB)); ok || err != nil {
		t.Fatalf("Unban of B = %v, %v", ok, err)
	}
	want(t, "manual unban", h.Take(), "unban 192.0.2.1 #1")
	if r, ok := store.Get(Jail, addr(hostB)); ok {
		t.Errorf("B, never banned, has a record after the unban: %+v", r)
	}
	stop(t, h)

	c = NewCounter(t, build, store, nil)
	h = Start(t, c, store, 16)
	want(t, "restart", h.Take())
	// The same failures, read again: A's are behind its lifted ban, B's
	// one still counts, and a second bans B.
	h.Send(Failure(hostA, at))
	h.Send(Failure(hostA, at))
	h.Send(Failure(hostB, at))
	synctest.Wait()
	want(t, "the failures behind the lifted ban, read again", h.Take())
	h.Send(Failure(hostB, time.Now()))
	want(t, "B's second failure", h.Take(), "ban 192.0.2.2 #1")
	// New failures, after the unban, count, from a first ban.
	time.Sleep(time.Second)
	h.Send(Failure(hostA, time.Now()))
	h.Send(Failure(hostA, time.Now()))
	want(t, "new failures", h.Take(), "ban 192.0.2.1 #1")
	stop(t, h)
}

// testStoreErrors: a failing store does not stop bans; the failures are
// counted and logged once per run of the same error.
func testStoreErrors(t *testing.T, build Build) {
	store := memstore.New()
	var errs atomic.Int64
	c := NewCounter(t, build, store, &errs)
	h := Start(t, c, store, 16)
	now := time.Now()
	store.Fail(errors.New("no space left on device"))
	h.Send(Failure(hostA, now), Failure(hostA, now))
	want(t, "ban while the store fails", h.Take(), "ban 192.0.2.1 #1")
	h.Send(Failure(hostB, now), Failure(hostB, now))
	want(t, "second ban while the store fails", h.Take(), "ban 192.0.2.2 #1")
	if err := c.Ban(t.Context(), addr(hostD)); err != nil {
		t.Errorf("manual Ban while the store fails = %v, want nil (applied in memory)", err)
	}
	h.Take()
	if s := c.Stats(); s["store_errors"] != 3 || s["bans"] != 3 {
		t.Errorf("Stats = %v, want 3 store_errors and 3 bans", s)
	}
	if n := errs.Load(); n != 1 {
		t.Errorf("%d error logs, want 1 for one run of the same error", n)
	}
	if _, ok := store.Get(Jail, addr(hostA)); ok {
		t.Errorf("ban saved by a failing store")
	}
	store.Fail(nil)
	h.Send(Failure(hostC, now), Failure(hostC, now))
	want(t, "ban once the store works", h.Take(), "ban 192.0.2.3 #1")
	if _, ok := store.Get(Jail, addr(hostC)); !ok {
		t.Errorf("ban not saved once the store works")
	}
	if st := c.Status(); st.CurrentlyBanned != 4 {
		t.Errorf("Status = %+v, want 4 bans applied", st)
	}
	stop(t, h)
}

// testGroupCommit: a burst of 5,000 failures from 1,000 hosts, all at
// hand, is saved in a few Record calls, not one per ban.
func testGroupCommit(t *testing.T, build Build) {
	const hosts, each = 1000, 5
	store := memstore.New()
	c := NewCounter(t, build, store, nil)
	now := time.Now()
	var evs []engine.Event
	for i := range hosts * each {
		host := netip.AddrFrom4([4]byte{10, 1, byte(i % hosts / 256), byte(i % hosts % 256)})
		evs = append(evs, Failure(host.String(), now))
	}
	h := Start(t, c, store, 0, evs...)
	got := h.Take()
	stop(t, h)
	bans := 0
	for _, ev := range got {
		if ev.Action.Type == engine.Ban {
			bans++
		}
	}
	calls := store.Calls()
	t.Logf("%d bans saved in %d Record calls", bans, calls)
	if bans != hosts || calls < 1 || calls > hosts/20 {
		t.Errorf("%d bans in %d Record calls; want %d bans in at most %d calls", bans, calls, hosts, hosts/20)
	}
}

// testNotRunning: manual commands before Run starts fail with
// ErrNotRunning, naming the jail.
func testNotRunning(t *testing.T, build Build) {
	c := NewCounter(t, build, memstore.New(), nil)
	ctx := t.Context()
	err := c.Ban(ctx, addr(hostA))
	if !errors.Is(err, jailerr.ErrNotRunning) || err.Error() != "jail sshd is not running" {
		t.Errorf("Ban = %v, want %q", err, "jail sshd is not running")
	}
	if _, err := c.Unban(ctx, addr(hostA)); !errors.Is(err, jailerr.ErrNotRunning) {
		t.Errorf("Unban = %v", err)
	}
	if _, err := c.UnbanAll(ctx); !errors.Is(err, jailerr.ErrNotRunning) {
		t.Errorf("UnbanAll = %v", err)
	}
	if err := c.Ban(ctx, netip.Addr{}); err == nil {
		t.Errorf("Ban of the zero address succeeded")
	}
}

// testNilStore: without a store (replay) the counter saves and restores
// nothing, and manual commands still work.
func testNilStore(t *testing.T, build Build) {
	c := NewCounter(t, build, nil, nil)
	h := Start(t, c, nil, 16)
	if err := c.Ban(t.Context(), addr(hostA)); err != nil {
		t.Fatal(err)
	}
	want(t, "manual ban", h.Take(), "ban 192.0.2.1 #1")
	stop(t, h)
}

// testCancelledCall: a manual command gives way to its context while Run
// is stuck sending to a consumer that does not read.
func testCancelledCall(t *testing.T, build Build) {
	c := NewCounter(t, build, memstore.New(), nil)
	in := make(chan engine.Event, 4)
	out := make(chan engine.Event) // nobody reads
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx, in, out) }()
	now := time.Now()
	in <- Failure(hostA, now)
	in <- Failure(hostA, now)
	synctest.Wait() // Run is blocked sending the ban
	callCtx, callCancel := context.WithTimeout(t.Context(), time.Second)
	defer callCancel()
	if err := c.Ban(callCtx, addr(hostB)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ban = %v, want DeadlineExceeded", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want Canceled", err)
	}
}

// countingHandler discards log records and counts those at error level.
type countingHandler struct {
	errs *atomic.Int64
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && h.errs != nil {
		h.errs.Add(1)
	}
	return nil
}

func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
