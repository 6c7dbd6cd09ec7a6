package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test stages.

type countSource struct{ n int }

func (s *countSource) Run(ctx context.Context, _ <-chan Event, out chan<- Event) error {
	for i := 0; i < s.n; i++ {
		select {
		case out <- Event{Kind: KindLine, Lines: []Line{{Text: fmt.Sprint(i), No: int64(i + 1)}}}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// endlessSource emits until its context ends.
type endlessSource struct{}

func (endlessSource) Run(ctx context.Context, _ <-chan Event, out chan<- Event) error {
	for i := 0; ; i++ {
		select {
		case out <- Event{Kind: KindLine, Lines: []Line{{Text: fmt.Sprint(i)}}}:
		case <-ctx.Done():
			return nil
		}
	}
}

type passStage struct{}

func (passStage) Run(ctx context.Context, in <-chan Event, out chan<- Event) error {
	for ev := range in {
		select {
		case out <- ev:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

type collectSink struct {
	mu   sync.Mutex
	seen []string
}

func (c *collectSink) Run(_ context.Context, in <-chan Event, _ chan<- Event) error {
	for ev := range in {
		c.mu.Lock()
		for _, l := range ev.Lines {
			c.seen = append(c.seen, l.Text)
		}
		c.mu.Unlock()
	}
	return nil
}

type failStage struct{}

func (failStage) Run(context.Context, <-chan Event, chan<- Event) error { return errors.New("boom") }

// stuckSink never reads its input until it is cancelled hard.
type stuckSink struct{}

func (stuckSink) Run(ctx context.Context, _ <-chan Event, _ chan<- Event) error {
	<-ctx.Done()
	return nil
}

type args struct{ stage Stage }

func testRegistry() *Registry {
	r := NewRegistry()
	add := func(kind, typ string, in, out Kind) {
		r.Register(Registration{Kind: kind, Type: typ, In: in, Out: out,
			NewArgs: func() any { return &args{} },
			Build: func(_ Options, a any) (Stage, error) {
				if a.(*args).stage == nil {
					return nil, errors.New("no stage")
				}
				return a.(*args).stage, nil
			}})
	}
	add("source", "test", KindNone, KindLine)
	add("matcher", "pass", KindLine, KindLine) // line -> line, so cycles can form
	add("matcher", "fail", KindLine, KindFailure)
	add("sink", "lines", KindLine, KindNone)
	return r
}

func spec(kind, typ, name string, s Stage, inputs ...string) NodeSpec {
	return NodeSpec{Kind: kind, Type: typ, Name: name, Inputs: inputs, Args: &args{stage: s}}
}

func TestRunFanOutFanIn(t *testing.T) {
	t.Parallel()
	a, b := &collectSink{}, &collectSink{}
	spec := Spec{Nodes: []NodeSpec{
		spec("source", "test", "one", &countSource{n: 100}),
		spec("source", "test", "two", &countSource{n: 50}),
		spec("matcher", "pass", "m", passStage{}, "source.one", "source.two"),
		spec("sink", "lines", "a", a, "matcher.m"),
		spec("sink", "lines", "b", b, "matcher.m"),
	}}
	g, problems := Compile(spec, testRegistry(), BuildOptions{})
	if g == nil {
		t.Fatalf("Compile: %v", problems)
	}
	if err := g.Run(t.Context(), RunOptions{Buffer: 1}); err != nil {
		t.Fatal(err)
	}
	if len(a.seen) != 150 || len(b.seen) != 150 {
		t.Fatalf("sinks saw %d and %d events, want 150 each", len(a.seen), len(b.seen))
	}
}

func TestRunSoftStopDrains(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	spec := Spec{Nodes: []NodeSpec{
		spec("source", "test", "s", endlessSource{}),
		spec("matcher", "pass", "m", passStage{}, "source.s"),
		spec("sink", "lines", "k", sink, "matcher.m"),
	}}
	g, problems := Compile(spec, testRegistry(), BuildOptions{})
	if g == nil {
		t.Fatalf("Compile: %v", problems)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if err := g.Run(ctx, RunOptions{Grace: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// Every event the source emitted reached the sink in order: nothing lost.
	for i, s := range sink.seen {
		if s != fmt.Sprint(i) {
			t.Fatalf("event %d is %q: events were lost or reordered", i, s)
		}
	}
	if len(sink.seen) == 0 {
		t.Fatal("sink saw nothing")
	}
}

func TestRunFailingStageDoesNotBlock(t *testing.T) {
	t.Parallel()
	spec := Spec{Nodes: []NodeSpec{
		spec("source", "test", "s", &countSource{n: 10000}),
		spec("sink", "lines", "k", failStage{}, "source.s"),
	}}
	g, problems := Compile(spec, testRegistry(), BuildOptions{})
	if g == nil {
		t.Fatalf("Compile: %v", problems)
	}
	err := g.Run(t.Context(), RunOptions{Buffer: 1})
	if err == nil || !strings.Contains(err.Error(), "sink.k: boom") {
		t.Fatalf("Run error = %v, want sink.k: boom", err)
	}
}

func TestRunHardDeadline(t *testing.T) {
	t.Parallel()
	spec := Spec{Nodes: []NodeSpec{
		spec("source", "test", "s", endlessSource{}),
		spec("sink", "lines", "k", stuckSink{}, "source.s"),
	}}
	g, problems := Compile(spec, testRegistry(), BuildOptions{})
	if g == nil {
		t.Fatalf("Compile: %v", problems)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, RunOptions{Grace: 50 * time.Millisecond, Buffer: 1}) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the grace period")
	}
}

func TestCompileProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		want []string // "ID input summary" of each problem, in order
	}{
		{
			name: "undeclared input",
			spec: Spec{Nodes: []NodeSpec{
				spec("source", "test", "s", &countSource{}),
				spec("sink", "lines", "k", &collectSink{}, "source.s", "source.nope"),
			}},
			want: []string{"sink.k 1 Reference to undeclared node"},
		},
		{
			name: "mismatched kinds",
			spec: Spec{Nodes: []NodeSpec{
				spec("source", "test", "s", &countSource{}),
				spec("matcher", "fail", "f", passStage{}, "source.s"),
				spec("sink", "lines", "k", &collectSink{}, "matcher.f"),
			}},
			want: []string{"sink.k 0 Mismatched event types"},
		},
		{
			name: "cycle",
			spec: Spec{Nodes: []NodeSpec{
				spec("source", "test", "s", &countSource{}),
				spec("matcher", "pass", "a", passStage{}, "source.s", "matcher.b"),
				spec("matcher", "pass", "b", passStage{}, "matcher.a"),
				spec("sink", "lines", "k", &collectSink{}, "matcher.b"),
			}},
			want: []string{"matcher.a 1 Cycle in pipeline", "matcher.b 0 Cycle in pipeline"},
		},
		{
			name: "missing inputs and unused source",
			spec: Spec{Nodes: []NodeSpec{
				spec("source", "test", "s", &countSource{}),
				spec("sink", "lines", "k", &collectSink{}),
			}},
			want: []string{"sink.k -1 Missing inputs", "source.s -1 Unused source"},
		},
		{
			name: "build error",
			spec: Spec{Nodes: []NodeSpec{
				spec("source", "test", "s", nil),
				spec("sink", "lines", "k", &collectSink{}, "source.s"),
			}},
			want: []string{"source.s -1 Invalid source"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, problems := Compile(tt.spec, testRegistry(), BuildOptions{})
			var got []string
			for _, p := range problems {
				got = append(got, fmt.Sprintf("%s %d %s", p.ID, p.Input, p.Summary))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCycleMessageNamesChain(t *testing.T) {
	t.Parallel()
	spec := Spec{Nodes: []NodeSpec{
		spec("source", "test", "s", &countSource{}),
		spec("matcher", "pass", "a", passStage{}, "source.s", "matcher.c"),
		spec("matcher", "pass", "b", passStage{}, "matcher.a"),
		spec("matcher", "pass", "c", passStage{}, "matcher.b"),
		spec("sink", "lines", "k", &collectSink{}, "matcher.c"),
	}}
	_, problems := Compile(spec, testRegistry(), BuildOptions{})
	if len(problems) == 0 || !strings.Contains(problems[0].Err.Error(), "matcher.a -> matcher.b -> matcher.c -> matcher.a") {
		t.Fatalf("problems = %v", problems)
	}
}

func TestRegistryPanicsOnDuplicate(t *testing.T) {
	t.Parallel()
	r := testRegistry()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on duplicate registration")
		}
	}()
	r.Register(Registration{Kind: "source", Type: "test", NewArgs: func() any { return nil }, Build: func(Options, any) (Stage, error) { return nil, nil }})
}

// gateSink reads nothing until its gate opens.
type gateSink struct {
	gate chan struct{}
	collectSink
}

func (g *gateSink) Run(ctx context.Context, in <-chan Event, out chan<- Event) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil
	}
	return g.collectSink.Run(ctx, in, out)
}

// TestSlowSinkDoesNotBlockOthers: a sink that reads nothing for a while
// does not hold back its sibling, and still gets every event later.
func TestSlowSinkDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	slow := &gateSink{gate: make(chan struct{})}
	fast := &collectSink{}
	sp := Spec{Nodes: []NodeSpec{
		spec("source", "test", "src", &countSource{n: 5000}),
		spec("sink", "lines", "slow", slow, "source.src"),
		spec("sink", "lines", "fast", fast, "source.src"),
	}}
	g, problems := Compile(sp, testRegistry(), BuildOptions{})
	if g == nil {
		t.Fatalf("Compile: %v", problems)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(t.Context(), RunOptions{Buffer: 4}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fast.mu.Lock()
		n := len(fast.seen)
		fast.mu.Unlock()
		if n == 5000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fast sink got %d of 5000 events while the slow one was stuck", n)
		}
		time.Sleep(time.Millisecond)
	}
	close(slow.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, s := range slow.seen {
		if s != fmt.Sprint(i) {
			t.Fatalf("slow sink event %d = %q: order lost", i, s)
		}
	}
	if len(slow.seen) != 5000 {
		t.Fatalf("the slow sink got %d of 5000 events", len(slow.seen))
	}
}

func TestElasticPushesBackWhenFull(t *testing.T) {
	t.Parallel()
	in := make(chan Event)
	out := make(chan Event)
	go elastic(t.Context(), in, out, 3, discardLogger(), "sink.x")
	for i := range 3 {
		in <- Event{Time: time.Unix(int64(i), 0)}
	}
	select {
	case in <- Event{}:
		t.Fatal("a full queue took a fourth event")
	case <-time.After(50 * time.Millisecond):
	}
	if ev := <-out; ev.Time.Unix() != 0 {
		t.Fatalf("first out = %v", ev.Time)
	}
	in <- Event{Time: time.Unix(3, 0)} // room again
	close(in)
	var got []int64
	for ev := range out {
		got = append(got, ev.Time.Unix())
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("rest = %v", got)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
