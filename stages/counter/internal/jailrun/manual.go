package jailrun

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Manual is the manual commands of engine.Jail for one counter: each runs
// in the counter's Run loop (through Control), after the bans due at the
// counter's now are lifted, and returns once its actions are saved and
// sent. The callbacks run in the Run goroutine.
//
// An unban forgets, as fail2ban-client's unban deletes the host's rows
// from its database: the host's ban history goes, in memory (Forget) and
// in the store (the unban's Action.Forget, or Batch.Forget for a host not
// banned), so its next ban is a first ban. An unban of every host forgets
// the whole jail's history.
type Manual struct {
	Jail    string
	Control *Control
	Batch   *Batch          // where the forgetting of a host not banned is saved
	Now     *Now            // the counter's now
	Expire  func(time.Time) // lifts the bans due at now
	BanHost func(host netip.Addr, now time.Time) error
	// IsBanned reports whether host has a running ban.
	IsBanned func(host netip.Addr) bool
	// Lift ends the running ban of host at now, before its time, and
	// queues its unban (see ManualUnban).
	Lift func(host netip.Addr, now time.Time)
	// Running returns the hosts with a running ban, in ban order.
	Running func() []netip.Addr
	// Forget drops the ban history of host in memory; ForgetAll every
	// host's.
	Forget    func(host netip.Addr)
	ForgetAll func()
}

// Ban runs BanHost.
func (m *Manual) Ban(ctx context.Context, host netip.Addr) error {
	host, err := m.check(host)
	if err != nil {
		return err
	}
	_, err = m.Control.Call(ctx, m.Jail, func() (int, error) {
		return 0, m.BanHost(host, m.lift())
	})
	return err
}

// Unban lifts the running ban of host, if any, forgets its ban history,
// and reports whether there was a ban.
func (m *Manual) Unban(ctx context.Context, host netip.Addr) (bool, error) {
	host, err := m.check(host)
	if err != nil {
		return false, err
	}
	n, err := m.Control.Call(ctx, m.Jail, func() (int, error) {
		now := m.lift()
		banned := m.IsBanned(host)
		if banned {
			m.Lift(host, now)
		} else {
			m.Batch.Forget(host, now)
		}
		m.Forget(host)
		if banned {
			return 1, nil
		}
		return 0, nil
	})
	return n > 0, err
}

// UnbanEvery lifts every running ban, in ban order, forgets every host's
// ban history, and returns how many bans it lifted.
func (m *Manual) UnbanEvery(ctx context.Context) (int, error) {
	return m.Control.Call(ctx, m.Jail, func() (int, error) {
		now := m.lift()
		hosts := m.Running()
		for _, host := range hosts {
			m.Lift(host, now)
		}
		m.ForgetAll()
		m.Batch.Forget(netip.Addr{}, now)
		return len(hosts), nil
	})
}

// lift lifts the bans due now, so a ban that has just ended is not taken
// for a running one, and returns now.
func (m *Manual) lift() time.Time {
	now := m.Now.Get()
	m.Expire(now)
	return now
}

// check returns host as counters key it: unmapped and zoneless.
func (m *Manual) check(host netip.Addr) (netip.Addr, error) {
	host = host.Unmap().WithZone("")
	if !host.IsValid() {
		return host, fmt.Errorf("jail %s: no valid address given", m.Jail)
	}
	return host, nil
}

// Status assembles a jail's status from its counts and running bans.
func Status(jail string, failed, totalFailed, totalBanned int64, banned []engine.BanInfo) engine.JailStatus {
	return engine.JailStatus{
		Name:            jail,
		CurrentlyFailed: int(failed),
		TotalFailed:     totalFailed,
		CurrentlyBanned: len(banned),
		TotalBanned:     totalBanned,
		Banned:          banned,
	}
}

// BanEvent is the ban action of the new ban info, at its start, carrying
// matches (the lines of the failures that made it) and fields (the
// captures handed on to its unban).
func BanEvent(jail string, info engine.BanInfo, matches []string, fields map[string]string) engine.Event {
	return engine.Event{
		Kind: engine.KindAction,
		Time: info.Start,
		Action: &engine.Action{
			Type:     engine.Ban,
			Jail:     jail,
			Host:     info.Host,
			HostText: info.HostText,
			Failures: info.Failures,
			BanTime:  info.BanTime,
			Start:    info.Start,
			End:      info.End,
			BanCount: info.BanCount,
			Matches:  matches,
			Fields:   fields,
		},
	}
}

// EndedUnban is the unban of a ban that ran its time: at its End, the
// rest as the ban had it.
func EndedUnban(jail string, info engine.BanInfo, fields map[string]string) engine.Event {
	return engine.Event{
		Kind: engine.KindAction,
		Time: info.End,
		Action: &engine.Action{
			Type:     engine.Unban,
			Jail:     jail,
			Host:     info.Host,
			HostText: info.HostText,
			Failures: info.Failures,
			BanTime:  info.BanTime,
			Start:    info.Start,
			End:      info.End,
			BanCount: info.BanCount,
			Fields:   fields,
		},
	}
}

// ManualUnban is the unban of a ban lifted by hand at now: Start and End
// are both now, the moment it was lifted; the rest repeats the ban. It
// forgets the host's ban history, as a manual unban does (Action.Forget).
func ManualUnban(jail string, info engine.BanInfo, fields map[string]string, now time.Time) engine.Event {
	return engine.Event{
		Kind: engine.KindAction,
		Time: now,
		Action: &engine.Action{
			Type:     engine.Unban,
			Jail:     jail,
			Host:     info.Host,
			HostText: info.HostText,
			Failures: info.Failures,
			BanTime:  info.BanTime,
			Start:    now,
			End:      now,
			BanCount: info.BanCount,
			Fields:   fields,
			Forget:   true,
		},
	}
}
