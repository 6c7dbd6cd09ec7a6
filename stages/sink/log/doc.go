// Package logsink implements sink "log": one line per ban, unban and
// prolong, as text or JSON. It is also the recorder of `f2b replay
// --dry-run`, which prints its timeline through FormatText and FormatJSON,
// so the daemon's log and a replay's output read the same.
//
//	sink "log" "timeline" {
//	  inputs = [counter.sshd]
//	  path   = "/var/log/f2b/actions.log"   # "" or "-": standard output
//	  format = "json"                       # or "text" (the default)
//	}
//
// # Text lines
//
//	2026-01-02T03:04:05Z  ban      sshd      203.0.113.7      failures=5 ban_time=1h0m0s end=2026-01-02T04:04:05Z
//	2026-01-02T04:04:05Z  unban    sshd      203.0.113.7      failures=5 ban_time=1h0m0s
//	2026-01-02T04:10:00Z  prolong  sshd      2001:db8::1      failures=9 ban_time=2h0m0s ban_count=2 end=2026-01-02T06:10:00Z
//	2026-01-02T05:00:00Z  ban      sshd      198.51.100.4     failures=5 ban_time=permanent
//
// Columns, separated by two blanks: the event time in UTC (RFC 3339, with a
// fraction of a second only when it is not zero); the event (ban, unban or
// prolong) padded to 7 characters; the jail padded to 8; the host padded to
// 15; then key=value pairs. Longer values are never cut; they push the rest
// of the line right. A jail or host that is empty or holds blanks, quotes,
// '=' or control characters is written Go-quoted, so a line is always one
// line of blank-separated fields. The pairs are failures, ban_time (a Go
// duration or "permanent"), ban_count when it is above 1, and end (RFC 3339
// UTC) for a ban or prolong that is not permanent.
//
// # JSON lines
//
//	{"event":"ban","time":"2026-01-02T03:04:05Z","jail":"sshd","host":"203.0.113.7","failures":5,"ban_time":"1h0m0s","end":"2026-01-02T04:04:05Z"}
//
// The keys event, time, jail, host, failures and ban_time always come first
// and in this order (the `f2b replay --json` contract); ban_count follows
// when above 1, and end for a ban or prolong that is not permanent. host is
// the address as Go's netip prints it (IPv6 compressed, lower case). Every
// line is valid JSON whatever the jail or host holds.
//
// # Files
//
// The file is opened in Run (never in New), for appending, and created with
// mode 0640 when missing. Lines are flushed whenever the sink has no more
// input waiting, so `tail -f` sees each action at once. Appending works with
// logrotate's copytruncate; with a rotation that moves the file, reload f2b
// (the reloaded graph opens the file again).
package logsink
