package window

import (
	"container/heap"
	"context"
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/jailrun"
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
)

const (
	// rebuildMin is the peak size from which the hosts map is rebuilt
	// once it has shrunk to a quarter (Go maps never give memory back).
	rebuildMin = 4096
	// maxFree bounds the list of released full-size ring buffers kept
	// for reuse, and maxFreeBuf the size worth keeping.
	maxFree    = 256
	maxFreeBuf = 64
)

// Run implements engine.Stage. It reads failures until in closes and then
// returns nil without lifting any ban; it returns ctx's error on a hard stop.
// With a store it first restores the saved bans, and saves every action
// before it sends it (see jailrun.Loop). Run owns the window state; only
// the counters behind Stats and the bans behind Banned are shared.
func (c *Counter) Run(ctx context.Context, in <-chan engine.Event, out chan<- engine.Event) error {
	l := jailrun.Loop{
		Jail:    c.jail,
		Clock:   c.clock,
		Batch:   c.batch,
		Control: &c.ctl,
		Restore: c.restore,
		Handle:  c.handle,
		Expire:  func() { c.expire(c.current()) },
		Wake: func() (int64, bool) {
			// A ban is lifted once now has passed its End.
			if len(c.queue) == 0 {
				return 0, false
			}
			return c.queue[0].EndNanos + 1, true
		},
	}
	return l.Run(ctx, in, out)
}

// current is the counter's now: the later of the latest event time and the
// clock's time.
func (c *Counter) current() time.Time {
	now := c.now
	if w := c.clock.Now(); w.After(now) {
		now = w
	}
	return now
}

// handle takes one input event: it moves the clock, lifts the bans that are
// due, purges expired windows now and then, and counts the failure if any.
func (c *Counter) handle(ev engine.Event) {
	if ev.Kind != engine.KindFailure {
		return
	}
	if ev.Time.After(c.now) {
		c.now = ev.Time
	}
	now := c.current()
	c.expire(now)
	// NOTE: a purge scans the whole map, so it runs only once find_time
	// has passed since the last one and a quarter as many failures have
	// been kept since as the map holds: amortised O(1) per failure. It
	// goes by the latest event time, not the wall clock, since windows
	// compare event times only: a log that lags the wall clock keeps
	// exact windows.
	if c.sinceSweep > 0 && c.sinceSweep >= len(c.hosts)/4 && c.now.Sub(c.lastSweep) >= c.cfg.findTime {
		c.sweep(c.now)
	}
	if ev.Failure == nil {
		return // a watermark, or nothing to count
	}
	c.failure(ev.Time, ev.Failure, now)
}

// failure counts one failure at t.
func (c *Counter) failure(t time.Time, f *engine.Failure, now time.Time) {
	host, t, ok := c.intake.Admit(f, t, now, c.now)
	if !ok {
		return
	}
	k := keyOf(host)
	h, known := c.hosts[k]
	if h.ban != nil {
		c.stats.whileBanned.Add(1)
		return
	}
	tn := nanos(t)
	m := c.cfg.maxRetry
	n, p := int(h.n), h.position(tn)

	// The kept failures with the new one at p form a sorted sequence of
	// n+1; look for the earliest-ending run of m in a row that holds the
	// new one and spans at most find_time. In order (p == n) that is one
	// comparison: is the (m-1)-th newest kept failure within find_time?
	if n+1 >= m {
		ft := min(int64(c.cfg.findTime), maxNanos)
		for s := max(0, p-m+1); s <= min(p, n+1-m); s++ {
			if mergedTime(&h, p, tn, s+m-1)-mergedTime(&h, p, tn, s) <= ft {
				c.ban(k, host, &h, p, s, t, tn, f, now)
				return
			}
		}
	}

	switch {
	case n == m:
		if p == 0 {
			return // older than all m kept: no later window can use it
		}
		h.dropOldest()
		p--
	case n == len(h.buf):
		c.grow(&h)
	}
	if n == 0 {
		c.failed.Add(1)
	}
	h.insert(p, entry{t: tn, f: f})
	c.hosts[k] = h
	if !known {
		c.peak = max(c.peak, len(c.hosts))
	}
	c.sinceSweep++
}

// mergedTime is the time of the i-th oldest failure of the kept ones of h
// with a new one at t inserted at p.
func mergedTime(h *hostState, p int, t int64, i int) int64 {
	switch {
	case i < p:
		return h.at(i).t
	case i == p:
		return t
	}
	return h.at(i - 1).t
}

func mergedFailure(h *hostState, p int, f *engine.Failure, i int) *engine.Failure {
	switch {
	case i < p:
		return h.at(i).f
	case i == p:
		return f
	}
	return h.at(i - 1).f
}

// ban bans host (key k, state h) for the m failures from s of its kept ones
// with the new failure f at t inserted at p.
func (c *Counter) ban(k hostKey, host netip.Addr, h *hostState, p, s int, t time.Time, tn int64, f *engine.Failure, now time.Time) {
	m := c.cfg.maxRetry
	last := s + m - 1
	lines := 0
	for i := s; i <= last; i++ {
		lines += len(mergedFailure(h, p, f, i).Lines)
	}
	matches := make([]string, 0, lines)
	for i := s; i <= last; i++ {
		matches = append(matches, mergedFailure(h, p, f, i).Lines...)
	}
	// The ban starts when its window filled: at t, unless t came late and
	// the window's newest failure is younger.
	start := t
	if last != p {
		if newest := mergedTime(h, p, tn, last); newest != tn {
			start = time.Unix(0, newest).In(t.Location())
		}
	}

	c.release(h)
	c.newBan(k, host, h, f.HostText, f.Fields, start, m, matches)
	// A late failure can make a ban that has ended already.
	c.expire(now)
}

// newBan bans host (key k, state h, its window already released) from
// start, for failures; it queues the ban action.
func (c *Counter) newBan(k hostKey, host netip.Addr, h *hostState, hostText string, fields map[string]string, start time.Time, failures int, matches []string) {
	h.count++
	d := c.banDuration(h.count)
	b := &ban{
		host:     host,
		hostText: hostText,
		fields:   fields,
		start:    start,
		banTime:  d,
		failures: failures,
		count:    h.count,
		Slot:     unbanq.Slot{Seq: c.seq, Index: -1},
	}
	c.seq++
	if d != engine.Permanent {
		b.end = start.Add(d)
		b.EndNanos = nanos(b.end)
		heap.Push(&c.queue, b)
	}
	h.ban = b
	c.hosts[k] = *h
	c.peak = max(c.peak, len(c.hosts))
	c.mu.Lock()
	c.active.Add(b)
	c.mu.Unlock()
	c.stats.bans.Add(1)

	c.batch.Add(engine.Event{
		Kind: engine.KindAction,
		Time: start,
		Action: &engine.Action{
			Type:     engine.Ban,
			Jail:     c.jail,
			Host:     host,
			HostText: b.hostText,
			Failures: failures,
			BanTime:  d,
			Start:    start,
			End:      b.end,
			BanCount: int(b.count),
			Matches:  matches,
			Fields:   b.fields,
		},
	})
}

// expire lifts, in End order, every ban whose End lies before now.
func (c *Counter) expire(now time.Time) {
	if len(c.queue) == 0 {
		return
	}
	nn := nanos(now)
	for len(c.queue) > 0 && c.queue[0].EndNanos < nn {
		b := heap.Pop(&c.queue).(*ban)
		k := keyOf(b.host)
		h := c.hosts[k]
		h.ban = nil
		c.hosts[k] = h // the ban count stays: escalation reads it
		c.mu.Lock()
		c.active.Remove(b)
		c.mu.Unlock()
		c.stats.unbans.Add(1)
		c.batch.Add(engine.Event{
			Kind: engine.KindAction,
			Time: b.end,
			Action: &engine.Action{
				Type:     engine.Unban,
				Jail:     c.jail,
				Host:     b.host,
				HostText: b.hostText,
				Failures: b.failures,
				BanTime:  b.banTime,
				Start:    b.start,
				End:      b.end,
				BanCount: int(b.count),
				Fields:   b.fields,
			},
		})
	}
}

// sweep forgets the failures of hosts whose newest failure is older than
// find_time, and the hosts that have nothing else: no ban and no ban
// history.
func (c *Counter) sweep(now time.Time) {
	limit := nanos(now) - min(int64(c.cfg.findTime), maxNanos)
	for k, h := range c.hosts {
		if h.n == 0 || h.newest() >= limit {
			continue
		}
		c.release(&h)
		if h.ban == nil && h.count == 0 {
			delete(c.hosts, k)
		} else {
			c.hosts[k] = h
		}
	}
	c.lastSweep = now
	c.sinceSweep = 0
	if c.peak >= rebuildMin && len(c.hosts) <= c.peak/4 {
		// NOTE: a fresh map, not maps.Clone, which keeps the old size.
		hosts := make(map[hostKey]hostState, len(c.hosts))
		for k, h := range c.hosts {
			hosts[k] = h
		}
		c.hosts = hosts
		c.peak = len(hosts)
	}
}

// grow gives h a bigger ring: a released full-size one when there is one,
// else twice the size, up to max_retry.
func (c *Counter) grow(h *hostState) {
	if n := len(c.free); n > 0 && len(h.buf) == 0 {
		buf := c.free[n-1]
		c.free[n-1] = nil
		c.free = c.free[:n-1]
		h.resize(buf)
		return
	}
	h.resize(make([]entry, min(max(2*len(h.buf), 2), c.cfg.maxRetry)))
}

// release empties h's ring, keeping a full-size buffer for reuse.
func (c *Counter) release(h *hostState) {
	if h.n > 0 {
		c.failed.Add(-1)
	}
	if len(h.buf) == c.cfg.maxRetry && len(h.buf) <= maxFreeBuf && len(c.free) < maxFree {
		clear(h.buf)
		c.free = append(c.free, h.buf)
	}
	h.buf, h.head, h.n = nil, 0, 0
}
