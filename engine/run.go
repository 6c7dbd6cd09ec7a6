package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Stats is an optional interface of stages that count what they did, e.g. a
// matcher's lines, matched and ignored. Keys are summed across nodes.
type Stats interface {
	Stats() map[string]int64
}

// Advisor is an optional interface of stages that have advice about their
// configuration that is no error: e.g. a matcher telling which regexes
// need the backtracking engine. Each error should be a
// *confval.AttrError so the front end can point at the attribute.
type Advisor interface {
	Advice() []error
}

// RunOptions steer Graph.Run.
type RunOptions struct {
	// Grace is how long the non-source stages may keep draining after ctx is
	// done before they are cancelled hard. Zero means 10 seconds.
	Grace time.Duration
	// Buffer is the capacity of each channel. Zero means 256.
	Buffer int
}

// Run starts every node and blocks until all have returned. Cancelling ctx
// stops the sources (soft stop); the rest of the graph drains as its inputs
// close. If the drain outlasts the grace period, every stage is cancelled.
// Sources that end by themselves (replay, stdin) drain the graph the same
// way. Run returns the errors of all stages joined, each wrapped with its
// node ID.
func (g *Graph) Run(ctx context.Context, opts RunOptions) error {
	if opts.Grace == 0 {
		opts.Grace = 10 * time.Second
	}
	if opts.Buffer == 0 {
		opts.Buffer = 256
	}
	// NOTE: softCtx reaches sources only; hardCtx reaches every stage and
	// every engine send, so a stuck consumer cannot block shutdown forever.
	hardCtx, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	softCtx, softCancel := context.WithCancel(ctx)
	defer softCancel()

	// Each node gets one input channel (nil for sources) that the engine
	// closes once every upstream has finished, and one output channel that
	// the engine closes after the node's Run returns.
	ins := make(map[*node]chan Event, len(g.nodes))
	inWG := make(map[*node]*sync.WaitGroup, len(g.nodes))
	for _, n := range g.nodes {
		if len(n.upstream) > 0 {
			ins[n] = make(chan Event, opts.Buffer)
			inWG[n] = &sync.WaitGroup{}
			inWG[n].Add(len(n.upstream))
		}
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	record := func(id string, err error) {
		mu.Lock()
		errs = append(errs, fmt.Errorf("%s: %w", id, err))
		mu.Unlock()
	}

	for _, n := range g.nodes {
		// A node with one consumer sends straight into the consumer's
		// input: no forwarding goroutine, and two channel operations per
		// event fewer on the hot path (source to matcher to counter). Its
		// part in closing that input is done once Run returns.
		var out chan Event
		direct := len(n.consumers) == 1
		if direct {
			out = ins[n.consumers[0]]
		} else {
			out = make(chan Event, opts.Buffer)
		}
		in := ins[n]
		id := n.spec.ID()
		stageCtx := hardCtx
		if n.reg.In == KindNone {
			stageCtx = softCtx
		}
		var src <-chan Event
		if in != nil {
			src = in
			if n.reg.Out == KindNone {
				// A sink reads from its own elastic queue (see elastic).
				q := make(chan Event, opts.Buffer)
				wg.Go(func() { elastic(hardCtx, in, q, sinkQueueLimit, g.logger, id) })
				src = q
			}
		}
		wg.Go(func() {
			err := n.stage.Run(stageCtx, src, out)
			// A stage that returns context.Canceled because it was told to
			// stop has not failed.
			if err != nil && !(errors.Is(err, context.Canceled) && stageCtx.Err() != nil) {
				g.logger.Error("stage failed", "node", id, "err", err)
				record(id, err)
			}
			if direct {
				inWG[n.consumers[0]].Done()
			} else {
				close(out)
			}
			// A stage that returned early must not block its upstreams.
			if src != nil {
				for range src {
				}
			}
		})
		if !direct {
			wg.Go(func() { g.forward(hardCtx, n, out, ins, inWG) })
		}
	}

	closeInputs(ins, inWG)

	// The soft stop turns hard after the grace period.
	stopped := make(chan struct{})
	go func() {
		select {
		case <-stopped:
			return
		case <-softCtx.Done():
		}
		select {
		case <-stopped:
		case <-time.After(opts.Grace):
			g.logger.Warn("pipeline did not drain in time; cancelling", "grace", opts.Grace)
			hardCancel()
		}
	}()
	wg.Wait()
	close(stopped)
	return errors.Join(errs...)
}

// forward copies a node's output to each consumer's input and closes a
// consumer's input once its last upstream is done. Output nobody reads is
// discarded.
func (g *Graph) forward(ctx context.Context, n *node, out <-chan Event, ins map[*node]chan Event, inWG map[*node]*sync.WaitGroup) {
	defer func() {
		for _, c := range n.consumers {
			wg := inWG[c]
			wg.Done()
		}
	}()
	targets := make([]chan Event, len(n.consumers))
	for i, c := range n.consumers {
		targets[i] = ins[c]
	}
	for ev := range out {
		for _, t := range targets {
			// After a hard stop Send gives up at once: keep reading out
			// so the stage can return.
			Send(ctx, t, ev)
		}
	}
}

// closeInputs starts one goroutine per consumer input that closes it when
// all of its upstreams are done.
func closeInputs(ins map[*node]chan Event, inWG map[*node]*sync.WaitGroup) {
	for n, ch := range ins {
		go func() {
			inWG[n].Wait()
			close(ch)
		}()
	}
}

// Nodes returns the IDs of the graph's nodes in declaration order.
func (g *Graph) Nodes() []string {
	ids := make([]string, len(g.nodes))
	for i, n := range g.nodes {
		ids[i] = n.spec.ID()
	}
	return ids
}

// Stage returns the built stage of node id.
func (g *Graph) Stage(id string) (Stage, bool) {
	n, ok := g.byID[id]
	if !ok {
		return nil, false
	}
	return n.stage, true
}

// Inputs returns the IDs of the nodes that id reads, in declaration order.
func (g *Graph) Inputs(id string) []string {
	n, ok := g.byID[id]
	if !ok {
		return nil
	}
	ids := make([]string, len(n.upstream))
	for i, u := range n.upstream {
		ids[i] = u.spec.ID()
	}
	return ids
}

// Stats sums the counts of every stage that implements Stats.
func (g *Graph) Stats() map[string]int64 {
	sum := map[string]int64{}
	for _, n := range g.nodes {
		if s, ok := n.stage.(Stats); ok {
			for k, v := range s.Stats() {
				sum[k] += v
			}
		}
	}
	return sum
}
