package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
	"github.com/f2bproject/f2b/stages/sink/internal/notify/notifytest"
)

var t0 = notifytest.T0

// ban returns a ban event of host (an address, or any text for HostText).
func ban(host string, mod ...func(*engine.Action)) engine.Event {
	return notifytest.Ban(host, "Failed password for root from ", mod...)
}

// request is one request the test server got.
type request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	At           time.Time
}

// recorder is an httptest server that records requests and answers with
// the status codes of replies in turn (200 once they run out).
type recorder struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	got     []request
	replies []func(w http.ResponseWriter, r *http.Request)
	arrived chan struct{}
}

func newRecorder(t *testing.T, replies ...func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{t: t, replies: replies, arrived: make(chan struct{}, 1000)}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.got = append(rec.got, request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()})
		var reply func(http.ResponseWriter, *http.Request)
		if len(rec.replies) > 0 {
			reply, rec.replies = rec.replies[0], rec.replies[1:]
		}
		rec.mu.Unlock()
		rec.arrived <- struct{}{}
		if reply != nil {
			reply(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func status(code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d\n", code)
	}
}

func (rec *recorder) requests() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.got...)
}

// wait waits until n requests have arrived in all.
func (rec *recorder) wait(n int) {
	rec.t.Helper()
	for len(rec.requests()) < n {
		select {
		case <-rec.arrived:
		case <-time.After(10 * time.Second):
			rec.t.Fatalf("only %d of %d requests arrived in 10 s", len(rec.requests()), n)
		}
	}
}

func newSink(t *testing.T, args *Arguments, logs io.Writer) *Sink {
	t.Helper()
	logger := notifytest.Logger(logs)
	s, err := New(engine.Options{ID: "sink.hook", Logger: logger}, args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.retry.First, s.retry.Max = 10*time.Millisecond, 50*time.Millisecond
	return s
}

func TestJSONFormat(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	s := newSink(t, &Arguments{URL: rec.srv.URL + "/hook", On: []string{"ban", "unban"}}, nil)
	perm := ban("2001:db8::1", func(a *engine.Action) { a.BanTime, a.Matches = engine.Permanent, nil })
	unban := ban("192.0.2.1", func(a *engine.Action) { a.Type = engine.Unban })
	notifytest.Run(t, s, ban("192.0.2.1"), perm, unban)
	got := rec.requests()
	if len(got) != 3 {
		t.Fatalf("got %d requests, want 3", len(got))
	}
	if got[0].Method != http.MethodPost || got[0].Path != "/hook" || got[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %q", got[0].Method, got[0].Path, got[0].Header.Get("Content-Type"))
	}
	keys := `{"event":"ban","jail":"sshd","host":"192.0.2.1","failures":5,"time":"2026-01-02T03:04:05Z","ban_time":"1h0m0s","end":"2026-01-02T04:04:05Z","matches":["Failed password for root from 192.0.2.1"],"hostname":`
	if !strings.HasPrefix(string(got[0].Body), keys) {
		t.Errorf("ban body = %s\nwant prefix %s", got[0].Body, keys)
	}
	var m map[string]any
	if err := json.Unmarshal(got[1].Body, &m); err != nil {
		t.Fatal(err)
	}
	if m["ban_time"] != "permanent" || m["end"] != nil || m["host"] != "2001:db8::1" {
		t.Errorf("permanent ban = %v", m)
	}
	if ms, ok := m["matches"].([]any); !ok || len(ms) != 0 {
		t.Errorf("matches = %#v, want []", m["matches"])
	}
	if err := json.Unmarshal(got[2].Body, &m); err != nil {
		t.Fatal(err)
	}
	if m["event"] != "unban" || m["end"] != nil {
		t.Errorf("unban = %v", m)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 3, "webhook_failed": 0})
}

func TestChatFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format, key string
		extra       string // a further key the body must hold
		want        string
	}{
		{"slack", "text", "", "[f2b] sshd on %s: banned 192.0.2.1 after 5 failures, for 1h0m0s (until 2026-01-02T04:04:05Z)"},
		{"mattermost", "text", "", "[f2b] sshd on %s: banned 192.0.2.1 after 5 failures, for 1h0m0s (until 2026-01-02T04:04:05Z)"},
		{"discord", "content", "allowed_mentions", "[f2b] sshd on %s: banned 192.0.2.1 after 5 failures, for 1h0m0s (until 2026-01-02T04:04:05Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t)
			s := newSink(t, &Arguments{URL: rec.srv.URL, Format: tt.format}, nil)
			notifytest.Run(t, s, ban("192.0.2.1"))
			got := rec.requests()
			if len(got) != 1 {
				t.Fatalf("got %d requests", len(got))
			}
			var m map[string]any
			if err := json.Unmarshal(got[0].Body, &m); err != nil {
				t.Fatalf("body %s: %v", got[0].Body, err)
			}
			if want := fmt.Sprintf(tt.want, s.hostname); m[tt.key] != want {
				t.Errorf("%s = %q, want %q", tt.key, m[tt.key], want)
			}
			if want := 1 + btoi(tt.extra != ""); len(m) != want {
				t.Errorf("body has keys %v, want %d", m, want)
			}
			if tt.extra != "" {
				if am, ok := m[tt.extra].(map[string]any); !ok || fmt.Sprint(am["parse"]) != "[]" {
					t.Errorf("%s = %v, want mentions off", tt.extra, m[tt.extra])
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSlackEscapesMarkup(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	s := newSink(t, &Arguments{URL: rec.srv.URL, Format: "slack"}, nil)
	notifytest.Run(t, s, ban("<!channel> & <https://evil.example|click>"))
	var m map[string]string
	if err := json.Unmarshal(rec.requests()[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m["text"], "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;") {
		t.Errorf("text = %q", m["text"])
	}
}

func TestBodyTemplateHeadersAndMethod(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	s := newSink(t, &Arguments{
		URL:         rec.srv.URL + "/report",
		Method:      "put",
		Body:        `{"ip": {{json .Host}}, "user": {{json .Fields.user}}, "why": "{{.Failures}} failures in {{.Jail}}"}`,
		ContentType: "application/vnd.report+json",
		Headers:     map[string]string{"Authorization": "Bearer t0ken", "X-Source": "f2b-test"},
	}, nil)
	notifytest.Run(t, s, ban("192.0.2.1", func(a *engine.Action) { a.Fields = map[string]string{"user": "ro\"ot\n"} }))
	got := rec.requests()
	if len(got) != 1 {
		t.Fatalf("got %d requests", len(got))
	}
	r := got[0]
	if r.Method != "PUT" || r.Path != "/report" || r.Header.Get("Authorization") != "Bearer t0ken" ||
		r.Header.Get("X-Source") != "f2b-test" || r.Header.Get("Content-Type") != "application/vnd.report+json" {
		t.Errorf("request = %s %s %v", r.Method, r.Path, r.Header)
	}
	var m map[string]string
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("templated body %s: %v", r.Body, err)
	}
	if m["ip"] != "192.0.2.1" || m["user"] != "ro\"ot\n" || m["why"] != "5 failures in sshd" {
		t.Errorf("body = %v", m)
	}
}

func TestRetriesOn500ThenSucceeds(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, status(500), status(502))
	s := newSink(t, &Arguments{URL: rec.srv.URL}, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	if n := len(rec.requests()); n != 3 {
		t.Errorf("got %d requests, want 3", n)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 1, "webhook_failed": 0, "webhook_retried": 2})
}

func TestRetryAfterOn429(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, status(429, "Retry-After", "1"))
	s := newSink(t, &Arguments{URL: rec.srv.URL}, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	got := rec.requests()
	if len(got) != 2 {
		t.Fatalf("got %d requests, want 2", len(got))
	}
	// The backoff alone would wait 10 ms; the server asked for a second.
	if gap := got[1].At.Sub(got[0].At); gap < time.Second {
		t.Errorf("retried after %v, before the server's Retry-After of 1s", gap)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 1, "webhook_retried": 1})
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"99999999999", 24 * time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNoRetryOnClientErrorsAndRedirects(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, status(400), status(302, "Location", "https://elsewhere.example/"))
	var logs notifytest.Logs
	s := newSink(t, &Arguments{URL: rec.srv.URL}, &logs)
	notifytest.Run(t, s, ban("192.0.2.1"), ban("192.0.2.2"))
	if n := len(rec.requests()); n != 2 {
		t.Errorf("got %d requests, want one per action", n)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 0, "webhook_failed": 2, "webhook_retried": 0})
	for _, want := range []string{"HTTP 400 Bad Request: answer 400", "redirects are not followed"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	rec := newRecorder(t, hang)
	var logs notifytest.Logs
	s := newSink(t, &Arguments{URL: rec.srv.URL, Timeout: "200ms"}, &logs)
	notifytest.Run(t, s, ban("192.0.2.1"))
	// The first request timed out, the retry got an answer.
	if n := len(rec.requests()); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 1, "webhook_retried": 1})
	if !strings.Contains(logs.String(), "no answer within 200ms") {
		t.Errorf("log does not name the timeout:\n%s", logs.String())
	}

	rec = newRecorder(t, hang)
	s = newSink(t, &Arguments{URL: rec.srv.URL, Timeout: "200ms", RetryFor: "0s"}, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 0, "webhook_failed": 1, "webhook_retried": 0})
}

func TestQueueOverflowDropsOldest(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	var logs notifytest.Logs
	s := newSink(t, &Arguments{URL: rec.srv.URL, QueueSize: 2}, &logs)
	in := make(chan engine.Event)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background(), in, nil) }()
	in <- ban("192.0.2.1")
	rec.wait(1) // the worker holds the first action, the queue is empty
	for i := 2; i <= 5; i++ {
		in <- ban(fmt.Sprintf("192.0.2.%d", i))
	}
	// NOTE: Run has received the fifth action but may not have queued it
	// yet; release the server only once both drops happened, or the worker
	// could take 3 first and leave room for 5.
	deadline := time.Now().Add(5 * time.Second)
	for s.queue.Dropped() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(in)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, r := range rec.requests() {
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, m["host"].(string))
	}
	if strings.Join(hosts, " ") != "192.0.2.1 192.0.2.4 192.0.2.5" {
		t.Errorf("sent %v, want the first (in flight) and the two newest", hosts)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_sent": 3, "webhook_dropped": 2})
	if !strings.Contains(logs.String(), "delivery queue full") {
		t.Errorf("drops not logged:\n%s", logs.String())
	}
}

func TestSlowServerDoesNotBlockRun(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rec := newRecorder(t)
	rec.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// NOTE: the server notices a closed connection (and cancels
		// r.Context) only once the body has been read.
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s := newSink(t, &Arguments{URL: rec.srv.URL, QueueSize: 100, Timeout: "1m"}, nil)
	s.drain = 300 * time.Millisecond
	notifytest.Flood(t, s, 1000, func(i int) engine.Event { return ban(fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)) })
	st := s.Stats()
	if st["webhook_sent"] != 0 || st["webhook_dropped"] != 1000 {
		t.Errorf("stats = %v, want all 1000 dropped (900 on overflow, the rest at the stop)", st)
	}
}

func TestHardStop(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	rec.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
	s := newSink(t, &Arguments{URL: rec.srv.URL, Timeout: "1m"}, nil)
	notifytest.HardStop(t, s, ban("192.0.2.1"), ban("192.0.2.2"))
	if got := s.Stats()["webhook_dropped"]; got != 2 {
		t.Errorf("dropped = %d, want 2", got)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, status(500), status(401))
	var logs notifytest.Logs
	s := newSink(t, &Arguments{
		URL:     rec.srv.URL + "/services/T000/B000/URLSECRET?token=QUERYSECRET",
		Headers: map[string]string{"Authorization": "Bearer HEADERSECRET"},
	}, &logs)
	notifytest.Run(t, s, ban("192.0.2.1"))
	// And a network error, whose Go text quotes the URL.
	dead := newRecorder(t)
	dead.srv.Close()
	s2 := newSink(t, &Arguments{URL: dead.srv.URL + "/URLSECRET", RetryFor: "0s"}, &logs)
	notifytest.Run(t, s2, ban("192.0.2.1"))
	out := logs.String()
	for _, secret := range []string{"URLSECRET", "QUERYSECRET", "HEADERSECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %s:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "endpoint=http://127.0.0.1:") || !strings.Contains(out, "HTTP 401") {
		t.Errorf("log does not say where and what failed:\n%s", out)
	}
	notifytest.WantStats(t, s, map[string]int64{"webhook_failed": 1, "webhook_retried": 1})
	notifytest.WantStats(t, s2, map[string]int64{"webhook_failed": 1})
}

func TestOnAndRestored(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	s := newSink(t, &Arguments{URL: rec.srv.URL, On: []string{"prolong"}}, nil)
	notifytest.Run(t, s,
		ban("192.0.2.1"),
		ban("192.0.2.2", func(a *engine.Action) { a.Type = engine.Prolong; a.Restored = true }),
		ban("192.0.2.3", func(a *engine.Action) { a.Type = engine.Prolong }),
		ban("192.0.2.4", func(a *engine.Action) { a.Type = engine.Unban }),
	)
	got := rec.requests()
	if len(got) != 1 || !bytes.Contains(got[0].Body, []byte(`"host":"192.0.2.3"`)) {
		t.Errorf("requests = %d, want only the live prolong", len(got))
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	u := "https://hooks.example.org/x"
	tests := []struct {
		name string
		args Arguments
		attr string
		want string
	}{
		{"no url", Arguments{}, attrURL, "give the endpoint"},
		{"relative url", Arguments{URL: "/hook"}, attrURL, "absolute"},
		{"ftp url", Arguments{URL: "ftp://example.org/x"}, attrURL, "http"},
		{"bad method", Arguments{URL: u, Method: "PO ST"}, attrMethod, "not an HTTP method"},
		{"unknown format", Arguments{URL: u, Format: "slak"}, attrFormat, `did you mean "slack"`},
		{"format and body", Arguments{URL: u, Format: "json", Body: "x"}, attrFormat, "not both"},
		{"content type alone", Arguments{URL: u, ContentType: "text/plain"}, attrContentType, "only applies with body"},
		{"bad template", Arguments{URL: u, Body: "{{.Hots}}"}, attrBody, "Hots"},
		{"bad header name", Arguments{URL: u, Headers: map[string]string{"Bad Name": "v"}}, attrHeaders, "not a header name"},
		{"header injection", Arguments{URL: u, Headers: map[string]string{"X-A": "v\r\nX-B: w"}}, attrHeaders, "CR, LF"},
		{"bad timeout", Arguments{URL: u, Timeout: "0s"}, attrTimeout, "zero"},
		{"bad queue", Arguments{URL: u, QueueSize: -5}, attrQueueSize, "positive"},
		{"bad on", Arguments{URL: u, On: []string{"unbann"}}, attrOn, `did you mean "unban"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(engine.Options{}, &tt.args)
			if err == nil {
				t.Fatal("New accepted it")
			}
			var ae *confval.AttrError
			if !errors.As(err, &ae) || ae.Attr != tt.attr {
				t.Fatalf("error %v does not point at %s", err, tt.attr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
	// A secret in the header value never shows in an error.
	_, err := New(engine.Options{}, &Arguments{URL: "https://h.example/SECRET", Headers: map[string]string{"X-A": "SECRET\n"}})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error = %v", err)
	}
}

func TestRegisterDecodesHCL(t *testing.T) {
	t.Parallel()
	src := `
url     = "https://hooks.example.org/f2b"
format  = "discord"
headers = { X-Token = "abc" }
on      = ["ban", "unban"]
`
	s := fwtest.Build(t, Register, "webhook", src, engine.Options{ID: "sink.chat"}).(*Sink)
	if s.method != "POST" || s.format != "discord" || s.timeout != 10*time.Second || s.retry.For != 10*time.Minute ||
		s.queue.Limit() != 1000 || s.headers.Get("X-Token") != "abc" || s.endpoint != "https://hooks.example.org" {
		t.Errorf("decoded sink = %+v", s)
	}
}
