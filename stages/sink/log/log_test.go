package logsink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// run feeds evs to s and returns Run's error once in is closed.
func run(t *testing.T, s *Sink, evs ...engine.Event) error {
	t.Helper()
	in := make(chan engine.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	return s.Run(t.Context(), in, nil)
}

func timeline() []engine.Event {
	return []engine.Event{
		action(engine.Ban, t0, engine.Action{Host: host4, Failures: 5, BanTime: time.Hour, End: t0.Add(time.Hour), BanCount: 1}),
		{Kind: engine.KindFailure, Watermark: true, Time: t0.Add(time.Minute)}, // skipped
		action(engine.Unban, t0.Add(time.Hour), engine.Action{Host: host4, Failures: 5, BanTime: time.Hour, BanCount: 1}),
	}
}

func TestNewWriterRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format Format
		want   string
	}{
		{format: JSON, want: `{"event":"ban","time":"2026-01-02T03:04:05Z","jail":"sshd","host":"203.0.113.7","failures":5,"ban_time":"1h0m0s","end":"2026-01-02T04:04:05Z"}
{"event":"unban","time":"2026-01-02T04:04:05Z","jail":"sshd","host":"203.0.113.7","failures":5,"ban_time":"1h0m0s"}
`},
		{format: Text, want: `2026-01-02T03:04:05Z  ban      sshd      203.0.113.7      failures=5 ban_time=1h0m0s end=2026-01-02T04:04:05Z
2026-01-02T04:04:05Z  unban    sshd      203.0.113.7      failures=5 ban_time=1h0m0s
`},
		{format: "", want: `2026-01-02T03:04:05Z  ban      sshd      203.0.113.7      failures=5 ban_time=1h0m0s end=2026-01-02T04:04:05Z
2026-01-02T04:04:05Z  unban    sshd      203.0.113.7      failures=5 ban_time=1h0m0s
`},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			s := NewWriter(&buf, tt.format)
			if err := run(t, s, timeline()...); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if buf.String() != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", buf.String(), tt.want)
			}
			if got := s.Stats(); got["log_lines"] != 2 || got["log_write_errors"] != 0 {
				t.Errorf("Stats = %v", got)
			}
		})
	}
}

// TestRunFlushesEachLine checks that a line reaches the writer before the
// sink waits for more input.
func TestRunFlushesEachLine(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	s := NewWriter(pw, JSON)
	in := make(chan engine.Event)
	done := make(chan error, 1)
	go func() { done <- s.Run(t.Context(), in, nil) }()
	evs := timeline()
	in <- evs[0]
	line := make([]byte, 4096)
	n, err := pr.Read(line)
	if err != nil || !strings.HasPrefix(string(line[:n]), `{"event":"ban"`) {
		t.Fatalf("read %q, %v; want the ban line", line[:n], err)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunFileAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "actions.log")
	s, err := New(engine.Options{ID: "sink.log"}, &Arguments{Path: path, Format: JSON})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("New touched the file: %v", err)
	}
	evs := timeline()
	if err := run(t, s, evs[0]); err != nil {
		t.Fatal(err)
	}
	// A second run (a reload) appends.
	s2, _ := New(engine.Options{}, &Arguments{Path: path, Format: JSON})
	if err := run(t, s2, evs[2]); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := string(FormatJSON(evs[0])) + "\n" + string(FormatJSON(evs[2])) + "\n"
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o640 != 0 {
		t.Errorf("mode %v, want at most 0640", perm)
	}
}

func TestRunOpenError(t *testing.T) {
	t.Parallel()
	s, err := New(engine.Options{}, &Arguments{Path: filepath.Join(t.TempDir(), "missing", "dir", "x.log")})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(t, s); err == nil || !strings.Contains(err.Error(), "open log") {
		t.Fatalf("Run = %v, want an open error", err)
	}
}

type failingWriter struct{ calls int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls == 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestRunWriteErrorGoesOn(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	w := &failingWriter{}
	s := NewWriter(w, Text)
	s.logger = slog.New(slog.NewTextHandler(&logs, nil))
	in := make(chan engine.Event)
	done := make(chan error, 1)
	go func() { done <- s.Run(t.Context(), in, nil) }()
	evs := timeline()
	in <- evs[0] // lost: the write fails
	in <- evs[2]
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := s.Stats(); got["log_lines"] != 1 || got["log_write_errors"] != 1 {
		t.Errorf("Stats = %v, want 1 line and 1 error", got)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("log = %q, want the write error", logs.String())
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := NewWriter(io.Discard, Text)
	err := s.Run(ctx, make(chan engine.Event), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     Arguments
		wantAttr string
		wantMsg  string
	}{
		{name: "format", args: Arguments{Format: "yaml"}, wantAttr: "format", wantMsg: `unknown format "yaml"; use "text", "json" or "fail2ban"`},
		{name: "NUL in path", args: Arguments{Path: "a\x00b"}, wantAttr: "path", wantMsg: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(engine.Options{}, &tt.args)
			var ae *confval.AttrError
			if !errors.As(err, &ae) || ae.Attr != tt.wantAttr || !strings.Contains(ae.Err.Error(), tt.wantMsg) {
				t.Fatalf("New = %v, want an error about %s containing %q", err, tt.wantAttr, tt.wantMsg)
			}
		})
	}
	for _, p := range []string{"", "-"} {
		s, err := New(engine.Options{}, &Arguments{Path: p})
		if err != nil || s.path != "" || s.format != Text {
			t.Errorf("New(path %q) = %+v, %v; want standard output, text", p, s, err)
		}
	}
}

// TestRegisterHCL decodes a block body through the registration, as the
// front end does, and builds the stage.
func TestRegisterHCL(t *testing.T) {
	t.Parallel()
	r := engine.NewRegistry()
	Register(r)
	reg, ok := r.Lookup("sink", "log")
	if !ok || reg.In != engine.KindAction || reg.Out != engine.KindNone {
		t.Fatalf("registration = %+v, %v", reg, ok)
	}
	for _, tt := range []struct {
		src        string
		wantFormat Format
		wantPath   string
	}{
		{src: ``, wantFormat: Text},
		{src: `format = "json"` + "\n" + `path = "/var/log/f2b.log"`, wantFormat: JSON, wantPath: "/var/log/f2b.log"},
	} {
		f, diags := hclparse.NewParser().ParseHCL([]byte(tt.src), "test.hcl")
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		args := reg.NewArgs()
		if diags := gohcl.DecodeBody(f.Body, nil, args); diags.HasErrors() {
			t.Fatal(diags)
		}
		st, err := reg.Build(engine.Options{ID: "sink.log"}, args)
		if err != nil {
			t.Fatal(err)
		}
		s := st.(*Sink)
		if s.format != tt.wantFormat || s.path != tt.wantPath {
			t.Errorf("%q: format %q path %q, want %q %q", tt.src, s.format, s.path, tt.wantFormat, tt.wantPath)
		}
	}
	if _, err := reg.Build(engine.Options{}, &Arguments{Format: "xml"}); err == nil {
		t.Error("Build(format xml): want error")
	}
}

func TestFail2banFormat(t *testing.T) {
	loc := time.Local
	time.Local = time.UTC
	defer func() { time.Local = loc }()
	at := time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)
	host := netip.MustParseAddr("203.0.113.7")
	cases := []struct {
		a    engine.Action
		want string
	}{
		{engine.Action{Type: engine.Ban, Jail: "sshd", Host: host, Start: at}, "2026-01-02 03:04:05,123 fail2ban.actions        [42]: NOTICE  [sshd] Ban 203.0.113.7"},
		{engine.Action{Type: engine.Ban, Jail: "sshd", Host: host, Start: at, Restored: true}, "2026-01-02 03:04:05,123 fail2ban.actions        [42]: NOTICE  [sshd] Restore Ban 203.0.113.7"},
		{engine.Action{Type: engine.Unban, Jail: "web", Host: host, Start: at}, "2026-01-02 03:04:05,123 fail2ban.actions        [42]: NOTICE  [web] Unban 203.0.113.7"},
	}
	for _, c := range cases {
		got := string(AppendFail2ban(nil, engine.Event{Kind: engine.KindAction, Time: at, Action: &c.a}, 42))
		if got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

func TestLogFileFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bans.log")
	s, err := New(engine.Options{}, &Arguments{Path: path, Format: Fail2ban})
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan engine.Event)
	done := make(chan error)
	go func() { done <- s.Run(context.Background(), in, nil) }()
	ban := func(ip string) {
		a := &engine.Action{Type: engine.Ban, Jail: "sshd", Host: netip.MustParseAddr(ip), Start: time.Now()}
		in <- engine.Event{Kind: engine.KindAction, Time: a.Start, Action: a}
	}
	ban("192.0.2.1")
	waitFor(t, func() bool { b, _ := os.ReadFile(path); return strings.Contains(string(b), "192.0.2.1") })
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(reopenEvery + 50*time.Millisecond)
	ban("192.0.2.2")
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), "Ban 192.0.2.1") || strings.Contains(string(old), "192.0.2.2") {
		t.Errorf("rotated file: %q", old)
	}
	if !strings.Contains(string(cur), "NOTICE  [sshd] Ban 192.0.2.2") {
		t.Errorf("new file: %q", cur)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
