package window

import (
	"container/heap"
	"context"
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
// before it sends it (see jailrun.Loop). Run owns the window state; only
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
			// A ban is lifted once now has passed its End.
			if len(c.queue) == 0 {
				return 0, false
			}
			return c.queue[0].EndNanos + 1, true
		},
	}
	return l.Run(ctx, in, out)
}

// handle takes one input event: it moves the counter's now, lifts the bans
// that are due, purges expired windows now and then (see jailrun.Sweeps),
// and counts the failure if any.
func (c *Counter) handle(ev engine.Event) {
	if ev.Kind != engine.KindFailure {
		return
	}
	now := c.now.See(ev.Time)
	c.expire(now)
	// NOTE: the purge goes by the latest event time, not the wall clock,
	// since windows compare event times only: a log that lags the wall
	// clock keeps exact windows.
	if c.sweeps.Due(c.now.Latest, c.hosts.Len(), c.cfg.findTime) {
		c.sweep(c.now.Latest)
	}
	if ev.Failure == nil {
		return // a watermark, or nothing to count
	}
	c.failure(ev.Time, ev.Failure, now)
}

// failure counts one failure at t.
func (c *Counter) failure(t time.Time, f *engine.Failure, now time.Time) {
	host, t, ok := c.intake.Admit(f, t, now, c.now.Latest)
	if !ok {
		return
	}
	k := keyOf(host)
	if c.bans[k] != nil {
		c.stats.whileBanned.Add(1)
		return
	}
	r := c.ringOf(c.insert(k))
	tn := jailrun.Nanos(t)
	m := c.cfg.maxRetry
	n, p := int(r.h.n), r.position(tn)

	// The kept failures with the new one at p form a sorted sequence of
	// n+1; look for the earliest-ending run of m in a row that holds the
	// new one and spans at most find_time. In order (p == n) that is one
	// comparison: is the (m-1)-th newest kept failure within find_time?
	if n+1 >= m {
		ft := min(int64(c.cfg.findTime), jailrun.MaxNanos)
		for s := max(0, p-m+1); s <= min(p, n+1-m); s++ {
			if mergedTime(r, p, tn, s+m-1)-mergedTime(r, p, tn, s) <= ft {
				c.ban(k, host, r, p, s, t, tn, f, now)
				return
			}
		}
	}

	switch {
	case n == m:
		if p == 0 {
			return // older than all m kept: no later window can use it
		}
		c.mem.Free(r.dropOldest().lines)
		p--
	case n == len(r.buf):
		r = c.grow(r)
	}
	if n == 0 {
		c.failed.Add(1)
	}
	var lines offheap.Ref
	if !c.noMatches {
		lines = c.mem.PutStrings(f.Lines)
	}
	r.insert(p, entry{t: tn, lines: lines})
	c.sweeps.Added()
}

// insert returns the state of host k, adding an empty one when it has
// none.
func (c *Counter) insert(k hostKey) *hostState {
	h, added := c.hosts.Insert(k)
	if added {
		c.peak = max(c.peak, c.hosts.Len())
	}
	return h
}

// mergedTime is the time of the i-th oldest failure of the kept ones of r
// with a new one at t inserted at p.
func mergedTime(r ring, p int, t int64, i int) int64 {
	switch {
	case i < p:
		return r.at(i).t
	case i == p:
		return t
	}
	return r.at(i - 1).t
}

// ban bans host (key k, kept failures r) for the m failures from s of its
// kept ones with the new failure f at t inserted at p.
func (c *Counter) ban(k hostKey, host netip.Addr, r ring, p, s int, t time.Time, tn int64, f *engine.Failure, now time.Time) {
	m := c.cfg.maxRetry
	last := s + m - 1
	// merged is the i-th oldest failure's lines: kept ones, or f's.
	merged := func(i int) offheap.Ref {
		if i > p {
			i--
		}
		return r.at(i).lines
	}
	var matches []string
	if !c.noMatches {
		lines := 0
		for i := s; i <= last; i++ {
			if i == p {
				lines += len(f.Lines)
			} else {
				lines += c.mem.StringsLen(merged(i))
			}
		}
		matches = make([]string, 0, lines)
		for i := s; i <= last; i++ {
			if i == p {
				matches = append(matches, f.Lines...)
			} else {
				matches = c.mem.AppendStrings(matches, merged(i))
			}
		}
	}
	// The ban starts when its window filled: at t, unless t came late and
	// the window's newest failure is younger.
	start := t
	if last != p {
		if newest := mergedTime(r, p, tn, last); newest != tn {
			start = time.Unix(0, newest).In(t.Location())
		}
	}

	c.release(r.h)
	c.newBan(k, host, r.h, f.HostText, f.Captures(), start, m, matches)
	// A late failure can make a ban that has ended already.
	c.expire(now)
}

// newBan bans host (key k, state h in hosts, its window already released) from
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
		b.EndNanos = jailrun.Nanos(b.end)
		heap.Push(&c.queue, b)
	}
	c.bans[k] = b
	c.mu.Lock()
	c.active.Add(b)
	c.mu.Unlock()
	c.stats.Bans.Add(1)

	c.batch.Add(jailrun.BanEvent(c.jail, b.info(), matches, b.fields))
}

// expire lifts, in End order, every ban whose End lies before now.
func (c *Counter) expire(now time.Time) {
	if len(c.queue) == 0 {
		return
	}
	nn := jailrun.Nanos(now)
	for len(c.queue) > 0 && c.queue[0].EndNanos < nn {
		b := heap.Pop(&c.queue).(*ban)
		delete(c.bans, keyOf(b.host)) // its state stays, with the ban count that escalation reads
		c.mu.Lock()
		c.active.Remove(b)
		c.mu.Unlock()
		c.stats.Unbans.Add(1)
		c.batch.Add(jailrun.EndedUnban(c.jail, b.info(), b.fields))
	}
}

// sweep forgets the failures of hosts whose newest failure is older than
// find_time, and the hosts that have nothing else: no ban and no ban
// history.
func (c *Counter) sweep(now time.Time) {
	limit := jailrun.Nanos(now) - min(int64(c.cfg.findTime), jailrun.MaxNanos)
	for k, h := range c.hosts.All() {
		if h.n == 0 || h.last >= limit {
			continue
		}
		c.release(h)
		if h.count == 0 && c.bans[k] == nil {
			c.hosts.Delete(k)
		}
	}
	c.sweeps.Done(now)
	if offheap.Shrink(c.peak, c.hosts.Len(), c.mem) {
		c.rebuild()
	}
}

// rebuild copies the hosts and what they keep into a new table and arena
// and releases the old ones, whose freed room is only reused, never given
// back, otherwise.
func (c *Counter) rebuild() {
	hosts, mem := offheap.NewTable[hostState](), new(offheap.Arena)
	for k, h := range c.hosts.All() {
		nh, _ := hosts.Insert(k)
		*nh = hostState{count: h.count}
		if h.n == 0 {
			continue
		}
		old := c.ringOf(h)
		ref, b := mem.Alloc(entries.Size(int(h.n)))
		buf := entries.Slice(b)
		for i := range int(h.n) {
			e := *old.at(i)
			if e.lines != 0 {
				e.lines = c.mem.Move(mem, e.lines)
			}
			buf[i] = e
		}
		nh.ring, nh.cap, nh.n, nh.last = ref, h.n, h.n, h.last
	}
	c.hosts.Release()
	c.mem.Release()
	c.hosts, c.mem = hosts, mem
	c.peak = hosts.Len()
}

// grow gives r a bigger block: twice the size, up to max_retry, at least
// one entry.
func (c *Counter) grow(r ring) ring {
	h := r.h
	n := min(max(2*int(h.cap), 1), c.cfg.maxRetry)
	ref, b := c.mem.Alloc(entries.Size(n))
	buf := entries.Slice(b)[:n]
	for i := range int(h.n) {
		buf[i] = *r.at(i)
	}
	// NOTE: after the copy: a freed block holds the arena's free list.
	if h.cap > 0 {
		c.mem.Free(h.ring)
	}
	h.ring, h.cap, h.head = ref, int32(n), 0
	return ring{h: h, buf: buf}
}

// release empties h's ring and frees its block and kept lines.
func (c *Counter) release(h *hostState) {
	if h.n > 0 {
		c.failed.Add(-1)
	}
	if h.cap > 0 {
		r := c.ringOf(h)
		for i := range int(h.n) {
			if l := r.at(i).lines; l != 0 {
				c.mem.Free(l)
			}
		}
		c.mem.Free(h.ring)
	}
	*h = hostState{count: h.count}
}
