package window

import (
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

// TestEscalationAcrossRestart: ban_time_factor goes on from the ban count
// saved by an earlier run, for bans that ended and for one still running.
func TestEscalationAcrossRestart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := suiteArgs()
		a.BanTimeFactor = 2
		build := func(opts engine.Options) (storetest.Counter, error) { return New(opts, a) }
		store := memstore.New()
		const host = "192.0.2.7"

		c := storetest.NewCounter(t, build, store, nil)
		h := storetest.Start(t, c, store, 16)
		now := time.Now()
		h.Send(storetest.Failure(host, now), storetest.Failure(host, now))
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.7 #1 10m0s"}) {
			t.Fatalf("first run: %q", got)
		}
		time.Sleep(11 * time.Minute)
		h.Take() // its unban
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}

		// A new instance on the same store: the next ban is the second.
		c = storetest.NewCounter(t, build, store, nil)
		h = storetest.Start(t, c, store, 16)
		now = time.Now()
		h.Send(storetest.Failure(host, now), storetest.Failure(host, now))
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.7 #2 20m0s"}) {
			t.Fatalf("after a restart: %q", got)
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}

		// Restarted while banned: the ban comes back, and the one after it
		// is the third, manual or not.
		c = storetest.NewCounter(t, build, store, nil)
		h = storetest.Start(t, c, store, 16)
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"ban 192.0.2.7 #2 20m0s restored"}) {
			t.Fatalf("restore: %q", got)
		}
		time.Sleep(21 * time.Minute)
		if err := c.Ban(t.Context(), netip.MustParseAddr(host)); err != nil {
			t.Fatal(err)
		}
		if got := banTimes(h.Take()); !slices.Equal(got, []string{"unban 192.0.2.7 #2", "ban 192.0.2.7 #3 40m0s"}) {
			t.Fatalf("after the restored ban: %q", got)
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// banTimes describes actions with their ban times.
func banTimes(evs []engine.Event) []string {
	out := []string{}
	for _, ev := range evs {
		s := storetest.Describe(ev)
		if ev.Action.Type == engine.Ban {
			s = strings.Replace(s, " restored", "", 1) + " " + confval.FormatDuration(ev.Action.BanTime)
			if ev.Action.Restored {
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
