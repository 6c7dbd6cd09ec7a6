package iptables

import (
	"context"
	"errors"
	"fmt"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Run implements engine.Stage: it finds the programs, then keeps the
// sets (or chains) in line with the actions it reads until in is closed.
// It never writes to out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	useIpset := s.cfg.resolveIpset()
	b := &backend{cfg: &s.cfg, logger: s.fw.Logger, run: s.fw.Runner(), ipset: useIpset, ipsetBin: "ipset"}
	var errs []error
	for fam, bin := range s.cfg.bins {
		b.bins[fam] = bin
		if s.fw.Wrap != nil {
			continue // the test's namespace runs the programs by name
		}
		p, err := lookpath.Find(bin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.bins[fam] = p
	}
	if useIpset && s.fw.Wrap == nil {
		p, err := lookpath.Find("ipset")
		if err != nil {
			errs = append(errs, err)
		}
		b.ipsetBin = p
	}
	if len(errs) > 0 {
		return fmt.Errorf("sink %q: %w", typeName, errors.Join(errs...))
	}
	cfg := fwsync.Config{Prefix: s.cfg.prefix, GroupOf: stem, FlushOnStop: s.cfg.flushOnStop}
	if useIpset {
		cfg.Timeout = timeout
	}
	s.fw.Logger.Info("iptables sink starting", "ipset", useIpset, "iptables", b.bins[0], "ip6tables", b.bins[1], "chains", s.cfg.from)
	return s.fw.Run(ctx, in, cfg, b)
}
