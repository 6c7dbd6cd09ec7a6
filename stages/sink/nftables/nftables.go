package nftables

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// Block labels and attribute names.
const (
	typeName      = "nftables"
	attrTable     = "table"
	attrPriority  = "priority"
	attrBlock     = "block"
	attrPorts     = "ports"
	attrProtocol  = "protocol"
	attrPrefixV4  = "prefix_v4"
	attrPrefixV6  = "prefix_v6"
	attrFlushStop = "flush_on_stop"

	defaultTable    = "f2b"
	defaultPriority = -10
)

// Tunings of the sink; the tests shorten some of them per sink.
const (
	// maxBatch bounds the elements changed by one nft transaction of new
	// actions, so one slow batch never holds back newer actions for long.
	maxBatch = 5000
	// restoreIdle ends the burst of restored bans at start: the window
	// closes this long after the last restored action (or after start when
	// none comes), or at the first action that is not a restored one.
	restoreIdle = 200 * time.Millisecond
	// staleGrace is how long the start keeps kernel elements that no
	// restored ban stands for before deleting them, so a counter whose
	// restored burst comes late changes nothing in the kernel.
	staleGrace = 10 * time.Second
	// retryFirst and retryMax bound the backoff of a failed resync.
	retryFirst = time.Second
	retryMax   = time.Minute
	// reconcileSlack is how far an element's timeout read from the kernel
	// may be from the ban's end and still be left as it is.
	reconcileSlack = 5 * time.Second
	// maxTimeout caps an element's timeout (the kernel refuses timeouts
	// much past a thousand years; a ten-year ban is permanent in practice).
	maxTimeout = 10 * 365 * 24 * time.Hour
	// nftTimeout bounds one nft process.
	nftTimeout = 30 * time.Second
)

// Arguments are the attributes of a sink "nftables" block.
type Arguments struct {
	// Table is the nftables table (family inet) the sink keeps its sets
	// and chain in; "f2b" by default. The sink never touches other tables.
	// Sinks may share a table; each has its own chain, and their jails'
	// sets must not overlap (give each its own table otherwise).
	Table string `hcl:"table,optional"`
	// Priority is the priority of the sink's chain at the input hook; -10
	// by default, so it runs before a usual filter input chain (priority 0).
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
	// FlushOnStop removes the sink's chain and sets (and the table when
	// nothing else is left in it) when the sink stops. By default they stay
	// and the kernel's timeouts end the bans, so bans survive a restart.
	FlushOnStop bool `hcl:"flush_on_stop,optional"`
}

// Register adds sink "nftables" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "blocks banned hosts with nftables sets in a table of its own",
		NewArgs: func() any {
			p := defaultPriority
			return &Arguments{Table: defaultTable, Priority: &p, Block: "drop"}
		},
		Build: func(opts engine.Options, args any) (engine.Stage, error) {
			a, ok := args.(*Arguments)
			if !ok {
				return nil, fmt.Errorf("sink %q: arguments are %T, want *nftables.Arguments", typeName, args)
			}
			s, err := New(opts, a)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	})
}

// config is the checked configuration of a sink.
type config struct {
	table       string
	chain       string
	priority    int
	reject      bool
	ports       []portRange // empty: all ports
	protocols   []string    // sorted; empty: all protocols
	prefix      [2]int      // network length per family (v4, v6); 0: one address
	flushOnStop bool
}

// portRange is a port (lo == hi) or an inclusive range.
type portRange struct{ lo, hi uint16 }

// Sink is a running sink "nftables".
type Sink struct {
	cfg    config
	logger *slog.Logger
	clock  engine.Clock

	// Test hooks, set by New to the defaults. nftArgv, when set, is the
	// command that runs nft (the tests run it in a network namespace);
	// else nftName is looked up.
	nftArgv     []string
	nftName     string
	restoreIdle time.Duration
	staleGrace  time.Duration
	retryFirst  time.Duration

	batches, added, deleted, nftErrors atomic.Int64
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
	switch args.Block {
	case "", "drop":
	case "reject":
		cfg.reject = true
	default:
		errs = append(errs, confval.AttrErr(attrBlock, fmt.Errorf("unknown block %q; use \"drop\" or \"reject\"", args.Block)))
	}
	ports, perrs := parsePorts(args.Ports)
	errs = append(errs, perrs...)
	cfg.ports = mergePorts(ports)
	protos, all, err := parseProtocols(args.Protocol)
	if err != nil {
		errs = append(errs, confval.AttrErr(attrProtocol, err))
	}
	cfg.protocols = protos
	if all && len(args.Ports) > 0 {
		errs = append(errs, confval.AttrErr(attrPorts, errors.New(`protocol "all" blocks every packet of a banned host and takes no ports; name the protocols ("tcp", "udp") to block ports`)))
	}
	for fam, p := range []struct {
		attr     string
		bits     int
		min, max int
	}{{attrPrefixV4, args.PrefixV4, 8, 32}, {attrPrefixV6, args.PrefixV6, 16, 128}} {
		switch {
		case p.bits == 0 || p.bits == p.max:
		case p.bits < p.min || p.bits > p.max:
			errs = append(errs, confval.AttrErr(p.attr, fmt.Errorf("%d is out of range: give a network length from %d to %d", p.bits, p.min, p.max)))
		default:
			cfg.prefix[fam] = p.bits
		}
	}
	cfg.chain = chainName(opts.Name)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Sink{
		cfg:         cfg,
		logger:      opts.Logger,
		clock:       opts.Clock,
		nftName:     "nft",
		restoreIdle: restoreIdle,
		staleGrace:  staleGrace,
		retryFirst:  retryFirst,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = engine.WallClock{}
	}
	return s, nil
}

// parsePorts reads the ports attribute; each bad entry is an
// *confval.AttrError with its index.
func parsePorts(entries []string) ([]portRange, []error) {
	var out []portRange
	var errs []error
	for i, e := range entries {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(e), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := parsePort(lo)
		h, err2 := parsePort(hi)
		switch {
		case err1 != nil || err2 != nil:
			errs = append(errs, &confval.AttrError{Attr: attrPorts, Index: i, Err: fmt.Errorf("%q is not a port or a range of ports such as \"22\" or \"8000-8080\"", e)})
		case l > h:
			errs = append(errs, &confval.AttrError{Attr: attrPorts, Index: i, Err: fmt.Errorf("range %q ends before it starts", e)})
		default:
			out = append(out, portRange{l, h})
		}
	}
	return out, errs
}

// mergePorts sorts the ranges and joins those that overlap or touch: nft
// refuses overlapping intervals in one set.
func mergePorts(ps []portRange) []portRange {
	slices.SortFunc(ps, func(a, b portRange) int { return cmp.Compare(a.lo, b.lo) })
	var out []portRange
	for _, p := range ps {
		if n := len(out); n > 0 && uint32(p.lo) <= uint32(out[n-1].hi)+1 {
			out[n-1].hi = max(out[n-1].hi, p.hi)
			continue
		}
		out = append(out, p)
	}
	return out
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("bad port")
	}
	return uint16(n), nil
}

// protocolNames are the protocols whose ports nft can match with "th
// dport" (all carry the ports at the same place).
var protocolNames = map[string]bool{"tcp": true, "udp": true, "sctp": true, "dccp": true, "udplite": true}

// parseProtocols reads the protocol attribute: a string or a list of
// strings. all reports "all", which leaves the list empty.
func parseProtocols(v cty.Value) (protos []string, all bool, err error) {
	if v == cty.NilVal || v.IsNull() {
		return []string{"tcp"}, false, nil
	}
	if !v.IsWhollyKnown() {
		return nil, false, errors.New("value is not known")
	}
	var names []string
	ty := v.Type()
	switch {
	case ty == cty.String:
		names = []string{v.AsString()}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsNull() || ev.Type() != cty.String {
				return nil, false, errors.New(`want "tcp", "udp", "sctp", "all" or a list of protocols`)
			}
			names = append(names, ev.AsString())
		}
	default:
		return nil, false, errors.New(`want "tcp", "udp", "sctp", "all" or a list of protocols`)
	}
	if len(names) == 0 {
		return nil, false, errors.New(`the list is empty; use "all" to block every protocol`)
	}
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		switch {
		case n == "all":
			all = true
		case protocolNames[n]:
			if !seen[n] {
				seen[n] = true
				protos = append(protos, n)
			}
		default:
			return nil, false, fmt.Errorf("unknown protocol %q; use \"tcp\", \"udp\", \"sctp\", \"dccp\", \"udplite\" or \"all\"", n)
		}
	}
	if all {
		if len(protos) > 0 {
			return nil, false, errors.New(`"all" already covers every protocol; give it alone`)
		}
		return nil, true, nil
	}
	slices.Sort(protos)
	return protos, false, nil
}

// Stats returns the nft transactions run ("nft_batches"), the set
// elements added and deleted ("nft_elements_added", "nft_elements_deleted";
// a changed timeout counts as one of each) and the failed nft runs
// ("nft_errors").
func (s *Sink) Stats() map[string]int64 {
	return map[string]int64{
		"nft_batches":          s.batches.Load(),
		"nft_elements_added":   s.added.Load(),
		"nft_elements_deleted": s.deleted.Load(),
		"nft_errors":           s.nftErrors.Load(),
	}
}

// now is the wall time the kernel's timeouts run on. A clock that does not
// run (a replay) gives no time, so the wall clock is taken then: elements
// live in the kernel, which knows no other time.
func (s *Sink) now() time.Time {
	if t := s.clock.Now(); !t.IsZero() {
		return t
	}
	return engine.WallClock{}.Now()
}
