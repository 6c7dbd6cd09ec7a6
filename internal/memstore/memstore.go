// Package memstore is an in-memory engine.Store for tests: it keeps ban
// records with the rules of the daemon's store (package state) and source
// positions, and remembers which actions it was handed, so tests of
// counters and sources check what they saved without a database file.
// It is not for production: nothing survives the process.
package memstore

import (
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Store is an in-memory engine.Store with the rules of the daemon's store
// (package state): a Ban writes the host's record; a Prolong moves its End
// and BanTime; an Unban marks it ended at the action's End (the moment the
// ban ended or was lifted), keeping its Start, ban time and count as
// history, unless the unban's Start is before the record's (it ended an
// earlier ban); an Unban with Forget leaves a forgotten record
// (engine.BanRecord.Forgotten; the jail's every record for the zero Host).
type Store struct {
	mu        sync.Mutex
	recs      map[string]map[netip.Addr]engine.BanRecord // jail → host → latest ban
	saved     map[*engine.Action]bool                    // held by a Record call that succeeded
	seen      map[*engine.Action]bool                    // held by any Record call
	calls     int
	err       error
	positions map[string][]byte
}

var _ engine.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		recs:      map[string]map[netip.Addr]engine.BanRecord{},
		saved:     map[*engine.Action]bool{},
		seen:      map[*engine.Action]bool{},
		positions: map[string][]byte{},
	}
}

// Put stores records as they are, as if saved by an earlier run.
func (s *Store) Put(recs ...engine.BanRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.jail(r.Jail)[r.Host] = r
	}
}

// Fail makes every later Record fail with err; nil makes it work again.
func (s *Store) Fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Calls is the number of Record calls so far, failed ones included.
func (s *Store) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Saved reports whether a Record call that succeeded held a.
func (s *Store) Saved(a *engine.Action) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved[a]
}

// Seen reports whether a was handed to Record, whether the call
// succeeded or not.
func (s *Store) Seen(a *engine.Action) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[a]
}

// Get returns the record of host in jail.
func (s *Store) Get(jail string, host netip.Addr) (engine.BanRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[jail][host]
	return r, ok
}

// Bans implements engine.Store.
func (s *Store) Bans(jail string) ([]engine.BanRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.recs[jail])), nil
}

// Record implements engine.Store.
func (s *Store) Record(actions []*engine.Action) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, a := range actions {
		s.seen[a] = true
	}
	if s.err != nil {
		return s.err
	}
	for _, a := range actions {
		s.saved[a] = true
		recs := s.jail(a.Jail)
		if a.Type == engine.Unban && a.Forget {
			at := a.End
			if at.IsZero() {
				at = time.Now()
			}
			forgotten := func(r engine.BanRecord, start time.Time) engine.BanRecord {
				return engine.BanRecord{Jail: a.Jail, Host: r.Host, HostText: r.HostText, Start: start, End: at, Ended: true}
			}
			if a.Host.IsValid() {
				old, found := recs[a.Host]
				switch {
				case !a.Start.IsZero(): // a lifted ban
					recs[a.Host] = forgotten(engine.BanRecord{Host: a.Host, HostText: a.HostText}, a.Start)
				case found: // no ban lifted: the floor stays
					recs[a.Host] = forgotten(old, old.Start)
				}
			} else if a.HostText == "" {
				for h, r := range recs { // every host of the jail
					recs[h] = forgotten(r, r.Start)
				}
			}
			continue
		}
		r, found := recs[a.Host]
		switch {
		case a.Type == engine.Ban || !found:
			r = engine.BanRecord{
				Jail:     a.Jail,
				Host:     a.Host,
				HostText: a.HostText,
				Start:    a.Start,
				End:      a.End,
				BanTime:  a.BanTime,
				BanCount: a.BanCount,
				Failures: a.Failures,
				Matches:  a.Matches,
			}
			r.Ended = a.Type == engine.Unban
		case a.Type == engine.Prolong:
			r.End, r.BanTime, r.Ended = a.End, a.BanTime, false
		case a.Start.Before(r.Start):
			continue // the unban of an earlier ban
		default:
			r.End, r.Ended = a.End, true
		}
		recs[a.Host] = r
	}
	return nil
}

// Position implements engine.Store.
func (s *Store) Position(key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.positions[key]
	return slices.Clone(v), ok, nil
}

// SavePositions implements engine.Store.
func (s *Store) SavePositions(positions map[string][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range positions {
		if v == nil {
			delete(s.positions, k)
		} else {
			s.positions[k] = slices.Clone(v)
		}
	}
	return nil
}

// PutPosition stores value under key as if saved by an earlier run.
func (s *Store) PutPosition(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.positions[key] = slices.Clone(value)
}

// Positions returns a copy of the saved positions, key → value.
func (s *Store) Positions() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.positions)
}

func (s *Store) jail(name string) map[netip.Addr]engine.BanRecord {
	m := s.recs[name]
	if m == nil {
		m = map[netip.Addr]engine.BanRecord{}
		s.recs[name] = m
	}
	return m
}
