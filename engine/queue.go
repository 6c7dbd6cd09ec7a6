package engine

import (
	"context"
	"log/slog"
)

// sinkQueueLimit bounds the events waiting for one sink. A sink that is
// slow or stuck (a firewall command that hangs until its timeout, an SMTP
// server that does not answer) must not stall the counters feeding it and,
// through them, every other sink; so each sink reads from its own elastic
// queue. Past this many waiting events the queue pushes back instead of
// dropping: a ban is never lost.
const sinkQueueLimit = 100_000

// elastic moves events from in to out through a queue that grows as needed
// up to limit, so a slow reader of out does not block the writer of in. It
// closes out once in is closed and the queue is empty. When ctx is done it
// stops and closes out, leaving the rest.
func elastic(ctx context.Context, in <-chan Event, out chan<- Event, limit int, logger *slog.Logger, id string) {
	defer close(out)
	var (
		q      []Event // q[head:] are waiting
		head   int
		warned bool
	)
	for in != nil || head < len(q) {
		var (
			send  chan<- Event
			next  Event
			recvC = in
		)
		if head < len(q) {
			send, next = out, q[head]
		}
		if len(q)-head >= limit {
			recvC = nil // full: push back on the writer
			if !warned {
				logger.Warn("sink is not keeping up; holding its input back", "node", id, "waiting", len(q)-head)
				warned = true
			}
		}
		select {
		case ev, ok := <-recvC:
			if !ok {
				in = nil
				continue
			}
			q = append(q, ev)
		case send <- next:
			q[head] = Event{}
			head++
			if head == len(q) {
				q, head, warned = q[:0], 0, false
			} else if head > 1024 && head*2 > len(q) {
				// Slide the waiting events down so the backing array does
				// not grow without end while the reader keeps up.
				n := copy(q, q[head:])
				clear(q[n:])
				q, head = q[:n], 0
			}
		case <-ctx.Done():
			return
		}
	}
}
