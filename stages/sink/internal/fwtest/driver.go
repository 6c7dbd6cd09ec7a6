package fwtest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Stage is a sink as the tests run it.
type Stage interface {
	Run(ctx context.Context, in <-chan engine.Event, out chan<- engine.Event) error
	Stats() map[string]int64
}

// Buffer is the capacity of the engine's channels (engine.RunOptions'
// default): a driver's input has it, so actions reach a sink as a
// counter sends them.
const Buffer = 256

// Tunings of the sinks the tests run: short, so a test waits little for
// the end of a restored burst or for a retry.
const (
	RestoreIdle = 50 * time.Millisecond
	RetryFirst  = 100 * time.Millisecond
)

// Running is a sink a test runs: its Driver and the sink itself.
type Running[S Stage] struct {
	*Driver
	S S
}

// StartSink builds a sink named name with build (its options carry a
// debug logger whose output the Driver's Logs hold), sets its hooks
// (those the Stage that hooks returns holds): the short tunings, and wrap
// (nil: none) before the programs it runs; then mod, when set, may change
// the sink, and the sink runs.
func StartSink[S Stage](tb testing.TB, name string, build func(engine.Options) (S, error), hooks func(S) *fwsync.Stage, wrap []string, mod func(S)) *Running[S] {
	tb.Helper()
	logs := &SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := build(engine.Options{ID: "sink." + name, Name: name, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	st := hooks(s)
	st.RestoreIdle, st.RetryFirst, st.Wrap = RestoreIdle, RetryFirst, wrap
	if mod != nil {
		mod(s)
	}
	return &Running[S]{Start(tb, s, logs), s}
}

// Driver runs one sink in a test.
type Driver struct {
	tb    testing.TB
	stage Stage
	in    chan engine.Event
	done  chan error
	// Logs are the sink's logs (those of the Logger given to its options).
	Logs *SyncBuffer
}

// Start runs s until Stop or the end of the test, when the logs are shown
// if the test failed.
func Start(tb testing.TB, s Stage, logs *SyncBuffer) *Driver {
	tb.Helper()
	d := &Driver{tb: tb, stage: s, in: make(chan engine.Event, Buffer), done: make(chan error, 1), Logs: logs}
	in := d.in
	go func() { d.done <- s.Run(context.Background(), in, nil) }()
	tb.Cleanup(func() {
		if d.in != nil {
			close(d.in)
			<-d.done
		}
		if tb.Failed() && logs != nil {
			tb.Logf("logs of the sink:\n%s", logs)
		}
	})
	return d
}

// Send sends evs to the sink.
func (d *Driver) Send(evs ...engine.Event) {
	for _, ev := range evs {
		d.in <- ev
	}
}

// Stop closes the sink's input and returns Run's result.
func (d *Driver) Stop() error {
	close(d.in)
	d.in = nil
	select {
	case err := <-d.done:
		return err
	case <-time.After(30 * time.Second):
		d.tb.Fatal("the sink did not stop")
		return nil
	}
}

// Wait waits until the sink's counts reach want (keys not in want are not
// checked) and fails the test after 20 s.
func (d *Driver) Wait(want map[string]int64) {
	d.tb.Helper()
	WaitStats(d.tb, d.stage.Stats, want)
}
