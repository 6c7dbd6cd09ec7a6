// Package failregex compiles fail2ban-style failure regexes into Go RE2
// regular expressions and matches log lines against them, extracting the
// failing host and the named fields.
//
// # Placeholders
//
// A regex is written in Go (RE2) syntax, which accepts most of Python's
// syntax including (?P<name>…) groups, plus the fail2ban placeholders:
//
//	<HOST>    an address as <ADDR>; with Options.AllowDNS also a DNS name
//	<ADDR>    an IPv4 or IPv6 address, optionally in brackets [...]
//	<IP4>     an IPv4 address, optionally with a ::ffff: prefix
//	<IP6>     an IPv6 address (full, compressed, with an embedded IPv4)
//	<DNS>     a host name (accepted only with Options.AllowDNS, unless it is an IP)
//	<SUBNET>  an address with an optional /CIDR, optionally in brackets;
//	          the host is the address, the prefix length is the field "cidr"
//	<CIDR>    \d+, the field "cidr"
//	<F-NAME>…</F-NAME>  a named capture, exposed as the field "name"
//	<F-ID/>   \S+, the field "id"
//	<F-PORT/> \w+, the field "port"
//
// Every failure regex must contain exactly one host placeholder (<HOST>,
// <ADDR>, <IP4>, <IP6>, <DNS> or <SUBNET>). The brackets around an address
// are optional on each side, as in fail2ban, and never part of
// Match.HostText. Field names are lower-cased and '-' becomes '_'
// (<F-MY-USER> is the field "my_user"). Fields named alt_X1, alt_X2, …
// (fail2ban's <F-ALT_X1>) are not exposed themselves; the first non-empty one
// fills the field X when X is absent or empty. Unknown <TAGS> are left as
// literal text, as fail2ban does.
//
// Python constructs that RE2 cannot run (lookahead, lookbehind,
// backreferences, conditionals, atomic groups, possessive quantifiers) are
// reported as errors wrapping ErrUnsupported. Python's \Z is translated to
// \z and (?#…) comments are removed.
//
// # Which host is extracted
//
// RE2 uses leftmost-first (Perl/Python) semantics, not POSIX
// leftmost-longest: among the matches starting at the leftmost position, the
// one preferred by the regex's own greediness wins. For a user-controlled
// field before the host this means:
//
//   - a field that cannot contain the separator (\S+ before " from ") pins
//     the host to the one position the structure allows; an injected
//     "x from 6.6.6.6 from 203.0.113.9" simply does not match an end-anchored
//     regex;
//   - a greedy .* before " from <HOST>" takes the LAST " from <addr>" of the
//     line; a lazy .*? takes the FIRST, which is the attacker's injected one
//     when the user name comes first. Prefer \S+, [^ ]+ and end anchors.
//
// The extracted text must also be delimited: a host that is glued to further
// address characters (for example the "3.0.113.9" that a greedy
// ".*<HOST>" cuts out of "203.0.113.9", or "1.2.3.45" out of "1.2.3.456")
// is rejected instead of being reported, see Result.
//
// # Validation
//
// The address patterns are deliberately a little loose; the captured text is
// validated with net/netip. Text that does not parse as an address, such as
// "192.030.0.6" (leading zero) or "999.1.1.1", is not a match (Result
// BadHost, counted in Stats). With Options.AllowDNS, a text that is not an
// address is accepted as a DNS name when it contains a letter and has valid
// labels; Match.Host is then the zero Addr. IPv4-mapped IPv6 addresses are
// unmapped, so ::ffff:192.0.2.1 gives Host 192.0.2.1.
//
// # Speed
//
// For every regex, Compile derives from the parsed syntax tree the literal
// substrings that any match must contain (for example "]: Failed password
// for " and " from "; for an alternation, one literal per branch). Set.Match
// checks them before it runs the regex:
//
//   - literals that every fail regex requires are checked once, first, and
//     their absence ends the line;
//   - each distinct literal is searched at most once per line, whichever
//     regexes share it, and a regex is skipped as soon as one of its
//     literals is known to be absent;
//   - a search skips through the line with strings.IndexByte (SIMD) on the
//     literal's rarest byte (a static log-text frequency table), not on its
//     first byte, which for " from " would stop at every space.
//
// A line that no regex matches costs a few SIMD byte scans and no
// allocation. A line that passes the prefilter is matched by Go's regexp
// with FindStringSubmatchIndex; the host and fields are substrings of the
// line, so a match allocates the index slice and, only when the regex has
// fields, the Fields map.
//
// A Set is immutable after Compile and safe for concurrent use.
package failregex
