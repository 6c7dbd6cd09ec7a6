// Package fwconf holds what the firewall sinks (nftables, iptables,
// fwcmd, route, hostsdeny) share of their configuration: the registration
// of a sink, and the checks of the attributes they have in common (block,
// ports, protocol, prefix_v4 and prefix_v6), so each sink states only its
// own attributes and every sink reads the common ones alike.
package fwconf

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// Names of the attributes the firewall sinks share.
const (
	AttrBlock       = "block"
	AttrPorts       = "ports"
	AttrProtocol    = "protocol"
	AttrPrefixV4    = "prefix_v4"
	AttrPrefixV6    = "prefix_v6"
	AttrFlushOnStop = "flush_on_stop"
)

// Register adds sink typ to r: its arguments come from newArgs (defaults
// set), and build checks them and returns the stage.
func Register[A any, S engine.Stage](r *engine.Registry, typ, summary string, newArgs func() *A, build func(engine.Options, *A) (S, error)) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typ,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: summary,
		NewArgs: func() any { return newArgs() },
		Build:   engine.Build(build),
	})
}

// Filter is the checked form of block, ports and protocol: which packets
// of a banned host a sink blocks, and how.
type Filter struct {
	// Reject is block = "reject"; false: "drop".
	Reject bool
	// Ports are the destination ports, sorted, with ranges that overlap
	// or touch joined; empty: all ports.
	Ports []PortRange
	// Protocols are sorted and lower case; empty: every protocol ("all").
	Protocols []string
}

// ParseFilter checks block, ports and protocol; protocols are the names
// the sink can match ports of. The errors are *confval.AttrError values
// naming the attribute (and the index of a bad port), in that order.
func ParseFilter(block string, ports []string, protocol cty.Value, protocols []string) (Filter, []error) {
	var f Filter
	var errs []error
	reject, err := ParseBlock(block)
	if err != nil {
		errs = append(errs, confval.AttrErr(AttrBlock, err))
	}
	f.Reject = reject
	ps, perrs := ParsePorts(ports)
	errs = append(errs, perrs...)
	f.Ports = ps
	protos, all, err := ParseProtocols(protocol, protocols)
	if err != nil {
		errs = append(errs, confval.AttrErr(AttrProtocol, err))
	}
	f.Protocols = protos
	if all && len(ports) > 0 {
		errs = append(errs, confval.AttrErr(AttrPorts, errors.New(`protocol "all" blocks every packet of a banned host and takes no ports; name the protocols ("tcp", "udp") to block ports`)))
	}
	return f, errs
}

// ParseBlock reads the block attribute: "drop" (the default) or
// "reject".
func ParseBlock(block string) (reject bool, err error) {
	switch block {
	case "", "drop":
		return false, nil
	case "reject":
		return true, nil
	}
	return false, fmt.Errorf("unknown block %q; use \"drop\" or \"reject\"", block)
}

// ParsePrefixes checks prefix_v4 and prefix_v6 and returns the network
// length per family (IPv4, IPv6): 0 for one address (also for a length
// that is the whole address). The errors are *confval.AttrError values.
func ParsePrefixes(v4, v6 int) ([2]int, []error) {
	var out [2]int
	var errs []error
	for fam, p := range []struct {
		attr     string
		bits     int
		min, max int
	}{{AttrPrefixV4, v4, 8, 32}, {AttrPrefixV6, v6, 16, 128}} {
		switch {
		case p.bits == 0 || p.bits == p.max:
		case p.bits < p.min || p.bits > p.max:
			errs = append(errs, confval.AttrErr(p.attr, fmt.Errorf("%d is out of range: give a network length from %d to %d", p.bits, p.min, p.max)))
		default:
			out[fam] = p.bits
		}
	}
	return out, errs
}

// JailName is the name of a jail in a firewall's names (sets, chains,
// tables): the jail name when ok accepts it, else prefix and a hash of
// the name (n bytes of it, in hex), stable across restarts. Only such
// names go into commands, so a jail name never needs quoting.
func JailName(jail string, ok *regexp.Regexp, prefix string, n int) string {
	if ok.MatchString(jail) {
		return jail
	}
	h := sha256.Sum256([]byte(jail))
	return prefix + hex.EncodeToString(h[:n])
}

// StemRE is a jail name that iptables chains ("f2b-" and 24 characters,
// within their 28), ipset sets (with "-v6", within 31) and pf tables can
// hold as it is.
var StemRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,23}$`)

// Stem is a jail's name in such names: the jail name when StemRE accepts
// it, else "j" and a hash of the name.
func Stem(jail string) string { return JailName(jail, StemRE, "j", 6) }

// stringList reads an attribute that is a string or a list of strings
// (an HCL tuple, list or set), each lower-cased and trimmed of blanks. A
// value of another type, or an element that is not a string, is the
// error wrongType.
func stringList(v cty.Value, wrongType string) ([]string, error) {
	if !v.IsWhollyKnown() {
		return nil, errors.New("value is not known")
	}
	var names []string
	switch ty := v.Type(); {
	case ty == cty.String:
		names = []string{v.AsString()}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsNull() || ev.Type() != cty.String {
				return nil, errors.New(wrongType)
			}
			names = append(names, ev.AsString())
		}
	default:
		return nil, errors.New(wrongType)
	}
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSpace(n))
	}
	return names, nil
}
