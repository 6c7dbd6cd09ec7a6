package ticket

import (
	"math"
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/offheap"
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
)

// secs is t as fail2ban holds a time: float seconds since the epoch.
// Whole seconds, and halves, quarters and so on, are exact.
func secs(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// duration turns fail2ban's float seconds into a Duration. Negative and
// NaN values give zero (an immediate unban); huge ones saturate.
func duration(s float64) time.Duration {
	if !(s > 0) {
		return 0
	}
	ns := s * 1e9
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Round(ns))
}

// hostKey is a host address as a table key: its 16-byte form. Failures
// carry unmapped addresses, so an IPv4 host and its IPv4-mapped IPv6 form
// never both occur.
type hostKey = offheap.Key

// keyOf is the map key of a.
func keyOf(a netip.Addr) hostKey { return a.As16() }

// ticket is fail2ban's FailTicket: the failures of one host since its
// ticket was opened. It lies in the host's state, off the Go heap (see
// package offheap); its lines and captures are blocks of Counter.mem.
type ticket struct {
	first    float64 // start of the counted span (seconds); moves on when rescaled
	retry    float64 // the retry count, rescaled and raised for bad hosts
	failures int64   // the real number of failures (fail2ban's <failures>)
	// The time of the newest failure: Unix seconds, nanoseconds, and its
	// location as an index in Counter.locs. fail2ban's float time of it
	// is last().
	lastSec  int64
	lastNsec int32
	lastLoc  uint32
	matches  offheap.Ref // matched lines, the newest max_matches; 0 when none
	info     offheap.Ref // the first failure's HostText, then its Fields' keys and values
	flags    uint8
}

// ticket flags.
const (
	tkOpen       = 1 << iota // the host has an open ticket
	tkNilMatches             // matches is nil (max_matches 0), not an empty list
	tkNilFields              // the first failure's Fields was nil
)

// open reports whether tk is an open ticket.
func (tk *ticket) open() bool { return tk.flags&tkOpen != 0 }

// last is the time of the newest failure in seconds, as secs gives it.
func (tk *ticket) last() float64 { return float64(tk.lastSec) + float64(tk.lastNsec)/1e9 }

// closed is what a ban takes of a ticket, on the Go heap.
type closed struct {
	last     float64   // time of the newest failure (seconds)
	lastTime time.Time // the same as a time, for the ban's Start
	failures int
	matches  []string
	hostText string // of the first failure
	fields   map[string]string
}

// history is what fail2ban's database keeps of a host's last ban in a
// jail (its row in the bips table).
type history struct {
	count  int32   // bans so far; 0 when there is no history
	tob    int64   // time of the last ban, whole seconds rounded half to even
	banSec float64 // its ban time in seconds; -1 when permanent
}

// hostState is all the counter keeps of one host in Counter.hosts, off
// the Go heap. A running ban is in Counter.bans.
type hostState struct {
	tk   ticket // the open ticket, when tk.open()
	hist history
}

// empty reports whether the host has nothing to keep: no open ticket
// and no history (the caller checks that it has no running ban).
func (h *hostState) empty() bool { return !h.tk.open() && h.hist.count == 0 }

// ban is one running ban.
type ban struct {
	unbanq.Slot // end, ban order, place in the unban queue and in Counter.active
	host        netip.Addr
	hostText    string
	fields      map[string]string // of the ticket that made the ban, handed to the unban too
	start       time.Time
	startSec    float64
	failures    int
	count       int32 // BanCount

	// Changed by a prolong, under Counter.mu.
	end     time.Time     // zero when permanent
	banTime time.Duration // engine.Permanent when permanent
	banSec  float64       // fail2ban's ban time in seconds; -1 when permanent
}

// eob is fail2ban's end of ban in float seconds; +Inf when permanent.
func (b *ban) eob() float64 {
	if b.banSec == -1 {
		return math.Inf(1)
	}
	return b.startSec + b.banSec
}

// info describes b, for its actions and status; a reader outside the Run
// goroutine holds Counter.mu.
func (b *ban) info() engine.BanInfo {
	return engine.BanInfo{
		Host:     b.host,
		HostText: b.hostText,
		Start:    b.start,
		End:      b.end,
		BanTime:  b.banTime,
		BanCount: int(b.count),
		Failures: b.failures,
	}
}

// QueueSlot implements unbanq.Item.
func (b *ban) QueueSlot() *unbanq.Slot { return &b.Slot }

// splitMix is the SplitMix64 generator: small, seedable, and easy to
// reproduce outside Go (the differential test drives fail2ban's
// random.random() with the same sequence).
type splitMix struct{ s uint64 }

// next returns the next 64 random bits.
func (r *splitMix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float64 returns a number in [0, 1) with 53 random bits, as Python's
// random.random() does.
func (r *splitMix) float64() float64 { return float64(r.next()>>11) / (1 << 53) }
