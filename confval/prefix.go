package confval

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ParsePrefix reads one address-list entry: an address ("192.0.2.7",
// "::1") or a CIDR prefix ("10.0.0.0/8", "2001:db8::/32"; host bits are
// allowed and cleared, as fail2ban writes "127.0.0.1/8"). IPv4-mapped IPv6
// entries are turned into IPv4, since failures carry unmapped addresses.
func ParsePrefix(s string) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return netip.Prefix{}, errors.New("empty entry; write an address or a CIDR prefix such as \"10.0.0.0/8\"")
	}
	var p netip.Prefix
	if strings.Contains(t, "/") {
		var err error
		p, err = netip.ParsePrefix(t)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR prefix (want e.g. \"10.0.0.0/8\" or \"2001:db8::/32\")", s)
		}
	} else {
		a, err := netip.ParseAddr(t)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix (host names are not supported)", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has an IPv6 zone, which failures never carry", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// PrefixList is a list of prefixes, e.g. the addresses a counter ignores.
type PrefixList []netip.Prefix

// ParsePrefixList reads every entry; a bad entry is an *AttrError of attr
// with its index.
func ParsePrefixList(attr string, entries []string) (PrefixList, error) {
	var out PrefixList
	var errs []error
	for i, s := range entries {
		p, err := ParsePrefix(s)
		if err != nil {
			errs = append(errs, &AttrError{Attr: attr, Index: i, Err: err})
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// Contains reports whether any prefix of l holds a.
func (l PrefixList) Contains(a netip.Addr) bool {
	for _, p := range l {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
