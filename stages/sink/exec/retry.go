package exec

import (
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// retry is a failed action waiting for its next attempt.
type retry struct {
	cmd      *command
	ev       engine.Event
	next     time.Time // when to try again
	wait     time.Duration
	deadline time.Time // give up after this
	attempts int
}

// expired reports whether the retry should give up at now: past its
// deadline, or a ban whose end has passed (applying it would be wrong).
func (r *retry) expired(now time.Time) bool {
	if now.After(r.deadline) {
		return true
	}
	a := r.ev.Action
	return a != nil && a.Type != engine.Unban && !a.End.IsZero() && now.After(a.End)
}

func (r *retry) backoff(now time.Time) {
	r.attempts++
	r.wait = min(r.wait*2, retryMax)
	r.next = now.Add(r.wait)
}

type retryKey struct {
	jail string
	host netip.Addr
}

// retryQueue holds at most one pending retry per jail and host. Failures
// are rare, so a map scanned for the earliest is enough.
type retryQueue struct {
	byKey map[retryKey]*retry
}

func keyOf(a *engine.Action) retryKey { return retryKey{a.Jail, a.Host} }

func (q *retryQueue) len() int { return len(q.byKey) }

func (q *retryQueue) add(c *command, ev engine.Event, now time.Time, retryFor time.Duration) {
	q.put(&retry{cmd: c, ev: ev, next: now.Add(retryFirst), wait: retryFirst, deadline: now.Add(retryFor)})
}

func (q *retryQueue) put(r *retry) {
	if q.byKey == nil {
		q.byKey = map[retryKey]*retry{}
	}
	q.byKey[keyOf(r.ev.Action)] = r
}

// drop forgets the pending retry of a's host and jail.
func (q *retryQueue) drop(a *engine.Action) {
	if a != nil && q.byKey != nil {
		delete(q.byKey, keyOf(a))
	}
}

// next returns the time of the earliest pending retry.
func (q *retryQueue) next() (time.Time, bool) {
	var t time.Time
	for _, r := range q.byKey {
		if t.IsZero() || r.next.Before(t) {
			t = r.next
		}
	}
	return t, !t.IsZero()
}

// due removes and returns the retries due at now.
func (q *retryQueue) due(now time.Time) []*retry {
	var out []*retry
	for k, r := range q.byKey {
		if !r.next.After(now) {
			out = append(out, r)
			delete(q.byKey, k)
		}
	}
	return out
}
