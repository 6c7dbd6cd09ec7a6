package failregex

import (
	"net/netip"
	"testing"
)

// TestInjection checks that the host is the one the regex's structure points
// at, for log text an attacker controls (CVE-2006-6302 / CVE-2007-4321 class:
// an address inside the user name).
func TestInjection(t *testing.T) {
	t.Parallel()
	const (
		strict = `^sshd\[\d+\]: Invalid user \S+ from <HOST>(?: port \d+)?$`
		// The user field contains no spaces, so it cannot swallow " from ".
		greedy       = `^sshd\[\d+\]: Invalid user .* from <HOST>`
		greedyEnd    = `^sshd\[\d+\]: Invalid user .* from <HOST>(?: port \d+)?$`
		lazy         = `^sshd\[\d+\]: Invalid user .*? from <HOST>`
		greedyGlued  = `^sshd\[\d+\]: Invalid user .*<HOST>`
		apacheAnchor = `^\[client <HOST>\] user \S+ not found`
	)
	tests := []struct {
		name  string
		regex string
		line  string
		want  Result
		host  string
	}{
		{"injected second from does not match", strict, "sshd[1]: Invalid user x from 6.6.6.6 from 203.0.113.9", NoMatch, ""},
		{"address as user name", strict, "sshd[1]: Invalid user 1.2.3.4 from 203.0.113.9", Failure, "203.0.113.9"},
		{"address as user name with port", strict, "sshd[1]: Invalid user 1.2.3.4 from 203.0.113.9 port 22", Failure, "203.0.113.9"},
		{"user is from-ipv6", strict, "sshd[1]: Invalid user from::1 from 2001:db8::9", Failure, "2001:db8::9"},
		{"user is bracketed address", strict, "sshd[1]: Invalid user [6.6.6.6] from 203.0.113.9", Failure, "203.0.113.9"},
		// Leftmost-first: a greedy .* takes as much as it can, so the LAST
		// " from <addr>" of the line is the host.
		{"greedy takes last", greedy, "sshd[1]: Invalid user x from 6.6.6.6 from 203.0.113.9", Failure, "203.0.113.9"},
		{"greedy takes last with port", greedy, "sshd[1]: Invalid user x from 6.6.6.6 from 203.0.113.9 port 22", Failure, "203.0.113.9"},
		{"greedy anchored takes last", greedyEnd, "sshd[1]: Invalid user x from 6.6.6.6 from 203.0.113.9 port 22", Failure, "203.0.113.9"},
		// ... and a lazy .*? the FIRST, which is the injected one: this is
		// why fail2ban filters must not use .*? for user-controlled text.
		{"lazy takes first (unsafe regex)", lazy, "sshd[1]: Invalid user x from 6.6.6.6 from 203.0.113.9", Failure, "6.6.6.6"},
		// A greedy .* glued to <HOST> cuts "3.0.113.9" out of "203.0.113.9";
		// the delimiter check rejects it instead of banning a wrong address.
		{"greedy glued is rejected", greedyGlued, "sshd[1]: Invalid user x from 203.0.113.9", BadHost, "3.0.113.9"},
		{"greedy glued ipv6 is rejected", greedyGlued, "sshd[1]: Invalid user x from 2001:db8::1", BadHost, ":1"},
		// CVE-2013-2178: an anchored regex does not match text injected in a URL.
		{"apache anchored", apacheAnchor, "[client 203.0.113.9] File does not exist: /[client 6.6.6.6] user root not found", NoMatch, ""},
		{"apache anchored genuine", apacheAnchor, "[client 203.0.113.9] user root not found", Failure, "203.0.113.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile([]string{tc.regex}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var m Match
			got := s.Scan(tc.line, &m)
			if got != tc.want {
				t.Fatalf("Scan = %v (host %q), want %v", got, m.HostText, tc.want)
			}
			if m.HostText != tc.host {
				t.Fatalf("HostText = %q, want %q", m.HostText, tc.host)
			}
			if got == Failure && m.Host != netip.MustParseAddr(tc.host) {
				t.Fatalf("Host = %v", m.Host)
			}
		})
	}
}
