package fwsync

import (
	"net/netip"
	"strings"
)

// Families of addresses, the indexes of Config.Prefix.
const (
	V4 = 0
	V6 = 1
)

// Family returns V4 or V6 for a.
func Family(a netip.Addr) int {
	if a.Is4() {
		return V4
	}
	return V6
}

// NetText writes an element as the firewall tools read and list it: an
// address ("192.0.2.1"), or a network ("192.0.2.0/24").
func NetText(n netip.Prefix) string {
	if n.Bits() == n.Addr().BitLen() {
		return n.Addr().String()
	}
	return n.String()
}

// ParseNet reads an element as the tools list it: an address, or a
// network ("1.2.3.0/24", "1.2.3.4/32"), masked.
func ParseNet(s string) (netip.Prefix, bool) {
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
