package journal

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/memstore"
)

func defaults() *Arguments {
	r := engine.NewRegistry()
	Register(r)
	reg, _ := r.Lookup("source", "journal")
	return reg.NewArgs().(*Arguments)
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args  func(a *Arguments)
		attr  string
		index int
	}{
		"lower-case field":    {func(a *Arguments) { a.Match = []string{"_COMM=sshd", "unit=x"} }, "match", 1},
		"no equals":           {func(a *Arguments) { a.Match = []string{"sshd.service"} }, "match", 0},
		"empty field":         {func(a *Arguments) { a.Match = []string{"=x"} }, "match", 0},
		"address field":       {func(a *Arguments) { a.Match = []string{"__CURSOR=x"} }, "match", 0},
		"plus first":          {func(a *Arguments) { a.Match = []string{"+", "_COMM=a"} }, "match", 0},
		"plus last":           {func(a *Arguments) { a.Match = []string{"_COMM=a", "+"} }, "match", 1},
		"two plus":            {func(a *Arguments) { a.Match = []string{"_COMM=a", "+", "+", "_COMM=b"} }, "match", 2},
		"bad glob":            {func(a *Arguments) { a.Files = []string{"/x/*.journal", "/x/[.journal"} }, "files", 1},
		"empty file":          {func(a *Arguments) { a.Files = []string{""} }, "files", 0},
		"directory and files": {func(a *Arguments) { a.Directory, a.Files = "/d", []string{"/f"} }, "files", -1},
		"from":                {func(a *Arguments) { a.From = "middle" }, "from", -1},
		"empty journalctl":    {func(a *Arguments) { a.Journalctl = "" }, "journalctl", -1},
		"blank directory":     {func(a *Arguments) { a.Directory = " " }, "directory", -1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := defaults()
			tt.args(a)
			_, err := New(engine.Options{}, a)
			var ae *confval.AttrError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *confval.AttrError", err)
			}
			if ae.Attr != tt.attr || ae.Index != tt.index {
				t.Errorf("error names %s[%d], want %s[%d]: %v", ae.Attr, ae.Index, tt.attr, tt.index, err)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	t.Parallel()
	a := defaults()
	a.Match = []string{"_SYSTEMD_UNIT=sshd.service", "+", "_COMM=sshd", "_COMM=sshd-session", "PRIORITY=", "0X=y"}
	a.Files = []string{"/var/log/journal/*/system*.journal"}
	if _, err := New(engine.Options{}, a); err != nil {
		t.Fatal(err)
	}
}

// fixedClock is a wall clock whose Now is fixed, so start options that
// depend on now can be checked.
type fixedClock struct {
	engine.WallClock
	now time.Time
}

func (c fixedClock) Now() time.Time { return c.now }

func TestCommand(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pos := position{Cursor: "s=a;i=5;b=b;m=1;t=2;x=3", Realtime: now.Add(-time.Minute).UnixMicro()}
	old := position{Cursor: "s=a;i=2;b=b;m=1;t=2;x=3", Realtime: now.Add(-time.Hour).UnixMicro()}
	tests := map[string]struct {
		from    string
		replay  bool
		saved   *position
		rewind  time.Duration
		want    []string
		recount bool
	}{
		"end":                 {from: FromEnd, want: []string{"--follow", "--lines=0"}},
		"start":               {from: FromStart, want: []string{"--follow"}},
		"saved":               {from: FromEnd, saved: &pos, want: []string{"--follow", "--after-cursor=" + pos.Cursor}},
		"rewind":              {from: FromEnd, saved: &pos, rewind: 10 * time.Minute, want: []string{"--follow", "--since=@" + itoa(now.Add(-10*time.Minute).Unix())}, recount: true},
		"saved before rewind": {from: FromEnd, saved: &old, rewind: 10 * time.Minute, want: []string{"--follow", "--after-cursor=" + old.Cursor}},
		"replay":              {from: FromEnd, replay: true, saved: &pos, want: nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := defaults()
			a.From = tt.from
			a.Match = []string{"_COMM=sshd", "+", "_COMM=x"}
			a.Directory = "/j"
			store := memstore.New()
			if tt.saved != nil {
				store.PutPosition("source.j", tt.saved.encode())
			}
			s, err := New(engine.Options{ID: "source.j", Store: store, Rewind: tt.rewind, Replay: tt.replay, Clock: fixedClock{now: now}}, a)
			if err != nil {
				t.Fatal(err)
			}
			st := &runState{}
			got := s.command(st)
			// Drop the fixed part, checked once below.
			var rest []string
			for _, g := range got {
				switch {
				case g == "--output=json", g == "--no-pager", g == "--all", strings.HasPrefix(g, "--output-fields="), g == "--directory=/j":
				case g == "_COMM=sshd", g == "+", g == "_COMM=x":
				default:
					rest = append(rest, g)
				}
			}
			if !slices.Equal(rest, tt.want) {
				t.Errorf("command = %q, want the variable part %q", got, tt.want)
			}
			if !slices.Equal(got[len(got)-3:], a.Match) {
				t.Errorf("command %q does not end with the matches", got)
			}
			if (st.recountTo != nil) != tt.recount {
				t.Errorf("recounting = %v, want %v", st.recountTo != nil, tt.recount)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRestartOptions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := defaults()
	s, err := New(engine.Options{ID: "source.j", Clock: fixedClock{now: now}}, a)
	if err != nil {
		t.Fatal(err)
	}
	st := &runState{}
	if got := s.startOptions(st); !slices.Equal(got, []string{"--lines=0"}) {
		t.Fatalf("first start = %q", got)
	}
	st.started, st.firstStart = true, now
	// Nothing came before journalctl ended: read from the first start on,
	// so nothing written in the meantime is lost.
	if got := s.startOptions(st); !slices.Equal(got, []string{"--since=@" + itoa(now.Unix())}) {
		t.Errorf("restart with nothing read = %q", got)
	}
	st.lastSent = position{Cursor: "s=a;i=9"}
	if got := s.startOptions(st); !slices.Equal(got, []string{"--after-cursor=s=a;i=9"}) {
		t.Errorf("restart = %q", got)
	}
}

func TestBackoffDoubles(t *testing.T) {
	t.Parallel()
	d := time.Second
	var got []time.Duration
	for range 7 {
		got = append(got, d)
		d = nextBackoff(d, 30*time.Second)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(got, want) {
		t.Errorf("back-off = %v, want %v", got, want)
	}
}

func TestCheckCursor(t *testing.T) {
	t.Parallel()
	if err := checkCursor("s=bd0cbe39a46045e5aee7b55ef2edb72d;i=1;b=0123;m=60a24181e4000;t=60a24181e4000;x=5f5e152d130ba904"); err != nil {
		t.Error(err)
	}
	for _, c := range []string{"", "bogus", "s=a;q=1", "s=;i=1"} {
		if checkCursor(c) == nil {
			t.Errorf("checkCursor(%q) accepted", c)
		}
	}
	if _, err := decodePosition([]byte(`{"cursor":"bogus"}`)); err == nil {
		t.Error("decodePosition accepted a bad cursor")
	}
}
