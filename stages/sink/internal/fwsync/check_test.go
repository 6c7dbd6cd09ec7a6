package fwsync_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// checking is a fake that is a fwsync.Checker: what Sync set up can be
// lost (as `nft flush ruleset` loses it), which Check then reports.
type checking struct {
	*fake
	lost     bool          // what Sync set up is gone
	checkErr error         // Check's error when set
	checks   int           // Check calls
	applying bool          // an Apply is under way
	overlap  bool          // a Check ran while an Apply was under way
	gate     chan struct{} // when set, Apply waits until it is closed
}

func newChecking() *checking { return &checking{fake: newFake()} }

func (c *checking) Check(_ context.Context, groups []string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
	c.overlap = c.overlap || c.applying
	switch {
	case c.checkErr != nil:
		return nil, c.checkErr
	case c.lost:
		return []string{"chain test"}, nil
	}
	return nil, nil
}

func (c *checking) Sync(ctx context.Context, groups []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	c.mu.Lock()
	c.lost = false
	c.mu.Unlock()
	return c.fake.Sync(ctx, groups)
}

func (c *checking) Apply(ctx context.Context, ops []fwsync.Op) error {
	c.mu.Lock()
	c.applying = true
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	err := c.fake.Apply(ctx, ops)
	c.mu.Lock()
	c.applying = false
	c.mu.Unlock()
	return err
}

// lose removes what Sync set up, and every element with it.
func (c *checking) lose() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lost = true
	for _, g := range c.held {
		clear(g)
	}
}

// counts returns the Check and Sync calls so far.
func (c *checking) counts() (checks, syncs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, call := range c.calls {
		if call == "sync" {
			syncs++
		}
	}
	return c.checks, syncs
}

// asBackend is c as the driver sees it.
func (c *checking) asBackend() fwsync.Backend { return c }

// startChecked runs a driver over c, as start does over a fake.
func startChecked(t *testing.T, cfg fwsync.Config, c *checking) (*fwsync.Driver, chan engine.Event, func() error) {
	t.Helper()
	d := fwsync.New(cfg, c)
	in := make(chan engine.Event, 100)
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), in) }()
	return d, in, func() error {
		close(in)
		return <-done
	}
}

// checkConfig is testConfig with a check every second and logs in buf.
func checkConfig(buf *fwtest.SyncBuffer) fwsync.Config {
	cfg := testConfig()
	cfg.CheckInterval = time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(buf, nil))
	return cfg
}

// TestCheckRestores: while the structures are there the checks resync
// nothing; once they are lost with every element, the next check (within
// one interval) resyncs and every running ban is back, logged as one
// warning naming what was missing and how many elements came back. A
// check that cannot tell is counted and logged, and resyncs nothing.
func TestCheckRestores(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newChecking()
		logs := &fwtest.SyncBuffer{}
		d, in, stop := startChecked(t, checkConfig(logs), c)
		in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, false)
		in <- ev(engine.Ban, "sshd", "2001:db8::1", engine.Permanent, false)
		in <- ev(engine.Ban, "web", "192.0.2.2", time.Hour, false)
		waitFor(t, "the bans", func() bool { return d.Stats()["test_elements_added"] == 3 })
		checks0, syncs0 := c.counts()

		time.Sleep(5 * time.Second)
		synctest.Wait()
		checks, syncs := c.counts()
		if checks-checks0 < 4 || syncs != syncs0 {
			t.Errorf("intact: %d checks and %d syncs in 5 intervals, want at least 4 and none", checks-checks0, syncs-syncs0)
		}

		c.lose()
		time.Sleep(time.Second)
		synctest.Wait()
		for _, k := range [][2]string{{"sshd", "192.0.2.1/32"}, {"sshd", "2001:db8::1/128"}, {"web", "192.0.2.2/32"}} {
			if _, ok := c.has(k[0], k[1]); !ok {
				t.Errorf("%s of %s not restored within one interval", k[1], k[0])
			}
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), `missing="chain test" restored=3`) {
			t.Errorf("want one warning naming what was missing and 3 restored; logs:\n%s", logs)
		}

		c.mu.Lock()
		c.checkErr = errors.New("simulated failure")
		c.mu.Unlock()
		_, syncs0 = c.counts()
		time.Sleep(time.Second)
		synctest.Wait()
		if _, syncs := c.counts(); syncs != syncs0 || d.Stats()["test_errors"] != 1 || !strings.Contains(logs.String(), "cannot check the target") {
			t.Errorf("failed check: %d syncs, stats %v; logs:\n%s", syncs-syncs0, d.Stats(), logs)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCheckDisabled: with CheckInterval 0 (or negative, through the
// Stage) the backend is never checked and a loss stays; a Stage gives
// DefaultCheckInterval when neither it nor the Config sets one.
func TestCheckDisabled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newChecking()
		cfg := checkConfig(&fwtest.SyncBuffer{})
		cfg.CheckInterval = 0
		d, in, stop := startChecked(t, cfg, c)
		in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, false)
		waitFor(t, "the ban", func() bool { return d.Stats()["test_elements_added"] == 1 })
		c.lose()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if checks, _ := c.counts(); checks != 0 {
			t.Errorf("%d checks with CheckInterval 0", checks)
		}
		if _, ok := c.has("sshd", "192.0.2.1/32"); ok {
			t.Error("element restored without a check")
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			hook time.Duration
			want int
		}{{-1, 0}, {0, 2}} {
			var st fwsync.Stage
			st.Init("x", engine.Options{})
			st.CheckInterval = tc.hook
			c := newChecking()
			in := make(chan engine.Event, 1)
			in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, true)
			done := make(chan error, 1)
			go func() {
				done <- st.Run(context.Background(), in, fwsync.Config{GroupOf: func(j string) string { return j }}, c.asBackend())
			}()
			time.Sleep(2*fwsync.DefaultCheckInterval + time.Second)
			synctest.Wait()
			close(in)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if checks, _ := c.counts(); checks != tc.want {
				t.Errorf("Stage.CheckInterval %v: %d checks in %v, want %d", tc.hook, checks, 2*fwsync.DefaultCheckInterval+time.Second, tc.want)
			}
		}
	})
}

// TestCheckNotDuringBatch: no check runs while a batch is being applied,
// however long it takes; the checks go on once it has landed.
func TestCheckNotDuringBatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newChecking()
		d, in, stop := startChecked(t, checkConfig(&fwtest.SyncBuffer{}), c)
		in <- ev(engine.Ban, "sshd", "192.0.2.1", time.Hour, false)
		waitFor(t, "the ban", func() bool { return d.Stats()["test_elements_added"] == 1 })
		gate := make(chan struct{})
		c.mu.Lock()
		c.gate = gate
		c.mu.Unlock()
		in <- ev(engine.Ban, "sshd", "192.0.2.2", time.Hour, false)
		synctest.Wait() // the batch waits at the gate
		checks0, _ := c.counts()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if checks, _ := c.counts(); checks != checks0 {
			t.Errorf("%d checks while a batch was applied", checks-checks0)
		}
		close(gate)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		c.mu.Lock()
		overlap := c.overlap
		c.mu.Unlock()
		if checks, _ := c.counts(); checks-checks0 < 2 || overlap {
			t.Errorf("after the batch: %d checks (want at least 2), overlap %v", checks-checks0, overlap)
		}
		if _, ok := c.has("sshd", "192.0.2.2/32"); !ok {
			t.Error("the batch did not land")
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}
