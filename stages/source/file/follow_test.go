package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
	"github.com/f2bproject/f2b/stages/source/lines"
)

// backends are the two ways of noticing changes. The inotify one polls
// once an hour, so its tests pass only on what inotify reports.
var backends = []struct{ name, poll string }{
	{BackendInotify, "1h"},
	{BackendPolling, "50ms"},
}

// graceWait outlasts the grace a rotated-away file is read for, so lines
// it could still repeat would have come.
const graceWait = minGrace + 300*time.Millisecond

func TestRotationSuite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		glob bool // follow app.log* instead of app.log
		run  func(t *testing.T, dir string, r *running)
	}{
		{name: "append", run: func(t *testing.T, dir string, r *running) {
			appendFile(t, filepath.Join(dir, "app.log"), "a\n")
			got := r.wait(1)
			if got[0].Text != "a" || got[0].No != 1 || got[0].Origin != filepath.Join(dir, "app.log") || got[0].ReadAt == 0 || got[0].Recount {
				t.Fatalf("line = %+v", got[0])
			}
		}},
		{name: "partial line held", run: func(t *testing.T, dir string, r *running) {
			log := filepath.Join(dir, "app.log")
			appendFile(t, log, "l1\r\npar")
			r.wait(1)
			appendFile(t, log, "tial\n")
			got := r.wait(2)
			wantLines(t, got, "l1", "partial")
			if got[1].No != 2 {
				t.Fatalf("No = %d, want 2", got[1].No)
			}
		}},
		{name: "rename and create", run: func(t *testing.T, dir string, r *running) {
			log := filepath.Join(dir, "app.log")
			appendFile(t, log, "o1\no2\n")
			r.wait(2)
			// The writer keeps its descriptor across the rename, as
			// syslog does until it is told to reopen.
			old, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if err := os.Rename(log, log+".1"); err != nil {
				t.Fatal(err)
			}
			old.WriteString("o3\no4-partial")
			appendFile(t, log, "n1\nn2\n")
			r.wait(6) // o4-partial comes when the old file's grace ends and it is closed
			time.Sleep(100 * time.Millisecond)
			got := r.stop()
			m := byText(t, got)
			if len(got) != 6 || m["o3"].No != 3 || m["o4-partial"].No != 4 || m["n1"].No != 1 || m["n2"].No != 2 {
				t.Fatalf("lines = %+v", got)
			}
			if i, j := slices.IndexFunc(got, func(l engine.Line) bool { return l.Text == "o3" }), slices.IndexFunc(got, func(l engine.Line) bool { return l.Text == "n1" }); i > j {
				t.Errorf("the new file was read before the old one's rest: %s", texts(got))
			}
			if r.s.Stats()["rotations"] < 1 {
				t.Errorf("rotations = %d", r.s.Stats()["rotations"])
			}
		}},
		{name: "copytruncate", run: func(t *testing.T, dir string, r *running) {
			log := filepath.Join(dir, "app.log")
			appendFile(t, log, "c1\nc2\nc3\n")
			r.wait(3)
			data, _ := os.ReadFile(log)
			write(t, log+".1", string(data))
			if err := os.Truncate(log, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, "t1\n")
			got := r.wait(4)
			time.Sleep(100 * time.Millisecond)
			got = r.stop()
			wantLines(t, got, "c1", "c2", "c3", "t1")
			if got[3].No != 1 || r.s.Stats()["truncations"] != 1 {
				t.Fatalf("t1 No = %d, truncations = %d", got[3].No, r.s.Stats()["truncations"])
			}
		}},
		{name: "rewritten past the offset", run: func(t *testing.T, dir string, r *running) {
			log := filepath.Join(dir, "app.log")
			appendFile(t, log, "c1\nc2\n")
			r.wait(2)
			// Truncated and written longer than before in one go: only
			// the changed first line can tell.
			write(t, log, "rewritten-1\nrewritten-2\n")
			got := r.wait(4)
			time.Sleep(100 * time.Millisecond)
			got = r.stop()
			wantLines(t, got, "c1", "c2", "rewritten-1", "rewritten-2")
			if got[2].No != 1 {
				t.Fatalf("No = %d, want 1", got[2].No)
			}
		}},
		{name: "delete and re-create", run: func(t *testing.T, dir string, r *running) {
			log := filepath.Join(dir, "app.log")
			appendFile(t, log, "d1\n")
			r.wait(1)
			if err := os.Remove(log); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, "r1\nr2\n")
			got := r.wait(3)
			time.Sleep(graceWait)
			got = r.stop()
			wantLines(t, got, "d1", "r1", "r2")
			if got[1].No != 1 {
				t.Fatalf("No = %d, want 1", got[1].No)
			}
		}},
		{name: "glob matches a new file", glob: true, run: func(t *testing.T, dir string, r *running) {
			appendFile(t, filepath.Join(dir, "app.log"), "a1\n")
			r.wait(1)
			appendFile(t, filepath.Join(dir, "other.txt"), "ignored\n")
			appendFile(t, filepath.Join(dir, "app.log.new"), "b1\nb2\n")
			got := r.wait(3)
			m := byText(t, got)
			if m["b1"].Origin != filepath.Join(dir, "app.log.new") || m["b2"].No != 2 {
				t.Fatalf("lines = %+v", got)
			}
		}},
		{name: "glob follows the rotated file without reading it again", glob: true, run: func(t *testing.T, dir string, r *running) {
			log := filepath.Join(dir, "app.log")
			appendFile(t, log, "g1\ng2\n")
			r.wait(2)
			old, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if err := os.Rename(log, log+".1"); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, "g3\n")
			old.WriteString("g2b\n")
			r.wait(4)
			time.Sleep(graceWait)
			old.WriteString("g2c\n") // after the grace: still followed as app.log.1
			got := r.wait(5)
			time.Sleep(200 * time.Millisecond)
			got = r.stop()
			m := byText(t, got)
			if len(got) != 5 || m["g2c"].Origin != log+".1" || m["g2c"].No != 4 || m["g3"].No != 1 {
				t.Fatalf("lines = %+v", got)
			}
		}},
	}
	for _, b := range backends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "app.log")
				if tt.glob {
					path += "*"
				}
				r := follow(t, engine.Options{ID: "source.app"}, &Arguments{Paths: []string{path}, Backend: b.name, From: FromStart, PollInterval: b.poll})
				tt.run(t, dir, r)
			})
		}
	}
}

func TestFromEndKeepsLineNumbers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	write(t, log, "a\nb\nc\nhalf")
	r := follow(t, engine.Options{}, &Arguments{Paths: []string{log}})
	appendFile(t, log, "-line\nd\n")
	got := r.wait(2)
	wantLines(t, got, "half-line", "d")
	if got[0].No != 4 || got[1].No != 5 {
		t.Fatalf("numbers = %d, %d; want 4, 5", got[0].No, got[1].No)
	}
}

func TestMissingFileFollowedOnceCreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "later.log")
	r := follow(t, engine.Options{}, &Arguments{Paths: []string{log}})
	if len(r.s.Files()) != 0 {
		t.Fatalf("Files = %v before the file exists", r.s.Files())
	}
	// It appears after the start, so it is read from its start although
	// from = "end".
	write(t, log, "x1\nx2\n")
	wantLines(t, r.wait(2), "x1", "x2")
	if got := r.s.Files(); len(got) != 1 || got[0] != log {
		t.Fatalf("Files = %v", got)
	}
}

// TestDirectoryCreatedLater follows a glob whose directory does not exist
// at start, then is removed and created again.
func TestDirectoryCreatedLater(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "sub")
			r := follow(t, engine.Options{}, &Arguments{Paths: []string{filepath.Join(dir, "*.log")}, Backend: b.name, PollInterval: "100ms"})
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			appendFile(t, filepath.Join(dir, "a.log"), "a1\n")
			r.wait(1)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			appendFile(t, filepath.Join(dir, "b.log"), "b1\n")
			r.wait(2)
			appendFile(t, filepath.Join(dir, "b.log"), "b2\n")
			got := r.wait(3)
			wantLines(t, got, "a1", "b1", "b2")
		})
	}
}

func TestOverlongLineSkipped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	r := follow(t, engine.Options{}, &Arguments{Paths: []string{log}, From: FromStart})
	appendFile(t, log, "a\n"+strings.Repeat("x", lines.MaxLine+10))
	r.wait(1)
	appendFile(t, log, strings.Repeat("x", 100)+"\nb\n")
	got := r.wait(2)
	wantLines(t, got, "a", "b")
	if got[1].No != 3 || r.s.Stats()["skipped"] != 1 {
		t.Fatalf("No = %d, skipped = %d", got[1].No, r.s.Stats()["skipped"])
	}
}

func TestManyLinesBatched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	want := numbered(1, 1000)
	write(t, log, strings.Join(want, "\n")+"\n")
	r := follow(t, engine.Options{}, &Arguments{Paths: []string{log}, From: FromStart})
	r.wait(1000)
	wantLines(t, r.stop(), want...)
	if r.s.Stats()["lines"] != 1000 {
		t.Fatalf("lines = %d", r.s.Stats()["lines"])
	}
}

// TestRestartResumes stops and starts the source while lines keep being
// appended: every line arrives once, in order, with its number.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	store := memstore.New()
	opts := engine.Options{ID: "source.app", Store: store}
	args := func() *Arguments { return &Arguments{Paths: []string{log}, From: FromStart, PollInterval: "50ms"} }
	const n = 3000
	write(t, log, "")
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for i := 1; i <= n; i++ {
			fmt.Fprintf(f, "line %d\n", i)
			if i%20 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	r1 := follow(t, opts, args())
	r1.wait(100)
	got := r1.stop()
	if len(store.Positions()) != 1 {
		t.Fatalf("saved positions = %d, want 1", len(store.Positions()))
	}
	time.Sleep(20 * time.Millisecond) // lines are appended while stopped
	r2 := follow(t, opts, args())
	<-writerDone
	r2.wait(n - len(got))
	time.Sleep(100 * time.Millisecond)
	got = append(got, r2.stop()...)
	wantLines(t, got, numbered(1, n)...)
	for i, l := range got {
		if l.No != int64(i+1) || l.Recount {
			t.Fatalf("line %d = %+v", i+1, l)
		}
	}
}

// TestRotatedWhileDown renames the log while the source is stopped: the
// rest of the old file comes first, then the new file, each line once.
func TestRotatedWhileDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	store := memstore.New()
	opts := engine.Options{ID: "source.auth", Store: store}
	args := func() *Arguments { return &Arguments{Paths: []string{log}, PollInterval: "50ms"} }
	write(t, log, "")
	r1 := follow(t, opts, args())
	appendFile(t, log, "a1\na2\n")
	r1.wait(2)
	r1.stop()

	appendFile(t, log, "a3\na4\n")
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, log, "b1\nb2\n")

	r2 := follow(t, opts, args())
	r2.wait(4)
	time.Sleep(200 * time.Millisecond)
	got := r2.stop()
	wantLines(t, got, "a3", "a4", "b1", "b2")
	if got[0].No != 3 || got[0].Origin != log+".1" || got[2].No != 1 || got[2].Origin != log {
		t.Fatalf("lines = %+v", got)
	}

	// And the next start reads nothing again.
	r3 := follow(t, opts, args())
	appendFile(t, log, "b3\n")
	got = r3.wait(1)
	time.Sleep(100 * time.Millisecond)
	wantLines(t, r3.stop(), "b3")
	if got[0].No != 3 {
		t.Fatalf("No = %d, want 3", got[0].No)
	}
}

// TestChangedFirstLineReadFromStart rewrites the file in place (same
// inode, longer than the saved offset): the changed first line shows it
// is another file.
func TestChangedFirstLineReadFromStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	store := memstore.New()
	opts := engine.Options{ID: "source.app", Store: store}
	args := func() *Arguments { return &Arguments{Paths: []string{log}, From: FromStart} }
	write(t, log, "a\nb\n")
	r1 := follow(t, opts, args())
	r1.wait(2)
	r1.stop()

	before, _ := os.Stat(log)
	write(t, log, "x1\nx2\nx3\n")
	after, _ := os.Stat(log)
	if idOf(before) != idOf(after) {
		t.Fatal("the rewrite changed the inode; the test needs the same file")
	}
	r2 := follow(t, opts, args())
	got := r2.wait(3)
	time.Sleep(100 * time.Millisecond)
	wantLines(t, r2.stop(), "x1", "x2", "x3")
	if got[0].No != 1 {
		t.Fatalf("No = %d", got[0].No)
	}

	// The same file with the same first line resumes.
	appendFile(t, log, "x4\n")
	r3 := follow(t, opts, args())
	got = r3.wait(1)
	time.Sleep(100 * time.Millisecond)
	wantLines(t, r3.stop(), "x4")
	if got[0].No != 4 {
		t.Fatalf("No = %d", got[0].No)
	}
}

// TestRewindRecounts restarts with a rewind: the lines read within it
// before the saved position come again marked Recount.
func TestRewindRecounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	store := memstore.New()
	clock := &fakeClock{now: time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)}
	t0 := clock.Now()
	opts := engine.Options{ID: "source.app", Store: store, Clock: clock, Rewind: 5 * time.Minute}
	args := func() *Arguments { return &Arguments{Paths: []string{log}, From: FromStart} }
	write(t, log, strings.Join(numbered(1, 5), "\n")+"\n")
	r := follow(t, opts, args())
	r.wait(5)
	r.stop()

	clock.set(t0.Add(10 * time.Minute))
	r = follow(t, opts, args())
	appendFile(t, log, strings.Join(numbered(6, 10), "\n")+"\n")
	got := r.wait(5)
	wantLines(t, got, numbered(6, 10)...) // the last rewind point is the saved position
	r.stop()

	clock.set(t0.Add(12 * time.Minute)) // lines 6-10 were read 2 minutes ago
	r = follow(t, opts, args())
	appendFile(t, log, "line 11\nline 12\n")
	got = r.wait(7)
	time.Sleep(100 * time.Millisecond)
	got = r.stop()
	wantLines(t, got, numbered(6, 12)...)
	for _, l := range got {
		if want := l.No <= 10; l.Recount != want || l.Text != fmt.Sprintf("line %d", l.No) {
			t.Errorf("line %+v: Recount = %v, want %v", l, l.Recount, want)
		}
	}
	if st := r.s.Stats(); st["recount"] != 5 || st["lines"] != 2 {
		t.Fatalf("stats = %v, want recount 5, lines 2", st)
	}

	// Stopped during nothing: the next start recounts the same window and
	// repeats nothing as new.
	r = follow(t, opts, args())
	got = r.wait(7)
	time.Sleep(100 * time.Millisecond)
	for _, l := range r.stop() {
		if !l.Recount {
			t.Fatalf("line %+v read again as new", l)
		}
	}
}

func TestNewChecksAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args Arguments
		attr string
	}{
		{Arguments{Paths: []string{"/x"}, Backend: "kqueue"}, "backend"},
		{Arguments{Paths: []string{"/x"}, From: "middle"}, "from"},
		{Arguments{Paths: []string{"/x"}, PollInterval: "soon"}, "poll_interval"},
		{Arguments{Paths: []string{"/x"}, PollInterval: "permanent"}, "poll_interval"},
		{Arguments{Paths: []string{"/x"}, PollInterval: "1ms"}, "poll_interval"},
	}
	for _, tt := range tests {
		_, err := New(engine.Options{}, &tt.args)
		var ae *confval.AttrError
		if !errors.As(err, &ae) || ae.Attr != tt.attr {
			t.Errorf("%+v: err = %v, want an error for %s", tt.args, err, tt.attr)
		}
	}
	s, err := New(engine.Options{}, &Arguments{Paths: []string{"/x"}, Backend: "polling", From: "start", PollInterval: "250ms"})
	if err != nil || s.backend != BackendPolling || s.from != FromStart || s.poll != 250*time.Millisecond {
		t.Fatalf("New = %+v, %v", s, err)
	}
	r := engine.NewRegistry()
	Register(r)
	reg, _ := r.Lookup("source", "file")
	def := reg.NewArgs().(*Arguments)
	if def.Backend != BackendAuto || def.From != FromEnd || def.PollInterval != "1s" {
		t.Fatalf("defaults = %+v", def)
	}
}

func TestPositionEncoding(t *testing.T) {
	t.Parallel()
	at := time.Unix(1_700_000_000, 123).UTC()
	p := position{id: fileID{dev: 2049, ino: 1 << 40}, off: 123456, line: 789, headLen: 40, head: hashHead([]byte("first line\n")),
		cps: []checkpoint{{off: 0, line: 0, at: at}, {off: 100, line: 3, at: at.Add(time.Second)}}}
	got, err := decodePosition(p.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.id != p.id || got.off != p.off || got.line != p.line || got.headLen != p.headLen || got.head != p.head || len(got.cps) != 2 || !got.cps[1].at.Equal(p.cps[1].at) || got.cps[1].off != 100 {
		t.Fatalf("decoded = %+v, want %+v", got, p)
	}
	enc := p.encode()
	for i := range enc {
		if _, err := decodePosition(enc[:i]); err == nil {
			t.Fatalf("truncated value of %d bytes decoded", i)
		}
	}
}

func TestThinCheckpoints(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	var cps []checkpoint
	for i := range 1000 {
		cps = append(cps, checkpoint{off: int64(i), line: int64(i), at: t0.Add(time.Duration(i) * time.Second)})
	}
	now := t0.Add(999 * time.Second)
	got := thin(slices.Clone(cps), now, 600*time.Second)
	if len(got) > maxCheckpoints {
		t.Fatalf("%d checkpoints kept", len(got))
	}
	// The oldest kept is the newest at least 600 s old, so a rewind of
	// 600 s still finds its start.
	if got[0].at != t0.Add(399*time.Second) || got[len(got)-1].off != 999 {
		t.Fatalf("kept %v .. %v", got[0], got[len(got)-1])
	}
	if c, _ := rewindPoint(got, now, 600*time.Second); c.off != 399 {
		t.Fatalf("rewind point = %+v", c)
	}
	if c, _ := rewindPoint(got, now, time.Hour); c.off != 399 {
		t.Fatalf("rewind past the oldest = %+v, want the oldest", c)
	}
	if got := thin(slices.Clone(cps), now, 0); len(got) != 1 || got[0].off != 999 {
		t.Fatalf("no rewind kept %v", got)
	}
}

// TestStopLeavesNothingRunning is not parallel: it counts goroutines.
func TestStopLeavesNothingRunning(t *testing.T) {
	for _, b := range backends {
		dir := t.TempDir()
		log := filepath.Join(dir, "app.log")
		write(t, log, "a\n")
		before := runtime.NumGoroutine()
		r := follow(t, engine.Options{Store: memstore.New()}, &Arguments{Paths: []string{filepath.Join(dir, "*.log")}, Backend: b.name, From: FromStart, PollInterval: "50ms"})
		r.wait(1)
		os.Rename(log, log+".old")
		appendFile(t, log, "b\n")
		r.wait(2)
		r.stop()
		deadline := time.Now().Add(waitFor)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Fatalf("%s: %d goroutines left, %d before:\n%s", b.name, runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// BenchmarkAppendLatency measures how long an appended line takes to be
// sent with the inotify backend.
func BenchmarkAppendLatency(b *testing.B) {
	dir := b.TempDir()
	log := filepath.Join(dir, "app.log")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := New(engine.Options{}, &Arguments{Paths: []string{log}, Backend: BackendInotify, PollInterval: "1h"})
	if err != nil {
		b.Fatal(err)
	}
	ready := make(chan struct{})
	s.ready = func() { close(ready) }
	out := make(chan engine.Event, 16)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- s.Run(ctx, nil, out) }()
	<-ready
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		io.WriteString(f, "Mar  1 06:00:00 host sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2\n")
		<-out
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	cancel()
	<-done
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
