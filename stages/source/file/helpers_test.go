package file

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// waitFor is the generous limit of every wait for lines: never a timing
// assertion, only a bound on a hang.
const waitFor = 5 * time.Second

// fakeClock is the wall clock's timers with a settable Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) NewTimer(d time.Duration) engine.Timer { return engine.WallClock{}.NewTimer(d) }

// running is a Source following files in the background, its lines
// collected.
type running struct {
	t       *testing.T
	s       *Source
	cancel  context.CancelFunc
	done    chan error
	drained chan struct{}

	mu      sync.Mutex
	lines   []engine.Line
	changed chan struct{}
	stopped bool
	result  []engine.Line
}

// follow starts a Source and waits until it has opened its files.
func follow(t *testing.T, opts engine.Options, args *Arguments) *running {
	t.Helper()
	s, err := New(opts, args)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	s.ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, s: s, cancel: cancel, done: make(chan error, 1), drained: make(chan struct{}), changed: make(chan struct{}, 1)}
	out := make(chan engine.Event, 4)
	go func() {
		err := s.Run(ctx, nil, out)
		close(out)
		r.done <- err
	}()
	go func() {
		defer close(r.drained)
		for ev := range out {
			if ev.Kind != engine.KindLine || len(ev.Lines) == 0 || len(ev.Lines) > BatchSize {
				t.Errorf("bad event: kind %v with %d lines", ev.Kind, len(ev.Lines))
			}
			r.mu.Lock()
			r.lines = append(r.lines, ev.Lines...)
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { r.stop() })
	select {
	case <-ready:
	case err := <-r.done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(waitFor):
		t.Fatal("source not ready")
	}
	return r
}

// wait waits until at least n lines arrived and returns them.
func (r *running) wait(n int) []engine.Line {
	r.t.Helper()
	deadline := time.After(waitFor)
	for {
		r.mu.Lock()
		got := append([]engine.Line(nil), r.lines...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.t.Fatalf("got %d lines, want %d: %s", len(got), n, texts(got))
		}
	}
}

// stop stops the source and returns every line it sent.
func (r *running) stop() []engine.Line {
	r.t.Helper()
	if r.stopped {
		return r.result
	}
	r.stopped = true
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run: %v", err)
		}
	case <-time.After(waitFor):
		r.t.Fatal("Run did not return after its context ended")
	}
	<-r.drained
	r.result = r.lines
	return r.result
}

func texts(ls []engine.Line) string {
	var b strings.Builder
	for i, l := range ls {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(l.Text)
	}
	return b.String()
}

// appendFile appends s to path, creating it.
func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// wantLines checks texts and line numbers (No 0 in want skips the check).
func wantLines(t *testing.T, got []engine.Line, want ...string) {
	t.Helper()
	if texts(got) != strings.Join(want, ",") {
		t.Fatalf("lines = %s\nwant    %s", texts(got), strings.Join(want, ","))
	}
}

// byText indexes lines by text and fails on a line seen twice.
func byText(t *testing.T, got []engine.Line) map[string]engine.Line {
	t.Helper()
	m := map[string]engine.Line{}
	for _, l := range got {
		if _, dup := m[l.Text]; dup {
			t.Fatalf("line %q read twice: %s", l.Text, texts(got))
		}
		m[l.Text] = l
	}
	return m
}

func numbered(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}
