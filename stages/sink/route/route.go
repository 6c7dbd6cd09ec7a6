package route

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Block labels and attribute names.
const (
	typeName  = "route"
	attrType  = "type"
	attrProto = "route_proto"
	attrTable = "table"

	defaultProto = 252
	mainTable    = 254
)

// Arguments are the attributes of a sink "route" block.
type Arguments struct {
	// Type is the route type: "blackhole" (the default; packets to the
	// host are dropped silently), "unreachable" or "prohibit" (the sender
	// of a packet to the host gets an ICMP error).
	Type string `hcl:"type,optional"`
	// RouteProto is the protocol number the sink marks its routes with
	// (252 by default): the routes with it are the sink's, so it never
	// touches another route. It must be one no other program uses.
	RouteProto int `hcl:"route_proto,optional"`
	// Table is the routing table (a number); the main table by default.
	Table int `hcl:"table,optional"`
	// PrefixV4 and PrefixV6, when set, route the whole network of that
	// length around a banned address.
	PrefixV4 int `hcl:"prefix_v4,optional"`
	PrefixV6 int `hcl:"prefix_v6,optional"`
	// FlushOnStop removes the sink's routes when it stops.
	FlushOnStop bool `hcl:"flush_on_stop,optional"`
}

// Register adds sink "route" to r.
func Register(r *engine.Registry) {
	fwconf.Register(r, typeName, "blocks banned hosts with blackhole (or unreachable, prohibit) routes",
		func() *Arguments { return &Arguments{} }, New)
}

// config is the checked configuration of a sink.
type config struct {
	typ         string
	proto       string
	table       string
	prefix      [2]int
	flushOnStop bool
}

// Sink is a running sink "route".
type Sink struct {
	cfg config
	fw  fwsync.Stage
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O. Errors are
// *confval.AttrError values naming the attribute, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	cfg := config{typ: args.Type, flushOnStop: args.FlushOnStop}
	switch cfg.typ {
	case "":
		cfg.typ = "blackhole"
	case "blackhole", "unreachable", "prohibit":
	default:
		errs = append(errs, confval.AttrErr(attrType, fmt.Errorf("unknown route type %q; use \"blackhole\", \"unreachable\" or \"prohibit\"", args.Type)))
	}
	proto := args.RouteProto
	if proto == 0 {
		proto = defaultProto
	}
	if proto < 5 || proto > 255 {
		// 0 to 4 are the kernel's and the admin's routes (unspec,
		// redirect, kernel, boot, static).
		errs = append(errs, confval.AttrErr(attrProto, fmt.Errorf("%d is not usable: give a protocol number from 5 to 255 that no other program uses (252 by default)", args.RouteProto)))
	}
	cfg.proto = strconv.Itoa(proto)
	table := args.Table
	if table == 0 {
		table = mainTable
	}
	if table < 1 || table > 1<<31 || table == 255 {
		errs = append(errs, confval.AttrErr(attrTable, fmt.Errorf("%d is not a usable routing table: give a number other than 255 (local), or leave it out for the main table", args.Table)))
	}
	cfg.table = strconv.Itoa(table)
	prefix, perrs := fwconf.ParsePrefixes(args.PrefixV4, args.PrefixV6)
	cfg.prefix, errs = prefix, append(errs, perrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Sink{cfg: cfg}
	s.fw.Init(typeName, opts)
	return s, nil
}

// CheckEnv implements engine.EnvChecker: the ip program (iproute2) must be
// installed.
func (s *Sink) CheckEnv() error {
	if _, err := lookpath.Find("ip"); err != nil {
		return fmt.Errorf("sink %q needs the ip program (package iproute2): %w", typeName, err)
	}
	return nil
}

// Stats returns the sink's counts: route_batches, route_elements_added,
// route_elements_deleted, route_errors (see fwsync.Driver.Stats).
func (s *Sink) Stats() map[string]int64 { return s.fw.Stats() }

// Run implements engine.Stage: it keeps the sink's routes in line with
// the actions it reads until in is closed. It never writes to out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	ip := "ip"
	if s.fw.Wrap == nil {
		p, err := lookpath.Find("ip")
		if err != nil {
			return fmt.Errorf("sink %q needs the ip program (package iproute2): %w", typeName, err)
		}
		ip = p
	}
	b := &backend{cfg: &s.cfg, logger: s.fw.Logger, run: s.fw.Runner(), ip: ip}
	return s.fw.Run(ctx, in, fwsync.Config{Groups: []string{""}, Prefix: s.cfg.prefix, FlushOnStop: s.cfg.flushOnStop}, b)
}

// ReadsMatches implements engine.MatchesReader: this sink never shows the
// lines behind a ban, so counters need not keep them for it.
func (s *Sink) ReadsMatches() bool { return false }
