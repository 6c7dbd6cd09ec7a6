package fwsync_test

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// fake is a target in memory.
type fake struct {
	mu       sync.Mutex
	held     map[string]map[netip.Prefix]fwsync.Elem
	calls    []string // "sync", "apply", "teardown"
	applies  [][]fwsync.Op
	failAll  bool                  // every call fails
	refuse   map[netip.Prefix]bool // Apply fails as a whole when it has one of these
	partial  map[netip.Prefix]bool // Apply reports these as failed on their own
	torndown []string
}

func newFake() *fake {
	return &fake{held: map[string]map[netip.Prefix]fwsync.Elem{}, refuse: map[netip.Prefix]bool{}, partial: map[netip.Prefix]bool{}}
}

func (f *fake) Sync(_ context.Context, groups []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "sync")
	if f.failAll {
		return nil, errors.New("simulated failure")
	}
	out := map[string]map[netip.Prefix]fwsync.Elem{}
	for _, g := range groups {
		if f.held[g] == nil {
			f.held[g] = map[netip.Prefix]fwsync.Elem{}
		}
		m := map[netip.Prefix]fwsync.Elem{}
		for n, e := range f.held[g] {
			e.Approx = true
			m[n] = e
		}
		out[g] = m
	}
	return out, nil
}

func (f *fake) Apply(_ context.Context, ops []fwsync.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "apply")
	if f.failAll {
		return errors.New("simulated failure")
	}
	for _, o := range ops {
		if f.refuse[o.Key.Net] {
			return errors.New("refused")
		}
	}
	var failed []fwsync.Op
	for _, o := range ops {
		if f.partial[o.Key.Net] {
			failed = append(failed, o)
			continue
		}
		if o.Kind == fwsync.Delete {
			delete(f.held[o.Key.Group], o.Key.Net)
		} else {
			f.held[o.Key.Group][o.Key.Net] = fwsync.Elem{End: o.End}
		}
	}
	f.applies = append(f.applies, slices.Clone(ops))
	if len(failed) > 0 {
		return &fwsync.PartialError{Failed: failed, Err: errors.New("some failed")}
	}
	return nil
}

func (f *fake) Teardown(_ context.Context, groups []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.torndown = append(f.torndown, groups...)
	for _, g := range groups {
		delete(f.held, g)
	}
	return nil
}

func (f *fake) has(group, addr string) (fwsync.Elem, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := netip.MustParsePrefix(addr)
	e, ok := f.held[group][p]
	return e, ok
}

func (f *fake) set(group, addr string, e fwsync.Elem) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held[group] == nil {
		f.held[group] = map[netip.Prefix]fwsync.Elem{}
	}
	f.held[group][netip.MustParsePrefix(addr)] = e
}

var ev = fwtest.Event

func testConfig() fwsync.Config {
	return fwsync.Config{
		Type:        "test",
		GroupOf:     func(j string) string { return j },
		Timeout:     func(end, _ time.Time) time.Time { return end },
		RestoreIdle: 30 * time.Millisecond,
		StaleGrace:  150 * time.Millisecond,
		RetryFirst:  30 * time.Millisecond,
		RetryMax:    100 * time.Millisecond,
	}
}

// start runs a driver over f and returns its input and a stop function.
func start(t *testing.T, cfg fwsync.Config, f *fake) (*fwsync.Driver, chan engine.Event, func() error) {
	t.Helper()
	d := fwsync.New(cfg, f)
	in := make(chan engine.Event, 100)
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), in) }()
	closed := false
	stop := func() error {
		closed = true
		close(in)
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
	t.Cleanup(func() {
		if !closed {
			stop()
		}
	})
	return d, in, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReconcile: the restored burst leaves a matching element alone,
// updates one with another timeout, adds a missing one, and deletes the
// stale one only after the grace.
func TestReconcile(t *testing.T) {
	t.Parallel()
	f := newFake()
	now := time.Now()
	f.set("sshd", "192.0.2.1/32", fwsync.Elem{End: now.Add(time.Hour)})
	f.set("sshd", "192.0.2.2/32", fwsync.Elem{End: now.Add(time.Minute)})
	f.set("sshd", "192.0.2.9/32", fwsync.Elem{End: now.Add(time.Hour)})
	d, in, stop := start(t, testConfig(), f)
	in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, true)
	in <- ev(engine.Ban, "sshd", "192.0.2.2", time.Hour, true)
	in <- ev(engine.Ban, "sshd", "192.0.2.3", engine.Permanent, true)
	waitFor(t, "the start sync", func() bool { _, ok := f.has("sshd", "192.0.2.3/32"); return ok })
	if _, ok := f.has("sshd", "192.0.2.9/32"); !ok {
		t.Error("stale element deleted before the grace")
	}
	if e, _ := f.has("sshd", "192.0.2.2/32"); time.Until(e.End) < 59*time.Minute {
		t.Errorf("element with a short timeout not updated: %v", time.Until(e.End))
	}
	waitFor(t, "the stale deletion", func() bool { _, ok := f.has("sshd", "192.0.2.9/32"); return !ok })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if st["test_elements_added"] != 2 || st["test_elements_deleted"] != 2 || st["test_errors"] != 0 {
		t.Errorf("stats = %v", st)
	}
}

// TestStaleClaimed: a ban arriving within the grace keeps its element.
func TestStaleClaimed(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.set("sshd", "192.0.2.9/32", fwsync.Elem{})
	_, in, stop := start(t, testConfig(), f)
	time.Sleep(60 * time.Millisecond) // the burst window closes empty
	in <- ev(engine.Ban, "sshd", "192.0.2.9", engine.Permanent, false)
	time.Sleep(300 * time.Millisecond)
	if _, ok := f.has("sshd", "192.0.2.9/32"); !ok {
		t.Error("element claimed by a ban was deleted")
	}
	stop()
}

// TestBatchCancels: a ban and its unban in one batch change nothing, and
// a prolong updates the timeout.
func TestBatchCancels(t *testing.T) {
	t.Parallel()
	f := newFake()
	d, in, stop := start(t, testConfig(), f)
	in <- ev(engine.Ban, "sshd", "2001:db8::1", time.Hour, false)
	waitFor(t, "the ban", func() bool { _, ok := f.has("sshd", "2001:db8::1/128"); return ok })
	in <- ev(engine.Prolong, "sshd", "2001:db8::1", 3*time.Hour, false)
	waitFor(t, "the prolong", func() bool { e, _ := f.has("sshd", "2001:db8::1/128"); return time.Until(e.End) > 2*time.Hour })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st["test_elements_added"] != 2 || st["test_elements_deleted"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

// TestPrefix: with a /24, two hosts share an element that stays until the
// last one is unbanned; two jails of one group share it too.
func TestPrefix(t *testing.T) {
	t.Parallel()
	f := newFake()
	cfg := testConfig()
	cfg.Prefix = [2]int{24, 0}
	cfg.GroupOf = nil
	cfg.Timeout = nil
	_, in, stop := start(t, cfg, f)
	in <- ev(engine.Ban, "sshd", "198.51.100.1", time.Hour, false)
	in <- ev(engine.Ban, "web", "198.51.100.2", time.Hour, false)
	in <- ev(engine.Ban, "web", "198.51.100.1", time.Hour, false)
	waitFor(t, "the ban", func() bool { _, ok := f.has("", "198.51.100.0/24"); return ok })
	in <- ev(engine.Unban, "sshd", "198.51.100.1", 0, false)
	in <- ev(engine.Unban, "web", "198.51.100.2", 0, false)
	in <- ev(engine.Ban, "web", "203.0.113.1", time.Hour, false)
	waitFor(t, "a later ban", func() bool { _, ok := f.has("", "203.0.113.0/24"); return ok })
	if _, ok := f.has("", "198.51.100.0/24"); !ok {
		t.Error("network deleted while web still bans a host in it")
	}
	in <- ev(engine.Unban, "web", "198.51.100.1", 0, false)
	waitFor(t, "the last unban", func() bool { _, ok := f.has("", "198.51.100.0/24"); return !ok })
	stop()
}

// TestFailureResync: while the target fails, the driver counts errors
// and retries with backoff; once it works every ban is in place.
func TestFailureResync(t *testing.T) {
	t.Parallel()
	f := newFake()
	d, in, stop := start(t, testConfig(), f)
	in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, false)
	waitFor(t, "the ban", func() bool { _, ok := f.has("sshd", "192.0.2.1/32"); return ok })
	f.mu.Lock()
	f.failAll = true
	f.mu.Unlock()
	in <- ev(engine.Ban, "sshd", "192.0.2.2", time.Hour, false)
	waitFor(t, "failures", func() bool { return d.Stats()["test_errors"] >= 4 })
	f.mu.Lock()
	f.failAll = false
	f.mu.Unlock()
	waitFor(t, "the repair", func() bool { _, ok := f.has("sshd", "192.0.2.2/32"); return ok })
	stop()
}

// TestRefusedAndPartial: a change the target refuses is found by halving
// and retried; the others apply. A partially failed batch retries only
// its failed element.
func TestRefusedAndPartial(t *testing.T) {
	t.Parallel()
	f := newFake()
	bad := netip.MustParsePrefix("192.0.2.66/32")
	f.refuse[bad] = true
	var burst []engine.Event
	for i := range 40 {
		burst = append(burst, ev(engine.Ban, "sshd", netip.AddrFrom4([4]byte{192, 0, 2, byte(40 + i)}).String(), time.Hour, true))
	}
	d, in, stop := start(t, testConfig(), f)
	for _, e := range burst {
		in <- e
	}
	waitFor(t, "the other elements", func() bool { return d.Stats()["test_elements_added"] == 39 })
	f.mu.Lock()
	delete(f.refuse, bad)
	f.partial[netip.MustParsePrefix("192.0.2.200/32")] = true
	f.mu.Unlock()
	waitFor(t, "the retry of the refused one", func() bool { _, ok := f.has("sshd", bad.String()); return ok })
	in <- ev(engine.Ban, "sshd", "192.0.2.200", time.Hour, false)
	in <- ev(engine.Ban, "sshd", "192.0.2.201", time.Hour, false)
	waitFor(t, "the good one", func() bool { _, ok := f.has("sshd", "192.0.2.201/32"); return ok })
	waitFor(t, "retries", func() bool { return d.Stats()["test_errors"] >= 3 })
	f.mu.Lock()
	clear(f.partial)
	f.mu.Unlock()
	waitFor(t, "the partial one", func() bool { _, ok := f.has("sshd", "192.0.2.200/32"); return ok })
	stop()
}

// TestFlushOnStop: the groups set up are torn down at the end, also on a
// hard stop.
func TestFlushOnStop(t *testing.T) {
	t.Parallel()
	f := newFake()
	cfg := testConfig()
	cfg.FlushOnStop = true
	_, in, stop := start(t, cfg, f)
	in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, false)
	waitFor(t, "the ban", func() bool { _, ok := f.has("sshd", "192.0.2.1/32"); return ok })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.torndown, []string{"sshd"}) {
		t.Errorf("torn down %v", f.torndown)
	}

	g := newFake()
	d := fwsync.New(cfg, g)
	ctx, cancel := context.WithCancel(context.Background())
	in2 := make(chan engine.Event, 1)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, in2) }()
	in2 <- ev(engine.Ban, "web", "192.0.2.1", time.Hour, false)
	waitFor(t, "the ban", func() bool { _, ok := g.has("web", "192.0.2.1/32"); return ok })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	if !slices.Equal(g.torndown, []string{"web"}) {
		t.Errorf("torn down %v", g.torndown)
	}
}

// finder is a fake whose Sync also returns the groups it holds that it
// was not asked for, as nftables' backend returns the sets its chain
// refers to.
type finder struct{ *fake }

func (f finder) Sync(ctx context.Context, groups []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	f.mu.Lock()
	all := slices.Collect(maps.Keys(f.held))
	f.mu.Unlock()
	out, err := f.fake.Sync(ctx, append(all, groups...))
	return out, err
}

// TestDiscover: with Discover the start syncs (and the end tears down)
// with no group named; the groups the backend finds are the sink's, so
// their stale elements go after the grace.
func TestDiscover(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.set("old", "192.0.2.1/32", fwsync.Elem{})
	cfg := testConfig()
	cfg.Discover, cfg.FlushOnStop = true, true
	d := fwsync.New(cfg, finder{f})
	in := make(chan engine.Event)
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), in) }()
	waitFor(t, "the stale deletion", func() bool { _, ok := f.has("old", "192.0.2.1/32"); return !ok })
	f.mu.Lock()
	calls := slices.Clone(f.calls)
	f.mu.Unlock()
	if len(calls) < 2 || calls[0] != "sync" {
		t.Errorf("calls = %v, want a sync first", calls)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.torndown, []string{"old"}) {
		t.Errorf("torn down %v", f.torndown)
	}
	if st := d.Stats(); st["test_elements_deleted"] != 1 || st["test_errors"] != 0 {
		t.Errorf("stats = %v", st)
	}

	// Without Discover and without groups, nothing is synced.
	g := newFake()
	_, _, stop := start(t, testConfig(), g)
	time.Sleep(100 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(g.calls) != 0 || len(g.torndown) != 0 {
		t.Errorf("calls %v, torn down %v; want none", g.calls, g.torndown)
	}
}

// TestFreshGroupOneBatch: a group's first actions are set up by one Sync
// and applied by one batch, with the actions that came meanwhile.
func TestFreshGroupOneBatch(t *testing.T) {
	t.Parallel()
	f := newFake()
	d, in, stop := start(t, testConfig(), f)
	time.Sleep(60 * time.Millisecond) // the burst window closes empty
	in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, false)
	waitFor(t, "the ban", func() bool { _, ok := f.has("sshd", "192.0.2.1/32"); return ok })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.calls, []string{"sync", "apply"}) || d.Stats()["test_batches"] != 1 {
		t.Errorf("calls = %v, stats = %v; want one sync and one apply", f.calls, d.Stats())
	}
}

// TestStage: a fwsync.Stage reports zero counts under its type before a Run,
// and runs a driver with its tunings.
func TestStage(t *testing.T) {
	t.Parallel()
	var st fwsync.Stage
	st.Init("x", engine.Options{})
	if got := st.Stats(); len(got) != 4 || got["x_batches"] != 0 || got["x_errors"] != 0 {
		t.Errorf("stats before a run = %v", got)
	}
	if st.Logger == nil {
		t.Error("no logger")
	}
	st.RestoreIdle = 10 * time.Millisecond
	f := newFake()
	in := make(chan engine.Event, 1)
	in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, true)
	close(in)
	if err := st.Run(context.Background(), in, fwsync.Config{GroupOf: func(j string) string { return j }}, f); err != nil {
		t.Fatal(err)
	}
	if got := st.Stats(); got["x_elements_added"] != 1 {
		t.Errorf("stats after the run = %v", got)
	}
}

func TestNets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/64"} {
		p, ok := fwsync.ParseNet(s)
		if !ok || fwsync.NetText(p) != s {
			t.Errorf("%q: %v %v", s, p, ok)
		}
	}
	if p, ok := fwsync.ParseNet("192.0.2.1/32"); !ok || fwsync.NetText(p) != "192.0.2.1" || fwsync.Family(p.Addr()) != fwsync.V4 {
		t.Errorf("/32: %v %v", p, ok)
	}
	if p, ok := fwsync.ParseNet("192.0.2.7/24"); !ok || p.String() != "192.0.2.0/24" {
		t.Errorf("unmasked: %v %v", p, ok)
	}
	for _, s := range []string{"", "x", "192.0.2.1/33"} {
		if _, ok := fwsync.ParseNet(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
	if fwsync.Family(netip.MustParseAddr("::1")) != fwsync.V6 {
		t.Error("family of ::1")
	}
}
