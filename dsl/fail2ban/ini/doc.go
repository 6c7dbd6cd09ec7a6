// Package ini reads fail2ban's configuration files with the exact rules of
// fail2ban 1.0.2's client (client/configparserinc.py and
// client/configreader.py on top of Python's configparser).
//
// # Files
//
// A configuration name X under a directory is read from X.conf, the sorted
// X.d/*.conf, X.local and the sorted X.d/*.local, in that order; each file
// read also pulls in its sibling .local, and the files its [INCLUDES]
// section names in before= (read first) and after= (read last), one per
// line, relative to the including file, recursively, with a guard against
// loops. Later files win per option.
//
// # Syntax
//
// Python's ConfigParser dialect as fail2ban sets it up: "[section]" headers
// (case-sensitive), "name = value" or "name: value" options with names
// lower-cased, "#" and ";" comment lines, ";" inline comments only after
// whitespace, values continued on more-indented lines (blank lines inside a
// value are kept), [DEFAULT] options visible from every section, and a
// section or option given twice in one file is an error. Conditional
// sections such as [Init?family=inet6] fold into their base section with
// "?family=inet6" appended to each option name.
//
// # Interpolation
//
// Config.Get resolves %(name)s from the section, then [DEFAULT] (and vars
// before both), %(__name__)s to the section name, %(sec/opt)s to another
// section, %(default/opt)s to [DEFAULT] and %(known/opt)s to the value the
// option had before a later file overrode it (kept in KNOWN/<section>).
// "%%" is a literal percent sign.
//
// Every value remembers the file and line of its definition.
package ini
