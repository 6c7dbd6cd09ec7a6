package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// NodeSpec is one configured block before it is built.
type NodeSpec struct {
	// Kind, Type and Name are the block's kind and labels.
	Kind, Type, Name string
	// Inputs are the IDs of the upstream nodes, in the order written.
	Inputs []string
	// Args is the decoded arguments value (a pointer from Registration.NewArgs).
	Args any
}

// ID returns the node's address, "kind.name".
func (n NodeSpec) ID() string { return n.Kind + "." + n.Name }

// Spec is a whole pipeline before it is built.
type Spec struct {
	Nodes []NodeSpec
}

// Severity of a compile problem.
type Severity uint8

// Severities.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// NodeError is one problem the compiler found with a node. The front end maps
// it back to a source range: the input reference at Input when Input >= 0,
// otherwise the block itself.
type NodeError struct {
	Severity Severity
	ID       string // node ID
	Input    int    // index into the node's Inputs, or -1 for the node
	Summary  string // short title, e.g. "Cycle in pipeline"
	Err      error  // the full explanation
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.ID, e.Summary, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// BuildOptions are handed to every stage's Build.
type BuildOptions struct {
	Logger   *slog.Logger
	Clock    Clock
	StateDir string
	Replay   bool
	// Now is the reference "now" for dates without a year; nil means the
	// wall clock.
	Now func() time.Time
	// Store and Rewind are handed to every node (see Options).
	Store  Store
	Rewind time.Duration
}

// Graph is a compiled pipeline, ready to run.
type Graph struct {
	nodes  []*node
	byID   map[string]*node
	logger *slog.Logger
}

type node struct {
	spec      NodeSpec
	reg       Registration
	stage     Stage
	upstream  []*node
	consumers []*node
}

// Compile resolves the references of spec, checks each edge's event kind,
// finds cycles and dangling nodes, and builds every stage. It returns every
// problem found, not only the first; warnings alone leave the graph usable.
// The graph is nil when any error was found.
func Compile(spec Spec, reg *Registry, opts BuildOptions) (*Graph, []*NodeError) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = WallClock{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var problems []*NodeError
	fail := func(sev Severity, id string, input int, summary string, err error) {
		problems = append(problems, &NodeError{Severity: sev, ID: id, Input: input, Summary: summary, Err: err})
	}

	g := &Graph{byID: map[string]*node{}, logger: opts.Logger}
	for _, ns := range spec.Nodes {
		id := ns.ID()
		r, ok := reg.Lookup(ns.Kind, ns.Type)
		if !ok {
			fail(SeverityError, id, -1, "Unknown "+ns.Kind+" type",
				fmt.Errorf("there is no %s of type %q; known types: %s", ns.Kind, ns.Type, strings.Join(reg.Types(ns.Kind), ", ")))
			continue
		}
		if _, dup := g.byID[id]; dup {
			fail(SeverityError, id, -1, "Duplicate "+ns.Kind, fmt.Errorf("%s is declared twice", id))
			continue
		}
		n := &node{spec: ns, reg: r}
		g.nodes = append(g.nodes, n)
		g.byID[id] = n
	}

	// Edges.
	for _, n := range g.nodes {
		id := n.spec.ID()
		if n.reg.In == KindNone && len(n.spec.Inputs) > 0 {
			fail(SeverityError, id, 0, "Unexpected inputs", fmt.Errorf("a %s reads no other node, so it takes no inputs", n.spec.Kind))
			continue
		}
		if n.reg.In != KindNone && len(n.spec.Inputs) == 0 {
			fail(SeverityError, id, -1, SummaryMissingInputs,
				fmt.Errorf("%s reads %s but names no inputs; set inputs = [...] to the nodes it reads", id, n.reg.In))
			continue
		}
		seen := map[string]bool{}
		for i, in := range n.spec.Inputs {
			up, ok := g.byID[in]
			if !ok {
				fail(SeverityError, id, i, "Reference to undeclared node", fmt.Errorf("no node %s is declared", in))
				continue
			}
			if seen[in] {
				fail(SeverityError, id, i, "Duplicate input", fmt.Errorf("%s is listed twice in the inputs of %s", in, id))
				continue
			}
			seen[in] = true
			// NOTE: the edge is kept even when its kinds differ, so a
			// cycle is reported as one whatever the kinds along it.
			n.upstream = append(n.upstream, up)
			up.consumers = append(up.consumers, n)
			if up.reg.Out != n.reg.In {
				fail(SeverityError, id, i, "Mismatched event types",
					fmt.Errorf("the events of %s are %s, but %s reads %s", in, up.reg.Out, id, n.reg.In))
			}
		}
	}

	for _, comp := range findCycles(g.nodes) {
		inComp := map[*node]bool{}
		for _, n := range comp {
			inComp[n] = true
		}
		chain := cyclePath(comp[0], inComp)
		for _, n := range comp {
			// Point at the first input that comes from inside the cycle.
			idx := slices.IndexFunc(n.upstream, func(u *node) bool { return inComp[u] })
			if idx >= 0 {
				idx = slices.Index(n.spec.Inputs, n.upstream[idx].spec.ID())
			}
			fail(SeverityError, n.spec.ID(), idx, "Cycle in pipeline", fmt.Errorf("events would flow in a circle: %s", chain))
		}
	}

	for _, n := range g.nodes {
		if n.reg.Out != KindNone && len(n.consumers) == 0 && hasNoErrorFor(problems, n.spec.ID()) {
			fail(SeverityWarning, n.spec.ID(), -1, "Unused "+n.spec.Kind,
				fmt.Errorf("no node reads the %s of %s; add it to the inputs of a %s", n.reg.Out, n.spec.ID(), consumerKind(n.reg.Out)))
		}
	}

	for _, n := range g.nodes {
		stage, err := n.reg.Build(Options{
			ID:       n.spec.ID(),
			Name:     n.spec.Name,
			Logger:   opts.Logger.With("node", n.spec.ID()),
			Clock:    opts.Clock,
			StateDir: opts.StateDir,
			Replay:   opts.Replay,
			Now:      opts.Now,
			Store:    opts.Store,
			Rewind:   opts.Rewind,
		}, n.spec.Args)
		if err != nil {
			fail(SeverityError, n.spec.ID(), -1, "Invalid "+n.spec.Kind, err)
			continue
		}
		n.stage = stage
	}

	if HasErrors(problems) {
		return nil, problems
	}
	g.keepMatches()
	return g, problems
}

// SummaryMissingInputs is the summary of the problem of a node that reads
// events but names no inputs.
const SummaryMissingInputs = "Missing inputs"

// HasErrors reports whether any problem is an error, not a warning.
func HasErrors(problems []*NodeError) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

func hasNoErrorFor(problems []*NodeError, id string) bool {
	for _, p := range problems {
		if p.ID == id && p.Severity == SeverityError {
			return false
		}
	}
	return true
}

func consumerKind(k Kind) string {
	switch k {
	case KindLine:
		return "matcher"
	case KindFailure:
		return "counter"
	case KindAction:
		return "sink"
	}
	return "node"
}

// findCycles returns the strongly connected components that form cycles
// (Tarjan's algorithm), each in edge order, upstream before downstream.
func findCycles(nodes []*node) [][]*node {
	index := map[*node]int{}
	low := map[*node]int{}
	onStack := map[*node]bool{}
	var stack []*node
	var out [][]*node
	next := 0
	var strong func(v *node)
	strong = func(v *node) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range v.consumers {
			if _, seen := index[w]; !seen {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []*node
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			selfLoop := len(comp) == 1 && slices.Contains(v.consumers, v)
			if len(comp) > 1 || selfLoop {
				slices.Reverse(comp)
				out = append(out, comp)
			}
		}
	}
	for _, n := range nodes {
		if _, seen := index[n]; !seen {
			strong(n)
		}
	}
	return out
}

// cyclePath follows consumers from start inside one strongly connected
// component back to start and returns the path as "a -> b -> a".
func cyclePath(start *node, inComp map[*node]bool) string {
	visited := map[*node]bool{}
	var path []string
	var walk func(n *node) bool
	walk = func(n *node) bool {
		path = append(path, n.spec.ID())
		visited[n] = true
		for _, c := range n.consumers {
			if c == start {
				path = append(path, c.spec.ID())
				return true
			}
			if inComp[c] && !visited[c] && walk(c) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	walk(start)
	return strings.Join(path, " -> ")
}

// ErrNoSource is returned when a graph has nothing to read.
var ErrNoSource = errors.New("pipeline has no source")
