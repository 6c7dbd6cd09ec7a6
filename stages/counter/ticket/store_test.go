package ticket

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
	"github.com/f2bproject/f2b/internal/memstore"
	"github.com/f2bproject/f2b/stages/counter/internal/storetest"
)

// suiteArgs are the arguments the store suite expects.
func suiteArgs() *Arguments {
	a := DefaultArguments()
	a.MaxRetry, a.FindTime, a.BanTime, a.Ignore = 2, "10m", "10m", []string{storetest.Ignored}
	return &a
}

// build builds a counter with suiteArgs.
func build(opts engine.Options) (storetest.Counter, error) { return New(opts, suiteArgs()) }

func TestStoreSuite(t *testing.T) {
	t.Parallel()
	storetest.Suite(t, build)
}

// TestIncrementAcrossRestart: bantime.increment goes on from the history
// saved by an earlier run, as fail2ban's database carries it: the next
// ban is longer, and a known bad host's failure counts twice.
func TestIncrementAcrossRestart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := suiteArgs()
		a.MaxRetry, a.BanTimeIncrement = 3, true
		build := func(opts engine.Options) (storetest.Counter, error) { return New(opts, a) }
		store := memstore.New()
		const host = "192.0.2.7"
		fail := func(h *storetest.Harness, n int) {
			for range n {
				h.Send(storetest.Failure(host, time.Now()))
			}
		}

		c := storetest.NewCounter(t, build, store, nil)
		h := storetest.Start(t, c, store, 16)
		fail(h, 3)
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.7 #1 10m0s f3"}) {
			t.Fatalf("first run: %q", got)
		}
		time.Sleep(11 * time.Minute)
		h.Take() // its unban
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}

		// A new instance on the same store: the host is known bad (its
		// first failure counts 2), and its ban doubles.
		c = storetest.NewCounter(t, build, store, nil)
		h = storetest.Start(t, c, store, 16)
		time.Sleep(time.Second)
		fail(h, 2)
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.7 #2 20m0s f3"}) {
			t.Fatalf("after a restart: %q", got)
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}

		// Restarted while banned, then banned by hand once it ended: the
		// third ban, four times ban_time.
		c = storetest.NewCounter(t, build, store, nil)
		h = storetest.Start(t, c, store, 16)
		time.Sleep(21 * time.Minute)
		if err := c.Ban(t.Context(), netip.MustParseAddr(host)); err != nil {
			t.Fatal(err)
		}
		want := []string{"ban 192.0.2.7 #2 20m0s f3 restored", "unban 192.0.2.7 #2", "ban 192.0.2.7 #3 40m0s f0"}
		if got := banTimes(h.Take()); !slices.Equal(got, want) {
			t.Fatalf("after the restored ban: %q, want %q", got, want)
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHistoryAgeOnRestore: a saved ban older than ban_history_age (and
// three times its ban time) is forgotten on restore, as fail2ban's
// database purge forgets it.
func TestHistoryAgeOnRestore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := suiteArgs()
		a.MaxRetry, a.BanTimeIncrement, a.BanHistoryAge = 3, true, "1h"
		build := func(opts engine.Options) (storetest.Counter, error) { return New(opts, a) }
		store := memstore.New()
		now := time.Now()
		old, recent := netip.MustParseAddr("192.0.2.8"), netip.MustParseAddr("192.0.2.9")
		for host, start := range map[netip.Addr]time.Time{old: now.Add(-2 * time.Hour), recent: now.Add(-50 * time.Minute)} {
			store.Put(engine.BanRecord{Jail: storetest.Jail, Host: host, Start: start, End: start.Add(10 * time.Minute),
				BanTime: 10 * time.Minute, BanCount: 1, Failures: 3, Ended: true})
		}
		c := storetest.NewCounter(t, build, store, nil)
		h := storetest.Start(t, c, store, 16)
		for _, host := range []netip.Addr{old, old, recent, recent} {
			h.Send(storetest.Failure(host.String(), now))
		}
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.9 #2 20m0s f3"}) {
			t.Fatalf("got %q: want only the host with recent history banned", got)
		}
		h.Send(storetest.Failure(old.String(), now))
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.8 #1 10m0s f3"}) {
			t.Fatalf("got %q: want the forgotten host's first ban", got)
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// banTimes describes actions with their ban times and failures.
func banTimes(evs []engine.Event) []string {
	out := []string{}
	for _, ev := range evs {
		s := storetest.Describe(ev)
		if a := ev.Action; a.Type == engine.Ban {
			s = fmt.Sprintf("%s %s f%d", strings.Replace(s, " restored", "", 1), confval.FormatDuration(a.BanTime), a.Failures)
			if a.Restored {
				s += " restored"
			}
		}
		out = append(out, s)
	}
	return out
}

// TestRealStore runs the counter on the daemon's store, on disk.
func TestRealStore(t *testing.T) {
	t.Parallel()
	storetest.RoundTrip(t, build, storetest.OpenState(t))
}
