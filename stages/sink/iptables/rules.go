package iptables

import (
	"net/netip"
	"strings"

	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Families: IPv4 (iptables, the set f2b-JAIL) and IPv6 (ip6tables, the
// set f2b-JAIL-v6).
const (
	famV4 = fwsync.V4
	famV6 = fwsync.V6
)

// stem is the part of a jail's chain and set names after "f2b-": the jail
// name when it fits ("f2b-" and 24 characters is within iptables' 28 for a
// chain, and with "-v6" within ipset's 31 for a set), else "j" and a hash
// of the name (see fwconf.Stem).
func stem(jail string) string { return fwconf.Stem(jail) }

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
	case !c.Reject:
		return "", "-j DROP"
	case len(c.Protocols) == 1 && c.Protocols[0] == "tcp":
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
	if len(c.Protocols) == 0 {
		return []string{target}
	}
	var lists []string
	var cur []string
	slots := 0
	for _, p := range c.Ports {
		text, n := p.Text(":"), p.Slots()
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
	for _, proto := range c.Protocols {
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
