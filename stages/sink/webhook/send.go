package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/notify"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

const (
	// answerLimit bounds the part of an error answer put into a log record.
	answerLimit = 256
	// drainLimit bounds the answer read so the connection can be reused.
	drainLimit = 64 << 10
)

// deliver sends one action with retries and counts the outcome.
func (s *Sink) deliver(ctx context.Context, ev engine.Event) {
	a := ev.Action
	attrs := []any{"jail", a.Jail, "host", sinkfmt.Host(a), "action", a.Type.String(), "endpoint", s.endpoint}
	body, contentType, err := s.payload(ev)
	if err != nil {
		s.failed.Add(1)
		s.logger.Error("cannot build webhook body", append(attrs, "err", err)...)
		return
	}
	outcome, err := s.retry.Do(ctx, func(ctx context.Context) error { return s.post(ctx, body, contentType) },
		func(attempt int, wait time.Duration, err error) {
			s.retried.Add(1)
			s.logger.Warn("webhook not delivered; retrying", append(attrs, "attempt", attempt, "retry_in", wait, "err", err)...)
		})
	switch outcome {
	case notify.Delivered:
		s.sent.Add(1)
		s.logger.Debug("webhook sent", attrs...)
	case notify.Failed:
		s.failed.Add(1)
		s.logger.Error("webhook not delivered; giving up", append(attrs, "err", err)...)
	case notify.Aborted:
		s.lost.Add(1)
		s.logger.Warn("webhook delivery cut short by stop", append(attrs, "err", err)...)
	}
}

// post makes one request. Its errors never hold the URL or the headers.
func (s *Sink) post(ctx context.Context, body []byte, contentType string) error {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, s.method, s.url, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(errors.New("cannot make the request"))
	}
	req.Header = s.headers.Clone()
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "f2b")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("no answer within %s", s.timeout)
		}
		// NOTE: *url.Error quotes the URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, answerLimit))
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))

	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err = fmt.Errorf("HTTP %d %s", code, http.StatusText(code))
	if line := firstLine(answer); line != "" {
		err = fmt.Errorf("%w: %s", err, line)
	}
	switch {
	case code >= 300 && code < 400:
		return notify.Permanent(fmt.Errorf("%w (redirects are not followed: set url to the final address)", err))
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return notify.RetryAfter(err, d)
		}
		return err
	}
	return notify.Permanent(err)
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// firstLine returns the first non-blank line of b, printable and cut.
func firstLine(b []byte) string {
	for line := range strings.SplitSeq(strings.ToValidUTF8(string(b), "\uFFFD"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		line = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return ' '
			}
			return r
		}, line)
		if len(line) > answerLimit {
			line = line[:answerLimit] + "…"
		}
		return line
	}
	return ""
}
