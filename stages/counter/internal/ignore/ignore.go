// Package ignore is a counter's ignore list, fail2ban's ignoreip and
// ignoreself: addresses and CIDR prefixes, the word "self" (this host's
// own addresses) and host names (a dynamic-DNS name of the admin's home,
// say). Prefixes are fixed once parsed; "self" and names are looked up
// when the counter starts and again every few minutes while it runs, as
// fail2ban looks them up again once its five-minute cache expires.
package ignore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
)

// Self is the entry that stands for this host's own addresses.
const Self = "self"

// Refresh is how often "self" and host names are looked up again while
// the counter runs (fail2ban caches such lookups for five minutes).
const Refresh = 5 * time.Minute

// lookupTimeout bounds one round of lookups. The first round runs before
// the counter takes its first failure, so a slow resolver delays the
// start by at most this much.
const lookupTimeout = 3 * time.Second

// List is a parsed ignore list. The zero List (and a nil *List) ignores
// nothing. Contains is safe for concurrent use with the lookups.
type List struct {
	fixed   confval.PrefixList
	self    bool
	names   []string
	nameIdx []int // the index in the attribute of each name

	// looked is what "self" and the names stood for at the last lookup,
	// sorted; a name whose lookup failed keeps its last addresses.
	looked atomic.Pointer[[]netip.Addr]

	// Resolver looks host names up; net.DefaultResolver when nil. Tests
	// replace it.
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
	// Interfaces returns the addresses of this host's interfaces;
	// net.InterfaceAddrs when nil. Tests replace it.
	Interfaces func() ([]net.Addr, error)
	// Hostname returns this host's name; os.Hostname when nil.
	Hostname func() (string, error)

	mu   sync.Mutex
	last map[string][]netip.Addr // per name (and Self), the last addresses found
}

// Parse reads the entries of attribute attr: addresses and prefixes
// (confval.ParsePrefix), Self, and host names. A bad entry is an
// *confval.AttrError of attr with its index.
func Parse(attr string, entries []string) (*List, error) {
	l := &List{}
	var errs []error
	for i, e := range entries {
		t := strings.TrimSpace(e)
		switch {
		case strings.EqualFold(t, Self): // never a host name "self"
			l.self = true
		case confval.IsHostName(t):
			if !slices.Contains(l.names, strings.ToLower(t)) {
				l.names = append(l.names, strings.ToLower(t))
				l.nameIdx = append(l.nameIdx, i)
			}
		default:
			p, err := confval.ParsePrefix(e)
			if err != nil {
				if t != "" && !strings.ContainsAny(t, "/:") {
					// Neither a prefix nor an IPv6 address gone wrong.
					err = fmt.Errorf("%q is not an address, a CIDR prefix such as \"10.0.0.0/8\", \"self\" (this host's addresses) or a host name", e)
				}
				errs = append(errs, &confval.AttrError{Attr: attr, Index: i, Err: err})
				continue
			}
			l.fixed = append(l.fixed, p)
		}
	}
	return l, errors.Join(errs...)
}

// Entries returns the list as it was parsed, normalised: the prefixes
// (masked, IPv4-mapped ones as IPv4), then Self when present, then the
// host names in lower case.
func (l *List) Entries() []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, p := range l.fixed {
		out = append(out, p.String())
	}
	if l.self {
		out = append(out, Self)
	}
	return append(out, l.names...)
}

// Dynamic reports whether the list has entries that are looked up: Self
// or host names.
func (l *List) Dynamic() bool { return l != nil && (l.self || len(l.names) > 0) }

// Contains reports whether a is ignored.
func (l *List) Contains(a netip.Addr) bool {
	if l == nil {
		return false
	}
	if l.fixed.Contains(a) {
		return true
	}
	if p := l.looked.Load(); p != nil {
		_, found := slices.BinarySearchFunc(*p, a, netip.Addr.Compare)
		return found
	}
	return false
}

// Check looks every host name up once, as `f2b validate --check-env`
// does: a name that does not resolve is an *confval.AttrError of attr
// with its index (the counter would ignore nothing for it until it
// does). It changes nothing the counter uses.
func (l *List) Check(ctx context.Context, attr string) error {
	if l == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	errs := make([]error, len(l.names))
	var wg sync.WaitGroup
	for i, name := range l.names {
		wg.Go(func() {
			if _, err := l.resolver().LookupNetIP(ctx, "ip", name); err != nil {
				errs[i] = &confval.AttrError{Attr: attr, Index: l.nameIdx[i],
					Err: fmt.Errorf("host name %q does not resolve here (%v): nothing is ignored for it until it does", name, err)}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Watch looks "self" and the host names up once, before it returns, and
// then every Refresh until ctx is done or the returned stop is called,
// which waits for the lookups to end. Lookup errors are logged; a name
// whose lookup fails keeps the addresses it had.
func (l *List) Watch(ctx context.Context, logger *slog.Logger) (stop func()) {
	if !l.Dynamic() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	l.lookup(ctx, logger)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(Refresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.lookup(ctx, logger)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// lookup runs one round of lookups, the names in parallel, and publishes
// what they found.
func (l *List) lookup(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, name := range l.names {
		wg.Go(func() {
			addrs, err := l.resolver().LookupNetIP(ctx, "ip", name)
			l.found(name, addrs, err, logger)
		})
	}
	if l.self {
		wg.Go(func() {
			addrs, err := l.selfAddrs(ctx)
			l.found(Self, addrs, err, logger)
		})
	}
	wg.Wait()
	l.mu.Lock()
	var all []netip.Addr
	for _, addrs := range l.last {
		all = append(all, addrs...)
	}
	l.mu.Unlock()
	slices.SortFunc(all, netip.Addr.Compare)
	all = slices.Compact(all)
	l.looked.Store(&all)
}

// found records what key stood for: addrs, unless err says the lookup
// failed and found nothing, when the last addresses stay.
func (l *List) found(key string, addrs []netip.Addr, err error, logger *slog.Logger) {
	if err != nil {
		if len(addrs) == 0 {
			logger.Warn("ignore: lookup failed; its last addresses stay ignored", "entry", key, "err", err)
			return
		}
		logger.Debug("ignore: lookup partly failed", "entry", key, "err", err)
	}
	plain := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		plain = append(plain, a.Unmap().WithZone(""))
	}
	l.mu.Lock()
	if l.last == nil {
		l.last = map[string][]netip.Addr{}
	}
	l.last[key] = plain
	l.mu.Unlock()
}

// selfAddrs returns this host's own addresses: loopback, every interface
// address, and what its names resolve to. fail2ban's ignoreself takes
// the addresses of "localhost" and of the host's short and full names;
// the interface addresses are added so that a host whose name resolves to
// 127.0.1.1 (Debian's /etc/hosts) still never bans its public address.
// The error tells what could not be looked up; loopback is always there.
func (l *List) selfAddrs(ctx context.Context) ([]netip.Addr, error) {
	out := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	ifaces := l.Interfaces
	if ifaces == nil {
		ifaces = net.InterfaceAddrs
	}
	var errs []error
	addrs, err := ifaces()
	if err != nil {
		errs = append(errs, fmt.Errorf("interface addresses: %w", err))
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr())
		}
	}
	hostname := l.Hostname
	if hostname == nil {
		hostname = os.Hostname
	}
	names := []string{"localhost"}
	if h, err := hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	for _, n := range names {
		found, err := l.resolver().LookupNetIP(ctx, "ip", n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
		out = append(out, found...)
	}
	return out, errors.Join(errs...)
}

func (l *List) resolver() interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
} {
	if l.Resolver != nil {
		return l.Resolver
	}
	return net.DefaultResolver
}
