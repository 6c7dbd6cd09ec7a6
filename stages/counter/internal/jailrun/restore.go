package jailrun

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Saved is what the store holds of a jail, sorted for restoring. Every
// record's Host is unmapped and zoneless.
type Saved struct {
	// Running are the bans still in force: the counter puts them back and
	// sends them again as restored bans.
	Running []engine.BanRecord
	// Lapsed are the bans that ended while f2b was down, and the running
	// bans of hosts the jail now ignores: the counter sends their unbans
	// (restored) and saves them, so they become history.
	Lapsed []engine.BanRecord
	// Ended are the bans lifted before: history only.
	Ended []engine.BanRecord
}

// Load reads the saved bans of jail and sorts them by what they are at now.
// ignored reports the hosts the jail ignores now.
//
// NOTE: fail2ban does not restore the ban of an ignored host
// (Jail.restoreCurrentBans skips it); it flushed its firewall on stop, so
// that lifts the ban. f2b's bans outlive the process in the sinks, so the
// same decision has to be an explicit unban.
func Load(store engine.Store, jail string, now time.Time, ignored func(netip.Addr) bool) (Saved, error) {
	recs, err := store.Bans(jail)
	if err != nil {
		return Saved{}, fmt.Errorf("loading the saved bans of jail %s: %w", jail, err)
	}
	var s Saved
	for _, r := range recs {
		r.Host = r.Host.Unmap().WithZone("")
		if !r.Host.IsValid() {
			continue
		}
		switch {
		case r.Ended:
			s.Ended = append(s.Ended, r)
		case r.Running(now) && !ignored(r.Host):
			s.Running = append(s.Running, r)
		default:
			s.Lapsed = append(s.Lapsed, r)
		}
	}
	// Ban order: the unban queue breaks ties by it and status lists it.
	for _, l := range [][]engine.BanRecord{s.Running, s.Lapsed, s.Ended} {
		slices.SortFunc(l, func(a, b engine.BanRecord) int {
			return cmp.Or(a.Start.Compare(b.Start), a.Host.Compare(b.Host))
		})
	}
	return s, nil
}

// Permanent reports whether r is a ban that never ends.
func Permanent(r engine.BanRecord) bool {
	return r.BanTime == engine.Permanent || r.End.IsZero()
}

// RestoredBan is the ban event of the running record r, sent again on
// start.
func RestoredBan(jail string, r engine.BanRecord) engine.Event {
	end, bt := r.End, r.BanTime
	if Permanent(r) {
		end, bt = time.Time{}, engine.Permanent
	}
	return engine.Event{
		Kind: engine.KindAction,
		Time: r.Start,
		Action: &engine.Action{
			Type:     engine.Ban,
			Jail:     jail,
			Host:     r.Host,
			HostText: hostText(r),
			Failures: r.Failures,
			BanTime:  bt,
			Start:    r.Start,
			End:      end,
			BanCount: r.BanCount,
			Matches:  r.Matches,
			Restored: true,
		},
	}
}

// RestoredUnban is the unban of the lapsed record r at now: at its End
// when it ended while f2b was down, else (an ignored host's running ban)
// now. Start and End are both that instant, so a store that marks the
// record ended at either records when it ended.
func RestoredUnban(jail string, r engine.BanRecord, now time.Time) engine.Event {
	at := r.End
	if Permanent(r) || at.After(now) {
		at = now
	}
	return engine.Event{
		Kind: engine.KindAction,
		Time: at,
		Action: &engine.Action{
			Type:     engine.Unban,
			Jail:     jail,
			Host:     r.Host,
			HostText: hostText(r),
			Failures: r.Failures,
			BanTime:  r.BanTime,
			Start:    at,
			End:      at,
			BanCount: r.BanCount,
			Restored: true,
		},
	}
}

func hostText(r engine.BanRecord) string {
	if r.HostText != "" {
		return r.HostText
	}
	return r.Host.String()
}

// Floors remembers, per host, the start of its saved ban: failures of the
// host at or before it are lines a source read again on start (see
// engine.Line.Recount) that the ban already stands for, and are not
// counted again. A floor is forgotten once the event time has passed it by
// find_time; all are dropped at once when the newest has.
type Floors struct {
	at     map[[16]byte]int64 // Unix nanoseconds
	newest int64
}

// Set makes start the floor of host, unless a later one is set.
func (f *Floors) Set(host netip.Addr, start time.Time) {
	n := Nanos(start)
	if len(f.at) == 0 {
		f.at, f.newest = map[[16]byte]int64{}, n
	}
	k := host.As16()
	if old, ok := f.at[k]; !ok || n > old {
		f.at[k] = n
	}
	f.newest = max(f.newest, n)
}

// Behind reports whether a failure of host at t lies at or before host's
// floor. now is the counter's event time and findTime its window.
func (f *Floors) Behind(host netip.Addr, t, now time.Time, findTime time.Duration) bool {
	if len(f.at) == 0 {
		return false
	}
	nn := Nanos(now)
	if passed(nn, f.newest, findTime) {
		f.at, f.newest = nil, 0
		return false
	}
	k := host.As16()
	floor, ok := f.at[k]
	if !ok {
		return false
	}
	if passed(nn, floor, findTime) {
		delete(f.at, k)
		return false
	}
	return Nanos(t) <= floor
}

// passed reports whether now is more than d after t.
func passed(now, t int64, d time.Duration) bool {
	return now > t && now-t > int64(d) // both clamped: the difference fits
}

// Len is the number of floors kept.
func (f *Floors) Len() int { return len(f.at) }

// Restore puts the saved bans of the batch's jail back, at now, through
// keep: keep(r, true) for a ban still running, which the counter must put
// back in force; keep(r, false) for one that is history only. It queues
// the running ones as restored bans, which are not saved again, and the
// lapsed ones as restored unbans, which are; and it sets every saved
// host's floor. It returns how many bans it restored. A store that cannot
// be read is logged and counted as a store error: the counter then starts
// with nothing.
func (b *Batch) Restore(now time.Time, ignored func(netip.Addr) bool, floors *Floors, keep func(r engine.BanRecord, running bool)) int {
	if b.store == nil {
		return 0
	}
	s, err := Load(b.store, b.jail, now, ignored)
	if err != nil {
		b.errors.Add(1)
		b.logger.Error("cannot restore the saved bans; the jail starts with none", "jail", b.jail, "err", err)
		return 0
	}
	for _, r := range s.Ended {
		// A forgotten host has no history to keep; its failures up to
		// the moment it was forgotten were dealt with all the same.
		if !r.Forgotten() {
			keep(r, false)
		}
		floors.Set(r.Host, r.Start)
	}
	for _, r := range s.Running {
		keep(r, true)
		floors.Set(r.Host, r.Start)
		b.AddUnsaved(RestoredBan(b.jail, r))
	}
	for _, r := range s.Lapsed {
		keep(r, false)
		floors.Set(r.Host, r.Start)
		b.Add(RestoredUnban(b.jail, r, now))
	}
	if n := len(s.Running) + len(s.Lapsed); n > 0 {
		b.logger.Info("restored saved bans", "jail", b.jail, "running", len(s.Running), "lapsed", len(s.Lapsed), "history", len(s.Ended))
	}
	return len(s.Running)
}
