package regex

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// resolver turns host names matched with use_dns into addresses, with a
// small cache as fail2ban keeps (1000 names for 5 minutes), so a flood of
// lines naming one host costs one lookup.
type resolver struct {
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	now    func() time.Time
	cache  map[string]resolved
}

type resolved struct {
	addrs []netip.Addr
	until time.Time
}

const (
	dnsCacheSize = 1000
	dnsCacheTTL  = 5 * time.Minute
	dnsTimeout   = 3 * time.Second
)

func newResolver(now func() time.Time) *resolver {
	return &resolver{
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
		now:   now,
		cache: map[string]resolved{},
	}
}

// resolve returns the addresses of name, unmapped, or none when it does
// not resolve. Failed lookups are cached too, so an attacker naming
// unresolvable hosts cannot make every line wait for DNS.
func (r *resolver) resolve(ctx context.Context, name string) []netip.Addr {
	now := r.now()
	if c, ok := r.cache[name]; ok && now.Before(c.until) {
		return c.addrs
	}
	ctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	addrs, err := r.lookup(ctx, name)
	if err != nil {
		addrs = nil
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	if len(r.cache) >= dnsCacheSize {
		for k, v := range r.cache {
			if !now.Before(v.until) || len(r.cache) >= dnsCacheSize {
				delete(r.cache, k)
			}
		}
	}
	r.cache[name] = resolved{addrs: addrs, until: now.Add(dnsCacheTTL)}
	return addrs
}
