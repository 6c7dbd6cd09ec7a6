// Package hostsdeny implements sink "hostsdeny": banned hosts get a line
// in a hosts.deny file, which programs built with TCP wrappers (tcpd,
// libwrap: some sshd, vsftpd and inetd builds) read on every connection,
// as fail2ban's hostsdeny action writes them.
//
//	sink "hostsdeny" "wrappers" {
//	  inputs      = [counter.sshd]
//	  path        = "/etc/hosts.deny"   # the default
//	  daemon_list = "ALL"               # or e.g. "sshd, vsftpd"
//	  flush_on_stop = false             # the default: bans outlive f2b
//	}
//
// The lines are fail2ban's: one per banned address, IPv6 in brackets,
// appended at the end of the file and deleted on their own; every other
// line stays as it is, in its place:
//
//	ALL: 203.0.113.7
//	ALL: [2001:db8::7]
//
// All jails share the lines: a line stays while any jail bans its host.
//
// # Atomic rewrites
//
// Each batch of actions (every action that arrived while the last
// rewrite ran) is one rewrite: the sink takes an exclusive flock on the
// file, reads it, writes the new content to a temporary file in the same
// directory with the file's mode and owner, syncs it and renames it over
// the file, so a reader sees the old file or the new one, never half of
// one. A path that is a symbolic link has its target rewritten. Another
// program that adds lines meanwhile keeps them if it takes the same lock
// and, since a rewrite replaces the file, checks once it holds the lock
// that the file it locked is still the one at the path (else it locks
// the new one); a program that appends without the lock (fail2ban's own
// action, `echo >>`) can lose its line to a rewrite that runs at the same
// moment.
//
// # Whose lines
//
// With a state directory (f2b run's --state-dir) the sink lists the
// addresses whose lines it wrote in STATE_DIR/hostsdeny-NAME.lines, and
// only ever deletes those: an admin's line in the same format stays, even
// for a host the sink bans and unbans. Without one (replays) every line
// in its format counts as its own, as fail2ban takes them.
//
// # Start and stop
//
// At start the sink reads its lines and reconciles them with the
// restored bans: missing lines are added, present ones left alone, and
// lines no ban wants are deleted 10 s after the start (a ban that ended
// while f2b was down). The file is created (mode 0644) at the first ban
// when it does not exist. With flush_on_stop = true the sink deletes its
// lines when it stops.
//
// Every 30 s, between batches, the sink reads the file and, when lines
// it wrote have gone (an admin's or a configuration-management tool's
// rewrite, the file deleted), reads it again under the lock and writes
// them back, logging how many were missing.
//
// A failed rewrite is logged and counted (Stats "hostsdeny_errors",
// beside "hostsdeny_batches", "hostsdeny_elements_added" and
// "hostsdeny_elements_deleted"); the sink then reads the file again and
// applies every difference, with backoff from 1 s to 1 min while that
// fails.
package hostsdeny
