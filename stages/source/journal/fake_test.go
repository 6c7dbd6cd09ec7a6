package journal

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
)

// fakeJournalctl writes a script standing in for journalctl: start n
// (counting from 1) appends its arguments to DIR/args and runs case n of
// body, a shell case statement's arms.
func fakeJournalctl(t *testing.T, body string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "journalctl")
	script := fmt.Sprintf(`#!/bin/sh
dir=%q
n=$(($(cat "$dir/count" 2>/dev/null || echo 0) + 1))
echo "$n" > "$dir/count"
echo "$*" >> "$dir/args"
case $n in
%s
esac
`, dir, body)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

func entryJSON(i int, msg string) string {
	return fmt.Sprintf(`{"__CURSOR":"s=f;i=%d;b=b;m=1;t=1;x=1","__REALTIME_TIMESTAMP":"%d","SYSLOG_IDENTIFIER":"sshd","_PID":"7","MESSAGE":%q}`,
		i, t0.Add(time.Duration(i)*time.Second).UnixMicro(), msg)
}

// syncBuffer is a log sink safe for the stage's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRestartWithBackoff(t *testing.T) {
	t.Parallel()
	jc, dir := fakeJournalctl(t, fmt.Sprintf(`
1) printf '%%s\n' '%s' 'not json at all' '{"MESSAGE":"no cursor"}'; echo "boom: journal file corrupted" >&2; exit 1;;
2) printf '%%s\n' '%s'; exit 0;;
*) printf '%%s\n' '%s'; exec sleep 60;;`,
		entryJSON(1, "one"), entryJSON(2, "two"), entryJSON(3, "three")))
	var logs syncBuffer
	store := memstore.New()
	s := newSource(t, engine.Options{Store: store, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(a *Arguments) {
		a.Journalctl = jc
		a.Match = []string{"_COMM=sshd"}
	})
	s.backoffMin, s.backoffMax = 10*time.Millisecond, 20*time.Millisecond
	r := start(s)
	got := r.lines(t, 3)
	got = append(got, r.stop(t)...)
	if want := []string{"sshd[7]: one", "sshd[7]: two", "sshd[7]: three"}; !slices.Equal(texts(got), want) {
		t.Errorf("lines = %q, want %q", texts(got), want)
	}
	for i, l := range got {
		if l.No != int64(i+1) {
			t.Errorf("line %d has No %d: the count goes on across restarts", i, l.No)
		}
	}
	st := s.Stats()
	if st["restarts"] != 2 || st["bad_entries"] != 2 || st["lines"] != 3 {
		t.Errorf("stats = %v, want 2 restarts, 2 bad entries, 3 lines", st)
	}
	if !strings.Contains(logs.String(), "boom: journal file corrupted") {
		t.Errorf("the restart is not logged with journalctl's stderr:\n%s", logs.String())
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	runs := strings.Split(strings.TrimSpace(string(args)), "\n")
	if len(runs) != 3 {
		t.Fatalf("journalctl ran %d times: %q", len(runs), runs)
	}
	for i, want := range []string{"--lines=0", "--after-cursor=s=f;i=1;b=b;m=1;t=1;x=1", "--after-cursor=s=f;i=2;b=b;m=1;t=1;x=1"} {
		words := strings.Fields(runs[i])
		if !slices.Contains(words, want) || !slices.Contains(words, "--follow") || words[len(words)-1] != "_COMM=sshd" {
			t.Errorf("start %d: args %q, want %s, --follow and the match last", i+1, runs[i], want)
		}
	}
	if pos, _ := savedPosition(store, "source.j"); pos.Cursor != "s=f;i=3;b=b;m=1;t=1;x=1" {
		t.Errorf("saved position = %+v", pos)
	}
}

func TestReplayFailureIsAnError(t *testing.T) {
	t.Parallel()
	jc, dir := fakeJournalctl(t, fmt.Sprintf(`*) printf '%%s\n' '%s'; echo "Failed to open files: No such file or directory" >&2; exit 1;;`, entryJSON(1, "one")))
	s := newSource(t, engine.Options{Replay: true}, func(a *Arguments) { a.Journalctl = jc })
	out := make(chan engine.Event, 10)
	err := s.Run(context.Background(), nil, out)
	if err == nil || !strings.Contains(err.Error(), "No such file or directory") {
		t.Errorf("err = %v, want journalctl's stderr", err)
	}
	if len(out) != 1 {
		t.Errorf("%d batches sent, want the one entry read before the failure", len(out))
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if strings.Contains(string(args), "--follow") || strings.Contains(string(args), "--lines") {
		t.Errorf("replay args %q: want the whole journal read once", args)
	}
}

func TestMissingJournalctlRetries(t *testing.T) {
	t.Parallel()
	s := newSource(t, engine.Options{}, func(a *Arguments) { a.Journalctl = filepath.Join(t.TempDir(), "none") })
	s.backoffMin, s.backoffMax = time.Millisecond, 2*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, nil, make(chan engine.Event)) }()
	guard := time.After(20 * time.Second)
	for s.Stats()["restarts"] < 3 {
		select {
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-guard:
			t.Fatal("no restarts")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

// TestStopDuringRecount stops while only recounted entries have come: the
// saved position must stay where it was, not move back to them.
func TestStopDuringRecount(t *testing.T) {
	t.Parallel()
	jc, dir := fakeJournalctl(t, fmt.Sprintf(`*) printf '%%s\n' '%s' '%s'; exec sleep 60;;`, entryJSON(2, "two"), entryJSON(3, "three")))
	store := memstore.New()
	saved := position{Cursor: "s=f;i=5;b=b;m=1;t=1;x=1", Realtime: t0.Add(5 * time.Second).UnixMicro()}
	store.PutPosition("source.j", saved.encode())
	s := newSource(t, engine.Options{Store: store, Rewind: 8 * time.Second, Clock: fixedClock{now: t0.Add(10 * time.Second)}},
		func(a *Arguments) { a.Journalctl = jc })
	s.saveEvery = time.Millisecond
	r := start(s)
	got := r.lines(t, 2)
	got = append(got, r.stop(t)...)
	if len(got) != 2 || !got[0].Recount || !got[1].Recount {
		t.Fatalf("lines = %+v, want two recounts", got)
	}
	if pos, _ := savedPosition(store, "source.j"); pos != saved {
		t.Errorf("saved position = %+v, want it kept at %+v", pos, saved)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if want := "--since=@" + itoa(t0.Add(2*time.Second).Unix()); !strings.Contains(string(args), want) {
		t.Errorf("args %q, want %s", args, want)
	}
}
