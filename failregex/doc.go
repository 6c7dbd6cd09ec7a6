// Package failregex compiles fail2ban-style failure regexes, written in
// Python's regex syntax, and matches log lines against them, extracting
// the failing host and the named fields. Regexes run on Go's linear-time
// RE2 engine whenever they can, and on a backtracking engine, under a time
// budget, when they need Python constructs RE2 lacks.
//
// # Placeholders
//
// A regex is written in Python's re syntax (see "Python regexes" below)
// plus the fail2ban placeholders:
//
//	<HOST>    an address as <ADDR>; with Options.AllowDNS also a DNS name
//	<ADDR>    an IPv4 or IPv6 address, optionally in brackets [...]
//	<IP4>     an IPv4 address, optionally with a ::ffff: prefix
//	<IP6>     an IPv6 address (full, compressed, with an embedded IPv4)
//	<DNS>     a host name (accepted only with Options.AllowDNS, unless it is an IP)
//	<SUBNET>  an address with an optional /CIDR, optionally in brackets;
//	          the host is the address, the prefix length is the field "cidr"
//	<CIDR>    [0-9]+, the field "cidr"
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
// <SKIPLINES> (fail2ban's multi-line buffer) is reported as an error
// wrapping ErrUnsupported: a Set matches single lines (package failfilter
// has the buffer).
//
// # Python regexes
//
// Regexes are parsed with Python's rules (those of fail2ban's filters) and
// translated for the engine that runs them. Lookahead, lookbehind,
// back-references (\1, (?P=name)), conditionals ((?(name)yes|no)), atomic
// groups and possessive quantifiers need the backtracking engine
// (github.com/dlclark/regexp2), and so do a capture group inside a
// repetition that can match empty (RE2 skips the empty last iteration
// Python makes) and regexes beyond RE2's limits (repeat counts above
// 1000); every other regex runs on RE2. For a backtracking regex, an RE2
// "gate" (the regex with those constructs relaxed, which matches a
// superset) and the literals it requires turn most lines away in linear
// time before the backtracking engine sees them. Set.Backtracking and
// Regexp.Backtracking tell which regexes left the linear path and why.
// Some of these constructs are first rewritten into RE2 when the rewrite is
// provably equivalent (see rewrite.go): a conditional on a group decided
// by an earlier optional group or alternation, by distributing the rest of
// the regex over the cases, and a tempered run (?:(?!LIT).)* or *?
// followed by LIT or by $, as the regular language of its KMP automaton;
// an anchored regex so rewritten is split into smaller regexes tried in
// order, which RE2 runs on its fast backtracker.
//
// Semantics follow Python 3 str patterns: \d is any Unicode decimal digit,
// \w a Unicode letter or number or "_", \s Python's whitespace (with \v,
// \x1c-\x1f, \x85, \xa0 …); the (?a) flag makes them ASCII. $ matches at
// the end or before a final newline, \Z only at the end; inline flags
// (?i) (?s) (?m) (?x) (?a) work globally and scoped ((?i:…)); group
// numbers are Python's whatever the engine; Compile first rewrites
// "((?i)x)" to "(?i:x)" as fail2ban does (LocalizeFlags). The address
// placeholders use
// ASCII [0-9] (an address is never written with other digits).
// Deliberate differences: RE2's \b is ASCII, so a regex with \b or \B is
// matched by the backtracking engine (whose \b is Unicode-aware) when the
// line holds non-ASCII text; \N{name} is not supported; RE2 spellings
// that Python lacks are accepted ((?<name>…), \z, \x{263a}, \pL,
// \p{Greek}, [[:alpha:]]), so regexes written for Go keep working.
//
// # Time budget
//
// Every match on the backtracking engine runs under a time budget
// (Options.MatchTimeout, RegexpOptions.MatchTimeout; default
// DefaultMatchTimeout, 100 ms), so that a hostile line cannot hang a jail
// the way fail2ban's GHSA-33wh-ccjc-p397 could: a line that runs out of
// time is not matched (Result TimedOut, Stats.Timeouts) and the next line
// is processed as usual. In a Set the budget is the line's: once its
// backtracking matches used it up, the line is given up. Timeouts are
// checked every couple of milliseconds, so a match may overrun its budget
// by that much.
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
// fields, the Fields map. The backtracking engine works on runes and
// allocates per match; its regexes get literal prefilters from their RE2
// gate.
//
// A Regexp anchored at the start of the text (^ without MULTILINE) also
// checks the first bytes of the text against what its matches can start
// with (Regexp.CanStartWith) before its literals, and a Regexp ending in
// (.+)$ (fail2ban's <F-CONTENT>.+</F-CONTENT>$) runs, on a single-line
// text, with that group cut to one character and then extended to the
// end of the line, so the engine does not walk the rest of the line.
//
// A Set and a Regexp are immutable after compiling and safe for
// concurrent use.
package failregex
