package failregex

import (
	"net/netip"
	"strings"
	"testing"
)

// fuzzRegexes are <HOST> regexes of several shapes: anchored, unanchored,
// bracketed, greedy and with a user field before the host.
var fuzzRegexes = []string{
	`from <HOST> port \d+`,
	`^<HOST>`,
	`<HOST>$`,
	`\[<HOST>\]`,
	`user \S+ from <HOST>(?: port \d+)?$`,
	`.*<HOST>`,
	`<HOST>`,
	`rhost=<ADDR>`,
	`<IP4>|x`,
	`y <IP6>`,
	`net <SUBNET>`,
}

func FuzzHost(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.line)
	}
	for _, l := range benchMatchLines() {
		f.Add(l)
	}
	f.Add("from ::ffff:1.2.3.4 port 1")
	f.Add("[::]")
	f.Add("1.2.3.4%eth0")
	f.Add("fe80::1%eth0 port 2")
	sets := make([]*Set, len(fuzzRegexes))
	for i, re := range fuzzRegexes {
		// Each regex alone, so that every one is exercised on every input.
		s, err := Compile([]string{re}, nil, Options{})
		if err != nil {
			f.Fatal(err)
		}
		sets[i] = s
	}
	f.Fuzz(func(t *testing.T, line string) {
		for i, s := range sets {
			m, ok, _ := s.Match(line)
			if !ok {
				continue
			}
			if m.HostText == "" || !strings.Contains(line, m.HostText) {
				t.Fatalf("%s on %q: HostText %q not in line", fuzzRegexes[i], line, m.HostText)
			}
			if !m.Host.IsValid() {
				t.Fatalf("%s on %q: invalid Host for %q", fuzzRegexes[i], line, m.HostText)
			}
			want, err := netip.ParseAddr(m.HostText)
			if err != nil || want.Unmap() != m.Host {
				t.Fatalf("%s on %q: Host %v, ParseAddr(%q) = %v, %v", fuzzRegexes[i], line, m.Host, m.HostText, want, err)
			}
			if m.Host.Zone() != "" || m.Host.Is4In6() {
				t.Fatalf("%s on %q: Host %v not normalised", fuzzRegexes[i], line, m.Host)
			}
		}
	})
}

// FuzzNeedle checks the rare-byte substring search against strings.Contains.
func FuzzNeedle(f *testing.F) {
	f.Add("host sshd[1]: Failed password for root from 192.0.2.1", " from ")
	f.Add("[[[[ sshd[", " sshd[")
	f.Add("aaaa", "")
	f.Fuzz(func(t *testing.T, text, lit string) {
		n := newNeedle(lit)
		if got, want := n.in(text), strings.Contains(text, lit); got != want {
			t.Fatalf("needle(%q).in(%q) = %v, want %v", lit, text, got, want)
		}
	})
}

// FuzzPrefilter checks that the literal prefilter never changes a result.
func FuzzPrefilter(f *testing.F) {
	for _, l := range append(benchMatchLines(), benchNoMatchLines()...) {
		f.Add(l)
	}
	f.Add("bad \xff byte from 192.0.2.1")
	f.Add("ÄÖ from 192.0.2.1 port 1")
	regexes := append(benchRegexes(),
		`bad \x{FFFD} byte from <HOST>`,
		`bad [\x{FFFD}] byte from <HOST>`,
		`(?i)FROM <HOST> PORT`,
		`(?:Invalid|Illegal) user \S+ from <HOST>`,
		`ÄÖ from <HOST>`,
		`(?m)^x\nfrom <HOST>$`,
	)
	ignore := []string{`for root from`, `(?i)ADMIN`}
	on, err := Compile(regexes, ignore, Options{})
	if err != nil {
		f.Fatal(err)
	}
	off, _ := Compile(regexes, ignore, Options{})
	off.noPrefilter = true
	f.Fuzz(func(t *testing.T, line string) {
		var a, b Match
		ra, rb := on.Scan(line, &a), off.Scan(line, &b)
		if ra != rb || a.Regex != b.Regex || a.HostText != b.HostText || a.Host != b.Host {
			t.Fatalf("%q: with prefilter %v %+v, without %v %+v", line, ra, a, rb, b)
		}
	})
}
