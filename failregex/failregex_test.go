package failregex

import (
	"errors"
	"maps"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// matchCase is one line run through a one-regex Set.
type matchCase struct {
	name     string
	regex    string
	opts     Options
	line     string
	want     Result
	hostText string            // for Failure and BadHost
	host     string            // netip form, "" for a DNS name; Failure only
	fields   map[string]string // nil: Match.Fields must be nil
}

var matchCases = []matchCase{
	// <HOST> / <ADDR>: IPv4
	{name: "host ipv4", regex: `from <HOST> port \d+$`, line: "from 203.0.113.7 port 22", want: Failure, hostText: "203.0.113.7", host: "203.0.113.7"},
	{name: "host ipv4 at end", regex: `from <HOST>$`, line: "from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "host ipv4 brackets", regex: `client <HOST>:`, line: "client [192.0.2.1]: x", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "host ipv4 unanchored end", regex: `from <HOST>`, line: "from 192.0.2.1, bye", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "addr ipv4", regex: `^<ADDR> - - `, line: "198.51.100.4 - - [x] GET /", want: Failure, hostText: "198.51.100.4", host: "198.51.100.4"},
	{name: "host 0.0.0.0", regex: `from <HOST>$`, line: "from 0.0.0.0", want: Failure, hostText: "0.0.0.0", host: "0.0.0.0"},
	// IPv4-mapped
	{name: "host mapped", regex: `from <HOST> port`, line: "from ::ffff:192.0.2.1 port 1", want: Failure, hostText: "::ffff:192.0.2.1", host: "192.0.2.1"},
	{name: "host mapped upper", regex: `from <HOST> port`, line: "from ::FFFF:192.0.2.1 port 1", want: Failure, hostText: "::FFFF:192.0.2.1", host: "192.0.2.1"},
	{name: "host mapped brackets", regex: `from <HOST> port`, line: "from [::ffff:192.0.2.1] port 1", want: Failure, hostText: "::ffff:192.0.2.1", host: "192.0.2.1"},
	{name: "host mapped hex form", regex: `from <HOST> port`, line: "from ::ffff:c000:201 port 1", want: Failure, hostText: "::ffff:c000:201", host: "192.0.2.1"},
	// IPv6
	{name: "host ipv6 compressed", regex: `from <HOST> port`, line: "from 2001:db8::17 port 2", want: Failure, hostText: "2001:db8::17", host: "2001:db8::17"},
	{name: "host ipv6 ::", regex: `from <HOST> port`, line: "from :: port 2", want: Failure, hostText: "::", host: "::"},
	{name: "host ipv6 ::1", regex: `from <HOST> port`, line: "from ::1 port 2", want: Failure, hostText: "::1", host: "::1"},
	{name: "host ipv6 fe80::1", regex: `from <HOST> port`, line: "from fe80::1 port 2", want: Failure, hostText: "fe80::1", host: "fe80::1"},
	{name: "host ipv6 trailing ::", regex: `from <HOST> port`, line: "from 2001:db8:: port 2", want: Failure, hostText: "2001:db8::", host: "2001:db8::"},
	{name: "host ipv6 full", regex: `from <HOST> port`, line: "from 1:2:3:4:5:6:7:8 port 2", want: Failure, hostText: "1:2:3:4:5:6:7:8", host: "1:2:3:4:5:6:7:8"},
	{name: "host ipv6 leading :: seven groups", regex: `from <HOST> port`, line: "from ::2:3:4:5:6:7:8 port 2", want: Failure, hostText: "::2:3:4:5:6:7:8", host: "0:2:3:4:5:6:7:8"},
	{name: "host ipv6 zero padded", regex: `from <HOST> port`, line: "from 2001:0db8:0000:0000:0000:0000:0000:0001 port 2", want: Failure, hostText: "2001:0db8:0000:0000:0000:0000:0000:0001", host: "2001:db8::1"},
	{name: "host ipv6 upper case", regex: `from <HOST> port`, line: "from 2001:DB8::A port 2", want: Failure, hostText: "2001:DB8::A", host: "2001:db8::a"},
	{name: "host ipv6 embedded ipv4", regex: `from <HOST> port`, line: "from 64:ff9b::192.0.2.33 port 2", want: Failure, hostText: "64:ff9b::192.0.2.33", host: "64:ff9b::c000:221"},
	{name: "host ipv6 full embedded ipv4", regex: `from <HOST> port`, line: "from 1:2:3:4:5:6:192.0.2.1 port 2", want: Failure, hostText: "1:2:3:4:5:6:192.0.2.1", host: "1:2:3:4:5:6:c000:201"},
	{name: "host ipv6 brackets and port", regex: `^<HOST>:\d+ `, line: "[2001:db8::1]:443 GET", want: Failure, hostText: "2001:db8::1", host: "2001:db8::1"},
	{name: "host ipv6 colon port no brackets", regex: `client <HOST>:\d+\]`, line: "[client 2001:db8::1:52314]", want: Failure, hostText: "2001:db8::1", host: "2001:db8::1"},
	{name: "addr ipv6", regex: `rhost=<ADDR>\s`, line: "rhost=2001:db8::dead:beef user=x", want: Failure, hostText: "2001:db8::dead:beef", host: "2001:db8::dead:beef"},
	// invalid addresses
	{name: "ipv4 leading zero", regex: `from <HOST> port`, line: "from 192.030.0.6 port 2", want: BadHost, hostText: "192.030.0.6"},
	{name: "ipv4 octet too big", regex: `from <HOST> port`, line: "from 999.1.1.1 port 2", want: BadHost, hostText: "999.1.1.1"},
	{name: "ipv4 five parts", regex: `from <HOST> port`, line: "from 1.2.3.4.5 port 2", want: NoMatch},
	{name: "ipv4 three parts", regex: `from <HOST> port`, line: "from 1.2.3 port 2", want: NoMatch},
	{name: "ipv6 nine groups", regex: `from <HOST> port`, line: "from 1:2:3:4:5:6:7:8:9 port 2", want: BadHost, hostText: "1:2:3:4:5:6:7:8:9"},
	{name: "ipv6 two ::", regex: `from <HOST> port`, line: "from 1::2::3 port 2", want: BadHost, hostText: "1::2::3"},
	{name: "ipv6 too long group", regex: `from <HOST> port`, line: "from 12345::1 port 2", want: NoMatch},
	{name: "ipv6 time lookalike", regex: `at <HOST> port`, line: "at 12:34:56 port 2", want: BadHost, hostText: "12:34:56"},
	{name: "mapped bad ipv4", regex: `from <HOST> port`, line: "from ::ffff:999.1.1.1 port 2", want: BadHost, hostText: "::ffff:999.1.1.1"},
	{name: "dns name without AllowDNS", regex: `from <HOST> port`, line: "from evil.example.com port 2", want: NoMatch},
	{name: "unanchored ipv4 too long octet", regex: `from <HOST>`, line: "from 1.2.3.456", want: BadHost, hostText: "1.2.3.456"},
	{name: "unanchored ipv4 glued digits", regex: `from <HOST>`, line: "from 1.2.3.4567", want: BadHost, hostText: "1.2.3.456"},
	// <IP4> / <IP6>
	{name: "ip4", regex: `from <IP4> port`, line: "from 192.0.2.1 port 2", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "ip4 mapped", regex: `from <IP4> port`, line: "from ::ffff:192.0.2.1 port 2", want: Failure, hostText: "::ffff:192.0.2.1", host: "192.0.2.1"},
	{name: "ip4 rejects ipv6", regex: `from <IP4> port`, line: "from 2001:db8::1 port 2", want: NoMatch},
	{name: "ip6", regex: `from <IP6> port`, line: "from 2001:db8::1 port 2", want: Failure, hostText: "2001:db8::1", host: "2001:db8::1"},
	{name: "ip6 rejects ipv4", regex: `from <IP6> port`, line: "from 192.0.2.1 port 2", want: NoMatch},
	// <DNS> and AllowDNS
	{name: "dns allowed", regex: `from <DNS> port`, opts: Options{AllowDNS: true}, line: "from mail.example.com port 2", want: Failure, hostText: "mail.example.com"},
	{name: "dns not allowed", regex: `from <DNS> port`, line: "from mail.example.com port 2", want: BadHost, hostText: "mail.example.com"},
	{name: "dns that is an ip", regex: `from <DNS> port`, line: "from 192.0.2.1 port 2", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "host dns allowed", regex: `from <HOST> port`, opts: Options{AllowDNS: true}, line: "from mail.example.com port 2", want: Failure, hostText: "mail.example.com"},
	{name: "host dns allowed ip wins", regex: `from <HOST> port`, opts: Options{AllowDNS: true}, line: "from 192.0.2.1 port 2", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "host dns allowed numeric junk", regex: `from <HOST> port`, opts: Options{AllowDNS: true}, line: "from 999.1.1.1 port 2", want: BadHost, hostText: "999.1.1.1"},
	{name: "host dns allowed ip-like name", regex: `from <HOST> port`, opts: Options{AllowDNS: true}, line: "from 1.2.3.4.5 port 2", want: BadHost, hostText: "1.2.3.4.5"},
	{name: "host dns allowed bad label", regex: `from <HOST> port`, opts: Options{AllowDNS: true}, line: "from a..b port 2", want: BadHost, hostText: "a..b"},
	{name: "addr ignores AllowDNS", regex: `from <ADDR> port`, opts: Options{AllowDNS: true}, line: "from mail.example.com port 2", want: NoMatch},
	// <CIDR> / <SUBNET>
	{name: "cidr", regex: `net <ADDR>/<CIDR>$`, line: "net 192.0.2.0/24", want: Failure, hostText: "192.0.2.0", host: "192.0.2.0", fields: map[string]string{"cidr": "24"}},
	{name: "subnet with cidr", regex: `ban <SUBNET>$`, line: "ban 2001:db8::/64", want: Failure, hostText: "2001:db8::", host: "2001:db8::", fields: map[string]string{"cidr": "64"}},
	{name: "subnet without cidr", regex: `ban <SUBNET>$`, line: "ban 192.0.2.9", want: Failure, hostText: "192.0.2.9", host: "192.0.2.9", fields: map[string]string{}},
	{name: "subnet brackets", regex: `ban <SUBNET>$`, line: "ban [192.0.2.0/24]", want: Failure, hostText: "192.0.2.0", host: "192.0.2.0", fields: map[string]string{"cidr": "24"}},
	// fields
	{name: "f-user", regex: `^Invalid user <F-USER>\S*</F-USER> from <HOST>$`, line: "Invalid user admin from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"user": "admin"}},
	{name: "f-user empty", regex: `^Invalid user <F-USER>\S*</F-USER> ?from <HOST>$`, line: "Invalid user from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"user": ""}},
	{name: "f-id and f-port", regex: `^conn <F-ID/> from <HOST>:<F-PORT/>$`, line: "conn abc-12 from 192.0.2.1:ssh", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"id": "abc-12", "port": "ssh"}},
	{name: "f-name with dash and digits", regex: `^<F-MY-FIELD2>\w+</F-MY-FIELD2> <HOST>$`, line: "xyz 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"my_field2": "xyz"}},
	{name: "nested fields", regex: `^<F-A>x<F-B>y+</F-B></F-A> <HOST>$`, line: "xyy 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"a": "xyy", "b": "yy"}},
	{name: "python named group", regex: `^(?P<svc>\w+): fail <HOST>$`, line: "imap: fail 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"svc": "imap"}},
	{name: "optional field absent", regex: `^fail(?: user <F-USER>\S+</F-USER>)? <HOST>$`, line: "fail 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{}},
	{name: "alt field fills", regex: `^(?:user <F-USER>\S+</F-USER>|login <F-ALT_USER1>\S+</F-ALT_USER1>) <HOST>$`, line: "login bob 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"user": "bob"}},
	{name: "alt field loses to main", regex: `^user <F-USER>\S+</F-USER> as <F-ALT_USER1>\S+</F-ALT_USER1> <HOST>$`, line: "user ann as bob 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1", fields: map[string]string{"user": "ann"}},
	{name: "no fields is nil", regex: `from <HOST>$`, line: "from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	// Python compatibility
	{name: "python \\Z", regex: `from <HOST>\Z`, line: "from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "python comment", regex: `from (?#the peer)<HOST>$`, line: "from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "unknown tag is literal", regex: `<foo> from <HOST>$`, line: "<foo> from 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "tag inside class is literal", regex: `^[<HOST>]+ <HOST>$`, line: "<HOST> 192.0.2.1", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	{name: "escaped bracket", regex: `^\[<HOST>\]$`, line: "[192.0.2.1]", want: Failure, hostText: "192.0.2.1", host: "192.0.2.1"},
	// misc
	{name: "no match", regex: `from <HOST> port`, line: "Accepted publickey for alice", want: NoMatch},
	{name: "empty line", regex: `<HOST>`, line: "", want: NoMatch},
}

func runCase(t *testing.T, tc matchCase) {
	t.Helper()
	s, err := Compile([]string{tc.regex}, nil, tc.opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	var m Match
	got := s.Scan(tc.line, &m)
	if got != tc.want {
		_, e := s.Fail(0)
		t.Fatalf("Scan(%q) = %v (host %q), want %v; expanded %s", tc.line, got, m.HostText, tc.want, e)
	}
	if got == BadHost {
		if m.HostText != tc.hostText {
			t.Errorf("BadHost HostText = %q, want %q", m.HostText, tc.hostText)
		}
		if s.Stats().BadHost != 1 {
			t.Errorf("Stats().BadHost = %d, want 1", s.Stats().BadHost)
		}
	}
	m2, matched, ignored := s.Match(tc.line)
	if matched != (tc.want == Failure) || ignored {
		t.Errorf("Match: matched=%v ignored=%v, want matched=%v", matched, ignored, tc.want == Failure)
	}
	if tc.want != Failure {
		return
	}
	if m2.HostText != tc.hostText {
		t.Errorf("HostText = %q, want %q", m2.HostText, tc.hostText)
	}
	if tc.host == "" {
		if m2.Host.IsValid() {
			t.Errorf("Host = %v, want invalid (DNS name)", m2.Host)
		}
	} else if m2.Host != netip.MustParseAddr(tc.host) {
		t.Errorf("Host = %v, want %v", m2.Host, tc.host)
	}
	if (tc.fields == nil) != (m2.Fields == nil) || !maps.Equal(m2.Fields, tc.fields) {
		t.Errorf("Fields = %#v, want %#v", m2.Fields, tc.fields)
	}
}

func TestMatchCases(t *testing.T) {
	t.Parallel()
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCase(t, tc)
		})
	}
}

// The prefilter must never change a result: every case again without it.
func TestPrefilterIsTransparent(t *testing.T) {
	t.Parallel()
	lines := append(benchMatchLines(), benchNoMatchLines()...)
	for _, tc := range matchCases {
		lines = append(lines, tc.line)
	}
	regexes := append(benchRegexes(), `^Invalid user <F-USER>\S*</F-USER> from <HOST>$`, `from <HOST> port`, `(?i)FROM <HOST>`)
	on, err := Compile(regexes, []string{`for root from`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	off, _ := Compile(regexes, []string{`for root from`}, Options{})
	off.noPrefilter = true
	for _, line := range lines {
		var a, b Match
		ra, rb := on.Scan(line, &a), off.Scan(line, &b)
		if ra != rb || a.Regex != b.Regex || a.HostText != b.HostText || a.Host != b.Host || !maps.Equal(a.Fields, b.Fields) {
			t.Errorf("%q: with prefilter %v %+v, without %v %+v", line, ra, a, rb, b)
		}
	}
}

func TestFirstMatchWins(t *testing.T) {
	t.Parallel()
	line := "sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2"
	tests := []struct {
		name    string
		regexes []string
		want    int
	}{
		{"specific first", []string{`Failed password for <F-USER>\S+</F-USER> from <HOST>`, `from <HOST>`}, 0},
		{"generic first", []string{`from <HOST>`, `Failed password for <F-USER>\S+</F-USER> from <HOST>`}, 0},
		{"first does not match", []string{`Invalid user \S+ from <HOST>`, `from <HOST> port`}, 1},
		{"third", []string{`^x <HOST>`, `^y <HOST>`, `port \d+ ssh2$`, `from <HOST>`}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile(tc.regexes, nil, Options{})
			if tc.want < 0 {
				if !errors.Is(err, ErrNoHost) {
					t.Fatalf("want ErrNoHost, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, ok, _ := s.Match(line)
			if !ok || m.Regex != tc.want {
				t.Fatalf("Match = %+v, %v; want regex %d", m, ok, tc.want)
			}
		})
	}
}

// A regex that matches with a bad host ends the search, as in fail2ban:
// later regexes are not tried.
func TestBadHostEndsSearch(t *testing.T) {
	t.Parallel()
	s, err := Compile([]string{`from <HOST> port`, `port \d+ via <HOST>`, `from \S+ port \d+ via <HOST>$`}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m Match
	if r := s.Scan("from 999.0.0.1 port 22 via 192.0.2.1", &m); r != BadHost || m.Regex != 0 {
		t.Fatalf("Scan = %v regex %d, want BadHost regex 0", r, m.Regex)
	}
}

func TestIgnore(t *testing.T) {
	t.Parallel()
	fail := []string{
		`^sshd\[\d+\]: Failed password for <F-USER>\S+</F-USER> from <HOST> port \d+`,
		`^sshd\[\d+\]: Invalid user \S+ from <HOST>`,
	}
	ignore := []string{`for backup from`, `from <ADDR> port 2222$`}
	s, err := Compile(fail, ignore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		line             string
		matched, ignored bool
		host             string
	}{
		{"not ignored", "sshd[1]: Failed password for root from 192.0.2.1 port 22", true, false, "192.0.2.1"},
		{"ignored by literal", "sshd[1]: Failed password for backup from 192.0.2.1 port 22", false, true, "192.0.2.1"},
		{"ignored by placeholder", "sshd[1]: Invalid user x from 192.0.2.2 port 2222", false, true, "192.0.2.2"},
		{"ignore alone is no match", "for backup from 192.0.2.1", false, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, matched, ignored := s.Match(tc.line)
			if matched != tc.matched || ignored != tc.ignored {
				t.Fatalf("Match = %v, %v; want %v, %v", matched, ignored, tc.matched, tc.ignored)
			}
			if m.HostText != tc.host {
				t.Errorf("HostText = %q, want %q", m.HostText, tc.host)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		regex  string
		is     error  // errors.Is target, or nil
		substr string // message must contain this
	}{
		{"empty", "", ErrEmpty, "empty regex"},
		{"blank", "  \t", ErrEmpty, "empty regex"},
		{"bad syntax", `from <HOST> (port`, nil, "missing closing )"},
		{"bad repeat", `from <HOST> **`, nil, "invalid nested repetition operator"},
		{"no host", `Failed password for \S+`, ErrNoHost, "no <HOST> (or <ADDR>, <IP4>, <IP6>) in regex"},
		{"no host, only fields", `for <F-USER>\S+</F-USER>`, ErrNoHost, "no <HOST>"},
		{"two hosts", `from <HOST> via <HOST>`, ErrMultipleHosts, "more than one host placeholder"},
		{"two different hosts", `from <IP4> or <IP6>`, ErrMultipleHosts, "more than one host placeholder"},
		{"host and subnet", `<SUBNET> <ADDR>`, ErrMultipleHosts, "more than one host placeholder"},
		{"skiplines", `<HOST><SKIPLINES>x`, ErrUnsupported, "multi-line <SKIPLINES> is not supported"},
		{"unclosed field", `<F-USER>\S+ <HOST>`, nil, "<F-USER> is not closed"},
		{"stray close", `\S+</F-USER> <HOST>`, nil, "</F-USER> without <F-USER>"},
		{"crossed fields", `<F-A>a<F-B>b</F-A>c</F-B> <HOST>`, nil, "does not close the innermost <F-B>"},
		{"bad self-closing", `<F-USER/> <HOST>`, nil, "only <F-ID/> and <F-PORT/> are self-closing"},
		{"lower-case field", `<F-user>x</F-user> <HOST>`, nil, "field name"},
		{"duplicate field", `<F-USER>a</F-USER> <F-USER>b</F-USER> <HOST>`, nil, `duplicate field name "user"`},
		{"reserved group", `(?P<__f2b_host>x) <HOST>`, nil, "group name __f2b_host is reserved"},
		{"duplicate python group", `(?P<u>a)|(?P<u>b) <HOST>`, nil, `duplicate field name "u"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile([]string{`ok <HOST>`, tc.regex}, nil, Options{})
			if err == nil || s != nil {
				t.Fatalf("Compile(%q) succeeded", tc.regex)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("error %T %v is not one Errors", err, err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("errors.As(*Error) failed on %v", err)
			}
			if e.List != "fail" || e.Index != 1 || e.Regex != tc.regex {
				t.Errorf("Error = {%q %d %q}, want {fail 1 %q}", e.List, e.Index, e.Regex, tc.regex)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not contain %q", err, tc.substr)
			}
		})
	}
}

func TestCompileErrorsAll(t *testing.T) {
	t.Parallel()
	_, err := Compile(
		[]string{`ok <HOST>`, `no host`, `( <HOST>`, `a <HOST>`, ``},
		[]string{`fine`, `(?=x`, `<HOST> and <HOST> are fine here`},
		Options{})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not Errors", err)
	}
	type pos struct {
		list  string
		index int
	}
	var got []pos
	for _, e := range es {
		got = append(got, pos{e.List, e.Index})
	}
	want := []pos{{"fail", 1}, {"fail", 2}, {"fail", 4}, {"ignore", 1}}
	if len(got) != len(want) {
		t.Fatalf("errors at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("errors at %v, want %v", got, want)
		}
	}
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("errors.Is(ErrSyntax) failed")
	}
	if !strings.Contains(err.Error(), `ignoreregex[1] "(?=x": invalid regex: missing closing )`) {
		t.Errorf("error %q does not name the bad ignore regex", err)
	}
	if n := strings.Count(err.Error(), "\n"); n != 3 {
		t.Errorf("message has %d newlines, want 3: %s", n, err)
	}
}

func TestEmptyLists(t *testing.T) {
	t.Parallel()
	s, err := Compile(nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Match("from 192.0.2.1"); ok {
		t.Fatal("empty set matched")
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, regex, want string
	}{
		{"fields", `<F-USER>\S+</F-USER> <F-ID/> <F-PORT/>`, `(?P<user>\S+) (?P<id>\S+) (?P<port>\w+)`},
		{"python comment dropped, \\Z kept", `a(?#c)b\Z`, `ab\Z`},
		{"named groups kept", `(?P<a>x)(?<b>y)(?i:z)`, `(?P<a>x)(?<b>y)(?i:z)`},
		{"class with bracket", `[]<]<x>[^]]`, `[]<]<x>[^]]`},
		{"posix class", `[[:alpha:]<]`, `[[:alpha:]<]`},
		{"escaped lt", `\<HOST>`, `\<HOST>`},
		{"backref in class is not", `[\1]`, `[\1]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ex, err := expand(tc.regex, Options{}, true)
			if err != nil {
				t.Fatal(err)
			}
			if ex.expr != tc.want {
				t.Errorf("expand(%q) = %q, want %q", tc.regex, ex.expr, tc.want)
			}
		})
	}
	got, err := Expand(`from <HOST>$`, Options{})
	if err != nil || !strings.Contains(got, "(?P<"+hostGroup+">") {
		t.Errorf("Expand = %q, %v", got, err)
	}
	if _, err := Expand(`from x`, Options{}); !errors.Is(err, ErrNoHost) {
		t.Errorf("Expand without host: %v", err)
	}
	ig, err := expand(`<F-USER>x</F-USER> <HOST> <SUBNET>`, Options{}, false)
	if err != nil || strings.Contains(ig.expr, "(?P<") {
		t.Errorf("ignore expansion %q, %v has captures", ig.expr, err)
	}
}

func TestLiterals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		regex string
		want  [][]string
	}{
		{"sshd failed", `^\S+ sshd\[\d+\]: Failed password for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST> port \d+`,
			[][]string{{"]: Failed password for "}, {" sshd["}, {" from "}}},
		{"alternation", `(?:Invalid|Illegal) user \S+ from <HOST>`, [][]string{{" user "}, {" from "}, {"llegal", "nvalid"}}},
		{"optional parts are not required", `^(?:error: )?PAM: Authentication failure for \S+ from <HOST>`, [][]string{{"PAM: Authentication failure for "}, {" from "}}},
		{"across a capture", `login (?P<x>fail)ed from <HOST>`, [][]string{{"login failed from "}}},
		{"case-insensitive has none", `(?i)failed from <HOST>`, nil},
		{"host only", `^<HOST>$`, nil},
		{"two-byte literal kept", `^<HOST> x$`, [][]string{{" x"}}},
		{"one-byte literal dropped", `^<HOST>;$`, nil},
		{"alternation with empty branch", `(?:foo|) <HOST> bar`, [][]string{{" bar"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile([]string{tc.regex}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := s.Literals(0)
			if len(got) != len(tc.want) {
				t.Fatalf("Literals = %q, want %q", got, tc.want)
			}
			for i := range got {
				if strings.Join(got[i], "|") != strings.Join(tc.want[i], "|") {
					t.Fatalf("Literals = %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// Not parallel: testing.AllocsPerRun counts allocations of the whole process.
func TestNoAllocOnNoMatch(t *testing.T) {
	s, err := Compile(benchRegexes(), []string{`for root from`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range benchNoMatchLines() {
		if n := testing.AllocsPerRun(100, func() { s.Match(line) }); n != 0 {
			t.Errorf("%q: %v allocs, want 0", line, n)
		}
	}
	if raceEnabled {
		return
	}
	// A match of a regex without fields allocates only the submatch slice.
	line := "host sshd[9]: Did not receive identification string from 192.0.2.1 port 4"
	if n := testing.AllocsPerRun(100, func() { s.Match(line) }); n > 1 {
		t.Errorf("match without fields: %v allocs, want <= 1", n)
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	s, err := Compile(benchRegexes(), []string{`for root from`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := append(benchMatchLines(), benchNoMatchLines()...)
	want := make([]Match, len(lines))
	for i, l := range lines {
		want[i], _, _ = s.Match(l)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				for i, l := range lines {
					m, _, _ := s.Match(l)
					if m.HostText != want[i].HostText || m.Regex != want[i].Regex || !maps.Equal(m.Fields, want[i].Fields) {
						t.Errorf("concurrent Match(%q) = %+v, want %+v", l, m, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestResultString(t *testing.T) {
	t.Parallel()
	for r, want := range map[Result]string{NoMatch: "no match", Failure: "failure", Ignored: "ignored", BadHost: "bad host", 99: "unknown"} {
		if r.String() != want {
			t.Errorf("%d.String() = %q", r, r.String())
		}
	}
}

func TestNeedle(t *testing.T) {
	t.Parallel()
	texts := []string{
		"", "a", " from ", "x from y", "from", " fro", "   from  from ",
		"host sshd[1]: Failed password for root from 192.0.2.1 port 22",
		strings.Repeat("[", 300) + " sshd[",
		strings.Repeat(" sshd", 100) + "[",
		strings.Repeat("F", 200),
	}
	lits := []string{" from ", "F", "Fa", " sshd[", "]: Failed p", "[[[", "from", "y"}
	for _, text := range texts {
		for _, lit := range lits {
			n := newNeedle(lit)
			if got, want := n.in(text), strings.Contains(text, lit); got != want {
				t.Errorf("needle(%q).in(%q) = %v, want %v", lit, text, got, want)
			}
		}
	}
}
