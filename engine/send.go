package engine

import "context"

// Send sends ev on out, or gives up when ctx is done; it reports whether
// ev was sent. A done ctx stops it even when out has room, so a source
// whose consumer keeps up still stops when told to. A send that does not
// have to wait skips the select's locking of two channels: on a busy
// pipeline that is most of them.
func Send(ctx context.Context, out chan<- Event, ev Event) bool {
	select {
	case <-ctx.Done():
		return false
	default:
	}
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
