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
type Manual struct {
	Jail    string
	Control *Control
	Now     func() time.Time // the counter's now
	Expire  func(time.Time)  // lifts the bans due at now
	BanHost func(host netip.Addr, now time.Time) error
	// UnbanHost lifts the ban of host and reports whether there was one.
	UnbanHost func(host netip.Addr, now time.Time) bool
	// UnbanAll lifts every running ban and returns how many.
	UnbanAll func(now time.Time) int
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

// Unban runs UnbanHost.
func (m *Manual) Unban(ctx context.Context, host netip.Addr) (bool, error) {
	host, err := m.check(host)
	if err != nil {
		return false, err
	}
	n, err := m.Control.Call(ctx, m.Jail, func() (int, error) {
		if m.UnbanHost(host, m.lift()) {
			return 1, nil
		}
		return 0, nil
	})
	return n > 0, err
}

// UnbanEvery runs UnbanAll.
func (m *Manual) UnbanEvery(ctx context.Context) (int, error) {
	return m.Control.Call(ctx, m.Jail, func() (int, error) { return m.UnbanAll(m.lift()), nil })
}

// lift lifts the bans due now, so a ban that has just ended is not taken
// for a running one, and returns now.
func (m *Manual) lift() time.Time {
	now := m.Now()
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

// LiftedUnban is the unban of a ban lifted by hand at now: Start and End
// are both now, the moment it was lifted; the rest repeats the ban. It
// forgets the host's ban history, as a manual unban does (Action.Forget).
func LiftedUnban(jail string, info engine.BanInfo, fields map[string]string, now time.Time) engine.Event {
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
