package engine

import (
	"context"
	"testing"
)

func TestSend(t *testing.T) {
	t.Parallel()
	out := make(chan Event, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if !Send(ctx, out, Event{Kind: KindLine}) {
		t.Fatal("Send to a channel with room = false")
	}
	cancel()
	// Full channel, done context: Send gives up instead of blocking.
	if Send(ctx, out, Event{Kind: KindFailure}) {
		t.Fatal("Send to a full channel after cancel = true")
	}
	if ev := <-out; ev.Kind != KindLine {
		t.Fatalf("got %v, want the first event", ev.Kind)
	}
	// Room again: a done context stops the send all the same, so a
	// source whose consumer keeps up stops when told to.
	if Send(ctx, out, Event{Kind: KindAction}) {
		t.Fatal("Send with room after cancel = true")
	}
	if len(out) != 0 {
		t.Fatalf("%d events queued after cancel, want none", len(out))
	}
}
