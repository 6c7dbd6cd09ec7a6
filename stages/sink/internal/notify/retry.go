package notify

import (
	"context"
	"errors"
	"time"
)

// Default backoff between attempts: the first retry after a second, each
// next one twice as late, at most a minute apart (as sink "exec" does).
const (
	DefaultFirstRetry = time.Second
	DefaultMaxRetry   = time.Minute
)

// Outcome is how a delivery ended.
type Outcome uint8

// Delivery outcomes.
const (
	// Delivered: an attempt succeeded.
	Delivered Outcome = iota
	// Failed: the error cannot be fixed by retrying, or retries ran out.
	Failed
	// Aborted: the context ended first (the sink is stopping).
	Aborted
)

// Retry says how a failed delivery is tried again.
type Retry struct {
	// For is how long after the first attempt a retry may still start;
	// zero never retries.
	For time.Duration
	// First and Max bound the backoff; zero means the defaults.
	First, Max time.Duration
}

// Do calls try until it succeeds, returns a Permanent error, the next
// attempt would start more than For after the first one, or ctx ends. An
// error made with RetryAfter sets the wait before the next attempt (an
// HTTP server's Retry-After). onRetry, when not nil, is called before each
// wait with the attempt that failed (1 for the first) and its error. Do
// returns the outcome and the last error.
func (r Retry) Do(ctx context.Context, try func(context.Context) error, onRetry func(attempt int, wait time.Duration, err error)) (Outcome, error) {
	first, most := r.First, r.Max
	if first <= 0 {
		first = DefaultFirstRetry
	}
	if most <= 0 {
		most = DefaultMaxRetry
	}
	start := time.Now()
	wait := first
	for attempt := 1; ; attempt++ {
		err := try(ctx)
		switch {
		case err == nil:
			return Delivered, nil
		case ctx.Err() != nil:
			return Aborted, err
		case IsPermanent(err):
			return Failed, err
		}
		d := wait
		if ra, ok := retryAfterOf(err); ok {
			d = ra
		}
		if time.Since(start)+d > r.For {
			return Failed, err
		}
		if onRetry != nil {
			onRetry(attempt, d, err)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Aborted, err
		}
		wait = min(wait*2, most)
	}
}

// Permanent marks err as one that retrying cannot fix (a refused address,
// a 4xx answer, a policy refusal).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RetryAfter marks err as temporary, with the server asking for the next
// attempt no sooner than d.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err, max(d, 0)}
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

func retryAfterOf(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
