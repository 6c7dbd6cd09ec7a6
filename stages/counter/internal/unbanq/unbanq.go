// Package unbanq holds what every counter keeps of its running bans: the
// queue ordered by their end, to unban on time (a min-heap, never a
// goroutine or timer per ban), and the unordered set that status reads.
package unbanq

import (
	"cmp"
	"slices"
	"sync"
)

// Slot is what a queued ban carries for its queue.
type Slot struct {
	EndNanos int64  // when the ban ends, Unix nanoseconds
	Seq      uint64 // ban order: earlier bans first on equal ends
	Index    int    // index in the queue; -1 when not queued
	Pos      int    // index in the Active set
}

// Item is a ban that can be queued.
type Item interface {
	QueueSlot() *Slot
}

// Queue is a min-heap of bans by end, then ban order. Use it through
// container/heap.
type Queue[T Item] []T

// Len implements heap.Interface.
func (q Queue[T]) Len() int { return len(q) }

// Less implements heap.Interface.
func (q Queue[T]) Less(i, j int) bool {
	a, b := q[i].QueueSlot(), q[j].QueueSlot()
	if a.EndNanos != b.EndNanos {
		return a.EndNanos < b.EndNanos
	}
	return a.Seq < b.Seq
}

// Swap implements heap.Interface.
func (q Queue[T]) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].QueueSlot().Index = i
	q[j].QueueSlot().Index = j
}

// Push implements heap.Interface.
func (q *Queue[T]) Push(x any) {
	b := x.(T)
	b.QueueSlot().Index = len(*q)
	*q = append(*q, b)
}

// Pop implements heap.Interface.
func (q *Queue[T]) Pop() any {
	old := *q
	n := len(old)
	b := old[n-1]
	var zero T
	old[n-1] = zero
	b.QueueSlot().Index = -1
	*q = old[:n-1]
	return b
}

// Active is the set of running bans in no order, with O(1) add and remove;
// each ban's Slot.Pos is its index. It does no locking of its own.
type Active[T Item] []T

// Add puts b in the set.
func (a *Active[T]) Add(b T) {
	b.QueueSlot().Pos = len(*a)
	*a = append(*a, b)
}

// Remove takes b out of the set, moving the last ban into its place.
func (a *Active[T]) Remove(b T) {
	s := *a
	i, last := b.QueueSlot().Pos, len(s)-1
	s[i] = s[last]
	s[i].QueueSlot().Pos = i
	var zero T
	s[last] = zero
	*a = s[:last]
}

// Collect returns f of each ban of a, in ban order. It reads a, and calls
// f, under mu: the lock a counter holds while it changes a or, for a
// prolong, a ban. So a status reader may call it while Run runs.
func Collect[T Item, R any](mu *sync.Mutex, a *Active[T], f func(T) R) []R {
	type entry struct {
		seq uint64
		r   R
	}
	mu.Lock()
	es := make([]entry, len(*a))
	for i, b := range *a {
		es[i] = entry{b.QueueSlot().Seq, f(b)}
	}
	mu.Unlock()
	slices.SortFunc(es, func(x, y entry) int { return cmp.Compare(x.seq, y.seq) })
	out := make([]R, len(es))
	for i, e := range es {
		out[i] = e.r
	}
	return out
}
