// Package fail2ban reads a fail2ban configuration directory exactly as
// fail2ban 1.0.2's client (fail2ban-client) does, as the foundation of
// `f2b import /etc/fail2ban` and `f2b regex -c CONFDIR FILTER`.
//
// # Reading
//
// Load reads jail.conf, jail.d/*.conf, jail.local and jail.d/*.local with
// their includes (paths-debian.conf, …) using package ini, which carries
// the file order, [INCLUDES], the Python ConfigParser dialect and the
// %(name)s interpolation rules. Filters (filter.d) and actions (action.d)
// are read when a jail or Filter needs them, each file parsed once.
//
// # Resolution
//
// Jails mirrors JailsReader/JailReader: for each enabled jail it reads the
// jail's enabled/backend/filter options, reads the filter named by
// `filter = name[opt=value, …]` with the bracket options over its [Init]
// over its [Definition], sets logtype from the backend (journal for
// systemd*, else file) unless given, merges the filter's resolved options
// into the jail as known/ options, reads the jail's options, reads the
// filter again with them, and reads each action of `action = …` (several,
// one per line) the same way. <tag> references are substituted as
// fail2ban's substituteRecursiveTags does (nested names like
// <mdre-<mode>>, <known/opt>, <section/opt>, a recursion limit), leaving
// unknown tags such as <HOST> or <ip> for run time. The result is what the
// server would end up with after fail2ban-client's command stream
// (fail2ban-client -d): regexes add up across filter and jail, the filter's
// usedns, prefregex and maxlines win over the jail's, the jail's
// datepattern wins over the filter's.
//
// Filter mirrors fail2ban-regex's filter loading for a name with options
// or a filter file.
//
// # Places
//
// Every resolved value is a Value: its text and the file and line of the
// option that defined it (for an interpolated value, the option being
// read, not the ones it refers to). Errors and warnings name file and line
// so that an importer can say "file:line: cannot carry X".
//
// # Differences from fail2ban-client
//
// Log paths are not globbed (they are patterns for the importer). An error
// that makes fail2ban-client reject the whole configuration (a broken
// interpolation, recursive tags) skips only the jail it concerns, with a
// warning saying so. Time values are evaluated by a small arithmetic
// parser instead of Python's eval. Runtime-only tags (<fq-hostname>,
// <sh-hostname>, <br>, <sp>, ticket tags) are left for the run time, as
// fail2ban-client leaves them.
package fail2ban
