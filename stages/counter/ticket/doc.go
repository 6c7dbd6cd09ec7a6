// Package ticket is the `counter "ticket"` stage: the counter that makes
// fail2ban-server's ban decisions, so a jail imported with `f2b import`
// bans the same hosts at the same moments, for the same time, with the same
// <failures>, as fail2ban 1.0 does. One counter is one jail (its block
// name); it reads failures and emits bans, prolongs and unbans.
//
//	counter "ticket" "sshd" {
//	  inputs             = [matcher.sshd]
//	  max_retry          = 5        # maxretry
//	  find_time          = "10m"    # findtime
//	  ban_time           = "10m"    # bantime ("permanent" or "-1": forever)
//	  ignore             = ["127.0.0.0/8", "::1"]
//	  ban_time_increment = true     # bantime.increment
//	  ban_time_factor    = "1"      # bantime.factor
//	  ban_time_max       = "1w"     # bantime.maxtime
//	}
//
// The attributes are fail2ban's jail options under snake_case names, with
// jail.conf's defaults: max_retry 5, find_time and ban_time "10m",
// max_matches = max_retry, ban_time_factor "1", ban_time_formula
// [DefaultFormula]. ban_time_multipliers, ban_time_max and ban_time_rnd are
// off unless set. ban_history_age is fail2ban's dbpurgeage ("1d").
//
// # Semantics
//
// Each host has at most one ticket, as in fail2ban's FailManager: the time
// its counted span starts (first), the time of its newest failure (last),
// a retry count and the real number of failures. Times are handled as
// fail2ban handles them, in float64 seconds since the epoch, so the
// arithmetic below gives fail2ban's results bit for bit.
//
//   - Purge first. Before a failure counts, a ticket whose last failure is
//     find_time old or older (last <= now - find_time, now the latest event
//     time) is dropped, and the failure opens a new ticket. fail2ban purges
//     every few seconds; doing it before each failure is what makes a replay
//     match a live server (see fail2ban-semantics.md section 8).
//   - A failure at t later than the ticket's last failure first rescales:
//     when first < t - find_time (strictly; a span of exactly find_time is
//     not rescaled), retry = round(retry / (t - first) * find_time),
//     computed in float64 in that order and rounded half to even as
//     Python's round does, and first = t - find_time. Then last = t. A
//     failure at or before last changes neither (fail2ban's adjustTime).
//   - Then retry and the failure count go up by one, and the failure's
//     lines join the ticket's matches (the newest max_matches lines are
//     kept; a ticket's first failure keeps all its lines, as in fail2ban).
//   - When retry >= max_retry the ticket is taken away (a ban removes the
//     ticket; later failures open a new one). A host that is not banned is
//     banned at the ticket's last time (Event.Time and Action.Start) until
//     Start + ban time; Action.Failures is the ticket's real failure count,
//     which can be above max_retry. A host already banned is not banned
//     again: when the ticket's time + ban_time is later than the running
//     ban's end, the ban is extended to it and an engine.Prolong is emitted
//     (Event.Time the ticket's time, Start the ban's, End and BanTime the new
//     ones, Failures and Matches the new ticket's); otherwise nothing
//     happens. A ticket whose ban would already be over (last + ban_time <
//     now, possible only for late events) bans nothing.
//   - A ban is lifted when now is past its End (now > End, strictly): before
//     it handles an event the counter emits, with Event.Time = End, an
//     engine.Unban for every ban whose End lies before now, in End order,
//     ties in ban order. So a failure at exactly a ban's End still finds
//     the host banned. Permanent bans are never lifted. Like fail2ban's
//     BanManager, the counter looks for bans to lift only once now has
//     reached its next unban time, which a new ban lowers to Start +
//     ban_time (fail2ban learns the increased ban time only afterwards) and
//     each lifting sets to the earliest End left. This only shows when
//     increment makes a ban shorter than ban_time (ban_time_max below
//     ban_time, a multiplier times factor below 1): such a ban is lifted
//     late, when the next unban time comes, exactly as fail2ban lifts it.
//
// Failures of ignored addresses (the ignore list of addresses and CIDR
// prefixes) are dropped first and counted as "ignored". A host's failures
// count while it is banned, as in fail2ban (that is what prolongs).
//
// # Ban history and bantime.increment
//
// The counter keeps, per host, what fail2ban's database keeps in its bips
// table: the number of bans so far, the time of the last one (whole
// seconds, rounded half to even) and its ban time. Action.BanCount is that
// number plus one for a new ban (1 for a host's first ban). The history is
// forgotten as fail2ban's database purge forgets it: once the last ban is
// older than ban_history_age and older than ban_history_age plus three
// times its ban time (never for permanent bans). fail2ban purges hourly;
// the counter applies the rule exactly, at each failure. Without increment
// fail2ban's own <bancount> is always 1; the counter numbers bans anyway,
// as engine.Action documents.
//
// With ban_time_increment, and a finite ban_time, fail2ban's observer is
// reproduced, run synchronously after each failure (fail2ban runs it in a
// thread, a moment later; for the same input that only changes the
// timing):
//
//   - A new ban of a host with n earlier bans (n >= 1) lasts
//     max(ban.Time, formula) with ban.Time = ban_time in seconds, ban.Count
//     = n and banFactor = ban_time_factor; or, with ban_time_multipliers,
//     ban.Time * banFactor * multipliers[n] (the last entry repeating).
//     Then ban_time_max caps it (min) and ban_time_rnd adds random() *
//     ban_time_rnd. The first ban of a host lasts ban_time. A ban time the
//     formula cannot compute (a Python error such as a division by zero)
//     is ban_time, with a warning, as in fail2ban. Prolongs always use
//     ban_time, as fail2ban's do.
//   - Known bad hosts: a failure of a host with n earlier bans that is
//     later than its last ban counts r = min(2^min(n,20)/2 + 1, max_retry)
//     retries (2, 3, 5, 9, ... for n = 1, 2, 3, 4) instead of one: the
//     filter adds one and the observer the other r-1, which also adds one
//     to the real failure count and the failure's lines to the matches
//     again (fail2ban's observer re-adds the failure; for the failure that
//     opened the ticket it adds no lines). This is why such a host's
//     <failures> doubles.
//   - A ban no later than the last recorded ban is taken as one restored
//     from fail2ban's database: it does not update the history.
//
// ban_time_rnd draws from a SplitMix64 generator seeded by
// ban_time_rnd_seed, or, when that is absent, in a replay from a hash of
// the node's ID (so replays are reproducible) and in `f2b run` from a
// random seed (so a botnet cannot compute unban times). One number is drawn
// per increased ban.
//
// ban_time_formula and ban_time_factor are Python expressions in fail2ban;
// here a small evaluator of Python's arithmetic runs them (numbers, + - * /
// // % **, << >> & | ^ ~, comparisons, and/or/not, `x if c else y`, min,
// max, int, float, round, abs, pow, math.exp, math.log, math.sqrt,
// math.floor and the like; names ban.Time, ban.Count, banFactor, math.e,
// math.pi). It is not a general eval. Ints are 64-bit (Python's are
// unbounded: an overflow is an error here). Syntax errors and a formula
// that fails for ban.Count = 1 are reported by Build against the
// attribute. ban_time_overall_jails (counting bans across jails) is not
// supported yet and is rejected.
//
// # Time
//
// The counter never reads the system time directly. Its "now" is the later
// of the latest event time it has seen (failures and watermarks: a failure
// event with Watermark set and no Failure only moves the clock and is not
// forwarded) and the Clock of its Options. Tickets are purged on event time
// alone, so a log that lags the wall clock still counts as fail2ban counts
// a log read from the start; unbans, the ban-is-over check and the history
// purge use now. In `f2b run` one timer, armed for the earliest End, lifts
// bans when no event comes; in a replay the clock never fires and the log's
// times alone drive unbans. Pending bans are kept in a heap; there is never
// a goroutine per host or per ban.
//
// Memory: stale tickets are dropped when their host fails again and by a
// sweep over all hosts that runs at most once per find_time and only after
// a quarter as many tickets as the table holds have been opened (amortised
// O(1) per failure); a host with no ticket, no ban and no history is
// forgotten. Tickets and histories lie outside the Go heap (see package
// offheap), a ticket's matched lines and its first failure's HostText and
// Fields as bytes: a host with one sshd failure costs about 270 bytes,
// which the garbage collector neither scans nor doubles. The room of
// forgotten hosts is reused at once, and given back to the system when
// the hosts have shrunk to a quarter of their peak. A ticket's time keeps
// its instant and location; a time read from the wall clock (a failure
// without one) loses its monotonic reading, which no action shows.
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
// saved as ended; ended bans are history only. Every saved ban is the
// host's history, as fail2ban's database keeps it (unless ban_history_age
// has passed, as above), so ban_time_increment goes on from it. Failures of
// a host at or before the start of its saved ban are not counted
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
// and clears the host's ticket; the host's ban history stays.
//
// When the input closes (the end of a replay, or shutdown) the counter
// returns without lifting any ban: bans outlive the process.
package ticket
