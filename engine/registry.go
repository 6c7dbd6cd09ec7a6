package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// Stage is one running node.
type Stage interface {
	// Run reads in until it is closed (sources get nil), writes to out, and
	// returns nil after a clean drain. The engine owns every channel: it
	// closes out after Run returns. Sources return when ctx is done or their
	// input ends.
	Run(ctx context.Context, in <-chan Event, out chan<- Event) error
}

// Options are the static dependencies of one node instance.
type Options struct {
	// ID is the node's address, e.g. "counter.sshd".
	ID string
	// Name is the block's name label, e.g. "sshd" (the jail name for counters).
	Name string
	// Logger is scoped to the node.
	Logger *slog.Logger
	// Clock gives the wall time in `run` and never fires in `replay`.
	Clock Clock
	// StateDir is where the node may keep state between runs ("" in replay).
	StateDir string
	// Replay is set when the graph runs over recorded logs on their own clock.
	Replay bool
	// Now is the reference "now" for timestamps without a year or date: the
	// wall clock in run, the moment of the replay (or --now) in replay.
	Now func() time.Time
	// Store keeps bans and source positions across restarts; nil in replay
	// and validate, where stages keep nothing.
	Store Store
	// Rewind is how far back a source re-reads on start, before its saved
	// position, so that counters rebuild the failure windows a restart
	// lost (the longest find_time of the pipeline's counters). Lines read
	// again are marked Line.Recount.
	Rewind time.Duration
}

// Registration describes one stage type, e.g. matcher "regex".
type Registration struct {
	// Kind is the block kind: "source", "matcher", "counter" or "sink".
	Kind string
	// Type is the first block label, e.g. "regex".
	Type string
	// In and Out are the event kinds the stage accepts and emits.
	In, Out Kind
	// Summary is a one-line description for help and diagnostics.
	Summary string
	// NewArgs returns a new pointer to the stage's Arguments struct (with hcl
	// tags), with defaults set.
	NewArgs func() any
	// Build checks the decoded arguments and returns the stage. It must be
	// pure: no I/O, no goroutines, so validate and replay can build every
	// stage safely. Files, sockets and processes are opened in Run.
	Build func(opts Options, args any) (Stage, error)
}

// Registry maps block kinds and types to their registrations. It is a value,
// not a global, so a replay can swap sinks for a recorder.
type Registry struct {
	regs map[string]map[string]Registration
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{regs: map[string]map[string]Registration{}}
}

// Kinds are the block kinds a pipeline may hold, in flow order.
var Kinds = []string{"source", "matcher", "counter", "sink"}

// Register adds r. It panics on a duplicate or incomplete registration:
// those are programming errors that must surface at start-up.
func (r *Registry) Register(reg Registration) {
	if reg.Kind == "" || reg.Type == "" || reg.NewArgs == nil || reg.Build == nil {
		panic(fmt.Sprintf("engine: incomplete registration %s %q", reg.Kind, reg.Type))
	}
	byType := r.regs[reg.Kind]
	if byType == nil {
		byType = map[string]Registration{}
		r.regs[reg.Kind] = byType
	}
	if _, dup := byType[reg.Type]; dup {
		panic(fmt.Sprintf("engine: duplicate registration %s %q", reg.Kind, reg.Type))
	}
	byType[reg.Type] = reg
}

// Lookup returns the registration of kind and typ.
func (r *Registry) Lookup(kind, typ string) (Registration, bool) {
	reg, ok := r.regs[kind][typ]
	return reg, ok
}

// Types lists the registered types of kind, sorted.
func (r *Registry) Types(kind string) []string {
	var out []string
	for t := range r.regs[kind] {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Clone returns a copy of r that can be changed without changing r.
func (r *Registry) Clone() *Registry {
	c := NewRegistry()
	for kind, byType := range r.regs {
		m := make(map[string]Registration, len(byType))
		for t, reg := range byType {
			m[t] = reg
		}
		c.regs[kind] = m
	}
	return c
}

// Replace sets reg, replacing any registration of the same kind and type.
func (r *Registry) Replace(reg Registration) {
	byType := r.regs[reg.Kind]
	if byType == nil {
		byType = map[string]Registration{}
		r.regs[reg.Kind] = byType
	}
	byType[reg.Type] = reg
}

// Build adapts a stage constructor to Registration.Build: it checks that the
// decoded arguments are an *A and calls newStage with them. A constructor
// that fails returns (nil, err) here, never its typed nil pointer: a nil *S
// inside a Stage would not compare equal to nil.
func Build[A any, S Stage](newStage func(Options, *A) (S, error)) func(Options, any) (Stage, error) {
	return func(opts Options, args any) (Stage, error) {
		a, ok := args.(*A)
		if !ok {
			return nil, fmt.Errorf("arguments are %T, want %T", args, (*A)(nil))
		}
		s, err := newStage(opts, a)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}
