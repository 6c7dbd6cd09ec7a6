package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
)

// These tests read real journal files with the real journalctl. The files
// are written by systemd-journal-remote from journal export format, which
// scripts/journal-tools.sh installs when it is missing.

var (
	toolsOnce sync.Once
	remoteBin string
	toolsErr  error
)

// journalTools returns systemd-journal-remote and journalctl, failing the
// test when they cannot be had and F2B_REQUIRE_ALL=1, skipping it
// otherwise.
func journalTools(t *testing.T) (remote, journalctl string) {
	t.Helper()
	toolsOnce.Do(func() {
		script, err := filepath.Abs("../../../scripts/journal-tools.sh")
		if err != nil {
			toolsErr = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", script)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			toolsErr = fmt.Errorf("%s: %v: %s", script, err, strings.TrimSpace(stderr.String()))
			return
		}
		remoteBin = strings.TrimSpace(string(out))
	})
	jc, err := exec.LookPath("journalctl")
	switch {
	case toolsErr != nil:
		err = toolsErr
	case err != nil:
		err = fmt.Errorf("journalctl: %w", err)
	}
	if err != nil {
		if os.Getenv("F2B_REQUIRE_ALL") == "1" {
			t.Fatalf("journal tools missing (F2B_REQUIRE_ALL=1): %v", err)
		}
		t.Skipf("SKIPPING: journal tools missing: %v", err)
	}
	return remoteBin, jc
}

// t0 is the time of the test journals' entries (whole seconds).
var t0 = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

// jentry is one entry in journal export format.
type jentry struct {
	at     time.Time
	fields [][2]string // name, value (any bytes)
}

func sshd(sec int, pid, msg string) jentry {
	return jentry{at: t0.Add(time.Duration(sec) * time.Second), fields: [][2]string{
		{"_HOSTNAME", "web1"}, {"SYSLOG_IDENTIFIER", "sshd"}, {"_PID", pid}, {"MESSAGE", msg},
	}}
}

// export writes entries in journal export format; values holding a
// newline or bytes that are not text use the length-prefixed form.
func export(entries []jentry) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		us := e.at.UnixMicro()
		fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n", us, us-t0.UnixMicro()+1)
		for _, f := range e.fields {
			if strings.ContainsAny(f[1], "\n") || !isText(f[1]) {
				b.WriteString(f[0] + "\n")
				binary.Write(&b, binary.LittleEndian, uint64(len(f[1])))
				b.WriteString(f[1] + "\n")
				continue
			}
			b.WriteString(f[0] + "=" + f[1] + "\n")
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func isText(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// writeJournal adds entries to the journal file path (creating it).
func writeJournal(t *testing.T, remote, path string, entries ...jentry) {
	t.Helper()
	cmd := exec.Command(remote, "--output="+path, "-")
	cmd.Stdin = bytes.NewReader(export(entries))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", remote, err, out)
	}
}

// cursors returns the cursors of the entries in path, in order.
func cursors(t *testing.T, journalctl, path string) []string {
	t.Helper()
	out, err := exec.Command(journalctl, "--file="+path, "--output=json", "--no-pager").Output()
	if err != nil {
		t.Fatal(err)
	}
	var cs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var e struct {
			Cursor string `json:"__CURSOR"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, e.Cursor)
	}
	return cs
}

// running is a Run in progress.
type running struct {
	cancel context.CancelFunc
	done   chan error
	out    chan engine.Event
}

func start(s *Source) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), out: make(chan engine.Event, 1000)}
	go func() { r.done <- s.Run(ctx, nil, r.out) }()
	return r
}

// lines waits for n lines (a guard against hanging, not a timing test).
func (r *running) lines(t *testing.T, n int) []engine.Line {
	t.Helper()
	var got []engine.Line
	guard := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case ev := <-r.out:
			got = append(got, ev.Lines...)
		case err := <-r.done:
			t.Fatalf("Run ended (%v) after %d of %d lines: %q", err, len(got), n, texts(got))
		case <-guard:
			t.Fatalf("got %d of %d lines: %q", len(got), n, texts(got))
		}
	}
	return got
}

// stop cancels the run, waits for it and returns the lines it still sent.
func (r *running) stop(t *testing.T) []engine.Line {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	close(r.out)
	var got []engine.Line
	for ev := range r.out {
		got = append(got, ev.Lines...)
	}
	return got
}

func texts(ls []engine.Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Text
	}
	return out
}

func newSource(t *testing.T, opts engine.Options, edit func(a *Arguments)) *Source {
	t.Helper()
	a := defaults()
	edit(a)
	if opts.ID == "" {
		opts.ID = "source.j"
	}
	s, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJournalReplay(t *testing.T) {
	t.Parallel()
	remote, _ := journalTools(t)
	path := filepath.Join(t.TempDir(), "remote.journal")
	writeJournal(t, remote, path,
		sshd(1, "12", "Failed password for root from 192.0.2.1 port 22 ssh2"),
		sshd(2, "12", "bad \xff\xfe from 192.0.2.2\nsecond line"),
		jentry{at: t0.Add(3 * time.Second), fields: [][2]string{
			{"_HOSTNAME", "web1"}, {"SYSLOG_IDENTIFIER", "kernel"}, {"_SOURCE_MONOTONIC_TIMESTAMP", "12500000"}, {"MESSAGE", "oops"},
		}},
		jentry{at: t0.Add(4 * time.Second), fields: [][2]string{
			{"_HOSTNAME", "web1"}, {"_COMM", "su"}, {"_PID", "40"}, {"SYSLOG_PID", "41"},
			{"_SOURCE_REALTIME_TIMESTAMP", fmt.Sprint(t0.Add(3500 * time.Millisecond).UnixMicro())}, {"MESSAGE", "sent earlier"},
		}},
	)
	s := newSource(t, engine.Options{Replay: true, Clock: engine.LogClock{}}, func(a *Arguments) { a.Files = []string{path} })
	out := make(chan engine.Event, 100)
	if err := s.Run(context.Background(), nil, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var got []engine.Line
	for ev := range out {
		if len(ev.Lines) == 0 || len(ev.Lines) > BatchSize {
			t.Errorf("batch of %d lines", len(ev.Lines))
		}
		got = append(got, ev.Lines...)
	}
	want := []engine.Line{
		{Text: "web1 sshd[12]: Failed password for root from 192.0.2.1 port 22 ssh2", At: t0.Add(time.Second).UnixNano()},
		{Text: `web1 sshd[12]: bad ` + "\uFFFD\uFFFD" + ` from 192.0.2.2\nsecond line`, At: t0.Add(2 * time.Second).UnixNano()},
		{Text: "web1 kernel: [   12.500000] oops", At: t0.Add(3 * time.Second).UnixNano()},
		{Text: "web1 su[41]: sent earlier", At: t0.Add(3500 * time.Millisecond).UnixNano()},
	}
	if len(got) != len(want) {
		t.Fatalf("lines = %q, want %d", texts(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Text != w.Text || g.At != w.At || g.Origin != "journal" || g.No != int64(i+1) || g.ReadAt != 0 || g.Recount {
			t.Errorf("line %d = %+v, want text %q time %v", i, g, w.Text, w.Time())
		}
	}
	if st := s.Stats(); st["lines"] != 4 || st["bad_entries"] != 0 || st["restarts"] != 0 {
		t.Errorf("stats = %v", st)
	}
}

func TestJournalMatch(t *testing.T) {
	t.Parallel()
	remote, _ := journalTools(t)
	path := filepath.Join(t.TempDir(), "remote.journal")
	writeJournal(t, remote, path,
		sshd(1, "12", "one"),
		jentry{at: t0.Add(2 * time.Second), fields: [][2]string{{"SYSLOG_IDENTIFIER", "cron"}, {"_PID", "13"}, {"MESSAGE", "two"}}},
		sshd(3, "14", "three"),
		jentry{at: t0.Add(4 * time.Second), fields: [][2]string{{"SYSLOG_IDENTIFIER", "su"}, {"_PID", "15"}, {"MESSAGE", "four"}}},
	)
	for _, tt := range []struct {
		match []string
		want  []string
	}{
		{[]string{"SYSLOG_IDENTIFIER=sshd"}, []string{"web1 sshd[12]: one", "web1 sshd[14]: three"}},
		{[]string{"SYSLOG_IDENTIFIER=sshd", "_PID=14"}, []string{"web1 sshd[14]: three"}},
		{[]string{"SYSLOG_IDENTIFIER=cron", "+", "_PID=15"}, []string{"cron[13]: two", "su[15]: four"}},
		{[]string{"SYSLOG_IDENTIFIER=nothing"}, nil},
	} {
		s := newSource(t, engine.Options{Replay: true}, func(a *Arguments) { a.Files = []string{path}; a.Match = tt.match })
		out := make(chan engine.Event, 100)
		if err := s.Run(context.Background(), nil, out); err != nil {
			t.Fatal(err)
		}
		close(out)
		var got []string
		for ev := range out {
			got = append(got, texts(ev.Lines)...)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("match %q: lines = %q, want %q", tt.match, got, tt.want)
		}
	}
}

func TestJournalFollow(t *testing.T) {
	t.Parallel()
	remote, _ := journalTools(t)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.journal")
	writeJournal(t, remote, first, sshd(1, "1", "a"), sshd(2, "1", "b"))
	now := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
	s := newSource(t, engine.Options{Clock: fixedClock{now: now}}, func(a *Arguments) {
		a.Directory, a.From = dir, FromStart
	})
	r := start(s)
	got := r.lines(t, 2)
	// journalctl follows now: what is written later comes through, in
	// the same file and in a new one of the directory.
	writeJournal(t, remote, first, sshd(3, "1", "c"))
	got = append(got, r.lines(t, 1)...)
	writeJournal(t, remote, filepath.Join(dir, "second.journal"), sshd(4, "1", "d"))
	got = append(got, r.lines(t, 1)...)
	got = append(got, r.stop(t)...)
	want := []string{"web1 sshd[1]: a", "web1 sshd[1]: b", "web1 sshd[1]: c", "web1 sshd[1]: d"}
	if !slices.Equal(texts(got), want) {
		t.Errorf("lines = %q, want %q", texts(got), want)
	}
	for i, l := range got {
		if l.No != int64(i+1) || !l.Read().Equal(now) || !l.Time().Equal(t0.Add(time.Duration(i+1)*time.Second)) {
			t.Errorf("line %d = %+v", i, l)
		}
	}
}

func TestJournalCursorResume(t *testing.T) {
	t.Parallel()
	remote, journalctl := journalTools(t)
	path := filepath.Join(t.TempDir(), "remote.journal")
	writeJournal(t, remote, path, sshd(1, "1", "a"), sshd(2, "1", "b"), sshd(3, "1", "c"))
	store := memstore.New()
	opts := engine.Options{ID: "source.sshd", Store: store}
	files := func(a *Arguments) { a.Files = []string{path}; a.From = FromStart }

	r := start(newSource(t, opts, files))
	got := r.lines(t, 3)
	got = append(got, r.stop(t)...)
	if !slices.Equal(texts(got), []string{"web1 sshd[1]: a", "web1 sshd[1]: b", "web1 sshd[1]: c"}) {
		t.Fatalf("first run = %q", texts(got))
	}
	cs := cursors(t, journalctl, path)
	pos, ok := savedPosition(store, "source.sshd")
	if !ok || pos.Cursor != cs[2] || pos.Realtime != t0.Add(3*time.Second).UnixMicro() {
		t.Fatalf("saved position = %+v (%v), want the third entry's cursor %s", pos, ok, cs[2])
	}

	writeJournal(t, remote, path, sshd(4, "1", "d"), sshd(5, "1", "e"))
	s := newSource(t, opts, files)
	r = start(s)
	got = r.lines(t, 2)
	got = append(got, r.stop(t)...)
	if !slices.Equal(texts(got), []string{"web1 sshd[1]: d", "web1 sshd[1]: e"}) {
		t.Errorf("resumed run = %q, want only the entries after the saved cursor", texts(got))
	}
	cs = cursors(t, journalctl, path)
	if pos, _ := savedPosition(store, "source.sshd"); pos.Cursor != cs[4] {
		t.Errorf("saved position after the second run = %+v, want %s", pos, cs[4])
	}
	if st := s.Stats(); st["lines"] != 2 || st["recount"] != 0 {
		t.Errorf("stats = %v", st)
	}
}

func TestJournalRewind(t *testing.T) {
	t.Parallel()
	remote, journalctl := journalTools(t)
	path := filepath.Join(t.TempDir(), "remote.journal")
	writeJournal(t, remote, path, sshd(1, "1", "a"), sshd(2, "1", "b"), sshd(3, "1", "c"), sshd(4, "1", "d"), sshd(5, "1", "e"))
	cs := cursors(t, journalctl, path)
	// Now is 10 s after t0 and the rewind 8 s: journalctl starts at
	// t0+2s, and "b" and "c" (up to the saved "c") are recounts.
	clock := fixedClock{now: t0.Add(10 * time.Second)}
	third := t0.Add(3 * time.Second).UnixMicro()
	for name, saved := range map[string]position{
		"saved cursor found": {Cursor: cs[2], Realtime: third},
		// A cursor that never shows up: marking stops at the first
		// entry later than its time.
		"saved cursor gone": {Cursor: "s=00;i=99;b=00;m=1;t=1;x=1", Realtime: third},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := memstore.New()
			store.PutPosition("source.j", saved.encode())
			s := newSource(t, engine.Options{Store: store, Rewind: 8 * time.Second, Clock: clock}, func(a *Arguments) { a.Files = []string{path} })
			r := start(s)
			got := r.lines(t, 4)
			got = append(got, r.stop(t)...)
			if !slices.Equal(texts(got), []string{"web1 sshd[1]: b", "web1 sshd[1]: c", "web1 sshd[1]: d", "web1 sshd[1]: e"}) {
				t.Fatalf("lines = %q", texts(got))
			}
			for i, l := range got {
				if want := i < 2; l.Recount != want {
					t.Errorf("line %q: Recount = %v, want %v", l.Text, l.Recount, want)
				}
			}
			if st := s.Stats(); st["lines"] != 2 || st["recount"] != 2 {
				t.Errorf("stats = %v", st)
			}
			if pos, _ := savedPosition(store, "source.j"); pos.Cursor != cs[4] {
				t.Errorf("saved position = %+v, want the last entry's %s", pos, cs[4])
			}
		})
	}
}
