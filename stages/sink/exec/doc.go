// Package exec implements sink "exec": it runs a command for every ban
// and unban (and optionally prolong), with the action's values pasted into
// the command's arguments. Commands are never run through a shell.
//
//	sink "exec" "nft" {
//	  inputs  = [counter.sshd]
//	  start   = ["/usr/sbin/nft", "add", "set", "inet", "f2b", "v4", "{ type ipv4_addr; }"]
//	  ban     = ["/usr/sbin/nft", "add", "element", "inet", "f2b", "v4", "{ {ip} }"]
//	  unban   = ["/usr/sbin/nft", "delete", "element", "inet", "f2b", "v4", "{ {ip} }"]
//	  stop    = ["/usr/sbin/nft", "delete", "set", "inet", "f2b", "v4"]
//	  timeout = "10s"
//	  env     = { LC_ALL = "C" }
//	}
//
// # Commands
//
// ban (required), unban, prolong, start and stop are argv lists: the
// program, then its arguments. The program is a path, or a name looked up
// in PATH when the command runs; it must be literal text. start runs once
// when the sink starts and stop once after its input has ended (also on a
// hard stop, with its own timeout); neither sees an action, so they take
// no placeholders. An unban without unban set, and a prolong without
// prolong set, run nothing: a prolonged ban keeps its firewall entry, and
// prolong is there for tools whose entries expire by themselves (an nft or
// ipset element with a timeout), e.g. prolong = ["/usr/sbin/ipset", "add",
// "f2b", "{ip}", "timeout", "{ban_time}", "-exist"].
//
// # Placeholders
//
// Each argv element is expanded on its own, and a placeholder's value is
// pasted in once and never parsed again, so a value holding blanks, quotes,
// ';', '$(…)' or backticks stays inside its one argument, inert (fail2ban
// needed escaping rules for this; f2b has no shell to escape for):
//
//	{ip}         the address, as Go's netip prints it (IPv6 compressed)
//	{family}     inet4 or inet6, as fail2ban's <family>
//	{jail}       the jail (the counter's name)
//	{failures}   the number of failures behind the ban
//	{time}       the event time, RFC 3339 in UTC (fraction only when not zero)
//	{ban_time}   the ban's length in whole seconds, rounded up; -1 when the
//	             ban is permanent (ipset and nft want seconds: "timeout {ban_time}")
//	{ban_count}  this host's ban number in the jail, 1 for the first
//	{matches}    the lines behind the ban, joined with "\n"
//	{F-NAME}     the captured field NAME (<F-NAME> in the regex; the name is
//	             not case-sensitive); "" when the failure did not capture it
//	{{ and }}    a literal '{' and '}'
//
// A placeholder is '{', a name starting with a letter, and '}'. Any other
// brace is literal, so nft's "{ {ip} }" and JSON bodies need no escaping.
// An unknown name (or a '{' and a letter without the closing '}') is a
// configuration error pointing at the argv element, with a hint when the
// name looks like a misspelling. A NUL byte in a value, which no argument
// can carry, becomes U+FFFD.
//
// # Execution
//
// Actions run in the order they arrive, one command at a time. Each
// command gets /dev/null as standard input, f2b's environment plus env,
// and at most timeout (default 30s); on timeout its whole process group
// is killed (SIGKILL). The first 64 KiB of its standard output and error
// are kept; when it fails to start, exits non-zero or times out, a warning
// is logged with the hook, the command line, the exit code and the first
// line of its standard error (or output). Failures are counted
// (Stats "command_failures", beside "commands") and never stop the sink.
package exec
