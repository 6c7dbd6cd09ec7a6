package failfilter

import "time"

// idCache is fail2ban's Utils.Cache as the multi-line id (mlfid) cache
// uses it: at most max entries, each valid for ttl after it was set, kept
// in insertion order. When full, setting evicts from the oldest end: the
// expired entries there and one live entry.
//
// The entries live in one slice, linked in insertion order by index, and
// freed slots are reused: a connection that comes and goes costs no
// allocation.
type idCache struct {
	max      int
	ttl      time.Duration
	ents     []idEntry
	freeSlot int32 // first free slot, -1: none
	head     int32 // oldest, -1: empty
	tail     int32 // newest
	n        int
	byKey    map[string]int32
	// free holds a few dicts of removed entries, for the filter to reuse
	// (nothing else refers to them once out of the cache).
	free []*dict
}

type idEntry struct {
	key        string
	val        *dict
	expires    time.Time
	prev, next int32
}

func newIDCache(max int, ttl time.Duration) *idCache {
	return &idCache{max: max, ttl: ttl, freeSlot: -1, head: -1, tail: -1, byKey: make(map[string]int32, max), free: make([]*dict, 0, 8)}
}

// len returns the number of entries.
func (c *idCache) len() int { return c.n }

// get returns the live entry for key, or nil (an expired entry is dropped).
func (c *idCache) get(key string, now time.Time) *dict {
	i, ok := c.byKey[key]
	if !ok {
		return nil
	}
	if e := &c.ents[i]; e.expires.After(now) {
		return e.val
	}
	c.unset(key)
	return nil
}

// set stores val under key. An existing key keeps its place in the order.
func (c *idCache) set(key string, val *dict, now time.Time) {
	if c.n >= c.max {
		for c.n > 0 {
			e := c.ents[c.head]
			c.remove(c.head)
			if e.expires.After(now) && c.n < c.max {
				break
			}
		}
	}
	if i, ok := c.byKey[key]; ok {
		e := &c.ents[i]
		e.val, e.expires = val, now.Add(c.ttl)
		return
	}
	i := c.freeSlot
	if i >= 0 {
		c.freeSlot = c.ents[i].next
	} else {
		i = int32(len(c.ents))
		c.ents = append(c.ents, idEntry{})
	}
	c.ents[i] = idEntry{key: key, val: val, expires: now.Add(c.ttl), prev: c.tail, next: -1}
	if c.tail >= 0 {
		c.ents[c.tail].next = i
	} else {
		c.head = i
	}
	c.tail = i
	c.n++
	c.byKey[key] = i
}

func (c *idCache) unset(key string) {
	if i, ok := c.byKey[key]; ok {
		c.remove(i)
	}
}

// remove unlinks entry i and frees its slot.
func (c *idCache) remove(i int32) {
	e := &c.ents[i]
	if e.prev >= 0 {
		c.ents[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.ents[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	delete(c.byKey, e.key)
	if e.val != nil && len(c.free) < cap(c.free) {
		c.free = append(c.free, e.val)
	}
	*e = idEntry{next: c.freeSlot}
	c.freeSlot = i
	c.n--
}

// reuse returns a dict of a removed entry, or nil.
func (c *idCache) reuse() *dict {
	n := len(c.free)
	if n == 0 {
		return nil
	}
	d := c.free[n-1]
	c.free[n-1] = nil
	c.free = c.free[:n-1]
	return d
}
