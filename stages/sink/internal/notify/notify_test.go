package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

func TestQueueDropsOldest(t *testing.T) {
	t.Parallel()
	q := NewQueue[int](3)
	for i := 1; i <= 3; i++ {
		if q.Push(i) {
			t.Fatalf("push %d dropped with room left", i)
		}
	}
	if !q.Push(4) || !q.Push(5) {
		t.Fatal("a push into a full queue did not drop")
	}
	var got []int
	for {
		v, ok, done := q.TryPop()
		if !ok {
			if done {
				t.Fatal("done before Close")
			}
			break
		}
		got = append(got, v)
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 4 || got[2] != 5 {
		t.Errorf("popped %v, want [3 4 5]", got)
	}
	if q.Dropped() != 2 {
		t.Errorf("dropped = %d", q.Dropped())
	}
}

func TestQueueGrowsKeepingOrder(t *testing.T) {
	t.Parallel()
	q := NewQueue[int](1000)
	next := 0
	// Interleave pushes and pops so the ring wraps before it grows.
	for i := range 500 {
		q.Push(i)
		if i%3 == 0 {
			if v, _, _ := q.TryPop(); v != next {
				t.Fatalf("popped %d, want %d", v, next)
			}
			next++
		}
	}
	for {
		v, ok, _ := q.TryPop()
		if !ok {
			break
		}
		if v != next {
			t.Fatalf("popped %d, want %d", v, next)
		}
		next++
	}
	if next != 500 || q.Dropped() != 0 {
		t.Errorf("popped %d, dropped %d", next, q.Dropped())
	}
}

func TestQueueCloseAndDiscard(t *testing.T) {
	t.Parallel()
	q := NewQueue[string](4)
	q.Push("a")
	q.Push("b")
	q.Close()
	select {
	case <-q.Wait():
	default:
		t.Fatal("Close left no wake-up")
	}
	if v, ok, done := q.TryPop(); !ok || done || v != "a" {
		t.Errorf("TryPop after Close = %q %v %v", v, ok, done)
	}
	if !q.Push("late") {
		t.Error("a push after Close was taken")
	}
	if n := q.Discard(); n != 1 {
		t.Errorf("Discard = %d, want 1", n)
	}
	if _, ok, done := q.TryPop(); ok || !done {
		t.Errorf("closed empty queue: ok %v done %v", ok, done)
	}
	if q.Dropped() != 2 {
		t.Errorf("dropped = %d, want the late push and the discarded one", q.Dropped())
	}
}

func TestParseOnAndWant(t *testing.T) {
	t.Parallel()
	ev := func(typ engine.ActionType, restored bool) engine.Event {
		return engine.Event{Kind: engine.KindAction, Action: &engine.Action{Type: typ, Restored: restored}}
	}
	def, err := ParseOn(nil)
	if err != nil || !def.Want(ev(engine.Ban, false)) || def.Want(ev(engine.Unban, false)) || def.Want(ev(engine.Prolong, false)) {
		t.Errorf("default on = %v, %v", def, err)
	}
	if def.Want(ev(engine.Ban, true)) {
		t.Error("a restored ban is wanted")
	}
	if def.Want(engine.Event{Kind: engine.KindAction}) || def.Want(engine.Event{Kind: engine.KindFailure}) {
		t.Error("an event without an action is wanted")
	}
	all, err := ParseOn([]string{"Unban", " prolong", "ban"})
	if err != nil || !all.Want(ev(engine.Unban, false)) || !all.Want(ev(engine.Prolong, false)) || !all.Want(ev(engine.Ban, false)) {
		t.Errorf("all = %v, %v", all, err)
	}
	if all.Want(ev(engine.ActionType(9), false)) {
		t.Error("an unknown action type is wanted")
	}
	if _, err := ParseOn([]string{"ban", "unbna"}); err == nil || !strings.Contains(err.Error(), `did you mean "unban"`) {
		t.Errorf("typo error = %v", err)
	}
	if _, err := ParseOn([]string{}); err == nil {
		t.Error("an empty list was accepted")
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	r := Retry{For: time.Minute, First: time.Millisecond, Max: 4 * time.Millisecond}
	var calls, retries int
	out, err := r.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 4 {
			return errors.New("temporary")
		}
		return nil
	}, func(attempt int, wait time.Duration, _ error) {
		retries++
		if attempt != retries || wait > 4*time.Millisecond {
			t.Errorf("onRetry(%d, %v)", attempt, wait)
		}
	})
	if out != Delivered || err != nil || calls != 4 || retries != 3 {
		t.Errorf("Do = %v %v after %d calls, %d retries", out, err, calls, retries)
	}

	calls = 0
	out, err = r.Do(context.Background(), func(context.Context) error {
		calls++
		return Permanent(errors.New("refused"))
	}, nil)
	if out != Failed || calls != 1 || !IsPermanent(err) || err.Error() != "refused" {
		t.Errorf("permanent: %v %v after %d calls", out, err, calls)
	}

	// A Retry-After beyond For gives up at once.
	calls = 0
	out, _ = Retry{For: time.Second}.Do(context.Background(), func(context.Context) error {
		calls++
		return RetryAfter(errors.New("busy"), time.Hour)
	}, nil)
	if out != Failed || calls != 1 {
		t.Errorf("long Retry-After: %v after %d calls", out, calls)
	}

	// For zero never retries.
	calls = 0
	out, _ = Retry{}.Do(context.Background(), func(context.Context) error { calls++; return errors.New("x") }, nil)
	if out != Failed || calls != 1 {
		t.Errorf("For 0: %v after %d calls", out, calls)
	}

	// A stop during the wait aborts.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	out, _ = Retry{For: 2 * time.Hour, First: time.Hour}.Do(ctx, func(context.Context) error { return errors.New("x") }, nil)
	if out != Aborted {
		t.Errorf("stopped: %v", out)
	}
}

func TestPumpDrainsThenDrops(t *testing.T) {
	t.Parallel()
	q := NewQueue[engine.Event](100)
	var delivered atomic.Int64
	release := make(chan struct{})
	p := Pump{
		Queue: q,
		Want:  func(ev engine.Event) bool { return ev.Action != nil },
		Work: func(ctx context.Context) {
			for {
				_, ok, done := q.TryPop()
				if done {
					return
				}
				if !ok {
					select {
					case <-q.Wait():
					case <-ctx.Done():
						return
					}
					continue
				}
				select {
				case <-release: // closed: deliver at once
				case <-ctx.Done():
					return
				}
				delivered.Add(1)
			}
		},
		Drain:  100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	in := make(chan engine.Event, 10)
	for range 5 {
		in <- engine.Event{Kind: engine.KindAction, Action: &engine.Action{Type: engine.Ban, Host: netip.MustParseAddr("192.0.2.1")}}
	}
	in <- engine.Event{Kind: engine.KindAction} // not wanted
	close(in)
	start := time.Now()
	if err := p.Run(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run took %v with a stuck worker", took)
	}
	// The worker held one action; the other four were dropped.
	if delivered.Load() != 0 || q.Dropped() != 4 {
		t.Errorf("delivered %d, dropped %d", delivered.Load(), q.Dropped())
	}

	// A worker that keeps up delivers everything before Run returns.
	close(release)
	q2 := NewQueue[engine.Event](100)
	p.Queue = q2
	p.Work = func(ctx context.Context) {
		for {
			_, ok, done := q2.TryPop()
			if done {
				return
			}
			if ok {
				delivered.Add(1)
				continue
			}
			select {
			case <-q2.Wait():
			case <-ctx.Done():
				return
			}
		}
	}
	in = make(chan engine.Event, 10)
	for range 7 {
		in <- engine.Event{Kind: engine.KindAction, Action: &engine.Action{Type: engine.Ban}}
	}
	close(in)
	if err := p.Run(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if delivered.Load() != 7 || q2.Dropped() != 0 {
		t.Errorf("delivered %d, dropped %d; want 7, 0", delivered.Load(), q2.Dropped())
	}
}

func TestPumpHardStop(t *testing.T) {
	t.Parallel()
	q := NewQueue[engine.Event](10)
	p := Pump{
		Queue:  q,
		Want:   func(engine.Event) bool { return true },
		Work:   func(ctx context.Context) { <-ctx.Done() },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan engine.Event, 3)
	in <- engine.Event{}
	in <- engine.Event{}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, in) }()
	for q.Len() < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	if q.Dropped() != 2 {
		t.Errorf("dropped = %d", q.Dropped())
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	tm, err := ParseTemplate("t", `{{.Action}} {{.Host}} {{.BanTime}} {{.BanTime.Seconds}} {{rfc3339 .End}} {{join .Matches "|"}} [{{.Fields.nope}}] {{json .Jail}} {{json .BanTime}}`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tm.Execute(&b, SampleData()); err != nil {
		t.Fatal(err)
	}
	want := `ban 192.0.2.1 1h0m0s 3600 2026-01-02T04:04:05Z sample line [] "sshd" "1h0m0s"`
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	d := NewData(engine.Event{Kind: engine.KindAction, Action: &engine.Action{
		Type: engine.Ban, BanTime: engine.Permanent, End: time.Unix(99, 0), HostText: "example.org",
	}}, "h")
	if d.BanTime.String() != "permanent" || d.BanTime.Seconds() != -1 || !d.End.IsZero() || d.Host != "example.org" || d.Fields == nil {
		t.Errorf("permanent ban data = %+v", d)
	}
}
