package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type buildArgs struct{ fail bool }

type buildStage struct{}

func (*buildStage) Run(context.Context, <-chan Event, chan<- Event) error { return nil }

func newBuildStage(_ Options, a *buildArgs) (*buildStage, error) {
	if a.fail {
		return nil, errors.New("bad args")
	}
	return &buildStage{}, nil
}

func TestBuildAdapter(t *testing.T) {
	build := Build(newBuildStage)
	st, err := build(Options{}, &buildArgs{})
	if err != nil || st == nil {
		t.Fatalf("good args: %v, %v", st, err)
	}
	st, err = build(Options{}, &buildArgs{fail: true})
	if err == nil || st != nil {
		// A nil *buildStage wrapped in a Stage would not be == nil.
		t.Fatalf("failing constructor: stage %#v (nil interface: %v), err %v", st, st == nil, err)
	}
	if _, err := build(Options{}, &struct{}{}); err == nil || !strings.Contains(err.Error(), "want *engine.buildArgs") {
		t.Fatalf("wrong args type: %v", err)
	}
}
