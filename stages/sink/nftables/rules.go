package nftables

import (
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/stages/sink/internal/fwconf"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Address families of the sets: each jail has one set per family.
const (
	famV4 = fwsync.V4
	famV6 = fwsync.V6
)

var famSuffix = [2]string{"_v4", "_v6"}

// chainName is the sink's chain at hook of the sink named name: the hook,
// '_' and the name (input_NAME, forward_NAME), with anything nft would
// not read as part of a name turned into '_'.
func chainName(hook, name string) string {
	var b strings.Builder
	b.WriteString(hook + "_")
	start := b.Len()
	for _, r := range name {
		if b.Len() >= start+32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == start {
		b.WriteString("f2b")
	}
	return b.String()
}

// setBase is the stem of a jail's set names (stem_v4, stem_v6): the jail
// name when nft can take it as it is, else "j_" and a hash of the name,
// stable across restarts. Only names from here go into a script, so a
// jail name never needs escaping.
func setBase(jail string) string { return fwconf.JailName(jail, nameRE, "j_", 8) }

// baseOfSet returns the stem of a set name of ours, or false.
func baseOfSet(name string) (string, int, bool) {
	for fam, suf := range famSuffix {
		if base, ok := strings.CutSuffix(name, suf); ok && nameRE.MatchString(base) {
			return base, fam, true
		}
	}
	return "", 0, false
}

// setDecl is the body of a set of family fam: its type and flags.
func (c *config) setDecl(fam int) string {
	typ := "ipv4_addr"
	if fam == famV6 {
		typ = "ipv6_addr"
	}
	if c.prefix[fam] != 0 {
		return "{ type " + typ + "; flags interval,timeout; }"
	}
	return "{ type " + typ + "; flags timeout; }"
}

// setType and setFlags are what `nft -j list` reports for a set of
// family fam as setDecl declares it.
func (c *config) setType(fam int) string {
	if fam == famV6 {
		return "ipv6_addr"
	}
	return "ipv4_addr"
}

func (c *config) setFlags(fam int) []string {
	if c.prefix[fam] != 0 {
		return []string{"interval", "timeout"}
	}
	return []string{"timeout"}
}

// chainDecl is the body of the sink's chain at hook. nft takes the same
// rules, reject included, at the input and forward hooks.
func (c *config) chainDecl(hook string) string {
	return "{ type filter hook " + hook + " priority " + strconv.Itoa(c.priority) + "; policy accept; }"
}

// rules are each chain's rules for the sets of base: one per family.
func (c *config) rules(base string) [2]string {
	var match strings.Builder
	switch n := len(c.Protocols); {
	case n == 0:
	case n == 1 && len(c.Ports) > 0:
		// "tcp dport …" implies the protocol.
		match.WriteString(" " + c.Protocols[0] + " dport " + c.portSet())
	case n == 1:
		match.WriteString(" meta l4proto " + c.Protocols[0])
	default:
		match.WriteString(" meta l4proto { " + strings.Join(c.Protocols, ", ") + " }")
		if len(c.Ports) > 0 {
			match.WriteString(" th dport " + c.portSet())
		}
	}
	verdict := " counter drop"
	if c.Reject {
		verdict = " counter reject"
		if len(c.Protocols) == 1 && c.Protocols[0] == "tcp" {
			verdict = " counter reject with tcp reset"
		}
	}
	return [2]string{
		"ip saddr @" + base + famSuffix[famV4] + match.String() + verdict,
		"ip6 saddr @" + base + famSuffix[famV6] + match.String() + verdict,
	}
}

// portSet writes the ports as nft reads them: "22" or "{ 22, 8000-8080 }".
func (c *config) portSet() string {
	parts := make([]string, len(c.Ports))
	for i, p := range c.Ports {
		parts[i] = p.Text("-")
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
