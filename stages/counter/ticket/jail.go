package ticket

import (
	"container/heap"
	"context"
	"math"
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/jailrun"
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
	"github.com/f2bproject/f2b/stages/counter/jailerr"
)

// restore puts the bans saved in the store back, before Run reads any
// input: running ones in force again, and every host's ban history, which
// ban_time_increment reads, as fail2ban's database keeps it.
func (c *Counter) restore() {
	n := c.batch.Restore(c.now.Get(), c.cfg.ignore.Contains, &c.intake.Floors, c.keep)
	c.stats.Restored.Add(int64(n))
}

// keep takes one saved record: its ban history (unless fail2ban's purge
// would have dropped it by now, see ban_history_age), and, when running,
// its ban.
func (c *Counter) keep(r engine.BanRecord, running bool) {
	k := keyOf(r.Host)
	h, added := c.hosts.Insert(k)
	perm := jailrun.Permanent(r)
	count := int32(min(max(r.BanCount, 1), math.MaxInt32))
	hist := history{count: count, tob: int64(math.RoundToEven(secs(r.Start))), banSec: -1}
	if !perm {
		hist.banSec = r.BanTime.Seconds()
	}
	if running || !c.expired(hist, secs(c.now.Get())) {
		h.hist = hist
	}
	if running {
		b := &ban{
			host:     r.Host,
			hostText: r.HostText,
			start:    r.Start,
			startSec: secs(r.Start),
			failures: r.Failures,
			count:    count,
			Slot:     unbanq.Slot{Seq: c.seq, Index: -1},
			banTime:  engine.Permanent,
			banSec:   -1,
		}
		if b.hostText == "" {
			b.hostText = r.Host.String()
		}
		c.seq++
		if !perm {
			// The saved End may be a prolonged one: the ban time is
			// whatever reaches it.
			b.end, b.banTime, b.EndNanos = r.End, r.End.Sub(r.Start), jailrun.Nanos(r.End)
			b.banSec = secs(r.End) - b.startSec
			heap.Push(&c.queue, b)
			c.nextScan = min(c.nextScan, b.EndNanos)
		}
		c.bans[k] = b
		c.mu.Lock()
		c.active.Add(b)
		c.mu.Unlock()
	}
	c.settle(k, h, added)
}

// settle drops host k (state h, added when new) when it has nothing left
// to keep, and counts it in the peak otherwise.
func (c *Counter) settle(k hostKey, h *hostState, added bool) {
	switch {
	case h.empty() && c.bans[k] == nil:
		c.hosts.Delete(k)
	case added:
		c.peak = max(c.peak, c.hosts.Len())
	}
}

// Status implements engine.Jail. CurrentlyFailed counts the hosts with an
// open ticket; a stale ticket is counted until its host fails again or the
// next purge drops it. It is safe to call while Run runs.
func (c *Counter) Status() engine.JailStatus {
	return jailrun.Status(c.jail, c.failed.Load(), c.intake.Counted.Load(), c.stats.Bans.Load(), c.Banned())
}

// Ban implements engine.Jail: it bans host now, as fail2ban-client's
// `set JAIL banip` does. It returns an error wrapping
// jailerr.ErrAlreadyBanned when host is banned already, and one wrapping
// jailerr.ErrNotRunning when Run is not running.
func (c *Counter) Ban(ctx context.Context, host netip.Addr) error { return c.manual.Ban(ctx, host) }

// Unban implements engine.Jail: it lifts the running ban of host now,
// forgets the host's ban history (fail2ban's unbanip), and reports
// whether there was a ban.
func (c *Counter) Unban(ctx context.Context, host netip.Addr) (bool, error) {
	return c.manual.Unban(ctx, host)
}

// UnbanAll implements engine.Jail: it lifts every running ban now,
// forgets every host's ban history, and returns how many bans it lifted.
func (c *Counter) UnbanAll(ctx context.Context) (int, error) { return c.manual.UnbanEvery(ctx) }

// manualBan bans host at now, in the Run goroutine, as fail2ban's banip
// (Actions.addBannedIP) does: a BanTicket at now with no failures and no
// matches goes through the same ban path as a ticket that reached
// max_retry, so its ban time is ban_time, increased by the host's history
// with ban_time_increment (the observer's banFound), and it joins the
// history. The ignore list does not stop it: fail2ban checks ignoreip only
// for failures and restored bans. The host's open ticket, if any, stays,
// as fail2ban's FailManager keeps it. fail2ban quietly extends the ban of a
// host banned already; here that is an error, so the caller can say so.
func (c *Counter) manualBan(host netip.Addr, now time.Time) error {
	k := keyOf(host)
	if c.bans[k] != nil {
		return jailerr.AlreadyBanned(c.jail, host)
	}
	h, added := c.hosts.Insert(k)
	nowSec := secs(now)
	if c.expired(h.hist, nowSec) {
		h.hist = history{}
	}
	// The ban's own ticket: no failures, no matches; an open one stays.
	ev, ok := c.ban(k, h, host, now, closed{last: nowSec, lastTime: now, hostText: host.String()})
	c.settle(k, h, added)
	if ok {
		c.batch.Add(ev)
	}
	return nil
}

// isBanned reports whether host has a running ban.
func (c *Counter) isBanned(host netip.Addr) bool { return c.bans[keyOf(host)] != nil }

// forgetHost drops the ban history of host, if it has a state.
func (c *Counter) forgetHost(host netip.Addr) {
	k := keyOf(host)
	if h := c.hosts.Get(k); h != nil {
		c.forget(k, h)
	}
}

// forgetAll drops every host's ban history.
func (c *Counter) forgetAll() {
	for k, h := range c.hosts.All() {
		c.forget(k, h)
	}
}

// running returns the hosts with a running ban, in ban order.
func (c *Counter) running() []netip.Addr {
	return unbanq.Collect(&c.mu, &c.active, func(b *ban) netip.Addr { return b.host })
}

// forget drops the ban history of host k, state h, as fail2ban's unbanip
// deletes its bips row: its next ban is a first ban, for bantime.increment
// too. An open ticket stays (fail2ban's unbanip leaves its failures).
func (c *Counter) forget(k hostKey, h *hostState) {
	h.hist = history{}
	if h.empty() && c.bans[k] == nil {
		c.hosts.Delete(k)
	}
}

// lift ends the running ban of host at now, before its time.
// The host's open ticket is dropped too, so old failures do not ban it
// again at once (fail2ban keeps it). The unban forgets the host's ban
// history in the store (engine.Action.Forget), as fail2ban's unbanip
// deletes its bips row; Manual.Forget forgets it in memory.
func (c *Counter) lift(host netip.Addr, now time.Time) {
	k := keyOf(host)
	b := c.bans[k]
	if b.Index >= 0 {
		heap.Remove(&c.queue, b.Index)
	}
	delete(c.bans, k)
	// NOTE: a banned host always has a state: it was inserted to be banned.
	h := c.hosts.Get(k)
	if h.tk.open() {
		c.dropTicket(&h.tk)
		c.failed.Add(-1)
	}
	if h.hist.count == 0 {
		c.hosts.Delete(k)
	}
	c.mu.Lock()
	c.active.Remove(b)
	info := b.info()
	c.mu.Unlock()
	c.stats.Unbans.Add(1)
	c.batch.Add(jailrun.ManualUnban(c.jail, info, b.fields, now))
}

// FindTime implements engine.Windowed: how far back the counter looks, so
// the daemon re-reads that much of the logs on start.
func (c *Counter) FindTime() time.Duration { return c.cfg.findTime }
