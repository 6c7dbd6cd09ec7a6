// Package control is f2b's control socket: the JSON protocol between the
// daemon (`f2b run`) and its client commands (`f2b status`, `ban`, `unban`,
// `reload`, `stop`, …), the server that listens on the unix socket and the
// client that calls it.
//
// One request per connection: the client writes one JSON object and a
// newline, the server answers with one JSON object and a newline and
// closes the connection.
package control

import (
	"encoding/json"
	"fmt"
	"time"
)

// DefaultSocket is where the daemon listens and the client commands call
// unless --socket says otherwise.
const DefaultSocket = "/run/f2b/f2b.sock"

// The commands the daemon answers.
const (
	CmdPing   = "ping"   // no args; result "pong"
	CmdStatus = "status" // args: [] → Overview, [JAIL] → JailStatus
	CmdBanned = "banned" // args: [] or [JAIL] → []BannedEntry
	CmdBan    = "ban"    // args: [JAIL, IP…] → BanResult
	CmdUnban  = "unban"  // args: [IP…] or All → UnbanResult
	CmdReload = "reload" // no args → ReloadResult
	CmdStop   = "stop"   // no args; result "stopping"
)

// KnownCommands are the commands the server passes to its Handler; any
// other is answered with an error naming these.
var KnownCommands = []string{CmdPing, CmdStatus, CmdBanned, CmdBan, CmdUnban, CmdReload, CmdStop}

// Request is one command to the daemon.
type Request struct {
	Command string   `json:"command"`
	Args    []string `json:"args,omitempty"`
	// All asks unban to lift every ban of every jail (args must be empty).
	All bool `json:"all,omitempty"`
}

// Response is the daemon's answer: OK with a Result, or an Error.
type Response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Decode unmarshals the Result of an OK response into v.
func (r Response) Decode(v any) error {
	if !r.OK {
		return fmt.Errorf("decoding a failed response: %s", r.Error)
	}
	if err := json.Unmarshal(r.Result, v); err != nil {
		return fmt.Errorf("decoding the daemon's answer: %w", err)
	}
	return nil
}

// Overview answers status without a jail.
type Overview struct {
	Jails []string `json:"jails"`
}

// JailStatus answers status JAIL, in fail2ban-client's terms.
type JailStatus struct {
	Jail            string   `json:"jail"`
	CurrentlyFailed int      `json:"currently_failed"`
	TotalFailed     int64    `json:"total_failed"`
	Files           []string `json:"files"`
	// JournalMatches are the matches of each journal source of the jail
	// (fail2ban-client's "Journal matches"); absent when it has none.
	JournalMatches  []string `json:"journal_matches,omitempty"`
	CurrentlyBanned int      `json:"currently_banned"`
	TotalBanned     int64    `json:"total_banned"`
	Banned          []string `json:"banned"`
}

// BannedEntry is one running ban, as `f2b banned` lists it.
type BannedEntry struct {
	Jail     string    `json:"jail"`
	Host     string    `json:"host"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end,omitzero"` // zero when permanent
	BanTime  string    `json:"ban_time"`     // Go duration, or "permanent"
	BanCount int       `json:"ban_count"`
	Failures int       `json:"failures"`
}

// BanResult answers ban JAIL IP…: the hosts banned now and those that were
// banned already.
type BanResult struct {
	Banned  []string `json:"banned"`
	Already []string `json:"already,omitempty"`
}

// UnbanResult answers unban: how many bans were lifted, and the hosts given
// that no jail had banned.
type UnbanResult struct {
	Unbanned int      `json:"unbanned"`
	NotFound []string `json:"not_found,omitempty"`
}

// ReloadResult answers reload once the new pipeline runs.
type ReloadResult struct {
	Jails []string `json:"jails"`
}
