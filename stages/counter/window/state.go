package window

import (
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Times inside the counter are Unix nanoseconds clamped to ±(2^62-1) (about
// the years 1824 to 2116), so the difference of two, or a time less a
// duration of at most maxNanos, always fits in an int64.
const (
	minNanos = -(1<<62 - 1)
	maxNanos = 1<<62 - 1
)

var (
	minTime = time.Unix(0, minNanos)
	maxTime = time.Unix(0, maxNanos)
)

// nanos is t in clamped Unix nanoseconds; the zero time gives minNanos.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minNanos
	case t.After(maxTime):
		return maxNanos
	}
	return t.UnixNano()
}

// entry is one kept failure.
type entry struct {
	t int64           // event time, clamped Unix nanoseconds
	f *engine.Failure // the failure itself, for the ban's matches
}

// hostKey is a host address as a map key: its 16-byte form. Failures carry
// unmapped addresses, so an IPv4 host and its IPv4-mapped IPv6 form never
// both occur.
type hostKey [16]byte

func keyOf(a netip.Addr) hostKey { return a.As16() }

// hostState is all the counter knows of one host, kept by value in the
// hosts map so a failure costs one lookup. Its kept failures are a ring of
// at most max_retry entries sorted by time, oldest first; the buffer starts
// small and grows up to max_retry.
type hostState struct {
	buf   []entry // the ring; len(buf) is its capacity
	head  int32   // index in buf of the oldest entry
	n     int32   // entries kept
	count int32   // bans of the host so far (the escalation history)
	ban   *ban    // the running ban; nil when not banned
}

// at returns the i-th oldest entry (0 <= i < len(buf)).
func (h *hostState) at(i int) *entry {
	j := int(h.head) + i
	if j >= len(h.buf) {
		j -= len(h.buf)
	}
	return &h.buf[j]
}

// newest is the time of the newest kept failure; h must keep one.
func (h *hostState) newest() int64 { return h.at(int(h.n) - 1).t }

// position is where a failure at t goes among the kept ones: after every
// entry at or before t, so equal times keep their arrival order.
func (h *hostState) position(t int64) int {
	p := int(h.n)
	for p > 0 && h.at(p-1).t > t {
		p--
	}
	return p
}

// dropOldest forgets the oldest entry.
func (h *hostState) dropOldest() {
	*h.at(0) = entry{}
	h.head++
	if int(h.head) == len(h.buf) {
		h.head = 0
	}
	h.n--
}

// insert puts e at position p (0 <= p <= n); the ring must have room.
func (h *hostState) insert(p int, e entry) {
	for i := int(h.n); i > p; i-- {
		*h.at(i) = *h.at(i - 1)
	}
	*h.at(p) = e
	h.n++
}

// resize moves the kept entries into buf, oldest first.
func (h *hostState) resize(buf []entry) {
	for i := range int(h.n) {
		buf[i] = *h.at(i)
	}
	h.buf, h.head = buf, 0
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
