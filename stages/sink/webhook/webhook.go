package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/notify"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// Block labels and attribute names.
const (
	typeName        = "webhook"
	attrURL         = "url"
	attrMethod      = "method"
	attrFormat      = "format"
	attrBody        = "body"
	attrContentType = "content_type"
	attrHeaders     = "headers"
	attrTimeout     = "timeout"
	attrRetryFor    = "retry_for"
	attrQueueSize   = "queue_size"
	attrOn          = "on"
)

// Defaults.
const (
	defaultMethod      = http.MethodPost
	defaultTimeout     = "10s"
	defaultRetryFor    = "10m"
	defaultQueueSize   = 1000
	defaultContentType = "text/plain; charset=utf-8"
)

// The formats of a webhook body.
const (
	formatJSON       = "json"
	formatSlack      = "slack"
	formatMattermost = "mattermost"
	formatDiscord    = "discord"
)

var formats = []string{formatJSON, formatSlack, formatMattermost, formatDiscord}

// Arguments are the attributes of a sink "webhook" block.
type Arguments struct {
	// URL is the endpoint, http:// or https://.
	URL string `hcl:"url"`
	// Method is the HTTP method ("POST" by default).
	Method string `hcl:"method,optional"`
	// Format is "json" (the default), "slack", "mattermost" or "discord".
	Format string `hcl:"format,optional"`
	// Body is a text/template producing the body, instead of Format.
	Body string `hcl:"body,optional"`
	// ContentType is the Content-Type of Body.
	ContentType string `hcl:"content_type,optional"`
	// Headers are sent with every request; their values are never logged.
	Headers map[string]string `hcl:"headers,optional"`
	// Timeout bounds one request ("10s" by default).
	Timeout string `hcl:"timeout,optional"`
	// RetryFor is how long a failed request is retried ("10m" by default).
	RetryFor string `hcl:"retry_for,optional"`
	// QueueSize bounds the actions waiting to be sent (default 1000).
	QueueSize int `hcl:"queue_size,optional"`
	// On lists the actions sent: "ban" (the default), "unban", "prolong".
	On []string `hcl:"on,optional"`
}

// Register adds sink "webhook" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "sends bans to an HTTP endpoint (JSON, Slack, Mattermost, Discord, own body)",
		NewArgs: func() any {
			return &Arguments{Method: defaultMethod, Timeout: defaultTimeout, RetryFor: defaultRetryFor, QueueSize: defaultQueueSize}
		},
		Build: engine.Build(New),
	})
}

// Sink is a running sink "webhook".
type Sink struct {
	url         string
	endpoint    string // scheme://host of url, for logs
	method      string
	format      string             // "" when body is set
	body        *template.Template // nil unless set
	contentType string
	headers     http.Header
	timeout     time.Duration
	retry       notify.Retry
	on          notify.Actions
	queue       *notify.Queue[engine.Event]
	client      *http.Client
	logger      *slog.Logger
	drain       time.Duration
	hostname    string // set by Run before the worker starts

	sent, failed, retried, lost atomic.Int64 // lost: dropped outside the queue
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O. Errors are
// *confval.AttrError values naming the attribute; all problems are
// reported, joined. They never quote url or header values: those may hold
// secrets.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	s := &Sink{logger: opts.Logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	addErr := func(attr string, err error) { errs = append(errs, confval.AttrErr(attr, err)) }

	u, err := url.Parse(args.URL)
	switch {
	case args.URL == "":
		addErr(attrURL, errors.New("give the endpoint, e.g. \"https://hooks.example.org/f2b\""))
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		addErr(attrURL, errors.New("want an absolute http:// or https:// URL"))
	default:
		s.url = args.URL
		s.endpoint = u.Scheme + "://" + u.Host
	}

	s.method = strings.ToUpper(args.Method)
	if s.method == "" {
		s.method = defaultMethod
	}
	if !isToken(s.method) {
		addErr(attrMethod, fmt.Errorf("%q is not an HTTP method", args.Method))
	}

	s.format = strings.ToLower(args.Format)
	switch {
	case args.Body != "":
		if args.Format != "" {
			addErr(attrFormat, errors.New("give format or body, not both"))
		}
		s.format = ""
		t, err := notify.ParseTemplate(attrBody, args.Body)
		if err == nil {
			// A misspelled field fails now, not at the first ban.
			err = t.Execute(discard{}, notify.SampleData())
		}
		if err != nil {
			addErr(attrBody, err)
		}
		s.body = t
		s.contentType = args.ContentType
		if s.contentType == "" {
			s.contentType = defaultContentType
		}
	case s.format == "":
		s.format = formatJSON
	case !slices.Contains(formats, s.format):
		msg := fmt.Sprintf("unknown format %q; use \"json\", \"slack\", \"mattermost\" or \"discord\"", args.Format)
		if sug := sinkfmt.Suggest(args.Format, formats); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		addErr(attrFormat, errors.New(msg))
	}
	if args.ContentType != "" && args.Body == "" {
		addErr(attrContentType, errors.New("only applies with body; the formats set their own"))
	}
	if strings.ContainsAny(args.ContentType, "\r\n\x00") {
		addErr(attrContentType, errors.New("holds a control character"))
	}

	s.headers = http.Header{}
	for _, k := range slices.Sorted(maps.Keys(args.Headers)) {
		switch v := args.Headers[k]; {
		case !isToken(k):
			addErr(attrHeaders, fmt.Errorf("%q is not a header name", k))
		case strings.ContainsAny(v, "\r\n\x00"):
			addErr(attrHeaders, fmt.Errorf("the value of %s holds CR, LF or NUL", k))
		default:
			s.headers.Set(k, v)
		}
	}

	s.timeout = duration(attrTimeout, args.Timeout, defaultTimeout, false, addErr)
	s.retry.For = duration(attrRetryFor, args.RetryFor, defaultRetryFor, true, addErr)
	size := args.QueueSize
	switch {
	case size == 0:
		size = defaultQueueSize
	case size < 0:
		addErr(attrQueueSize, fmt.Errorf("must be positive, got %d", size))
	}
	s.queue = notify.NewQueue[engine.Event](size)

	on, err := notify.ParseOn(args.On)
	if err != nil {
		addErr(attrOn, err)
	}
	s.on = on
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	s.client = &http.Client{
		Transport: transport,
		// NOTE: a redirect would carry the headers (secrets) to wherever
		// it points; the answer is reported instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

// duration parses a duration attribute; an empty value takes def.
func duration(attr, text, def string, allowZero bool, addErr func(string, error)) time.Duration {
	if text == "" {
		text = def
	}
	d, err := confval.ParseDuration(text, allowZero)
	switch {
	case err != nil:
		addErr(attr, err)
	case d == confval.Permanent:
		addErr(attr, errors.New("give a finite duration"))
	}
	return d
}

// isToken reports whether s is an HTTP token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Run implements engine.Stage. It reads the selected actions into the
// delivery queue while a worker sends them; see the package doc for how a
// stop drains the queue.
//
// NOTE: Run never writes to out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	s.hostname = hostname()
	defer s.client.CloseIdleConnections()
	p := notify.Pump{Queue: s.queue, Want: s.on.Want, Work: s.work, Drain: s.drain, Logger: s.logger}
	return p.Run(ctx, in)
}

// Stats returns the actions sent and failed, the retries, and the actions
// dropped unsent (queue overflow or stop).
func (s *Sink) Stats() map[string]int64 {
	return map[string]int64{
		"webhook_sent":    s.sent.Load(),
		"webhook_failed":  s.failed.Load(),
		"webhook_retried": s.retried.Load(),
		"webhook_dropped": s.lost.Load() + s.queue.Dropped(),
	}
}

// work sends the queued actions in order until the queue is closed and
// empty or ctx ends.
func (s *Sink) work(ctx context.Context) {
	for ctx.Err() == nil {
		ev, ok, done := s.queue.TryPop()
		switch {
		case ok:
			s.deliver(ctx, ev)
			continue
		case done:
			return
		}
		select {
		case <-s.queue.Wait():
		case <-ctx.Done():
		}
	}
}

// hostname is this machine's name, or "localhost" when it has none.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
