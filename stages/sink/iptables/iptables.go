package iptables

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Block labels and attribute names.
const (
	typeName      = "iptables"
	attrUseIpset  = "use_ipset"
	attrIptables  = "iptables"
	attrIp6tables = "ip6tables"
	attrChain     = "chain"
)

// hookChains are the built-in chains of the hooks (fwconf.Hooks): those
// that jump to the sink's chains for hook = "input" and "forward".
var hookChains = map[string]string{"input": "INPUT", "forward": "FORWARD"}

// ipsetMaxTimeout is the longest element timeout the sink gives ipset, in
// seconds (what every kernel takes; fail2ban's limit too). A longer ban
// gets an element without timeout, which its unban removes.
const ipsetMaxTimeout = 2147483

// ipsetMaxElem is the maxelem of the sink's sets: far above any jail's
// bans (ipset's default, 65536, is within reach of a busy server).
const ipsetMaxElem = 1048576

// Arguments are the attributes of a sink "iptables" block.
type Arguments struct {
	// UseIpset is true (bans in ipset sets, one rule per jail), false (one
	// rule per ban), or "auto" (the default): ipset when its program is
	// installed.
	UseIpset cty.Value `hcl:"use_ipset,optional"`
	// Iptables is the iptables program: "iptables" (the default; on Debian
	// its nf_tables flavour), "iptables-legacy", "iptables-nft" or a path.
	// The IPv6 one and the -save and -restore ones are named after it.
	Iptables string `hcl:"iptables,optional"`
	// Ip6tables overrides the IPv6 program named after Iptables.
	Ip6tables string `hcl:"ip6tables,optional"`
	// Hook is where the sink blocks: "input" (the default: INPUT jumps to
	// the jails' chains; packets to this host), "forward" (FORWARD does:
	// packets this host routes, such as those to the published ports of
	// Docker or Kubernetes containers, or a router's clients), or
	// ["input", "forward"] for both. Jumps to the jails' chains from INPUT
	// or FORWARD when their hook is not configured are removed.
	Hook cty.Value `hcl:"hook,optional"`
	// Chain, instead of hook, names the one chain of the filter table
	// that jumps to the jails' chains ("INPUT", "FORWARD", or a chain of
	// the admin's that those jump to).
	Chain string `hcl:"chain,optional"`
	// Block is "drop" (the default) or "reject" (ICMP port unreachable).
	Block string `hcl:"block,optional"`
	// Ports are the destination ports closed to banned hosts: numbers or
	// ranges ("22", "8000-8080"). Empty: all ports.
	Ports []string `hcl:"ports,optional"`
	// Protocol is "tcp" (the default), "udp", "sctp", "dccp", "udplite",
	// a list of these, or "all" (every packet; no ports).
	Protocol cty.Value `hcl:"protocol,optional"`
	// PrefixV4 and PrefixV6, when set, ban the whole network of that
	// length around a banned address (hash:net sets, or rules on the
	// network).
	PrefixV4 int `hcl:"prefix_v4,optional"`
	PrefixV6 int `hcl:"prefix_v6,optional"`
	// FlushOnStop removes the sink's rules, chains and sets when it stops.
	FlushOnStop bool `hcl:"flush_on_stop,optional"`
}

// Register adds sink "iptables" to r.
func Register(r *engine.Registry) {
	fwconf.Register(r, typeName, "blocks banned hosts with iptables rules, through ipset sets when ipset is installed",
		func() *Arguments { return &Arguments{} }, New)
}

// ipsetMode is the use_ipset setting.
type ipsetMode uint8

const (
	ipsetAuto ipsetMode = iota
	ipsetOn
	ipsetOff
)

// config is the checked configuration of a sink.
type config struct {
	fwconf.Filter
	useIpset ipsetMode
	bins     [2]string // iptables, ip6tables
	// from are the chains that jump to ours: those of the hooks (in
	// the order of fwconf.Hooks), or chain.
	from []string
	// stale are the hooks' chains not in from: jumps to ours found there
	// are a former configuration's, and go.
	stale       []string
	prefix      [2]int
	flushOnStop bool
}

// Sink is a running sink "iptables".
type Sink struct {
	cfg config
	fw  fwsync.Stage
}

var _ engine.Stage = (*Sink)(nil)

// chainRE is a built-in chain name.
var chainRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,27}$`)

// New checks args and returns the sink. It does no I/O. Errors are
// *confval.AttrError values naming the attribute, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	cfg := config{flushOnStop: args.FlushOnStop}
	errs = append(errs, cfg.parseFrom(args.Hook, args.Chain)...)
	mode, err := parseUseIpset(args.UseIpset)
	if err != nil {
		errs = append(errs, confval.AttrErr(attrUseIpset, err))
	}
	cfg.useIpset = mode
	bin := args.Iptables
	if bin == "" {
		bin = "iptables"
	}
	if !strings.Contains(filepath.Base(bin), "iptables") {
		errs = append(errs, confval.AttrErr(attrIptables, fmt.Errorf("%q is not an iptables program (iptables, iptables-legacy, iptables-nft or a path to one)", bin)))
	}
	cfg.bins[0] = bin
	cfg.bins[1] = args.Ip6tables
	if cfg.bins[1] == "" {
		dir, base := filepath.Split(bin)
		cfg.bins[1] = dir + strings.Replace(base, "iptables", "ip6tables", 1)
	}
	f, ferrs := fwconf.ParseFilter(args.Block, args.Ports, args.Protocol, fwconf.Protocols)
	cfg.Filter, errs = f, append(errs, ferrs...)
	prefix, perrs := fwconf.ParsePrefixes(args.PrefixV4, args.PrefixV6)
	cfg.prefix, errs = prefix, append(errs, perrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Sink{cfg: cfg}
	s.fw.Init(typeName, opts)
	return s, nil
}

// parseFrom sets the chains that jump to the sink's from hook or chain
// (at most one of them is set), and the stale ones.
func (c *config) parseFrom(hook cty.Value, chain string) []error {
	hookSet := hook != cty.NilVal && !hook.IsNull()
	var errs []error
	switch {
	case chain != "" && hookSet:
		errs = append(errs, confval.AttrErr(attrChain, errors.New("set hook or chain, not both: hook picks INPUT and/or FORWARD, chain names one chain instead")))
	case chain != "":
		if !chainRE.MatchString(chain) {
			errs = append(errs, confval.AttrErr(attrChain, fmt.Errorf("%q is not a chain name such as \"INPUT\" or \"FORWARD\"", chain)))
		}
		c.from = []string{chain}
	default:
		hooks, err := fwconf.ParseHooks(hook)
		if err != nil {
			errs = append(errs, confval.AttrErr(fwconf.AttrHook, err))
		}
		for _, h := range hooks {
			c.from = append(c.from, hookChains[h])
		}
	}
	for _, h := range fwconf.Hooks {
		if !slices.Contains(c.from, hookChains[h]) {
			c.stale = append(c.stale, hookChains[h])
		}
	}
	return errs
}

func parseUseIpset(v cty.Value) (ipsetMode, error) {
	if v == cty.NilVal || v.IsNull() {
		return ipsetAuto, nil
	}
	if !v.IsWhollyKnown() {
		return 0, errors.New("value is not known")
	}
	switch v.Type() {
	case cty.Bool:
		if v.True() {
			return ipsetOn, nil
		}
		return ipsetOff, nil
	case cty.String:
		if v.AsString() == "auto" {
			return ipsetAuto, nil
		}
		return 0, fmt.Errorf("%q is not a setting; use true, false or \"auto\"", v.AsString())
	}
	return 0, fmt.Errorf("want true, false or \"auto\", not a %s", v.Type().FriendlyName())
}

// programs returns the programs a Run needs: ipset is known by then.
func (c *config) programs(useIpset bool) []string {
	var out []string
	for _, b := range c.bins {
		out = append(out, b, b+"-restore", b+"-save")
	}
	if useIpset {
		out = append(out, "ipset")
	}
	return out
}

// resolveIpset decides whether a Run uses ipset.
func (c *config) resolveIpset() bool {
	switch c.useIpset {
	case ipsetOn:
		return true
	case ipsetOff:
		return false
	}
	_, err := lookpath.Find("ipset")
	return err == nil
}

// CheckEnv implements engine.EnvChecker: the iptables programs, and
// ipset when use_ipset = true, must be installed.
func (s *Sink) CheckEnv() error {
	var errs []error
	for _, p := range s.cfg.programs(s.cfg.useIpset == ipsetOn) {
		if _, err := lookpath.Find(p); err != nil {
			attr := attrIptables
			if p == "ipset" {
				attr = attrUseIpset
			}
			errs = append(errs, confval.AttrErr(attr, fmt.Errorf("sink %q: %w", typeName, err)))
		}
	}
	return errors.Join(errs...)
}

// Stats returns the sink's counts: iptables_batches,
// iptables_elements_added, iptables_elements_deleted, iptables_errors
// (see fwsync.Driver.Stats).
func (s *Sink) Stats() map[string]int64 { return s.fw.Stats() }

// ReadsMatches implements engine.MatchesReader: this sink never shows the
// lines behind a ban, so counters need not keep them for it.
func (s *Sink) ReadsMatches() bool { return false }
