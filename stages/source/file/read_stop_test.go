package file

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// endless is a reader of endless log lines.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	const line = "Jan  5 06:00:00 web1 sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2\n"
	n := 0
	for n+len(line) <= len(p) {
		n += copy(p[n:], line)
	}
	if n == 0 {
		n = copy(p, line)
	}
	return n, nil
}

// TestReadMergedStops: told to stop, a read-once source stops even while
// its consumer keeps up (a send that need not wait still sees the stop).
func TestReadMergedStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan engine.Event, 4)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range out {
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- ReadMerged(ctx, []string{"-"}, endless{}, slog.New(slog.DiscardHandler), &Counts{}, out)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadMerged still reading 5 s after the stop")
	}
	close(out)
	<-drained
}
