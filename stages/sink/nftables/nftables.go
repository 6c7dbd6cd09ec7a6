package nftables

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Block labels and attribute names.
const (
	typeName     = "nftables"
	attrTable    = "table"
	attrPriority = "priority"
	attrHook     = "hook"

	defaultTable    = "f2b"
	defaultPriority = -10
)

// maxTimeout caps an element's timeout (the kernel refuses timeouts much
// past a thousand years; a ten-year ban is permanent in practice). The
// sink's other tunings are fwsync's defaults: batches of up to 5000
// elements, a restored burst that ends 200 ms after its last ban, stale
// elements deleted 10 s after the start, retries from 1 s to 1 min.
const maxTimeout = 10 * 365 * 24 * time.Hour

// Arguments are the attributes of a sink "nftables" block.
type Arguments struct {
	// Table is the nftables table (family inet) the sink keeps its sets
	// and chains in; "f2b" by default. The sink never touches other tables.
	// Sinks may share a table; each has its own chains, and their jails'
	// sets must not overlap (give each its own table otherwise).
	Table string `hcl:"table,optional"`
	// Hook is where the sink blocks: "input" (the default: packets to
	// this host), "forward" (packets this host routes: published ports of
	// Docker or Kubernetes containers, a router's clients), or the list
	// ["input", "forward"] for both. Each hook has a chain of its own
	// (input_NAME, forward_NAME) with the same rules and sets.
	Hook cty.Value `hcl:"hook,optional"`
	// Priority is the priority of the sink's chains (at each hook); -10 by
	// default, so they run before a usual filter input or forward chain
	// (priority 0).
	Priority *int `hcl:"priority,optional"`
	// Block is what happens to a banned host's packets: "drop" (the
	// default) or "reject" (TCP reset for TCP only, else ICMP port
	// unreachable).
	Block string `hcl:"block,optional"`
	// Ports are the destination ports that are closed to banned hosts:
	// numbers or ranges ("22", "8000-8080"). Empty: all ports.
	Ports []string `hcl:"ports,optional"`
	// Protocol is "tcp" (the default), "udp", "sctp", a list of these, or
	// "all" (every packet of a banned host, ICMP included; no ports).
	Protocol cty.Value `hcl:"protocol,optional"`
	// PrefixV4 and PrefixV6, when set, ban the whole network of that
	// length around a banned address (e.g. 24 and 64). The network stays
	// blocked while any banned host of the jail is in it.
	PrefixV4 int `hcl:"prefix_v4,optional"`
	PrefixV6 int `hcl:"prefix_v6,optional"`
	// FlushOnStop removes the sink's chains and sets (and the table when
	// nothing else is left in it) when the sink stops. By default they stay
	// and the kernel's timeouts end the bans, so bans survive a restart.
	FlushOnStop bool `hcl:"flush_on_stop,optional"`
}

// Register adds sink "nftables" to r.
func Register(r *engine.Registry) {
	fwconf.Register(r, typeName, "blocks banned hosts with nftables sets in a table of its own",
		func() *Arguments {
			p := defaultPriority
			return &Arguments{Table: defaultTable, Priority: &p, Block: "drop"}
		}, New)
}

// config is the checked configuration of a sink.
type config struct {
	fwconf.Filter
	table string
	// chains are the sink's chains, one per configured hook, in the
	// order of hookNames.
	chains []hookChain
	// unused are the chains of the hooks not configured: the sink's own
	// from a former configuration, removed where found.
	unused      []hookChain
	priority    int
	prefix      [2]int // network length per family (v4, v6); 0: one address
	flushOnStop bool
}

// Sink is a running sink "nftables".
type Sink struct {
	cfg config
	fw  fwsync.Stage

	// nftName is the nft program, looked up unless the test hook
	// fw.Wrap runs it in a network namespace.
	nftName string
}

var _ engine.Stage = (*Sink)(nil)

// nameRE is what the sink accepts as an nftables name without quoting:
// nft 1.0 does not take quoted names, and a leading letter keeps it an
// identifier.
var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)

// New checks args and returns the sink. It does no I/O. Errors are
// *confval.AttrError values naming the attribute; all problems are
// reported, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	cfg := config{table: args.Table, priority: defaultPriority, flushOnStop: args.FlushOnStop}
	if cfg.table == "" {
		cfg.table = defaultTable
	}
	if !nameRE.MatchString(cfg.table) {
		errs = append(errs, confval.AttrErr(attrTable, fmt.Errorf("%q is not a usable table name: use a letter, then up to 31 letters, digits, '_' or '-'", cfg.table)))
	}
	if args.Priority != nil {
		p := *args.Priority
		if p < math.MinInt32 || p > math.MaxInt32 {
			errs = append(errs, confval.AttrErr(attrPriority, fmt.Errorf("%d is out of range; a chain priority is a 32-bit number such as -10", p)))
		}
		cfg.priority = p
	}
	f, ferrs := fwconf.ParseFilter(args.Block, args.Ports, args.Protocol, fwconf.Protocols)
	cfg.Filter, errs = f, append(errs, ferrs...)
	prefix, perrs := fwconf.ParsePrefixes(args.PrefixV4, args.PrefixV6)
	cfg.prefix, errs = prefix, append(errs, perrs...)
	hooks, err := fwconf.ParseHooks(args.Hook)
	if err != nil {
		errs = append(errs, confval.AttrErr(attrHook, err))
	}
	for _, h := range hookNames {
		hc := hookChain{name: chainName(h, opts.Name), hook: h}
		if slices.Contains(hooks, h) {
			cfg.chains = append(cfg.chains, hc)
		} else {
			cfg.unused = append(cfg.unused, hc)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Sink{cfg: cfg, nftName: "nft"}
	s.fw.Init("nft", opts)
	return s, nil
}

// hookNames are the hooks a sink can block at, in the order of its
// chains.
var hookNames = fwconf.Hooks

// hookChain is one of the sink's base chains: its name and its hook.
type hookChain struct{ name, hook string }

// ownChains are the names of every chain of the sink: those of its
// hooks and those of the hooks not configured.
func (c *config) ownChains() []string {
	var names []string
	for _, hc := range slices.Concat(c.chains, c.unused) {
		names = append(names, hc.name)
	}
	return names
}

// Stats returns the nft transactions that changed elements
// ("nft_batches"), the set elements added and deleted
// ("nft_elements_added", "nft_elements_deleted"; a changed timeout counts
// as one of each) and the failed nft calls ("nft_errors").
func (s *Sink) Stats() map[string]int64 { return s.fw.Stats() }

// ReadsMatches implements engine.MatchesReader: this sink never shows the
// lines behind a ban, so counters need not keep them for it.
func (s *Sink) ReadsMatches() bool { return false }
