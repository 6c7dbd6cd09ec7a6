package engine

import "time"

// Clock is the time source of stages that need one. No stage calls time.Now
// directly, so the same stage runs on the wall clock in `run` and on the
// log's own clock in `replay`.
type Clock interface {
	// Now returns the current time; the zero time when the clock does not
	// run (replay), in which case event times alone move time forward.
	Now() time.Time
	// NewTimer returns a timer that fires after d. A clock that does not run
	// returns a timer whose channel never fires.
	NewTimer(d time.Duration) Timer
}

// Timer is a stoppable, resettable one-shot timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// WallClock is the system clock.
type WallClock struct{}

// Now implements Clock.
func (WallClock) Now() time.Time { return time.Now() }

// NewTimer implements Clock.
func (WallClock) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time        { return w.t.C }
func (w wallTimer) Stop() bool                 { return w.t.Stop() }
func (w wallTimer) Reset(d time.Duration) bool { return w.t.Reset(d) }

// LogClock is the clock of a replay: it has no time of its own and its
// timers never fire; the event times of the log drive every timer.
type LogClock struct{}

// Now implements Clock; it returns the zero time.
func (LogClock) Now() time.Time { return time.Time{} }

// NewTimer implements Clock; the timer never fires.
func (LogClock) NewTimer(time.Duration) Timer { return idleTimer{} }

type idleTimer struct{}

func (idleTimer) C() <-chan time.Time      { return nil }
func (idleTimer) Stop() bool               { return false }
func (idleTimer) Reset(time.Duration) bool { return false }
