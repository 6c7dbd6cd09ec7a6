package engine

import (
	"context"
	"net/netip"
	"time"
)

// Store keeps what a running pipeline must not forget across restarts and
// reloads: the bans of every jail (running ones and the history of ended
// ones that escalation reads) and the positions of its sources. The daemon
// opens one per state directory and hands it to every node through
// Options.Store; replay and validate pass nil, and a stage must then keep
// nothing.
//
// Implementations are safe for concurrent use by many stages.
type Store interface {
	// Bans returns the records of jail: one per host, the host's latest
	// ban, running or ended.
	Bans(jail string) ([]BanRecord, error)
	// Record applies actions to the stored records in one transaction and
	// returns once it is durable (synced to disk): a Ban or Prolong writes
	// the host's record (Ended false), an Unban marks it ended at the
	// action's End (when the ban is lifted; the store's clock for a lifted
	// permanent ban) and keeps it as history, unless the Unban has Forget
	// set: that replaces the record (every record of the jail when its
	// Host is the zero Addr) with a forgotten one (see BanRecord.Forgotten).
	// A counter calls Record
	// before it sends the actions on, so a ban is never reported done
	// before it is saved.
	Record(actions []*Action) error
	// Position returns the saved position of a source under key, or ok
	// false when there is none.
	Position(key string) (value []byte, ok bool, err error)
	// SavePositions stores positions (key → opaque value) in one
	// transaction. A nil value deletes the key.
	SavePositions(positions map[string][]byte) error
}

// BanRecord is a stored ban: the latest ban of one host in one jail.
type BanRecord struct {
	Jail     string
	Host     netip.Addr
	HostText string
	Start    time.Time     // when the ban began
	End      time.Time     // when it ends or ended; zero when permanent
	BanTime  time.Duration // Permanent for a permanent ban
	BanCount int           // 1 for the host's first ban in this jail
	Failures int
	Matches  []string
	// Ended is set once the ban was lifted (Unban recorded); End is then
	// the time it was lifted.
	Ended bool
}

// Forgotten reports whether r is what a forgetting unban (Action.Forget)
// leaves of a host: no ban history (BanCount 0, ended), End the moment it
// was forgotten, and Start the moment up to which the host's failures
// were dealt with (a lifted ban's, or its last ban's). A restart must
// still know it: reading those failures again must not ban the host
// anew.
func (r BanRecord) Forgotten() bool { return r.BanCount == 0 && r.Ended }

// Running reports whether the ban is still in force at now.
func (r BanRecord) Running(now time.Time) bool {
	if r.Ended {
		return false
	}
	return r.BanTime == Permanent || r.End.IsZero() || now.Before(r.End) || now.Equal(r.End)
}

// Jail is what the control socket sees of a counter: one jail's status and
// the manual ban and unban commands. Counters implement it; every method is
// safe to call from any goroutine while Run runs, and Ban and Unban return
// an error when Run is not running.
type Jail interface {
	// Status reports the jail's counts and running bans.
	Status() JailStatus
	// Ban bans host now, as fail2ban-client's banip does: the ban is
	// recorded and sent to the sinks like any other.
	Ban(ctx context.Context, host netip.Addr) error
	// Unban lifts the running ban of host and forgets its ban history in
	// this jail, so that its next ban is a first ban, as fail2ban-client's
	// unbanip deletes it from the database (history is forgotten even when
	// host is not banned); it reports false when host was not banned.
	Unban(ctx context.Context, host netip.Addr) (bool, error)
	// UnbanAll lifts every running ban, forgets the ban history of every
	// host of the jail, and returns how many bans it lifted.
	UnbanAll(ctx context.Context) (int, error)
}

// JailStatus is a jail's state as status reports show it.
type JailStatus struct {
	Name            string
	CurrentlyFailed int   // hosts with failures in their window now
	TotalFailed     int64 // failures counted since start
	CurrentlyBanned int
	TotalBanned     int64 // bans made since start (restored ones excluded)
	Banned          []BanInfo
}

// Windowed is implemented by counters: the span of log time they look back
// over. The daemon re-reads the longest of them on start (Options.Rewind).
type Windowed interface {
	FindTime() time.Duration
}

// FileLister is implemented by sources that can name what they read, for
// status reports (fail2ban-client's "File list").
type FileLister interface {
	Files() []string
}

// JournalReader is implemented by sources that read the systemd journal:
// JournalMatches is their matches as fail2ban-client's status shows them
// ("Journal matches: _SYSTEMD_UNIT=sshd.service + _COMM=sshd"), "" for
// the whole journal.
type JournalReader interface {
	JournalMatches() string
}

// EnvChecker is implemented by stages that need something of the machine
// (a binary such as nft or ipset, a readable file). `f2b validate
// --check-env` asks them before run time. CheckEnv may do I/O but must not
// change anything. Errors should be *confval.AttrError values naming the
// attribute concerned.
type EnvChecker interface {
	CheckEnv() error
}
