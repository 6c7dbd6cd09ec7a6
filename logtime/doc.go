// Package logtime finds and parses the timestamp in a log line the way
// fail2ban's date detector does, fast enough for the hot path of a log
// processing daemon.
//
// # Templates
//
// Without explicit patterns a Detector uses fail2ban's default templates
// (datedetector.DEFAULT_TEMPLATES), each implemented by a hand-written
// scanner, so the common case runs no regular expression:
//
//	2005-01-23T21:59:59.981746+01:00   ISO 8601 / RFC 3339 ("-", "/" or "." between
//	2005-01-23 21:59:59,123 UTC        the date fields; "T", " " or "  "; fraction
//	                                   after "." or ","; zone Z, UTC, GMT, ±hh[[:]mm])
//	Jan  2 03:04:05                    syslog, optional weekday and fraction,
//	Sun Jan 23 21:59:59.011 2005       optional year after or before the time,
//	Jan 23 2005 21:59:59               optional zone prefix ("PDT", "+0100")
//	PDT Apr 16 21:05:29
//	[10/Oct/2000:13:55:36 -0700]       Apache/nginx (also 26-Jul-2007 15:20:52.252)
//	23/01/2005 21:59:59, 17-07-08 …    %d/%m/%Y, %d-%m-%y
//	05/20/2008:01:57:39                %m/%d/%Y:%H:%M:%S (cPanel)
//	01-27-2012 16:22:44.252            %m-%d-%Y %H:%M:%S
//	1104490800, [1104490800.123]       EPOCH at line begin or in SELinux audit(…)
//	21:59:59 …                         time only, at line begin
//	<09/16/08@05:03:30>                at line start
//	130322 11:46:11                    MySQL %y%m%d %H:%M:%S
//	Jan 02, 2024 3:04:05 PM            Tomcat
//	Apr-27-13 02:33:06                 ASSP, at line start
//	20050123T215959, 20050123 215959   compact ISO
//	@4000000053a0f1c2189e2f34          TAI64N
//
// Explicit patterns (Options.Patterns) use fail2ban's datepattern syntax.
// Those textually equal to a default template (also when prefixed with
// {^LN-BEG} or "^") and the special values EPOCH, LEPOCH and TAI64N run on
// the same scanners; any other pattern is translated to a Go regexp
// (RE2): back-references like (?P<_sep>[-/.])…(?P=_sep) are expanded into
// variants. A pattern RE2 cannot run (look-around, conditionals, a
// back-reference to more than a set of literals) runs on the backtracking
// engine of package failregex, under its time budget. {DATE} stands for
// the default templates inside a pattern, as in fail2ban: "^[^\[]*\[({DATE})"
// becomes one pattern per default template, in their order (the EPOCH one
// reads its epoch; fail2ban's copy reads no field from it; TAI64N has no
// such copy).
//
// # Which date
//
// fail2ban requires a date to start and end at a word boundary (the "12"
// of "a12 Jan" is no day). Among the candidates, a date at the start of
// the line wins (after at most two non-word characters such as "[" or
// "@"), else the one nearest the start of the line; at equal positions the
// template that won the previous line, then the earlier template. The
// previous winner is tried first, so a file in one format costs a single
// template attempt per line, and a line without date costs one pass over
// the line that classifies each word by a byte or two.
//
// # Missing parts
//
// A date without year is in the current year of Options.Now (in the
// Location, or in the zone the date names), or in the previous year if it
// would be more than one day after now. A time without date (the
// {^LN-BEG}%H:%M:%S template) is today, or yesterday if it would be after
// now. A date without zone is in Options.Location. Dates that do not exist
// (Feb 30, 25:00) are no dates, as in fail2ban.
//
// Deliberate differences from fail2ban: %ExY accepts any 20xx year
// (fail2ban: a window around the current decade); fractions keep up to
// nanoseconds (fail2ban: microseconds, and drops them all but an EPOCH's:
// Options.WholeSeconds does the same); EPOCH values from
// the year 2100 on are taken for numbers, not dates; a zone word before a
// syslog date counts only if it is a known abbreviation; a date whose
// values do not exist (or whose zone is unknown) is skipped and the
// search goes on, where fail2ban reports no date for the line; the choice
// among candidates is always the leftmost (fail2ban's can depend on the
// distances seen on earlier lines); word boundaries are ASCII (as in Go's
// regexp), so a letter such as "é" does not glue to a date.
//
// # Performance
//
// Match allocates nothing on the scanner paths. Each word of the line is
// read once and classified by its leading run of digits or letters; only
// a word shaped like the start of some template (a month name, "2024-",
// "10/", ...) reaches a scanner. Year and zone resolution use arithmetic
// and small caches (the zone period of the Location, the current day and
// year); time.Now is cached and re-read once the process-wide coarse clock
// (a timer, armed only while clocks are being read) says a second has
// passed, and results near a rule's edge (a midnight, a new year, "one day
// ahead") are recomputed with a fresh reading, so the cache never changes
// an answer. MatchAt takes "now" from the caller and reads no clock.
//
// Explicit patterns that run as regexps are searched at the positions
// where a date can start (computed from the regexp's syntax tree) with an
// anchored copy of the regexp, instead of RE2's slow unanchored search;
// they allocate the submatch slice when they match.
//
// A Detector is not safe for concurrent use: it remembers the last winning
// template and its caches. Use one per goroutine (see Detector.Clone).
package logtime
