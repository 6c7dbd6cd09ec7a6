// Package command implements sink "command": it runs the commands of a
// fail2ban action (an action.d file) through /bin/sh, with fail2ban's
// lifecycle and fail2ban's escaping of the values of a ban, so that
// `f2b import` carries stock and custom actions unchanged in meaning.
//
//	sink "command" "nftables" {
//	  inputs  = [counter.sshd]
//	  start   = <<-SH
//	    nft add table inet f2b-table
//	    nft -- add chain inet f2b-table f2b-chain \{ type filter hook input priority -1 \; \}
//	    nft add set inet f2b-table addr-set-sshd \{ type ipv4_addr\; \}
//	    nft add rule inet f2b-table f2b-chain tcp dport \{ ssh \} ip saddr @addr-set-sshd reject
//	  SH
//	  stop    = "nft delete table inet f2b-table"
//	  check   = "nft list chain inet f2b-table f2b-chain | grep -q '@addr-set-sshd[ \\t]'"
//	  ban     = "nft add element inet f2b-table addr-set-sshd \\{ <ip> \\}"
//	  unban   = "nft delete element inet f2b-table addr-set-sshd \\{ <ip> \\}"
//	  flush   = "nft flush set inet f2b-table addr-set-sshd"
//	  family "inet6" {
//	    ban   = "nft add element inet f2b-table addr6-set-sshd \\{ <ip> \\}"
//	    …
//	  }
//	  timeout = "60s"
//	}
//
// Each command is a shell script, one line or several (fail2ban's
// multi-line options, joined with newlines), run as /bin/sh -c SCRIPT with
// /dev/null as standard input and f2b's environment. The importer has
// already put in the action's static options (<port>, <chain>, …); what is
// left are dynamic tags, filled in per ban, and tags, static tags it could
// not resolve.
//
// # Lifecycle
//
// The sink follows fail2ban 1.0.2's CommandAction (server/action.py) and
// Actions (server/actions.py), command for command:
//
//   - start runs when the sink starts. With start_on_demand (the default
//     when a family block or a NAME?family= tag exists, as fail2ban
//     decides from [Init?family=…] sections) it runs instead at the first
//     ban of each family, with that family's command; if it fails, the
//     ban does not run and the next ban tries again. A family-dependent
//     action that is not on demand starts inet4 and inet6 at once.
//   - ban runs per ban. A ban of a host that is already banned in the
//     same jail runs reban (ban when reban is unset).
//   - prolong runs per prolonged ban, and only when set: fail2ban has no
//     default actionprolong.
//   - unban runs per unban, only when a ban of that family ran before (a
//     family that never held a ban is never unbanned from).
//   - when the input ends: if flush is set it runs once per family that
//     holds bans, replacing the single unbans (fail2ban's __flushBan);
//     otherwise unban runs for every ban still in force, in the order
//     they began. Then stop runs once per started family.
//   - a start, stop or flush command that comes out the same for both
//     families runs once.
//
// When ban, reban, unban or prolong fails (non-zero exit, or killed after
// timeout), the sink runs check (when set) for the ban's family. If check
// fails: repair runs when set, else the family is stopped and started
// again; check then runs once more. An unban does not repair unless
// repair_on_unban is set ("the unban is impossible"). If the environment
// is sane (again), or when there is no check, the failed command runs a
// second and last time. After a successful repair or restart, the bans
// still in force in the restored family (every ban, for an action that is
// not family-dependent) are put in force again with reban (or ban): this
// stands for fail2ban's ban epoch, which re-bans such hosts lazily when
// they are seen again. A failing flush runs check for every started
// family, without repair unless repair_on_unban is set. One deliberate
// difference: when fail2ban 1.0.2 restarts a family, its start is skipped
// if the same command already ran for another family (always the case for
// an action that is not family-dependent), leaving it stopped; here the
// restart always runs start.
//
// Commands run one at a time, in the order the actions arrive. Each gets
// at most timeout (default "60s", fail2ban's); then its whole process
// group is killed (SIGKILL). A failure is logged with the hook, the
// family, the host, the script and the first line of its standard error
// (or output), and counted: Stats reports "commands", "command_failures"
// and "repairs" (attempts to restore the environment). On a hard stop the
// running command is killed; flush and stop still run (the single unbans
// of an action without flush do not).
//
// no_restored (fail2ban's norestored) skips ban and prolong for bans the
// engine restored from saved state (engine.Action.Restored); their unbans
// still run when the family holds bans, as in fail2ban.
//
// # Tags
//
// The dynamic tags of a ban (fail2ban's ActionInfo):
//
//	<ip>, <fid>          the address (Go's netip text); the failure id is the address
//	<family>             inet4 or inet6
//	<ip-rev>             the reversed address for DNSBL queries: 4.3.2.1. for
//	                     1.2.3.4, 32 nibbles for IPv6, each followed by a dot
//	<ip-host>            always empty: a sink does no DNS
//	<failures>           the failures behind the ban
//	<time>               the start of the ban in epoch seconds, as Python
//	                     prints a float (1700000000.0, 1700000000.25)
//	<bantime>            the ban's length in whole seconds; -1 when permanent
//	<bancount>           this host's ban number in the jail, 1 for the first
//	<matches>            the lines behind the ban, joined with "\n"
//	<restored>           1 for a ban restored from saved state, else 0
//	<F-NAME>             the captured field NAME (fail2ban's mapTag2Opt: <F-ID>
//	                     and <F-PORT> are fid and fport); empty when not captured
//	<ipmatches>, <ipjailmatches>, <ipfailures>, <ipjailfailures>
//	                     fail2ban merges these from its database; without one it
//	                     falls back to the ban's own, and so does f2b:
//	                     <matches> and <failures>
//	<jail.name>          the jail (the counter's name)
//	<jail.banned>        the bans of the jail in force in this sink, this one included
//	<jail.banned_total>  the bans of the jail this sink has seen since it started
//	<jail.found>         the failures behind the jail's bans in force (a sink sees
//	                     bans, not the failures of hosts not yet banned)
//	<jail.found_total>   the failures behind every ban of the jail seen since start
//
// An unban or prolong carries what the ban carried (matches, fields, …)
// when the engine's action lacks it. Start, stop and flush run without a
// ban, as fail2ban's empty ticket: <ip> and the other texts are empty, the
// counts 0, <time> is now, <family> is the family started or stopped, the
// <jail.*> counts are summed over every jail the sink serves, and
// <bantime> must come from tags (bantime = the jail's ban time in
// seconds); a tag named like a dynamic one sets its value there, and only
// there. Check and repair get <family> alone, as in fail2ban.
//
// The built-in tags: <br> a newline, <sp> a blank, <fq-hostname> the host
// name as os.Hostname gives it when the sink starts (no DNS lookup of the
// fully qualified name), <sh-hostname> its part before the first dot.
// tags give static tags, NAME?family=inet6 a family's own value;
// values may use other tags and are resolved when the sink is built, as
// fail2ban's replaceTag does. Any other <text> is left as written, as
// fail2ban leaves unknown tags (and <F-*> and <raw-ticket>, which f2b does
// not offer).
//
// # Escaping
//
// Dynamic values are filled in as fail2ban's replaceDynamicTags does, so
// that a script runs the same as under fail2ban, byte for byte:
//
//   - every tag is replaced once, never interpolated again, so a value
//     that holds "<ip>" stays that text;
//   - a value holding none of \ # & ; ` | * ? ~ < > ^ ( ) [ ] { } $ ' "
//     newline or carriage return is pasted in as it is (an address, a
//     count, a plain user name);
//   - a value holding any of them is never pasted in: the tag becomes
//     $f2bV_NAME, NAME being the tag with every non-word character made
//     '_' (f2bV_matches, f2bV_F_user, f2bV_ip_rev), and the script starts
//     with fail2ban's exact prologue, which assigns the positional
//     parameters to those variables in the order the tags first appear.
//
// For `echo "<matches>" <F-USER>` with hostile values, the command run is
//
//	["/bin/sh", "-c", "f2bV_matches=$0 f2bV_F_user=$1 \necho \"$f2bV_matches\" $f2bV_F_user", matches, user]
//
// The values reach the shell as arguments, never as script text, so
// quotes, ;, $(…), backticks and newlines in them are inert data.
//
// As in fail2ban the variable is written unquoted: an action that quotes
// its tag ("<matches>") gets the value byte for byte; one that does not
// gets the shell's field splitting and globbing of it (never command
// execution); one that puts the tag in single quotes gets the text
// $f2bV_matches. Values hold no NUL byte (it becomes U+FFFD), which no
// script or argument could carry.
package command
