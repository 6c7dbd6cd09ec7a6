package iptables

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
)

// portRange is a port (lo == hi) or an inclusive range.
type portRange struct{ lo, hi uint16 }

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

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("bad port")
	}
	return uint16(n), nil
}

// mergePorts sorts the ranges and joins those that overlap or touch, so
// each port is in one entry of a multiport list.
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

// protocolNames are the protocols the multiport match takes.
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
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				return nil, false, errors.New("want a protocol name or a list of names")
			}
			names = append(names, e.AsString())
		}
		if len(names) == 0 {
			return nil, false, errors.New("the list is empty; give a protocol such as \"tcp\", or \"all\"")
		}
	default:
		return nil, false, errors.New("want a protocol name or a list of names")
	}
	for _, n := range names {
		switch {
		case n == "all":
			if len(names) > 1 {
				return nil, false, errors.New(`"all" already covers every protocol; give it alone`)
			}
			return nil, true, nil
		case !protocolNames[n]:
			return nil, false, fmt.Errorf("unknown protocol %q; use tcp, udp, sctp, dccp, udplite or \"all\"", n)
		case !slices.Contains(protos, n):
			protos = append(protos, n)
		}
	}
	slices.Sort(protos)
	return protos, false, nil
}

// Families: IPv4 (iptables, the set f2b-JAIL) and IPv6 (ip6tables, the
// set f2b-JAIL-v6).
const (
	famV4 = 0
	famV6 = 1
)

func famOf(a netip.Addr) int {
	if a.Is4() {
		return famV4
	}
	return famV6
}

// stemRE is a jail name that chain and set names can hold as it is:
// "f2b-" and 24 characters is within iptables' 28 for a chain, and with
// "-v6" within ipset's 31 for a set.
var stemRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,23}$`)

// stem is the part of a jail's chain and set names after "f2b-": the jail
// name when it fits, else "j" and a hash of the name, stable across
// restarts. Only stems go into commands, so a jail name never needs
// quoting.
func stem(jail string) string {
	if stemRE.MatchString(jail) {
		return jail
	}
	h := sha256.Sum256([]byte(jail))
	return "j" + hex.EncodeToString(h[:6])
}

// chainOf is the chain of a group (a stem): the same in both families.
func chainOf(group string) string { return "f2b-" + group }

// setOf is the ipset set of a group for family fam.
func setOf(group string, fam int) string {
	if fam == famV6 {
		return "f2b-" + group + "-v6"
	}
	return "f2b-" + group
}

// setType is the ipset type of the sets of family fam.
func (c *config) setType(fam int) string {
	if c.prefix[fam] != 0 {
		return "hash:net"
	}
	return "hash:ip"
}

// verdict is how the rules that block end, as iptables-save writes it:
// a protocol match (for a TCP reset) and the target.
func (c *config) verdict(fam int) (proto, target string) {
	switch {
	case !c.reject:
		return "", "-j DROP"
	case len(c.protocols) == 1 && c.protocols[0] == "tcp":
		// Only TCP reaches the chain: a reset refuses at once (an ICMPv6
		// error may be rate-limited away).
		return "-p tcp ", "-j REJECT --reject-with tcp-reset"
	case fam == famV6:
		return "", "-j REJECT --reject-with icmp6-port-unreachable"
	}
	return "", "-j REJECT --reject-with icmp-port-unreachable"
}

// multiportSlots is how many ports one multiport match takes (a range
// takes two).
const multiportSlots = 15

// jumps are the rules of the built-in chain that send packets to the
// chain of group, as iptables-save writes them (so a listing can be
// compared with them): one per protocol (and per 15 port slots), matching
// the configured ports.
func (c *config) jumps(group string) []string {
	target := "-j " + chainOf(group)
	if len(c.protocols) == 0 {
		return []string{target}
	}
	var lists []string
	var cur []string
	slots := 0
	for _, p := range c.ports {
		text, n := strconv.Itoa(int(p.lo)), 1
		if p.hi != p.lo {
			text, n = fmt.Sprintf("%d:%d", p.lo, p.hi), 2
		}
		if slots+n > multiportSlots {
			lists = append(lists, strings.Join(cur, ","))
			cur, slots = nil, 0
		}
		cur, slots = append(cur, text), slots+n
	}
	if len(cur) > 0 {
		lists = append(lists, strings.Join(cur, ","))
	}
	var out []string
	for _, proto := range c.protocols {
		if len(lists) == 0 {
			out = append(out, "-p "+proto+" "+target)
		}
		for _, l := range lists {
			out = append(out, "-p "+proto+" -m multiport --dports "+l+" "+target)
		}
	}
	return out
}

// setRule is the rule of a group's chain in ipset mode, as iptables-save
// writes it.
func (c *config) setRule(group string, fam int) string {
	proto, target := c.verdict(fam)
	return proto + "-m set --match-set " + setOf(group, fam) + " src " + target
}

// banRule is the rule of a group's chain for one banned network in plain
// mode, as iptables-save writes it.
func (c *config) banRule(n netip.Prefix, fam int) string {
	proto, target := c.verdict(fam)
	return "-s " + n.String() + " " + proto + target
}

// elemText is an element as ipset reads and writes it: an address, or a
// network.
func elemText(n netip.Prefix) string {
	if n.Bits() == n.Addr().BitLen() {
		return n.Addr().String()
	}
	return n.String()
}

// parseElem reads an ipset element or an iptables source ("1.2.3.4",
// "1.2.3.0/24", "1.2.3.4/32").
func parseElem(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}
