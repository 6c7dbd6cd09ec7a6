package window

import (
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/offheap"
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
)

// entry is one kept failure.
type entry struct {
	t     int64       // event time, clamped Unix nanoseconds
	lines offheap.Ref // its matched lines, for the ban's matches, in Counter.mem; 0 when none
}

// entries reads ring blocks as entries.
var entries = offheap.ViewOf[entry]()

// hostKey is a host address as a table key: its 16-byte form. Failures
// carry unmapped addresses, so an IPv4 host and its IPv4-mapped IPv6 form
// never both occur.
type hostKey = offheap.Key

func keyOf(a netip.Addr) hostKey { return a.As16() }

// hostState is all the counter keeps of one host in its window, in
// Counter.hosts (off the Go heap: see package offheap). Its kept failures
// are a ring of at most max_retry entries sorted by time, oldest first,
// in a block of Counter.mem; the block starts with room for one and grows
// up to max_retry. A running ban is in Counter.bans.
type hostState struct {
	ring  offheap.Ref // the ring's block; 0 when cap is 0
	cap   int32       // entries the block holds
	head  int32       // index in the ring of the oldest entry
	n     int32       // entries kept
	count int32       // bans of the host so far (the escalation history)
	// last is the time of the newest kept failure when n > 0: a sweep
	// reads it in the table instead of in each host's block.
	last int64
}

// ring is the kept failures of one host as the Run goroutine works on
// them: its state, and its block as entries.
type ring struct {
	h   *hostState
	buf []entry // len(buf) == h.cap
}

// ringOf returns the ring of h.
func (c *Counter) ringOf(h *hostState) ring {
	if h.cap == 0 {
		return ring{h: h}
	}
	return ring{h: h, buf: entries.Slice(c.mem.Bytes(h.ring))[:h.cap]}
}

// at returns the i-th oldest entry (0 <= i < len(buf)).
func (r ring) at(i int) *entry {
	j := int(r.h.head) + i
	if j >= len(r.buf) {
		j -= len(r.buf)
	}
	return &r.buf[j]
}

// position is where a failure at t goes among the kept ones: after every
// entry at or before t, so equal times keep their arrival order.
func (r ring) position(t int64) int {
	p := int(r.h.n)
	for p > 0 && r.at(p-1).t > t {
		p--
	}
	return p
}

// dropOldest forgets the oldest entry and returns it.
func (r ring) dropOldest() entry {
	e := *r.at(0)
	*r.at(0) = entry{}
	r.h.head++
	if int(r.h.head) == len(r.buf) {
		r.h.head = 0
	}
	r.h.n--
	return e
}

// insert puts e at position p (0 <= p <= n); the ring must have room.
func (r ring) insert(p int, e entry) {
	for i := int(r.h.n); i > p; i-- {
		*r.at(i) = *r.at(i - 1)
	}
	*r.at(p) = e
	r.h.n++
	if p == int(r.h.n)-1 {
		r.h.last = e.t
	}
}

// ban is one running ban. All fields but its queue index are fixed once
// the ban is made.
type ban struct {
	unbanq.Slot // end, ban order, place in the unban queue and in Counter.active
	host        netip.Addr
	hostText    string
	fields      map[string]string // captures of the last failure, handed to the unban too
	start       time.Time
	end         time.Time // zero when permanent
	banTime     time.Duration
	failures    int
	count       int32 // BanCount
}

// info describes b for status.
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
