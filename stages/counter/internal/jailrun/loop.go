package jailrun

import (
	"context"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Loop is a counter's Run loop. The callbacks run in the Run goroutine
// only, and add what they decide to Batch.
type Loop struct {
	Jail    string
	Clock   engine.Clock
	Batch   *Batch
	Control *Control
	// Restore, when set, runs first, before any input is read: it puts
	// saved bans back (see Load).
	Restore func()
	// Handle takes one input event.
	Handle func(engine.Event)
	// Expire lifts the bans due at the counter's now; it runs when the
	// timer fires.
	Expire func()
	// Wake returns the first instant (Unix nanoseconds) at which a ban may
	// be due, or false when none is pending. One timer is kept armed for
	// it while the clock runs.
	Wake func() (at int64, ok bool)
}

// Run reads in until it closes and returns nil; it returns ctx's error on
// a hard stop. Events that are at hand are taken together (up to
// MaxEvents events or MaxActions actions) and their actions saved in one
// Record call before they are sent: a burst costs few disk syncs.
//
// NOTE: every send to out selects on ctx.Done(), so a consumer that
// stopped reading cannot block a hard stop.
func (l *Loop) Run(ctx context.Context, in <-chan engine.Event, out chan<- engine.Event) error {
	cmds, stopped, err := l.Control.start(l.Jail)
	if err != nil {
		return err
	}
	defer stopped()
	var (
		timer   engine.Timer     // created on the first arming
		timerC  <-chan time.Time // nil while the timer is not armed
		armedAt int64            // the instant the timer is armed for
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	if l.Restore != nil {
		l.Restore()
		if err := l.Batch.Flush(ctx, out); err != nil {
			return err
		}
	}
	for {
		// Keep one timer armed for the first instant a ban may be due.
		if at, ok := l.Wake(); !ok {
			if timerC != nil {
				timer.Stop()
				timerC = nil
			}
		} else if timerC == nil || armedAt != at {
			if wall := l.Clock.Now(); !wall.IsZero() { // else replay: events drive unbans
				d := max(time.Duration(at-wall.UnixNano()), 1)
				if timer == nil {
					timer = l.Clock.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				timerC, armedAt = timer.C(), at
			}
		}

		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-in:
			if !ok {
				return nil
			}
			closed := l.takeMore(in, l.take(ev))
			if err := l.Batch.Flush(ctx, out); err != nil {
				return err
			}
			if closed {
				return nil
			}
		case <-timerC:
			timerC = nil
			l.Expire()
			if err := l.Batch.Flush(ctx, out); err != nil {
				return err
			}
		case cmd := <-cmds:
			n, err := cmd.fn()
			ferr := l.Batch.Flush(ctx, out)
			if err == nil {
				err = ferr
			}
			cmd.reply <- result{n, err}
			if ferr != nil {
				return ferr
			}
		}
	}
}

// takeMore handles the events already waiting on in, up to the group
// commit's limits; n events were taken already. It reports whether in
// has closed. A batch event is taken whole, so one group commit may go
// past the limits by a batch of lines' failures and their actions: a
// larger Record call, nothing lost.
func (l *Loop) takeMore(in <-chan engine.Event, n int) bool {
	for n < MaxEvents && l.Batch.Len() < MaxActions {
		select {
		case ev, ok := <-in:
			if !ok {
				return true
			}
			n += l.take(ev)
		default:
			return false
		}
	}
	return false
}

// take hands each event ev stands for (see engine.Event.Unpack) to
// Handle, and returns how many there were.
func (l *Loop) take(ev engine.Event) int {
	evs := ev.Unpack()
	for _, e := range evs {
		l.Handle(e)
	}
	return len(evs)
}
