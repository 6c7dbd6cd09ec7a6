package fwcmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// step is one program run and the changes it carries: when it fails,
// they are retried.
type step struct {
	argv  []string
	stdin string
	ops   []fwsync.Op
}

// backend is the fwsync.Backend of one Run: the tool's program.
type backend struct {
	cfg    *config
	logger *slog.Logger
	run    *fwrun.Runner
	bins   [2]string

	// applied is what the sink added through the tool, for flush_on_stop
	// with a tool it cannot read back. Only the driver's goroutines use
	// it, one at a time.
	applied map[fwsync.Key]bool
}

// Sync implements fwsync.Backend: pf gets its anchor's table and rule;
// pf's tables and ufw's rules (marked by their comment) are read back;
// firewalld and shorewall cannot be, so the restored bans are applied
// again (both take a ban that is there without harm).
func (b *backend) Sync(ctx context.Context, groups []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	held := map[string]map[netip.Prefix]fwsync.Elem{}
	for _, g := range slices.Sorted(slices.Values(groups)) {
		held[g] = map[netip.Prefix]fwsync.Elem{}
	}
	switch b.cfg.tool {
	case "pf":
		for g := range held {
			if _, err := b.run.Run(ctx, b.pfRules(g), b.bins[0], "-a", pfAnchor(g), "-f", "-"); err != nil {
				return nil, fmt.Errorf("loading the rules of anchor %s: %w", pfAnchor(g), err)
			}
			out, err := b.run.Run(ctx, "", b.bins[0], "-a", pfAnchor(g), "-t", pfTable(g), "-T", "show")
			if err != nil {
				return nil, fmt.Errorf("reading table %s: %w", pfTable(g), err)
			}
			for _, f := range strings.Fields(string(out)) {
				if p, ok := fwsync.ParseNet(f); ok {
					held[g][p] = fwsync.Elem{}
				}
			}
		}
	case "ufw":
		out, err := b.run.Run(ctx, "", b.bins[0], "show", "added")
		if err != nil {
			return nil, fmt.Errorf("reading ufw's rules: %w", err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if p, ok := b.parseUfw(line); ok && held[""] != nil {
				held[""][p] = fwsync.Elem{}
			}
		}
	}
	for g, m := range held {
		for p := range m {
			b.applied[fwsync.Key{Group: g, Net: p}] = true
		}
	}
	return held, nil
}

// Apply implements fwsync.Backend: it runs the tool's steps one after
// the other; the changes of a failed step are reported failed.
func (b *backend) Apply(ctx context.Context, ops []fwsync.Op) error {
	var steps []step
	switch b.cfg.tool {
	case "ufw":
		steps = b.ufwSteps(ops)
	case "firewalld":
		steps = b.firewalldSteps(ops, time.Now())
	case "shorewall":
		steps = b.listSteps(ops, func(o fwsync.Op) []string {
			verb := "drop"
			if b.cfg.Reject {
				verb = "reject"
			}
			if o.Kind == fwsync.Delete {
				verb = "allow"
			}
			return []string{b.bins[fwsync.Family(o.Key.Net.Addr())], verb}
		})
	case "pf":
		steps = b.listSteps(ops, func(o fwsync.Op) []string {
			verb := "add"
			if o.Kind == fwsync.Delete {
				verb = "delete"
			}
			return []string{b.bins[0], "-a", pfAnchor(o.Key.Group), "-t", pfTable(o.Key.Group), "-T", verb}
		})
	}
	failed := map[fwsync.Key]bool{}
	var errs []error
	for _, s := range steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := b.run.Run(ctx, s.stdin, s.argv...); err != nil {
			errs = append(errs, err)
			for _, o := range s.ops {
				failed[o.Key] = true
			}
		}
	}
	var bad []fwsync.Op
	for _, o := range ops {
		switch {
		case failed[o.Key]:
			bad = append(bad, o)
		case o.Kind == fwsync.Delete:
			delete(b.applied, o.Key)
		default:
			b.applied[o.Key] = true
		}
	}
	if len(bad) > 0 {
		return &fwsync.PartialError{Failed: bad, Err: errors.Join(errs...)}
	}
	return nil
}

// listSteps batches ops that differ only in their address into one run
// of the program that head gives, with the addresses as the last
// arguments (shorewall, pfctl).
func (b *backend) listSteps(ops []fwsync.Op, head func(fwsync.Op) []string) []step {
	const maxArgs = 500
	var steps []*step
	open := map[string]*step{}
	for _, o := range ops {
		if o.Kind == fwsync.Update {
			continue // neither tool keeps timeouts
		}
		h := head(o)
		k := strings.Join(h, "\x00")
		s := open[k]
		if s == nil || len(s.ops) >= maxArgs {
			s = &step{argv: h}
			open[k] = s
			steps = append(steps, s)
		}
		s.argv = append(s.argv, fwsync.NetText(o.Key.Net))
		s.ops = append(s.ops, o)
	}
	out := make([]step, len(steps))
	for i, s := range steps {
		out[i] = *s
	}
	return out
}

// Teardown implements fwsync.Backend: the sink's bans are lifted, and
// pf's anchor is emptied.
func (b *backend) Teardown(ctx context.Context, groups []string) error {
	var ops []fwsync.Op
	for _, k := range slices.SortedFunc(maps.Keys(b.applied), func(x, y fwsync.Key) int {
		if c := strings.Compare(x.Group, y.Group); c != 0 {
			return c
		}
		return x.Net.Addr().Compare(y.Net.Addr())
	}) {
		ops = append(ops, fwsync.Op{Kind: fwsync.Delete, Key: k})
	}
	if b.cfg.tool == "pf" {
		var errs []error
		for _, g := range slices.Sorted(slices.Values(groups)) {
			for _, args := range [][]string{{"-t", pfTable(g), "-T", "kill"}, {"-F", "rules"}} {
				if _, err := b.run.Run(ctx, "", append([]string{b.bins[0], "-a", pfAnchor(g)}, args...)...); err != nil {
					errs = append(errs, err)
				}
			}
		}
		return errors.Join(errs...)
	}
	if len(ops) == 0 {
		return nil
	}
	return b.Apply(ctx, ops)
}
