package fwcmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Block labels and attribute names.
const (
	typeName = "fwcmd"
	attrTool = "tool"
	attrBin  = "bin"
	attrBin6 = "bin6"
)

// Arguments are the attributes of a sink "fwcmd" block.
type Arguments struct {
	// Tool is the firewall's program: "firewalld", "ufw", "shorewall" or
	// "pf".
	Tool string `hcl:"tool"`
	// Bin is the program to run: firewall-cmd, ufw, shorewall or pfctl by
	// default (looked up in PATH and the sbin directories), or a path.
	Bin string `hcl:"bin,optional"`
	// Bin6 is shorewall's IPv6 program: shorewall6 by default.
	Bin6 string `hcl:"bin6,optional"`
	// Block is "drop" (the default) or "reject".
	Block string `hcl:"block,optional"`
	// Ports are the destination ports closed to banned hosts ("22",
	// "8000-8080"); empty: all ports. Shorewall takes none.
	Ports []string `hcl:"ports,optional"`
	// Protocol is "tcp" (the default), "udp", a list, or "all".
	Protocol cty.Value `hcl:"protocol,optional"`
	// PrefixV4 and PrefixV6, when set, ban the whole network of that
	// length around a banned address.
	PrefixV4 int `hcl:"prefix_v4,optional"`
	PrefixV6 int `hcl:"prefix_v6,optional"`
	// FlushOnStop lifts the sink's bans (and removes pf's anchor) when
	// it stops.
	FlushOnStop bool `hcl:"flush_on_stop,optional"`
}

// Register adds sink "fwcmd" to r.
func Register(r *engine.Registry) {
	fwconf.Register(r, typeName, "blocks banned hosts through a firewall's own program: firewalld, ufw, shorewall or pf",
		func() *Arguments { return &Arguments{} }, New)
}

// config is the checked configuration of a sink.
type config struct {
	fwconf.Filter
	tool        string
	bins        [2]string // the programs for IPv4 and IPv6 (the same but for shorewall)
	prefix      [2]int
	flushOnStop bool
}

// Sink is a running sink "fwcmd".
type Sink struct {
	cfg config
	fw  fwsync.Stage
}

// protocols are those whose ports the tools match.
var protocols = []string{"tcp", "udp", "sctp", "dccp"}

var _ engine.Stage = (*Sink)(nil)

// defaultBins are each tool's programs.
var defaultBins = map[string][2]string{
	"firewalld": {"firewall-cmd", "firewall-cmd"},
	"ufw":       {"ufw", "ufw"},
	"shorewall": {"shorewall", "shorewall6"},
	"pf":        {"pfctl", "pfctl"},
}

// New checks args and returns the sink. It does no I/O. Errors are
// *confval.AttrError values naming the attribute, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	cfg := config{tool: args.Tool, flushOnStop: args.FlushOnStop}
	bins, ok := defaultBins[cfg.tool]
	if !ok {
		errs = append(errs, confval.AttrErr(attrTool, fmt.Errorf("unknown tool %q; use \"firewalld\", \"ufw\", \"shorewall\" or \"pf\"", args.Tool)))
	}
	if args.Bin != "" {
		bins[0] = args.Bin
		if cfg.tool != "shorewall" {
			bins[1] = args.Bin
		}
	}
	if args.Bin6 != "" {
		if cfg.tool != "shorewall" {
			errs = append(errs, confval.AttrErr(attrBin6, fmt.Errorf("only tool \"shorewall\" has a program of its own for IPv6 (shorewall6); %q uses bin for both", cfg.tool)))
		}
		bins[1] = args.Bin6
	}
	cfg.bins = bins
	f, ferrs := fwconf.ParseFilter(args.Block, args.Ports, args.Protocol, protocols)
	cfg.Filter, errs = f, append(errs, ferrs...)
	switch {
	case len(cfg.Protocols) == 0 && len(args.Ports) > 0:
		// Protocol "all" (or a bad one) with ports: reported already.
	case cfg.tool == "shorewall" && len(args.Ports) > 0:
		errs = append(errs, confval.AttrErr(fwconf.AttrPorts, errors.New(`shorewall's dynamic blacklist blocks every port of a banned host; leave ports out`)))
	case cfg.tool == "ufw" && slices.ContainsFunc(cfg.Protocols, func(p string) bool { return p != "tcp" && p != "udp" }):
		errs = append(errs, confval.AttrErr(fwconf.AttrProtocol, errors.New(`ufw matches ports of tcp and udp only`)))
	case cfg.tool == "ufw" && fwconf.Slots(cfg.Ports) > 15:
		errs = append(errs, confval.AttrErr(fwconf.AttrPorts, errors.New("ufw takes at most 15 ports in one rule (a range counts as two)")))
	}
	prefix, perrs := fwconf.ParsePrefixes(args.PrefixV4, args.PrefixV6)
	cfg.prefix, errs = prefix, append(errs, perrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Sink{cfg: cfg}
	s.fw.Init(typeName, opts)
	return s, nil
}

// CheckEnv implements engine.EnvChecker: the tool's programs must be
// installed.
func (s *Sink) CheckEnv() error {
	var errs []error
	for i, b := range s.cfg.bins {
		if i == 1 && b == s.cfg.bins[0] {
			break
		}
		if _, err := lookpath.Find(b); err != nil {
			attr := attrBin
			if i == 1 {
				attr = attrBin6
			}
			errs = append(errs, confval.AttrErr(attr, fmt.Errorf("sink %q with tool %q: %w", typeName, s.cfg.tool, err)))
		}
	}
	return errors.Join(errs...)
}

// Stats returns the sink's counts: fwcmd_batches, fwcmd_elements_added,
// fwcmd_elements_deleted, fwcmd_errors (see fwsync.Driver.Stats).
func (s *Sink) Stats() map[string]int64 { return s.fw.Stats() }

// group is the name of a jail in pf's table names: the jail name when it
// fits, else "j" and a hash of the name (see fwconf.Stem).
func group(jail string) string { return fwconf.Stem(jail) }

// Run implements engine.Stage: it finds the programs and applies the
// actions it reads through them until in is closed. It never writes to
// out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	b := &backend{cfg: &s.cfg, logger: s.fw.Logger, run: s.fw.Runner(), applied: map[fwsync.Key]bool{}}
	for i, bin := range s.cfg.bins {
		p, err := lookpath.Find(bin)
		if err != nil {
			return fmt.Errorf("sink %q with tool %q: %w", typeName, s.cfg.tool, err)
		}
		b.bins[i] = p
	}
	cfg := fwsync.Config{
		Prefix:      s.cfg.prefix,
		FlushOnStop: s.cfg.flushOnStop,
		// A program run per ban (ufw, firewall-cmd) is slow: small
		// batches keep newer actions from waiting long.
		MaxBatch: 200,
	}
	if s.cfg.tool == "pf" {
		// A table per jail. The other tools' rules are the machine's:
		// two jails banning a host share them, and they stay while one
		// of the jails bans it.
		cfg.GroupOf = group
	} else {
		cfg.Groups = []string{""}
	}
	if s.cfg.tool == "firewalld" {
		// Runtime rich rules take a timeout: firewalld ends the ban
		// itself if f2b is down.
		cfg.Timeout = func(end, _ time.Time) time.Time { return end }
	}
	return s.fw.Run(ctx, in, cfg, b)
}

// ReadsMatches implements engine.MatchesReader: this sink never shows the
// lines behind a ban, so counters need not keep them for it.
func (s *Sink) ReadsMatches() bool { return false }
