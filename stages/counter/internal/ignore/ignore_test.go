package ignore

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f2bproject/f2b/confval"
)

// fakeResolver answers from a table it may change, counting lookups.
type fakeResolver struct {
	mu    sync.Mutex
	table map[string][]string
	fail  map[string]bool
	calls map[string]int
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[host]++
	if r.fail[host] {
		return nil, errors.New("server misbehaving")
	}
	var out []netip.Addr
	for _, s := range r.table[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

func (r *fakeResolver) set(host string, addrs ...string) {
	r.mu.Lock()
	r.table[host] = addrs
	r.mu.Unlock()
}

func (r *fakeResolver) setFail(host string, fail bool) {
	r.mu.Lock()
	r.fail[host] = fail
	r.mu.Unlock()
}

var quiet = slog.New(slog.DiscardHandler)

func mustParse(t *testing.T, entries ...string) *List {
	t.Helper()
	l, err := Parse("ignore", entries)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParse(t *testing.T) {
	t.Parallel()
	l := mustParse(t, "10.0.0.0/8", " ::ffff:192.0.2.1 ", "self", "Home.Example.NET", "home.example.net", "localhost", "xn--bcher-kva.example.")
	want := []string{"10.0.0.0/8", "192.0.2.1/32", "self", "home.example.net", "localhost", "xn--bcher-kva.example."}
	if got := l.Entries(); !slices.Equal(got, want) {
		t.Errorf("Entries = %q, want %q", got, want)
	}
	if !l.Dynamic() || mustParse(t, "10.0.0.0/8").Dynamic() {
		t.Error("Dynamic: want true with self and names, false with prefixes only")
	}
	for _, tc := range []struct {
		entry, msg string
	}{
		{"web_1.example", `"web_1.example" is not an address, a CIDR prefix such as "10.0.0.0/8", "self" (this host's addresses) or a host name`},
		{"-bad.example", `"-bad.example" is not an address`},
		{"10.0.0.0/33", `"10.0.0.0/33" is not a valid CIDR prefix`},
		{"2001:db8::zz", `"2001:db8::zz" is not an IP address or CIDR prefix`},
		{"", "empty entry"},
	} {
		_, err := Parse("ignore", []string{"::1", tc.entry})
		var ae *confval.AttrError
		if !errors.As(err, &ae) || ae.Attr != "ignore" || ae.Index != 1 || !strings.Contains(ae.Err.Error(), tc.msg) {
			t.Errorf("Parse(%q) = %v, want an error of ignore[1] holding %q", tc.entry, err, tc.msg)
		}
	}
	// "self" in any case is the word, never a host of that name.
	if got := mustParse(t, "SELF").Entries(); !slices.Equal(got, []string{"self"}) {
		t.Errorf("SELF parses as %q", got)
	}
}

func TestNilAndZero(t *testing.T) {
	t.Parallel()
	var l *List
	if l.Contains(netip.MustParseAddr("127.0.0.1")) || l.Dynamic() || l.Entries() != nil {
		t.Error("a nil List ignores something")
	}
	l.Watch(context.Background(), quiet)() // no lookups, nothing to stop
}

// TestWatch: names are looked up before Watch returns and again every
// Refresh; a failed lookup keeps the last addresses; stop ends the loop.
func TestWatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{table: map[string][]string{"home.example": {"198.51.100.7", "2001:db8::7"}}, fail: map[string]bool{}}
		l := mustParse(t, "10.0.0.0/8", "home.example", "gone.example")
		l.Resolver = r
		stop := l.Watch(t.Context(), quiet)
		for _, a := range []string{"10.1.2.3", "198.51.100.7", "2001:db8::7", "::ffff:198.51.100.7"} {
			if !l.Contains(netip.MustParseAddr(a).Unmap()) {
				t.Errorf("%s not ignored after the first lookup", a)
			}
		}
		if l.Contains(netip.MustParseAddr("198.51.100.8")) {
			t.Error("198.51.100.8 ignored")
		}

		// The home address changes: the next round picks it up.
		r.set("home.example", "198.51.100.9")
		time.Sleep(Refresh + time.Second)
		synctest.Wait()
		if l.Contains(netip.MustParseAddr("198.51.100.7")) || !l.Contains(netip.MustParseAddr("198.51.100.9")) {
			t.Error("the new address of home.example not taken after a refresh")
		}

		// The resolver fails: the last addresses stay.
		r.setFail("home.example", true)
		time.Sleep(Refresh + time.Second)
		synctest.Wait()
		if !l.Contains(netip.MustParseAddr("198.51.100.9")) {
			t.Error("a failed lookup dropped the last addresses")
		}
		stop()
		r.mu.Lock()
		n := r.calls["home.example"]
		r.mu.Unlock()
		time.Sleep(3 * Refresh)
		r.mu.Lock()
		defer r.mu.Unlock()
		if n != 3 || r.calls["home.example"] != n {
			t.Errorf("lookups of home.example: %d by stop, %d after; want 3 and none after", n, r.calls["home.example"])
		}
	})
}

// TestSelf: "self" stands for loopback, the interfaces' addresses and
// what the host's names resolve to, fail2ban's ignoreself and more.
func TestSelf(t *testing.T) {
	t.Parallel()
	r := &fakeResolver{table: map[string][]string{
		"localhost": {"127.0.0.1", "::1"},
		"web1":      {"127.0.1.1"}, // Debian's /etc/hosts
	}, fail: map[string]bool{}}
	l := mustParse(t, "self")
	l.Resolver = r
	l.Hostname = func() (string, error) { return "web1", nil }
	l.Interfaces = func() ([]net.Addr, error) {
		return []net.Addr{
			&net.IPNet{IP: net.ParseIP("192.0.2.10"), Mask: net.CIDRMask(24, 32)},
			&net.IPNet{IP: net.ParseIP("2001:db8::10"), Mask: net.CIDRMask(64, 128)},
		}, nil
	}
	defer l.Watch(context.Background(), quiet)()
	for _, a := range []string{"127.0.0.1", "::1", "127.0.1.1", "192.0.2.10", "2001:db8::10"} {
		if !l.Contains(netip.MustParseAddr(a)) {
			t.Errorf("self does not ignore %s", a)
		}
	}
	// Only the addresses, not their networks.
	if l.Contains(netip.MustParseAddr("192.0.2.11")) || l.Contains(netip.MustParseAddr("127.0.0.2")) {
		t.Error("self ignores a neighbour of an own address")
	}
}

// TestSelfReal runs "self" on this machine's own interfaces and resolver:
// loopback and every interface address are ignored.
func TestSelfReal(t *testing.T) {
	t.Parallel()
	l := mustParse(t, "self")
	defer l.Watch(context.Background(), quiet)()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			want = append(want, p.Addr())
		}
	}
	for _, a := range want {
		if !l.Contains(a.Unmap()) {
			t.Errorf("self does not ignore %s, an address of this host", a)
		}
	}
}

// TestCheck: --check-env reports the names that do not resolve, with
// their index in the attribute.
func TestCheck(t *testing.T) {
	t.Parallel()
	r := &fakeResolver{table: map[string][]string{"home.example": {"198.51.100.7"}}, fail: map[string]bool{"broken.example": true}}
	l := mustParse(t, "10.0.0.0/8", "home.example", "self", "gone.example", "broken.example", "home.example")
	l.Resolver = r
	err := l.Check(context.Background(), "ignore")
	var idx []int
	for _, e := range unwrapJoin(err) {
		var ae *confval.AttrError
		if !errors.As(e, &ae) || ae.Attr != "ignore" || !strings.Contains(ae.Err.Error(), "does not resolve") {
			t.Fatalf("Check error %v, want AttrErrors of ignore", e)
		}
		idx = append(idx, ae.Index)
	}
	if !slices.Equal(idx, []int{3, 4}) {
		t.Errorf("Check flags indexes %v, want [3 4] (gone.example, broken.example): %v", idx, err)
	}
	if l.Contains(netip.MustParseAddr("198.51.100.7")) {
		t.Error("Check changed what the list ignores")
	}
	if err := mustParse(t, "10.0.0.0/8", "self").Check(context.Background(), "ignore"); err != nil {
		t.Errorf("Check without names = %v", err)
	}
}

func unwrapJoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
