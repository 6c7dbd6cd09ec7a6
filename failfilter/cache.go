package failfilter

import (
	"container/list"
	"time"
)

// idCache is fail2ban's Utils.Cache as the multi-line id (mlfid) cache
// uses it: at most max entries, each valid for ttl after it was set, kept
// in insertion order. When full, setting evicts from the oldest end: the
// expired entries there and one live entry.
type idCache struct {
	max   int
	ttl   time.Duration
	order *list.List // of *idEntry, oldest first
	byKey map[string]*list.Element
}

type idEntry struct {
	key     string
	val     dict
	expires time.Time
}

func newIDCache(max int, ttl time.Duration) *idCache {
	return &idCache{max: max, ttl: ttl, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the live entry for key, or nil (an expired entry is dropped).
func (c *idCache) get(key string, now time.Time) dict {
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	e := el.Value.(*idEntry)
	if e.expires.After(now) {
		return e.val
	}
	c.unset(key)
	return nil
}

// set stores val under key. An existing key keeps its place in the order.
func (c *idCache) set(key string, val dict, now time.Time) {
	if c.order.Len() >= c.max {
		for c.order.Len() > 0 {
			front := c.order.Front()
			e := front.Value.(*idEntry)
			c.order.Remove(front)
			delete(c.byKey, e.key)
			if e.expires.After(now) && c.order.Len() < c.max {
				break
			}
		}
	}
	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*idEntry)
		e.val, e.expires = val, now.Add(c.ttl)
		return
	}
	c.byKey[key] = c.order.PushBack(&idEntry{key: key, val: val, expires: now.Add(c.ttl)})
}

func (c *idCache) unset(key string) {
	if el, ok := c.byKey[key]; ok {
		c.order.Remove(el)
		delete(c.byKey, key)
	}
}
