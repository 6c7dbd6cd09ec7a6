package mail

import (
	"context"
	"text/template"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/notify"
)

// rateWindow is the span max_per_hour counts over.
const rateWindow = time.Hour

// transport delivers a composed message.
type transport interface {
	send(ctx context.Context, m *message) error
	// name says where mail goes, for logs (never with a password).
	name() string
}

// worker is the delivery goroutine of a running sink: it owns the digest
// and the rate-limit window, so neither needs a lock.
//
// NOTE: delivery runs on the wall clock even in a replay: it is about
// real mail servers and real inboxes, not the log's time.
type worker struct {
	s        *Sink
	tr       transport
	hostname string

	dg  *digest   // actions collected for one mail; nil when none
	due time.Time // when dg is to be sent

	timer   *time.Timer
	armedAt time.Time

	winStart time.Time // start of the current rate window; zero before the first mail
	winSent  int       // mails sent in it
	limited  bool      // the limit was reported in this window
}

// run delivers until the queue is closed and empty (then sends a pending
// digest at once) or ctx ends (then what it holds is dropped).
func (w *worker) run(ctx context.Context) {
	defer func() {
		if w.timer != nil {
			w.timer.Stop()
		}
	}()
	q := w.s.queue
	for {
		if ctx.Err() != nil {
			w.abandon()
			return
		}
		if !w.due.IsZero() && !time.Now().Before(w.due) {
			w.flush(ctx, time.Now(), false)
			continue
		}
		ev, ok, done := q.TryPop()
		if ok {
			w.handle(ctx, ev)
			continue
		}
		if done {
			w.flush(ctx, time.Now(), true)
			return
		}
		select {
		case <-q.Wait():
		case <-w.timerC():
		case <-ctx.Done():
		}
	}
}

// timerC returns a channel that fires when the digest is due; nil when
// none is pending.
func (w *worker) timerC() <-chan time.Time {
	if w.due.IsZero() {
		return nil
	}
	if w.timer == nil {
		w.timer = time.NewTimer(time.Until(w.due))
	} else if !w.armedAt.Equal(w.due) {
		w.timer.Reset(time.Until(w.due))
	}
	w.armedAt = w.due
	return w.timer.C
}

// handle mails one action, or collects it when a digest is pending, the
// sink sends digests, or the hour's mails are used up.
func (w *worker) handle(ctx context.Context, ev engine.Event) {
	now := time.Now()
	d := notify.NewData(ev, w.hostname)
	switch {
	case w.dg != nil:
		w.collect(d, time.Time{})
	case w.s.digestEvery > 0:
		w.collect(d, now.Add(w.s.digestEvery))
	case !w.take(now):
		end := w.winStart.Add(rateWindow)
		if !w.limited {
			w.limited = true
			w.s.logger.Warn("mail rate limit reached; collecting the rest of the hour into one digest",
				"max_per_hour", w.s.maxPerHour, "digest_at", end.Format(time.RFC3339))
		}
		w.collect(d, end)
	default:
		w.sendOne(ctx, d)
	}
}

// take counts a mail in the rate window, opening a new window when the
// last one is over, and reports false when the window is full.
func (w *worker) take(now time.Time) bool {
	if w.winStart.IsZero() || now.Sub(w.winStart) >= rateWindow {
		w.winStart, w.winSent, w.limited = now, 0, false
	}
	if w.winSent >= w.s.maxPerHour {
		return false
	}
	w.winSent++
	return true
}

// collect adds d to the pending digest, starting one due at due.
func (w *worker) collect(d notify.Data, due time.Time) {
	if w.dg == nil {
		w.dg = newDigest(d)
		w.due = due
	}
	w.dg.add(d, w.s.digestMax)
}

// flush sends the pending digest when it is due (or at once when final),
// postponing it to the end of the rate window when the hour's mails are
// used up. A final flush ignores the limit: it is the last mail.
func (w *worker) flush(ctx context.Context, now time.Time, final bool) {
	if w.dg == nil {
		w.due = time.Time{}
		return
	}
	if !final {
		if now.Before(w.due) {
			return
		}
		if !w.take(now) {
			w.due = w.winStart.Add(rateWindow)
			if !w.limited {
				w.limited = true
				w.s.logger.Warn("mail rate limit reached; postponing the digest",
					"max_per_hour", w.s.maxPerHour, "digest_at", w.due.Format(time.RFC3339))
			}
			return
		}
	}
	dg := w.dg
	w.dg, w.due = nil, time.Time{}
	w.sendDigest(ctx, dg)
}

// abandon counts what the worker holds as dropped.
func (w *worker) abandon() {
	if w.dg != nil {
		w.s.lost.Add(int64(w.dg.count))
		w.s.logger.Warn("stopped with a digest not sent", "actions", w.dg.count)
		w.dg, w.due = nil, time.Time{}
	}
}

func (w *worker) sendOne(ctx context.Context, d notify.Data) {
	if w.s.whois {
		d.Whois = w.s.lookupWhois(ctx, d.Addr)
	}
	attrs := []any{"jail", d.Jail, "host", d.Host, "action", d.Action}
	m, err := w.s.render(d, w.s.subject, w.s.body, d, w.hostname)
	if err != nil {
		w.s.failed.Add(1)
		w.s.logger.Error("cannot compose mail", append(attrs, "err", err)...)
		return
	}
	w.deliver(ctx, m, 1, attrs)
}

func (w *worker) sendDigest(ctx context.Context, dg *digest) {
	view := dg.view(w.hostname)
	attrs := []any{"digest", true, "actions", dg.count}
	m, err := w.s.render(dg.entries[0], w.s.digestSubject, w.s.digestBody, view, w.hostname)
	if err != nil {
		w.s.failed.Add(1)
		w.s.logger.Error("cannot compose mail", append(attrs, "err", err)...)
		return
	}
	w.deliver(ctx, m, dg.count, attrs)
}

// deliver sends m with retries; actions is how many actions it reports.
func (w *worker) deliver(ctx context.Context, m *message, actions int, attrs []any) {
	attrs = append(attrs, "via", w.tr.name())
	outcome, err := w.s.retry.Do(ctx, func(ctx context.Context) error { return w.tr.send(ctx, m) },
		func(attempt int, wait time.Duration, err error) {
			w.s.retried.Add(1)
			w.s.logger.Warn("mail not delivered; retrying", append(attrs, "attempt", attempt, "retry_in", wait, "err", err)...)
		})
	switch outcome {
	case notify.Delivered:
		w.s.sent.Add(1)
		w.s.logger.Info("mail sent", append(attrs, "recipients", len(m.to))...)
	case notify.Failed:
		w.s.failed.Add(1)
		w.s.logger.Error("mail not delivered; giving up", append(attrs, "err", err)...)
	case notify.Aborted:
		w.s.lost.Add(int64(actions))
		w.s.logger.Warn("mail delivery cut short by stop", append(attrs, "err", err)...)
	}
}

// render composes a mail: from and to see envData (one action), subject
// and body see view.
func (s *Sink) render(envData notify.Data, subject, body *template.Template, view any, hostname string) (*message, error) {
	from, to, err := s.envelope(envData)
	if err != nil {
		return nil, err
	}
	subj, err := execute(subject, view)
	if err != nil {
		return nil, err
	}
	text, err := execute(body, view)
	if err != nil {
		return nil, err
	}
	return &message{from: from, to: to, data: compose(from, to, subj, text, hostname, time.Now())}, nil
}
