package engine

import "context"

// Send sends ev on out, or gives up when ctx is done first; it reports
// whether ev was sent. A send that does not have to wait skips the
// select's locking of two channels: on a busy pipeline that is most of
// them, and a matcher sends one event per failure.
func Send(ctx context.Context, out chan<- Event, ev Event) bool {
	select {
	case out <- ev:
		return true
	default:
	}
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
