// Package failfilter applies a fail2ban filter (failregex, ignoreregex,
// prefregex, datepattern, maxlines, logtimezone, usedns) to log lines with
// fail2ban's per-line semantics (its server/filter.py processLine and
// findFailure), so that the stock filters find exactly what they find in
// fail2ban: fail2ban 1.0.2's sample logs pass in full (see package
// conformance).
//
// # Lines
//
// The date of a line is found by package logtime and cut out: the line
// becomes (text before the date, the date, text after it) and the regexes
// see before+after followed by "\n", fail2ban's buffer, blanks included
// ("Jan  2 10:00:00 host sshd[1]: …" gives " host sshd[1]: …\n"). The
// date is the first group of the winning template (the whole date for the
// default templates; for "^[^\[]*\[({DATE})" the text inside the
// brackets). Dates are whole seconds, except EPOCH ones, as in fail2ban.
//
// A line without date takes the last date when that is less than a minute
// before now (its text goes in front of the line), else it has no time
// (Failure.Time is zero) or, with Options.CheckFindTime in operation, now.
// A pattern that matches an empty date (datepattern {NONE}, or one whose
// group may be empty) gives the last date or now the same way. With
// Options.CheckFindTime, a date more than a minute from now is taken as
// now in operation, and before operation lines older than FindTime are
// dropped. ProcessSplit takes lines already split with a known time, as
// fail2ban's journal backend hands them over.
//
// # Regexes
//
// Tags are expanded as fail2ban expands them (ExpandTags): <HOST> is an
// IPv4 or IPv6 address, optionally in brackets, or (unless usedns=no) a
// host name, captured in the groups ip4, ip6 and dns; <F-NAME>…</F-NAME>
// is the group "name"; <F-ID/> and <F-PORT/> are "fid" and "fport". The
// regexes are Python regexes, compiled by package failregex on the linear
// RE2 engine when they allow it and on a backtracking engine otherwise.
//
// The prefregex must match the buffer first; its <F-CONTENT> becomes the
// buffer of the failregexes and its other groups merge into the failure
// (the failregex's groups win, also a group of the same name that did not
// take part). The failregexes are tried in order; the first match is the
// failure, or every match with Options.CheckAllRegex. An ignoreregex
// matching the buffer discards a failregex's match; when there are fewer
// ignoreregexes than failregexes minus two they are also tried on the
// buffer before anything else.
//
// With maxlines above 1 the buffer holds the last maxlines lines joined by
// "\n", the regexes are compiled MULTILINE, <SKIPLINES> skips lines, the
// lines a match covers (but the skipped ones) leave the buffer, and
// ignoreregexes see only the matched lines.
//
// # Failures
//
// A failure's ID is the host as fail2ban keys it (an address in canonical
// form, or the raw text when it is none, such as "192.030.0.6" or an
// <F-ID>), Host the parsed address, HostText the text as written. A host
// name is kept as written, or resolved by Options.Resolve.
//
// Multi-line ids (<F-MLFID>, in sshd the "host sshd[pid]:" prefix) tie the
// lines of a connection together through a cache of 100 entries kept 5
// minutes: an address seen on one line makes a later line without one a
// failure; <F-NOFAIL> marks helper matches that are no failure by
// themselves, <F-MLFGAINED> a success that resets the connection's pending
// failures, <F-MLFFORGET> the end of the connection. A match without
// address on a connection with none known yet is pending. The connection's
// users gather in Failure.Users; a second user name turns a helper match
// into a failure (a guard against user name rotation). Attempts counts the
// lines behind a failure.
//
// # Safety
//
// A match on the backtracking engine runs under a time budget
// (Options.MatchTimeout, per line): a line that uses it up yields no
// failure and is counted in Stats.TimedOut.
//
// Options.RejectAmbiguous adds a check fail2ban lacks: a failure is dropped
// when the same regex also matches the line with its address masked and
// finds another address, the mark of an address planted in text an
// attacker controls where the regex allows either. It is no cure for
// every badly anchored regex: one that can only ever reach the first of
// two addresses (fail2ban 1.0.2's courier-auth) is not ambiguous to it.
//
// # Use
//
// A Filter keeps per-file state (the last date, the multi-line buffer,
// the id cache) and must be used by one goroutine at a time: one Filter
// per log file or journal. Its compiled regexes are immutable; Clone makes
// a Filter with fresh state that shares them.
//
// A line that no regex can match (the literals every match needs are
// absent, or the prefregex does not match) costs the date scan and a few
// byte searches, and allocates nothing; a line that the prefregex matches
// allocates its match; failures allocate their fields and lines.
package failfilter
