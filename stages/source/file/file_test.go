package file

import (
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if strings.HasSuffix(path, ".gz") {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte(content))
		zw.Close()
		f.Close()
		return
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func collect(t *testing.T, s *Source) []engine.Line {
	t.Helper()
	out := make(chan engine.Event, 100)
	if err := s.Run(context.Background(), nil, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var lines []engine.Line
	for ev := range out {
		lines = append(lines, ev.Lines...)
	}
	return lines
}

func TestGlobMergeAndGzip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "auth.log"), "2026-03-01T06:00:03Z b\n2026-03-01T06:00:05Z d\n")
	write(t, filepath.Join(dir, "auth.log.1"), "2026-03-01T06:00:02Z a2\n2026-03-01T06:00:04Z c\n")
	write(t, filepath.Join(dir, "auth.log.2.gz"), "2026-03-01T06:00:01Z a1\n")
	s, err := New(engine.Options{Replay: true}, &Arguments{Paths: []string{filepath.Join(dir, "auth.log*")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range collect(t, s) {
		got = append(got, ev.Text[len("2026-03-01T06:00:0Xz "):])
	}
	if strings.Join(got, ",") != "a1,a2,b,c,d" {
		t.Fatalf("merged lines = %v, want a1,a2,b,c,d", got)
	}
	if s.Stats()["lines"] != 5 {
		t.Errorf("lines = %d", s.Stats()["lines"])
	}
}

func TestMissingFileDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ok.log"), "one\ntwo\n")
	s, err := New(engine.Options{Replay: true}, &Arguments{Paths: []string{filepath.Join(dir, "missing.log"), filepath.Join(dir, "ok.log")}})
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, s)
	if len(evs) != 2 || evs[0].Text != "one" || evs[1].No != 2 || evs[1].Origin != filepath.Join(dir, "ok.log") {
		t.Fatalf("events = %+v", evs)
	}
	if s.Stats()["read_errors"] != 1 {
		t.Errorf("read_errors = %d, want 1", s.Stats()["read_errors"])
	}
}

func TestNewRejectsBadPaths(t *testing.T) {
	t.Parallel()
	_, err := New(engine.Options{}, &Arguments{Paths: []string{"/ok", "", "/bad[glob"}})
	var ae *confval.AttrError
	if err == nil || !errors.As(err, &ae) || !strings.Contains(err.Error(), "paths[1]") || !strings.Contains(err.Error(), "paths[2]") {
		t.Fatalf("err = %v, want errors for paths[1] and paths[2]", err)
	}
	if _, err := New(engine.Options{}, &Arguments{}); err == nil {
		t.Fatal("no paths: want an error")
	}
}

func TestStopsOnContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "big.log"), strings.Repeat("line\n", 1000))
	s, _ := New(engine.Options{Replay: true}, &Arguments{Paths: []string{filepath.Join(dir, "big.log")}})
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan engine.Event) // nobody reads: only the context can end Run
	cancel()
	if err := s.Run(ctx, nil, out); err != nil {
		t.Fatal(err)
	}
}
