package logtime

import (
	"sync/atomic"
	"time"
)

// This file turns parsed fields into an instant: it fills in what the date
// text lacks (zone, year, date) the way fail2ban's reGroupDictStrptime
// does, with arithmetic and small caches instead of Location lookups and
// clock reads.

// clockTTL is how long a cached time.Now is used (see coarseClock).
const clockTTL = time.Second

// edgeMargin is how close to a rule's edge a result computed from the
// cached clock must be to be recomputed with a fresh reading. It is twice
// clockTTL to absorb timer latency: as long as the cached reading is less
// than edgeMargin old, the cache cannot change an answer (see relative).
const edgeMargin = int64(2 * clockTTL / time.Second)

// coarseClock tells all Detectors when their cached time.Now readings
// expire: gen is bumped by a timer clockTTL after the first reading made
// under the current generation. Checking an atomic counter on each line
// costs about a nanosecond where even the monotonic clock costs tens, and
// no timer is pending while no Detector reads the clock (an idle daemon
// does not wake up for this). A reading made under generation g is at
// most clockTTL (plus timer latency) old while gen is still g: either a
// timer was pending when it was made, armed before it, or the reader
// armed one itself. armed is cleared before gen is bumped so that a reader
// who sees the new generation also sees the timer unarmed and re-arms it.
var coarseClock struct {
	gen   atomic.Uint64
	armed atomic.Bool
}

func expireClock() {
	coarseClock.armed.Store(false)
	coarseClock.gen.Add(1)
}

// resolve computes the instant of f, or ok=false when it does not exist
// (Feb 30, Feb 29 of a non-leap year).
func (d *Detector) resolve(f *fields) (sec int64, nsec int, ok bool) {
	sec, nsec, ok = d.resolveFrac(f)
	if d.whole && !f.epoch {
		nsec = 0
	}
	return sec, nsec, ok
}

func (d *Detector) resolveFrac(f *fields) (sec int64, nsec int, ok bool) {
	if f.isUnix {
		return f.unix, f.nsec, true
	}
	if f.hasYear && f.hasDate {
		if !validDate(f.year, f.month, f.day) {
			return 0, 0, false
		}
		return d.toUnix(f, d.dayNumber(f.year, f.month, f.day)), f.nsec, true
	}
	now, nowNsec, cached := d.now()
	u, ok, edge := d.relative(f, now, nowNsec, cached)
	if edge {
		now, nowNsec = d.refreshClock()
		u, ok, _ = d.relative(f, now, nowNsec, false)
	}
	return u, f.nsec, ok
}

// relative resolves a date without year, or a time without date, against
// now (sec, nsec):
//
//   - no year: the year of now, or the year before if the result would be
//     more than one day after now;
//   - no date: today, or yesterday if the result would be after now.
//
// "Now's year" and "today" are taken in the date's own zone when it names
// one, else in the Location. When checkEdge is set (now is a cached
// reading) edge reports that the answer might differ with the current
// time: the result lies within edgeMargin of a rule's threshold, or now
// within edgeMargin of a midnight or a new year. Away from those edges a
// reading up to edgeMargin old gives the same answer as the clock would.
func (d *Detector) relative(f *fields, sec int64, nsec int, checkEdge bool) (u int64, ok, edge bool) {
	var off int64
	if f.hasZone {
		off = int64(f.zoneOff)
	} else {
		off = d.nowZone.offsetAt(sec, d.loc)
	}
	local := sec + off
	today := floorDiv(local, 86400)
	if !f.hasDate {
		u = d.toUnix(f, today)
		if checkEdge && (abs(u-sec) <= edgeMargin || (today+1)*86400-local <= edgeMargin) {
			return 0, false, true
		}
		if after(u, f.nsec, sec, nsec) {
			u = d.toUnix(f, today-1)
		}
		return u, true, false
	}
	y, yearEnd := d.yearOf(today)
	if checkEdge && yearEnd-local <= edgeMargin {
		return 0, false, true
	}
	if !validDate(y, f.month, f.day) {
		return 0, false, false
	}
	u = d.toUnix(f, d.dayNumber(y, f.month, f.day))
	if checkEdge && abs(u-(sec+86400)) <= edgeMargin {
		return 0, false, true
	}
	if after(u, f.nsec, sec+86400, nsec) {
		// Last year's. Python rebuilds the date with year-1, so Feb 29
		// of a leap year has no last-year twin: no date.
		if y--; !validDate(y, f.month, f.day) {
			return 0, false, false
		}
		u = d.toUnix(f, d.dayNumber(y, f.month, f.day))
	}
	return u, true, false
}

// toUnix converts day days (since 1970, civil) at f's time of day to Unix
// seconds, in f's zone or else the Location.
func (d *Detector) toUnix(f *fields, days int64) int64 {
	sod := f.secOfDay()
	local := days*86400 + int64(sod)
	if f.hasZone {
		return local - int64(f.zoneOff)
	}
	return d.dateZone.toUnix(local, days, sod, d.loc)
}

// dayNumber is daysFromCivil with a one-entry cache: consecutive lines
// mostly share their date.
func (d *Detector) dayNumber(y, m, day int) int64 {
	c := &d.days
	if c.y != y || c.m != m || c.d != day {
		c.y, c.m, c.d, c.n = y, m, day, daysFromCivil(y, m, day)
	}
	return c.n
}

// yearOf returns the year of the civil day today and the local second at
// which that year ends, cached for the day.
func (d *Detector) yearOf(today int64) (year int, yearEnd int64) {
	if !d.yc.ok || d.yc.days != today {
		y, _, _ := civilFromDays(today)
		d.yc.days, d.yc.year, d.yc.ok = today, y, true
		d.yc.yearEnd = daysFromCivil(y+1, 1, 1) * 86400
	}
	return d.yc.year, d.yc.yearEnd
}

// now returns the reference time: MatchAt's argument, Options.Now, or the
// clock through the coarseClock cache; cached reports a cached reading.
func (d *Detector) now() (sec int64, nsec int, cached bool) {
	switch {
	case d.argNow:
		return d.argSec, d.argNsec, false
	case d.nowFn != nil:
		t := d.nowFn()
		return t.Unix(), t.Nanosecond(), false
	case d.clk.ok && d.clk.gen == coarseClock.gen.Load():
		return d.clk.sec, d.clk.nsec, true
	}
	sec, nsec = d.refreshClock()
	return sec, nsec, false
}

// refreshClock reads the clock into the cache (or re-reads the caller's
// reference when the clock is not used).
func (d *Detector) refreshClock() (int64, int) {
	if d.argNow {
		return d.argSec, d.argNsec
	}
	if d.nowFn != nil {
		t := d.nowFn()
		return t.Unix(), t.Nanosecond()
	}
	// Load the generation before reading the clock: if it is bumped in
	// between, the reading is merely refreshed once more than necessary.
	g := coarseClock.gen.Load()
	t := time.Now()
	d.clk.gen, d.clk.sec, d.clk.nsec, d.clk.ok = g, t.Unix(), t.Nanosecond(), true
	if coarseClock.armed.CompareAndSwap(false, true) {
		time.AfterFunc(clockTTL, expireClock)
	}
	return d.clk.sec, d.clk.nsec
}

// after reports whether (s1, n1) is later than (s2, n2).
func after(s1 int64, n1 int, s2 int64, n2 int) bool {
	return s1 > s2 || (s1 == s2 && n1 > n2)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
