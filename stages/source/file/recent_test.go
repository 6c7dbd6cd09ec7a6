package file

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
	"github.com/f2bproject/f2b/logtime"
)

// recentNow is the fake now of the from = "recent" tests. It is in the
// local zone, like the dates without zone the test files hold.
var recentNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.Local)

const stamp = "2006-01-02 15:04:05"

// datedLog is a generated log: its lines, and each line's date (zero for
// an undated line) as the default date detection reads it back (whole
// seconds).
type datedLog struct {
	lines []string
	dates []time.Time
}

// genLog writes n lines to path, line i at start + i*step, every undated-th
// line (when > 0) without a date. jitter (with rng) moves each date by up
// to ±jitter, out of order.
func genLog(t testing.TB, path string, n int, start time.Time, step time.Duration, undated int, jitter time.Duration, rng *rand.Rand) *datedLog {
	t.Helper()
	l := &datedLog{}
	var b strings.Builder
	for i := range n {
		var text string
		var d time.Time
		if undated > 0 && i%undated == undated-1 {
			text = fmt.Sprintf("    continued %05d", i+1)
		} else {
			at := start.Add(time.Duration(i) * step)
			if jitter > 0 {
				at = at.Add(time.Duration(rng.Int64N(int64(2*jitter+1))) - jitter)
			}
			d = at.Truncate(time.Second)
			text = fmt.Sprintf("%s host sshd[%d]: line %05d from 192.0.2.%d", d.Format(stamp), 1000+i%7, i+1, i%250)
		}
		l.lines = append(l.lines, text)
		l.dates = append(l.dates, d)
		b.WriteString(text)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

// firstRecent is the index of the line a recent start at cutoff must read
// from in an ordered log: the line after the last dated line before the
// first dated line at or after cutoff; len(lines) when there is none.
func (l *datedLog) firstRecent(cutoff time.Time) int {
	last := -1
	for i, d := range l.dates {
		switch {
		case d.IsZero():
		case !d.Before(cutoff):
			return last + 1
		default:
			last = i
		}
	}
	return len(l.lines)
}

// TestFromRecent follows real files with from = "recent" on both backends.
func TestFromRecent(t *testing.T) {
	t.Parallel()
	const rewind = 10 * time.Minute
	cutoff := recentNow.Add(-rewind)
	tests := []struct {
		name   string
		rewind time.Duration
		gen    func(t *testing.T, path string) *datedLog
		first  func(l *datedLog) int // index of the first line read
	}{
		{name: "10000 lines over 2h", rewind: rewind, gen: func(t *testing.T, path string) *datedLog {
			return genLog(t, path, 10000, recentNow.Add(-2*time.Hour), 720*time.Millisecond, 0, 0, nil)
		}, first: func(l *datedLog) int { return l.firstRecent(cutoff) }},
		{name: "undated lines among them", rewind: rewind, gen: func(t *testing.T, path string) *datedLog {
			return genLog(t, path, 3000, recentNow.Add(-2*time.Hour), 2400*time.Millisecond, 3, 0, nil)
		}, first: func(l *datedLog) int { return l.firstRecent(cutoff) }},
		{name: "no dates: like end", rewind: rewind, gen: func(t *testing.T, path string) *datedLog {
			return genLog(t, path, 50, recentNow, time.Second, 1, 0, nil)
		}, first: func(l *datedLog) int { return len(l.lines) }},
		{name: "all older than the window", rewind: rewind, gen: func(t *testing.T, path string) *datedLog {
			return genLog(t, path, 1000, recentNow.Add(-3*time.Hour), 3600*time.Millisecond, 0, 0, nil)
		}, first: func(l *datedLog) int { return len(l.lines) }},
		{name: "all within the window", rewind: rewind, gen: func(t *testing.T, path string) *datedLog {
			return genLog(t, path, 1000, recentNow.Add(-5*time.Minute), 300*time.Millisecond, 0, 0, nil)
		}, first: func(*datedLog) int { return 0 }},
		{name: "rewind 0: like end", rewind: 0, gen: func(t *testing.T, path string) *datedLog {
			return genLog(t, path, 1000, recentNow.Add(-5*time.Minute), 300*time.Millisecond, 0, 0, nil)
		}, first: func(l *datedLog) int { return len(l.lines) }},
	}
	for _, b := range backends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				log := filepath.Join(t.TempDir(), "app.log")
				l := tt.gen(t, log)
				first := tt.first(l)
				if tt.name == "10000 lines over 2h" && (first < 9000 || first > 9200 || l.dates[first].Before(cutoff) || !l.dates[first-1].Before(cutoff)) {
					t.Fatalf("test file: first = %d", first)
				}
				clock := &fakeClock{now: recentNow}
				opts := engine.Options{ID: "source.app", Clock: clock, Rewind: tt.rewind}
				r := follow(t, opts, &Arguments{Paths: []string{log}, Backend: b.name, From: FromRecent, PollInterval: b.poll})
				// A line appended after the start comes too, after the
				// file's: when it has come, all did.
				appendFile(t, log, "appended\n")
				want := append(append([]string(nil), l.lines[first:]...), "appended")
				r.wait(len(want))
				time.Sleep(100 * time.Millisecond)
				got := r.stop()
				if texts(got) != strings.Join(want, ",") {
					t.Fatalf("got %d lines starting %q, want %d starting %q", len(got), got[0].Text, len(want), want[0])
				}
				for i, ln := range got {
					if ln.No != int64(first+i+1) || ln.Recount || ln.Origin != log {
						t.Fatalf("line %d = %+v, want No %d, not Recount", i, ln, first+i+1)
					}
				}
				if st := r.s.Stats(); st["lines"] != int64(len(want)) || st["recount"] != 0 {
					t.Fatalf("stats = %v", st)
				}
			})
		}
	}
}

// TestFromRecentOnlyFirstStart restarts with a saved position: the file
// resumes there, it is not searched again; a file a glob finds later is
// read from its start.
func TestFromRecentOnlyFirstStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "a.log")
	l := genLog(t, log, 600, recentNow.Add(-time.Hour), 6*time.Second, 0, 0, nil)
	first := l.firstRecent(recentNow.Add(-10 * time.Minute))
	store := memstore.New()
	clock := &fakeClock{now: recentNow}
	opts := engine.Options{ID: "source.app", Store: store, Clock: clock, Rewind: 10 * time.Minute}
	args := func() *Arguments {
		return &Arguments{Paths: []string{filepath.Join(dir, "*.log")}, From: FromRecent, PollInterval: "50ms"}
	}
	r := follow(t, opts, args())
	got := r.wait(len(l.lines) - first)
	wantLines(t, got, l.lines[first:]...)
	late := filepath.Join(dir, "b.log")
	genLog(t, late, 20, recentNow.Add(-time.Hour), time.Second, 0, 0, nil) // all old, yet read: it is new
	r.wait(len(l.lines) - first + 20)
	r.stop()

	// Past the rewind, so that the restart recounts nothing.
	clock.set(recentNow.Add(11 * time.Minute))
	appendFile(t, log, "after restart\n")
	r = follow(t, opts, args())
	got = r.wait(1)
	time.Sleep(100 * time.Millisecond)
	got = r.stop()
	if texts(got) != "after restart" || got[0].No != int64(len(l.lines)+1) {
		t.Fatalf("after restart: %+v", got)
	}
}

// TestSeekRecentOrdered checks the search against a linear scan on
// ordered files, with chunks small enough to cut lines and to hold none
// whole.
func TestSeekRecentOrdered(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	det, err := logtime.New(logtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := recentNow.Add(-time.Hour)
	for _, n := range []int{1, 2, 3, 10, 257} {
		for _, undated := range []int{0, 2, 5} {
			path := filepath.Join(dir, fmt.Sprintf("%d-%d.log", n, undated))
			step := time.Hour / time.Duration(n)
			l := genLog(t, path, n, start, step, undated, 0, nil)
			offs := lineOffsets(l.lines)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			size := offs[len(offs)-1]
			for _, bufLen := range []int{16, 80, 200, 64 << 10} {
				for k := -1; k <= n; k++ {
					cutoff := start.Add(time.Duration(k)*step - time.Second)
					want := l.firstRecent(cutoff)
					off, ok, err := seekRecent(f, size, det, recentNow, cutoff, bufLen)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						// A 16-byte buffer holds no whole date.
						if bufLen > 16 {
							t.Errorf("n=%d undated=%d buf=%d cutoff %d: no date found", n, undated, bufLen, k)
						}
						continue
					}
					if off != offs[want] {
						t.Errorf("n=%d undated=%d buf=%d cutoff %d: offset %d, want %d (line %d)", n, undated, bufLen, k, off, offs[want], want)
					}
				}
			}
			f.Close()
		}
	}
}

// TestSeekRecentDisorder checks, on files whose dates are out of order
// by up to ±20s, that no line at or after the cutoff is skipped and that
// no line more than the disorder before it is read.
func TestSeekRecentDisorder(t *testing.T) {
	t.Parallel()
	const jitter = 20 * time.Second
	dir := t.TempDir()
	det, err := logtime.New(logtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	buf := 4096
	start := recentNow.Add(-2 * time.Hour)
	step := 1500 * time.Millisecond
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		path := filepath.Join(dir, fmt.Sprintf("%d.log", seed))
		l := genLog(t, path, 4800, start, step, 0, jitter, rng)
		offs := lineOffsets(l.lines)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			cutoff := start.Add(time.Duration(rng.Int64N(int64(2 * time.Hour)))).Truncate(time.Second)
			off, ok, err := seekRecent(f, offs[len(offs)-1], det, recentNow, cutoff, buf)
			if err != nil || !ok {
				t.Fatalf("seekRecent: %v, %v", ok, err)
			}
			for i, d := range l.dates {
				trueTime := start.Add(time.Duration(i) * step)
				if offs[i] < off && !d.Before(cutoff) {
					t.Fatalf("seed %d cutoff %v: line %d (%v) skipped; start at %d", seed, cutoff, i+1, d, off)
				}
				if offs[i] >= off && trueTime.Before(cutoff.Add(-2*jitter-time.Second)) {
					t.Fatalf("seed %d cutoff %v: line %d of %v read; start at %d", seed, cutoff, i+1, trueTime, off)
				}
			}
		}
		f.Close()
	}
}

// TestSeekRecentLongLines puts lines longer than a chunk around the
// cutoff: the search reads earlier, never later.
func TestSeekRecentLongLines(t *testing.T) {
	t.Parallel()
	det, err := logtime.New(logtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "long.log")
	var lines []string
	var dates []time.Time
	start := recentNow.Add(-time.Hour)
	for i := range 200 {
		d := start.Add(time.Duration(i) * 18 * time.Second)
		text := d.Format(stamp) + " line " + fmt.Sprint(i+1)
		if i%7 == 3 {
			text += " " + strings.Repeat("x", 3000)
		}
		if i%11 == 5 {
			text = strings.Repeat("y", 2500) // undated and longer than a chunk
			d = time.Time{}
		}
		lines, dates = append(lines, text), append(dates, d)
	}
	write(t, path, strings.Join(lines, "\n")+"\n")
	l := &datedLog{lines: lines, dates: dates}
	offs := lineOffsets(lines)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := 1024
	for k := range 200 {
		cutoff := start.Add(time.Duration(k)*18*time.Second - time.Second)
		want := l.firstRecent(cutoff)
		off, ok, err := seekRecent(f, offs[len(offs)-1], det, recentNow, cutoff, buf)
		if err != nil || !ok {
			t.Fatalf("seekRecent: %v, %v", ok, err)
		}
		if off > offs[want] {
			t.Fatalf("cutoff %d: offset %d after the first recent line's %d", k, off, offs[want])
		}
		if want > 20 && off < offs[want-20] {
			t.Errorf("cutoff %d: offset %d, more than 20 lines before %d", k, off, offs[want])
		}
	}
}

// lineOffsets returns the offset each line starts at, and the file's size
// last.
func lineOffsets(lines []string) []int64 {
	offs := make([]int64, 0, len(lines)+1)
	var off int64
	for _, l := range lines {
		offs = append(offs, off)
		off += int64(len(l)) + 1
	}
	return append(offs, off)
}

// BenchmarkSeekRecent searches a 10,000-line file.
func BenchmarkSeekRecent(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.log")
	genLog(b, path, 10000, recentNow.Add(-2*time.Hour), 720*time.Millisecond, 0, 0, nil)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	det, _ := logtime.New(logtime.Options{})
	buf := 64 << 10
	for b.Loop() {
		if _, ok, err := seekRecent(f, fi.Size(), det, recentNow, recentNow.Add(-10*time.Minute), buf); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
