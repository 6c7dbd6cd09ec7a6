//go:build linux

package nftables

import (
	"context"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// The kernel tests run nft, listeners and clients in network namespaces of
// their own (fwtest's), so the host's firewall is never touched: every
// nft command of a test runs through `ip netns exec`.

// needKernel skips tb unless it runs as root with ip and nft at hand
// (nft is installed when missing); with F2B_REQUIRE_ALL=1 a missing piece
// fails the test instead.
func needKernel(tb testing.TB) {
	tb.Helper()
	fwtest.NeedRoot(tb, "nft")
}

// driver runs one sink.
type driver = fwtest.Running[*Sink]

// startSink builds a sink from args and runs it with nft in ns, with
// short test timings; mod may change the sink before it runs.
func startSink(tb testing.TB, ns *fwtest.Netns, name string, args Arguments, mod func(*Sink)) *driver {
	tb.Helper()
	return fwtest.StartSink(tb, name, func(o engine.Options) (*Sink, error) { return New(o, &args) }, hooks, ns.Wrap(), mod)
}

// nftScript runs an nft script in ns.
func nftScript(tb testing.TB, ns *fwtest.Netns, script string) {
	tb.Helper()
	ns.RunStdin(tb, script, "nft", "-f", "-")
}

// table reads the table in ns, as the sink with chains reads it.
func table(tb testing.TB, ns *fwtest.Netns, table string, chains ...string) *snapshot {
	tb.Helper()
	snap, err := listTable(context.Background(), &fwrun.Runner{Wrap: ns.Wrap()}, "nft", table, chains, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// hooks are the sink's test hooks.
func hooks(s *Sink) *fwsync.Stage { return &s.fw }
