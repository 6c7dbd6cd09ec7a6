package notify

import (
	"sync"
	"sync/atomic"
)

// Queue is a bounded FIFO between one producer and one consumer. When it is
// full, Push drops the oldest entry: under a flood the newest notifications
// are the ones worth having. The zero value is not usable; call NewQueue.
type Queue[T any] struct {
	mu     sync.Mutex
	buf    []T // ring buffer, grown up to limit
	head   int // index of the oldest entry
	n      int // entries held
	limit  int
	closed bool

	// wake holds a token whenever something changed since the consumer
	// last looked (a push or the close).
	wake    chan struct{}
	dropped atomic.Int64
}

// NewQueue returns an empty queue holding at most limit entries (at least 1).
func NewQueue[T any](limit int) *Queue[T] {
	return &Queue[T]{limit: max(limit, 1), wake: make(chan struct{}, 1)}
}

// Push appends v and reports whether the oldest entry was dropped to make
// room. A push after Close is dropped.
func (q *Queue[T]) Push(v T) (dropped bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.dropped.Add(1)
		return true
	}
	if q.n == q.limit {
		var zero T
		q.buf[q.head] = zero
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		dropped = true
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = v
	q.n++
	q.mu.Unlock()
	if dropped {
		q.dropped.Add(1)
	}
	q.signal()
	return dropped
}

// grow doubles the ring (up to limit), keeping the order. Called with mu held.
func (q *Queue[T]) grow() {
	size := min(max(2*len(q.buf), 16), q.limit)
	buf := make([]T, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// TryPop removes and returns the oldest entry, if any. done is set when
// the queue is closed and empty: nothing will ever come again.
func (q *Queue[T]) TryPop() (v T, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return v, false, q.closed
	}
	v = q.buf[q.head]
	var zero T
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return v, true, false
}

// Wait returns a channel that receives after a Push or Close. A consumer
// calls TryPop until it finds nothing, then waits on it: a push that came
// in between has left its token.
func (q *Queue[T]) Wait() <-chan struct{} { return q.wake }

// Close marks the end of input; the entries held can still be popped.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// Discard empties the queue, counts the entries as dropped, and returns
// how many there were.
func (q *Queue[T]) Discard() int {
	q.mu.Lock()
	n := q.n
	clear(q.buf)
	q.head, q.n = 0, 0
	q.mu.Unlock()
	q.dropped.Add(int64(n))
	return n
}

// Len returns the number of entries held.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Limit returns the capacity given to NewQueue.
func (q *Queue[T]) Limit() int { return q.limit }

// Dropped returns how many entries were dropped: pushed out by newer ones,
// pushed after Close, or discarded.
func (q *Queue[T]) Dropped() int64 { return q.dropped.Load() }

func (q *Queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
