package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// DrainTimeout is how long a sink whose input has ended keeps delivering
// what it has queued. It is well inside the engine's default grace period
// (10 s), so a dead server delays a reload or shutdown by at most this.
const DrainTimeout = 5 * time.Second

// dropLogEvery bounds the warnings about a full queue to one per interval.
const dropLogEvery = time.Minute

// Pump is the Run loop of a notifying sink: it moves the wanted actions of
// its input into Queue while Work delivers them in a goroutine of its own.
type Pump struct {
	// Queue receives the actions that Want selects.
	Queue *Queue[engine.Event]
	// Want selects the events worth delivering.
	Want func(engine.Event) bool
	// Work delivers from Queue until TryPop reports done or ctx ends. When
	// ctx ends it returns promptly, counting what it held as dropped.
	Work func(ctx context.Context)
	// Drain bounds the delivery of what is queued once the input has
	// ended; zero means DrainTimeout.
	Drain time.Duration
	// Logger reports drops.
	Logger *slog.Logger
}

// Run reads in until it is closed, then lets Work finish what is queued for
// at most Drain and drops the rest. When ctx is cancelled (the engine's hard
// stop) Work is cancelled at once, the queue is dropped, and Run returns an
// error saying so. Run never blocks on delivery: a full queue drops its
// oldest entry.
func (p *Pump) Run(ctx context.Context, in <-chan engine.Event) error {
	drain := p.Drain
	if drain <= 0 {
		drain = DrainTimeout
	}
	// NOTE: the worker's context is detached from ctx so that the end of
	// the input (not ctx) starts the drain; ctx still cancels it below.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Work(wctx)
	}()

	var lastDropLog time.Time
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				return p.drain(ctx, cancel, done, drain)
			}
			if !p.Want(ev) {
				continue
			}
			if p.Queue.Push(ev) {
				if now := time.Now(); now.Sub(lastDropLog) >= dropLogEvery {
					lastDropLog = now
					p.Logger.Warn("delivery queue full; dropping the oldest notifications",
						"queue_size", p.Queue.Limit(), "dropped_total", p.Queue.Dropped())
				}
			}
		case <-ctx.Done():
			cancel()
			<-done
			if n := p.Queue.Discard(); n > 0 {
				p.Logger.Warn("stopped with notifications not delivered", "dropped", n)
			}
			return fmt.Errorf("stopped before its input ended: %w", context.Cause(ctx))
		}
	}
}

func (p *Pump) drain(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}, drain time.Duration) error {
	p.Queue.Close()
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		p.Logger.Warn("delivery did not finish in time; dropping the rest", "drain", drain, "queued", p.Queue.Len())
	case <-ctx.Done():
	}
	cancel()
	<-done
	if n := p.Queue.Discard(); n > 0 {
		p.Logger.Warn("stopped with notifications not delivered", "dropped", n)
	}
	return nil
}
