package window

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
// input: running ones in force again, and every host's ban count, which
// escalation reads.
func (c *Counter) restore() {
	n := c.batch.Restore(c.now.Get(), c.cfg.ignore.Contains, &c.intake.Floors, c.keep)
	c.stats.Restored.Add(int64(n))
}

// keep takes one saved record: its ban count, and, when running, its ban.
func (c *Counter) keep(r engine.BanRecord, running bool) {
	k := keyOf(r.Host)
	h := c.insert(k)
	h.count = max(h.count, int32(min(max(r.BanCount, 0), math.MaxInt32)))
	if running {
		b := &ban{
			host:     r.Host,
			hostText: r.HostText,
			start:    r.Start,
			banTime:  engine.Permanent,
			failures: r.Failures,
			count:    h.count,
			Slot:     unbanq.Slot{Seq: c.seq, Index: -1},
		}
		if b.hostText == "" {
			b.hostText = r.Host.String()
		}
		c.seq++
		if !jailrun.Permanent(r) {
			b.banTime, b.end, b.EndNanos = r.BanTime, r.End, jailrun.Nanos(r.End)
			heap.Push(&c.queue, b)
		}
		c.bans[k] = b
		c.mu.Lock()
		c.active.Add(b)
		c.mu.Unlock()
	}
}

// Status implements engine.Jail. CurrentlyFailed counts the hosts with
// kept failures; a host whose failures have all aged out of find_time is
// counted until the next purge forgets them. It is safe to call while Run
// runs.
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

// manualBan bans host at now, in the Run goroutine. As fail2ban's banip
// (Actions.addBannedIP) does, the ban has no failures and no matches, its
// time is the jail's ban time for the host's next ban (escalation
// included), and the ignore list does not stop it: fail2ban checks
// ignoreip only for failures and restored bans. fail2ban quietly extends
// the ban of a host banned already; here that is an error, so the caller
// can say so.
func (c *Counter) manualBan(host netip.Addr, now time.Time) error {
	k := keyOf(host)
	if c.bans[k] != nil {
		return jailerr.AlreadyBanned(c.jail, host)
	}
	h := c.insert(k)
	c.release(h) // the window starts afresh, as after any ban
	c.newBan(k, host, h, host.String(), nil, now, 0, nil)
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
// deletes it from its database: its next ban is a first ban. Its kept
// failures stay (fail2ban's unbanip leaves them too).
func (c *Counter) forget(k hostKey, h *hostState) {
	h.count = 0
	if h.n == 0 && c.bans[k] == nil {
		c.hosts.Delete(k)
	}
}

// lift ends the running ban of host at now, before its time.
// The host's window is cleared too, so it takes max_retry fresh failures
// to ban it again. The unban forgets the host's ban history in the store
// (engine.Action.Forget); Manual.Forget forgets it in memory.
func (c *Counter) lift(host netip.Addr, now time.Time) {
	k := keyOf(host)
	b := c.bans[k]
	if b.Index >= 0 {
		heap.Remove(&c.queue, b.Index)
	}
	delete(c.bans, k)
	// NOTE: a banned host always has a state: it was inserted to be banned.
	c.release(c.hosts.Get(k))
	c.mu.Lock()
	c.active.Remove(b)
	c.mu.Unlock()
	c.stats.Unbans.Add(1)
	c.batch.Add(jailrun.ManualUnban(c.jail, b.info(), b.fields, now))
}

// FindTime implements engine.Windowed: how far back the counter looks, so
// the daemon re-reads that much of the logs on start.
func (c *Counter) FindTime() time.Duration { return c.cfg.findTime }
