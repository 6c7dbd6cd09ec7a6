package ticket

import (
	"math"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// openTicket opens tk with the failure f at t (ts in seconds), as
// FailManager.addFailure does for a host without a ticket: all of f's
// lines are its matches, whatever max_matches (it trims them at the next
// failure, as fail2ban does).
func (c *Counter) openTicket(tk *ticket, ts float64, t time.Time, f *engine.Failure) {
	*tk = ticket{first: ts, retry: 1, failures: 1, flags: tkOpen}
	c.setLast(tk, t)
	if c.noMatches {
		tk.flags |= tkNilMatches // no consumer reads them (KeepMatches)
	} else {
		tk.matches = c.mem.PutStrings(f.Lines)
	}
	info := append(c.scratch[:0], f.HostText)
	fields := f.Captures()
	for k, v := range fields {
		info = append(info, k, v)
	}
	tk.info = c.mem.PutStrings(info)
	clear(info)
	c.scratch = info[:0]
	if fields == nil {
		tk.flags |= tkNilFields
	}
}

// dropTicket closes tk without a ban and frees its blocks.
func (c *Counter) dropTicket(tk *ticket) {
	c.mem.Free(tk.matches)
	c.mem.Free(tk.info)
	*tk = ticket{}
}

// closeTicket closes tk and returns what a ban takes of it. cur is the
// failure being counted: when it is the ticket's newest, its time is the
// ban's start as it came (location and all).
func (c *Counter) closeTicket(tk *ticket, cur time.Time) closed {
	out := closed{last: tk.last(), lastTime: c.lastTime(tk, cur), failures: int(tk.failures)}
	if tk.flags&tkNilMatches == 0 {
		out.matches = c.mem.AppendStrings(make([]string, 0, c.mem.StringsLen(tk.matches)), tk.matches)
	}
	info := c.mem.AppendStrings(c.scratch[:0], tk.info)
	out.hostText = info[0]
	if tk.flags&tkNilFields == 0 {
		out.fields = make(map[string]string, (len(info)-1)/2)
		for i := 1; i+1 < len(info); i += 2 {
			out.fields[info[i]] = info[i+1]
		}
	}
	clear(info)
	c.scratch = info[:0]
	c.dropTicket(tk)
	return out
}

// add adds count retries and one failure at ts to tk, as FailTicket's
// adjustTime and inc do: a failure later than the ticket's newest rescales
// the retry count when the ticket spans more than find_time, and becomes
// its newest. same is fail2ban's "the same ticket object" case of the
// observer, which adds no lines.
func (c *Counter) add(tk *ticket, ts float64, t time.Time, lines []string, count float64, same bool) {
	if ts > tk.last() {
		if tk.first < ts-c.cfg.findSec {
			tk.retry = math.RoundToEven(tk.retry / (ts - tk.first) * c.cfg.findSec)
			tk.first = ts - c.cfg.findSec
		}
		c.setLast(tk, t)
	}
	tk.retry += count
	tk.failures++
	m := c.cfg.maxMatches
	if m == 0 || c.noMatches {
		c.mem.Free(tk.matches)
		tk.matches = 0
		tk.flags |= tkNilMatches
		return
	}
	if same {
		lines = nil
	}
	if len(lines) > 0 || c.mem.StringsLen(tk.matches) > m {
		tk.matches = c.mem.AppendKeep(tk.matches, lines, m)
	}
}

// setLast makes t the time of tk's newest failure.
func (c *Counter) setLast(tk *ticket, t time.Time) {
	tk.lastSec, tk.lastNsec, tk.lastLoc = t.Unix(), int32(t.Nanosecond()), c.locOf(t.Location())
}

// lastTime is the time of tk's newest failure: cur when that is the one,
// else the same instant in the same location. (A time read from the wall
// clock, for a failure without one, loses its monotonic reading, which
// no action shows.)
func (c *Counter) lastTime(tk *ticket, cur time.Time) time.Time {
	loc := c.locs[tk.lastLoc]
	if cur.Unix() == tk.lastSec && cur.Nanosecond() == int(tk.lastNsec) && cur.Location() == loc {
		return cur
	}
	return time.Unix(tk.lastSec, int64(tk.lastNsec)).In(loc)
}

// locOf returns the index of loc in c.locs, adding it when new. Event
// times come in the location of the matcher's date parser (or Local), so
// there are a few.
func (c *Counter) locOf(loc *time.Location) uint32 {
	if n := len(c.locs); n > 0 && c.locs[n-1] == loc {
		return uint32(n - 1)
	}
	i, ok := c.locIdx[loc]
	if !ok {
		i = uint32(len(c.locs))
		c.locs = append(c.locs, loc)
		c.locIdx[loc] = i
	}
	return i
}
