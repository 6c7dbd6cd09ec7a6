// Package window is the `counter "window"` stage: an exact sliding window of
// failures per host on event time. One counter is one jail (its block name);
// it reads failures and emits bans and unbans.
//
//	counter "window" "sshd" {
//	  inputs          = [matcher.sshd]
//	  max_retry       = 5
//	  find_time       = "10m"
//	  ban_time        = "1h"
//	  ban_time_factor = 2      # ban n lasts ban_time * 2^(n-1) ...
//	  ban_time_max    = "1w"   # ... but never longer than a week
//	  ignore          = ["127.0.0.0/8", "::1"]
//	}
//
// # Semantics
//
// A host is banned when it has max_retry failures whose times lie within
// find_time of each other. When a failure at time t arrives, the counter
// counts the host's failures with a time in [t - find_time, t], this one
// included; the boundary is inclusive, so a failure exactly find_time older
// than t still counts. When the count reaches max_retry the counter emits a
// ban at t (Event.Time, Action.Start) that ends at t + ban time, and forgets
// the host's failures: after the ban, a new ban takes max_retry fresh
// failures. Failures of a host while it is banned start nothing (they are
// counted as "failures_while_banned" and dropped). Failures of ignored
// addresses (the ignore list of addresses and CIDR prefixes) are dropped and
// counted as "ignored".
//
// This is an exact window, not fail2ban's ticket counting (whose findtime
// moves with each failure, see FailTicket.adjustTime): with max_retry 5 and
// find_time 10m, five failures at 0s, 1m, 2m, 3m and 10m ban at 10m, and a
// fifth failure at 10m0.000000001s does not (only four lie in its window).
//
// Only the last max_retry failures of a host are kept (a ring per host),
// which is all an exact window needs. Once a host's newest failure is older
// than find_time (on event time) its failures are forgotten, and so is the
// host itself unless it is banned or has been: memory stays bounded by the
// failures of the last find_time or so, however many addresses a botnet
// uses. Expired hosts are purged in batches, at most once per find_time, at
// an amortised O(1) cost per failure. The ban count of every host that was
// banned is kept for the life of the counter: it is the history that
// escalation reads.
//
// What a host costs: its state, its ring and the matched lines of its kept
// failures (for the ban's matches; nothing else of a failure is kept) lie
// outside the Go heap (see package offheap), about 170 bytes for a host
// with one sshd failure: a million tracked addresses take some 170 MB,
// which the garbage collector neither scans nor doubles. The room of
// forgotten hosts is reused at once, and given back to the system when the
// hosts have shrunk to a quarter of their peak.
//
// # Actions
//
// A ban (engine.Ban) carries Failures = max_retry, Matches = the lines of the
// counted failures, oldest first, and the HostText and Fields of the failure
// that completed the window. Its unban (engine.Unban) repeats the ban's
// Start, End, BanTime, BanCount, Failures, HostText and Fields, without the
// matches (they are not kept for the length of the ban).
//
// # Ban time and escalation
//
// BanCount numbers the bans of a host in this counter, 1 for the first. Ban n
// lasts ban_time * ban_time_factor^(n-1), capped at ban_time_max when that is
// set; with the default factor 1 every ban lasts ban_time. A permanent
// ban_time ("permanent" or "-1") makes every ban permanent: it has a zero End
// and is never lifted by the counter.
//
// # Time
//
// The counter never reads the system time directly. Its "now" is the later
// of the latest event time it has seen (failures and watermarks: a failure
// event with Watermark set and no Failure only moves the clock and is not
// forwarded) and the Clock of its Options. A ban is lifted when now passes
// its End (now > End, strictly): before it handles an event, the counter
// moves now and emits an unban, with Event.Time = End, for every ban whose
// End lies before now. In `f2b run` the clock is the wall clock and one timer, armed
// for the earliest End, lifts bans when no event comes; in a replay the
// clock never fires and the log's times alone drive unbans. Unbans come in
// End order, ties in ban order. Pending bans are kept in a heap; there is
// never a goroutine per host or per ban.
//
// Events may arrive slightly out of order. A failure older than the clock is
// counted at its own time: it bans when some window of find_time that holds
// it also holds max_retry of the host's kept failures. Such a ban starts at
// the newest failure of that window (which is t itself when failures come in
// order) and may end before now, in which case its unban follows at once. A
// ban is lifted exactly once. Only "slightly" is exact: a failure that is
// late by more than find_time may find the older failures of its host
// already purged, and one older than all max_retry kept failures of its host
// is dropped.
//
// # State across restarts
//
// In the daemon (engine.Options.Store set) every ban, prolong and unban is
// saved before it is sent on, so a ban is never reported done before it
// is durable. The actions made while taking the events at hand (up to 256
// events or 1024 actions) are saved in one Store.Record call: a burst
// costs a few disk syncs, not one per ban. When saving fails the error is
// logged once per run of the same error and counted ("store_errors"), and
// the actions are sent all the same: the bans apply, they are only lost on
// a restart.
//
// Before it reads any input, Run restores the jail's saved bans (at the
// clock's now): bans still running are put back and sent again, once, as
// restored bans (Action.Restored; they are not saved again); bans that
// ended while f2b was down, and running bans of hosts the ignore list now
// holds (fail2ban does not restore those), are sent as restored unbans and
// saved as ended; ended bans are history only. The saved ban count of every
// host is kept, so escalation goes on from it. Failures of a host at or
// before the start of its saved ban are not counted
// ("failures_behind_restored"): they are lines a source read again on start
// (engine.Options.Rewind), which the ban already stands for.
//
// # Manual commands
//
// The counter implements engine.Jail: Status, and Ban, Unban and UnbanAll,
// which run inside Run and return once their actions are saved and sent
// (jailerr.ErrNotRunning while Run is not running). Ban works as
// fail2ban-client's banip: a ban at now with no failures and no matches,
// whose time is the jail's ban time for the host's next ban, even for an
// ignored host; a host banned already is an error (jailerr.ErrAlreadyBanned).
// Unban lifts a ban at once (the unban's Start and End are that moment)
// and clears the host's window; the host's ban count stays.
//
// When the input closes (the end of a replay, or shutdown) the counter
// returns without lifting any ban: bans outlive the process.
package window
