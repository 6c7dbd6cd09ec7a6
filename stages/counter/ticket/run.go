package ticket

import (
	"container/heap"
	"context"
	"math"
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/jailrun"
	"github.com/f2bproject/f2b/stages/counter/internal/offheap"
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
)

// Run implements engine.Stage. It reads failures until in closes and then
// returns nil without lifting any ban; it returns ctx's error on a hard stop.
// With a store it first restores the saved bans, and saves every action
// before it sends it (see jailrun.Loop). Run owns the ticket state; only
// the counters behind Stats and the bans behind Banned are shared.
func (c *Counter) Run(ctx context.Context, in <-chan engine.Event, out chan<- engine.Event) error {
	// "self" and host names in ignore are looked up before the first
	// failure (and the restore, which unbans ignored hosts) is handled.
	defer c.intake.Ignore.Watch(ctx, c.intake.Logger)()
	l := jailrun.Loop{
		Jail:    c.jail,
		Clock:   c.now.Clock,
		Batch:   c.batch,
		Control: &c.ctl,
		Restore: c.restore,
		Handle:  c.handle,
		Expire:  func() { c.expire(c.now.Get()) },
		Wake: func() (int64, bool) {
			// The first instant a ban can be lifted: just after the
			// earliest End, and not before the unban gate opens.
			if len(c.queue) == 0 {
				return 0, false
			}
			return max(c.queue[0].EndNanos+1, c.nextScan), true
		},
	}
	return l.Run(ctx, in, out)
}

// handle takes one input event: it moves the counter's now, lifts the bans
// that are due, purges now and then (see jailrun.Sweeps), and counts the
// failure if any.
func (c *Counter) handle(ev engine.Event) {
	if ev.Kind != engine.KindFailure {
		return
	}
	now := c.now.See(ev.Time)
	c.expire(now)
	// NOTE: tickets are purged lazily (a stale one is dropped when its host
	// fails again), which is exactly fail2ban's purge before each failure.
	// This sweep only gives the memory back.
	if c.sweeps.Due(c.now.Latest, c.hosts.Len(), c.cfg.findTime) {
		c.sweep(now)
	}
	if ev.Failure == nil {
		return // a watermark, or nothing to count
	}
	c.failure(ev.Time, ev.Failure, now)
}

// stale reports whether tk is gone by fail2ban's purge: its newest failure
// is find_time old or older on the event clock.
func (c *Counter) stale(tk *ticket) bool {
	return tk.last() <= secs(c.now.Latest)-c.cfg.findSec
}

// expired reports whether fail2ban's database purge has dropped the ban
// history h at now (seconds): its last ban is older than ban_history_age,
// and older than that plus three times its ban time. Permanent bans are
// never forgotten.
func (c *Counter) expired(h history, nowSec float64) bool {
	if h.count == 0 || c.cfg.historyAge < 0 || h.banSec == -1 {
		return false
	}
	limit := math.Trunc(nowSec) - c.cfg.historyAge
	tob := float64(h.tob)
	return tob < limit && tob+h.banSec*3 < limit
}

// failure counts one failure at t, as fail2ban's filter (and, with
// increment, its observer) would.
func (c *Counter) failure(t time.Time, f *engine.Failure, now time.Time) {
	host, t, ok := c.intake.Admit(f, t, now, c.now.Latest)
	if !ok {
		return
	}
	ts, nowSec := secs(t), secs(now)
	k := keyOf(host)
	h, added := c.hosts.Insert(k)
	tk := &h.tk
	had := tk.open()
	if had && c.stale(tk) {
		c.dropTicket(tk) // purged before this failure counts
	}
	if c.expired(h.hist, nowSec) {
		h.hist = history{}
	}

	// The filter: FailManager.addFailure.
	created := !tk.open()
	if created {
		c.openTicket(tk, ts, t, f)
		c.sweeps.Added()
	} else {
		c.add(tk, ts, t, f.Lines, 1, false)
	}
	var (
		ev   engine.Event
		emit bool
	)
	if tk.retry >= float64(c.cfg.maxRetry) {
		ev, emit = c.ban(k, h, host, now, c.closeTicket(tk, t))
	} else if c.cfg.increment && h.hist.count > 0 && ts > float64(h.hist.tob) {
		// The observer (failureFound): a known bad host's failure counts
		// 2^n/2+1 times in all (n its earlier bans, at most 20), capped at
		// max_retry, once a failure after its last ban arrives. The real
		// failure count goes up by one more too, as in fail2ban.
		n := min(h.hist.count, 20)
		retries := min(float64(int64(1)<<n)/2+1, float64(c.cfg.maxRetry))
		if retries > 1 {
			c.add(tk, ts, t, f.Lines, retries-1, created)
			if tk.retry >= float64(c.cfg.maxRetry) {
				ev, emit = c.ban(k, h, host, now, c.closeTicket(tk, t))
			}
		}
	}
	has := tk.open()
	c.settle(k, h, added)
	switch {
	case has && !had:
		c.failed.Add(1)
	case had && !has:
		c.failed.Add(-1)
	}
	if !emit {
		return
	}
	c.batch.Add(ev)
	// A late failure can make a ban that has ended already.
	c.expire(now)
}

// ban bans host (key k, state h) for the closed ticket tk, which has
// reached max_retry: it bans the host, prolongs its running ban, or does
// nothing (fail2ban's toBan, BanManager.addBanTicket and the observer's
// banFound). It returns the action to emit.
func (c *Counter) ban(k hostKey, h *hostState, host netip.Addr, now time.Time, tk closed) (engine.Event, bool) {
	nowSec := secs(now)
	def := c.cfg.banSec
	eob := math.Inf(1)
	if def != -1 {
		eob = tk.last + def
		if eob < nowSec {
			c.logger.Debug("ban already over; not banned", "host", host, "end", eob)
			return engine.Event{}, false
		}
	}
	if b := c.bans[k]; b != nil {
		if !(eob > b.eob()) {
			return engine.Event{}, false
		}
		return c.prolong(b, tk), true
	}

	// A new ban; with increment, its time grows with the host's history.
	n := h.hist.count
	bt := def
	restored := false
	if c.cfg.increment && def > 0 && n > 0 {
		v, err := c.increasedBanTime(n)
		if err != nil {
			c.logger.Warn("ban time formula failed; using ban_time", "host", host, "ban_count", n, "err", err)
		} else {
			bt = v
			// fail2ban takes a ban no later than the last one for one
			// restored from its database and does not record it.
			restored = !(tk.last > float64(h.hist.tob))
		}
	}
	if !restored && !(bt != -1 && tk.last+bt < nowSec) {
		h.hist = history{count: n + 1, tob: int64(math.RoundToEven(tk.last)), banSec: bt}
	}

	b := &ban{
		host:     host,
		hostText: tk.hostText,
		fields:   tk.fields,
		start:    tk.lastTime,
		startSec: tk.last,
		failures: tk.failures,
		count:    n + 1,
		Slot:     unbanq.Slot{Seq: c.seq, Index: -1},
		banSec:   bt,
	}
	c.seq++
	if bt == -1 {
		b.banTime = engine.Permanent
	} else {
		b.banTime = duration(bt)
		b.end = b.start.Add(b.banTime)
		b.EndNanos = jailrun.Nanos(b.end)
		heap.Push(&c.queue, b)
	}
	if def != -1 {
		// fail2ban lowers its next unban check to the ban's end by
		// ban_time: the ban's own time is set later, by the observer.
		c.nextScan = min(c.nextScan, jailrun.Nanos(b.start.Add(c.cfg.banTime)))
	}
	c.bans[k] = b
	c.mu.Lock()
	c.active.Add(b)
	c.mu.Unlock()
	c.stats.Bans.Add(1)
	return jailrun.BanEvent(c.jail, b.info(), tk.matches, b.fields), true
}

// prolong extends the running ban b to the end that tk earns: tk's time
// plus ban_time (fail2ban's addBanTicket for a host already banned).
func (c *Counter) prolong(b *ban, tk closed) engine.Event {
	def := c.cfg.banSec
	c.mu.Lock()
	if def == -1 {
		if b.Index >= 0 {
			heap.Remove(&c.queue, b.Index)
		}
		b.end, b.EndNanos, b.banTime, b.banSec = time.Time{}, 0, engine.Permanent, -1
	} else {
		// fail2ban sets the old ticket's ban time to ban_time plus how
		// much later the new ticket is.
		if dif := tk.last - b.startSec; dif > 0 {
			b.banSec = def + dif
			b.end = tk.lastTime.Add(c.cfg.banTime)
		} else {
			b.banSec = def
			b.end = b.start.Add(c.cfg.banTime)
		}
		b.banTime = b.end.Sub(b.start)
		b.EndNanos = jailrun.Nanos(b.end)
		if b.Index >= 0 {
			heap.Fix(&c.queue, b.Index)
		} else {
			heap.Push(&c.queue, b)
		}
	}
	c.mu.Unlock()
	c.stats.prolongs.Add(1)
	return engine.Event{
		Kind: engine.KindAction,
		Time: tk.lastTime,
		Action: &engine.Action{
			Type:     engine.Prolong,
			Jail:     c.jail,
			Host:     b.host,
			HostText: b.hostText,
			Failures: tk.failures,
			BanTime:  b.banTime,
			Start:    b.start,
			End:      b.end,
			BanCount: int(b.count),
			Matches:  tk.matches,
			Fields:   tk.fields,
		},
	}
}

// expire lifts, in End order, every ban whose End lies before now, once
// the unban gate is open (fail2ban's BanManager.unBanList): nothing is
// lifted while now is before nextScan, which a new ban lowers to its end
// by ban_time and each lifting sets to the earliest End left. So a ban
// that increment made shorter than ban_time is lifted late, as in fail2ban.
func (c *Counter) expire(now time.Time) {
	nn := jailrun.Nanos(now)
	if nn < c.nextScan {
		return
	}
	defer func() {
		c.nextScan = math.MaxInt64
		if len(c.queue) > 0 {
			c.nextScan = c.queue[0].EndNanos
		}
	}()
	for len(c.queue) > 0 && c.queue[0].EndNanos < nn {
		b := heap.Pop(&c.queue).(*ban)
		k := keyOf(b.host)
		delete(c.bans, k)
		if h := c.hosts.Get(k); h != nil && h.empty() {
			c.hosts.Delete(k)
		}
		c.mu.Lock()
		c.active.Remove(b)
		c.mu.Unlock()
		c.stats.Unbans.Add(1)
		c.batch.Add(jailrun.EndedUnban(c.jail, b.info(), b.fields))
	}
}

// sweep drops stale tickets and forgotten histories, and the hosts left
// with nothing: no ticket, no ban, no history.
func (c *Counter) sweep(now time.Time) {
	nowSec := secs(now)
	for k, h := range c.hosts.All() {
		if h.tk.open() && c.stale(&h.tk) {
			c.dropTicket(&h.tk)
			c.failed.Add(-1)
		}
		if c.expired(h.hist, nowSec) {
			h.hist = history{}
		}
		if h.empty() && c.bans[k] == nil {
			c.hosts.Delete(k)
		}
	}
	c.sweeps.Done(c.now.Latest)
	if offheap.Shrink(c.peak, c.hosts.Len(), c.mem) {
		c.rebuild()
	}
}

// rebuild copies the hosts and their tickets into a new table and arena
// and releases the old ones, whose freed room is only reused, never given
// back, otherwise.
func (c *Counter) rebuild() {
	hosts, mem := offheap.NewTable[hostState](), new(offheap.Arena)
	for k, h := range c.hosts.All() {
		nh, _ := hosts.Insert(k)
		*nh = *h
		if tk := &nh.tk; tk.open() {
			if tk.matches != 0 {
				tk.matches = c.mem.Move(mem, tk.matches)
			}
			tk.info = c.mem.Move(mem, tk.info)
		}
	}
	c.hosts.Release()
	c.mem.Release()
	c.hosts, c.mem = hosts, mem
	c.peak = hosts.Len()
}
