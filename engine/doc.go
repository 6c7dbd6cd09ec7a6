// Package engine runs an f2b pipeline: a graph of stages joined by channels.
//
// # Model
//
// A pipeline is a set of nodes. Each node is one configured block
// (`matcher "regex" "sshd"` is node "matcher.sshd") and runs one [Stage] in
// its own goroutine. Edges are declared by the downstream node naming its
// upstreams; every edge carries one [Kind] of [Event] and the compiler checks
// that the upstream's output kind is the downstream's input kind.
//
// # Channels and shutdown
//
// The engine owns every channel. Each node writes to one output channel; the
// engine closes it after the node's Run returns, fans it out to every
// consumer, and merges the outputs of several upstreams into one input.
// Stopping cancels the sources only (the soft context); everything downstream
// drains as its input closes. A hard deadline cancels the rest.
//
// # Time
//
// Stages never call time.Now: event time comes from the lines themselves and
// the [Clock] in [Options] is the wall clock in `f2b run` and a clock that
// never fires in `f2b replay`, where the log's own time drives every timer.
package engine
