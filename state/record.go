package state

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/f2bproject/f2b/engine"
)

// maxGroup caps how many requests share one transaction, so that a flood
// of callers still sees commits at a steady pace.
const maxGroup = 1024

// request is one caller's share of a group commit.
type request struct {
	fn   func(tx *bolt.Tx) error
	done chan error // buffered: the writer never waits for the caller
}

// Record applies actions in one transaction and returns once that is
// committed and synced (see engine.Store). A Ban writes the host's record;
// a Prolong moves the End and BanTime of the host's record (and writes a
// full one when there is none); an Unban marks the record ended, keeping it
// as history, with End set to when the ban was lifted: the action's End
// (counters lift a ban at its End), or the store's clock for a lifted
// permanent ban, which has none. An Unban older than the stored ban (its
// Start before the record's) is ignored: it ended an earlier ban. Nil
// entries are skipped.
func (s *Store) Record(actions []*engine.Action) error {
	list := make([]*engine.Action, 0, len(actions))
	for _, a := range actions {
		if a == nil {
			continue
		}
		if a.Jail == "" {
			return fmt.Errorf("state file %s: record %s of %s: no jail", s.path, a.Type, a.HostText)
		}
		switch a.Type {
		case engine.Ban, engine.Prolong, engine.Unban:
		default:
			return fmt.Errorf("state file %s: record action of type %d for %s in jail %q: unknown type", s.path, a.Type, a.HostText, a.Jail)
		}
		list = append(list, a)
	}
	if len(list) == 0 {
		return nil
	}
	now := s.now()
	err := s.submit(func(tx *bolt.Tx) error { return applyActions(tx, list, now) })
	if err != nil {
		return fmt.Errorf("state file %s: record %d bans: %w", s.path, len(list), err)
	}
	return nil
}

// SavePositions stores positions in one synced transaction; a nil value
// deletes its key.
func (s *Store) SavePositions(positions map[string][]byte) error {
	if len(positions) == 0 {
		return nil
	}
	for k := range positions {
		if k == "" || len(k) > bolt.MaxKeySize {
			return fmt.Errorf("state file %s: position key of %d bytes", s.path, len(k))
		}
	}
	err := s.submit(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPositions)
		for k, v := range positions {
			var err error
			if v == nil {
				err = b.Delete([]byte(k))
			} else {
				err = b.Put([]byte(k), v)
			}
			if err != nil {
				return fmt.Errorf("position %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state file %s: save %d positions: %w", s.path, len(positions), err)
	}
	return nil
}

// submit hands fn to the writer goroutine and waits until the transaction
// that ran it has committed, or failed.
func (s *Store) submit(fn func(tx *bolt.Tx) error) error {
	r := &request{fn: fn, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return ErrClosed
	}
	return <-r.done
}

// write is the writer goroutine: it takes a request, every other request
// already waiting, and commits them in one transaction. A lone caller thus
// commits at once; callers that arrive during a commit share the next one.
func (s *Store) write() {
	defer s.writer.Done()
	group := make([]*request, 0, 16)
	for {
		select {
		case r := <-s.reqs:
			group = append(group[:0], r)
		case <-s.quit:
			return
		}
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		s.commit(group)
		clear(group) // let the finished requests go
	}
}

// commit runs the group in one transaction and reports the outcome to each
// request. When the transaction fails and the group has more than one
// request, each is retried alone, so that one caller's bad data cannot fail
// the others (a full disk fails them all anyway).
func (s *Store) commit(group []*request) {
	err := s.update(func(tx *bolt.Tx) error {
		for _, r := range group {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 || errors.Is(err, ErrClosed) {
		for _, r := range group {
			r.done <- err
		}
		return
	}
	for _, r := range group {
		r.done <- s.update(r.fn)
	}
}

// applyActions writes actions into the jail buckets of tx. now is the end
// of an Unban that carries no time.
func applyActions(tx *bolt.Tx, actions []*engine.Action, now time.Time) error {
	bans := tx.Bucket(bucketBans)
	jails := map[string]*bolt.Bucket{}
	for _, a := range actions {
		if a.Type == engine.Unban && a.Forget && !a.Host.IsValid() && a.HostText == "" {
			// Every host of the jail: fail2ban's unban --all.
			if err := forgetJail(bans.Bucket([]byte(a.Jail)), a.Jail, forgotAt(a, now)); err != nil {
				return err
			}
			continue
		}
		b := jails[a.Jail]
		if b == nil {
			var err error
			if b, err = bans.CreateBucketIfNotExists([]byte(a.Jail)); err != nil {
				return fmt.Errorf("jail %q: %w", a.Jail, err)
			}
			jails[a.Jail] = b
		}
		key := hostKey(a.Host, a.HostText)
		if a.Type == engine.Unban && a.Forget {
			at := forgotAt(a, now)
			start := a.Start // a lifted ban: its failures up to now are done with
			if start.IsZero() {
				// No ban lifted: the counter keeps the host's failures,
				// so the floor stays where its last ban put it.
				old, found := get(b, a.Jail, key)
				if !found {
					continue
				}
				start = old.Start
			}
			r := engine.BanRecord{Jail: a.Jail, Host: a.Host, HostText: a.HostText, Start: start, End: at, Ended: true}
			if err := b.Put(key, encodeRecord(nil, &r)); err != nil {
				return fmt.Errorf("jail %q, host %s: forget: %w", a.Jail, a.HostText, err)
			}
			continue
		}
		var r engine.BanRecord
		var found bool
		if a.Type != engine.Ban { // a Ban replaces the record whole
			r, found = get(b, a.Jail, key)
		}
		switch a.Type {
		case engine.Ban:
			r = fromAction(a)
		case engine.Prolong:
			if !found {
				r = fromAction(a)
				break
			}
			r.BanTime, r.End, r.Ended = a.BanTime, a.End, false
			if a.BanTime == engine.Permanent {
				r.End = time.Time{}
			}
		case engine.Unban:
			if found && !a.Start.IsZero() && a.Start.Before(r.Start) {
				continue // the unban of an earlier ban
			}
			if !found {
				r = fromAction(a)
			}
			r.Ended = true
			r.End = a.End
			if r.End.IsZero() {
				r.End = now
			}
		}
		// bbolt keeps key and value until the commit: each Put gets its own.
		if err := b.Put(key, encodeRecord(nil, &r)); err != nil {
			return fmt.Errorf("jail %q, host %s: %w", a.Jail, a.HostText, err)
		}
	}
	return nil
}

// forgotAt is when a forgetting unban took effect: its End, else the
// store's now.
func forgotAt(a *engine.Action, now time.Time) time.Time {
	if !a.End.IsZero() {
		return a.End
	}
	return now
}

// forgetJail replaces every record of a jail's bucket b (nil when the jail
// has none) with a forgotten one, ended at at, keeping its Start (see
// engine.BanRecord.Forgotten).
func forgetJail(b *bolt.Bucket, jail string, at time.Time) error {
	if b == nil {
		return nil
	}
	// NOTE: bbolt does not allow changing a bucket while ForEach walks it.
	type entry struct {
		key []byte
		rec engine.BanRecord
		ok  bool
	}
	var all []entry
	if err := b.ForEach(func(k, v []byte) error {
		r, err := decodeEntry(jail, k, v)
		all = append(all, entry{append([]byte(nil), k...), r, err == nil})
		return nil
	}); err != nil {
		return fmt.Errorf("jail %q: forget: %w", jail, err)
	}
	for _, e := range all {
		if !e.ok {
			// A record that cannot be read stands for no host: drop it.
			if err := b.Delete(e.key); err != nil {
				return fmt.Errorf("jail %q: forget: %w", jail, err)
			}
			continue
		}
		// The Start stays: the bans lifted before in this commit left
		// theirs at the lift, the others' failures are still counted.
		r := engine.BanRecord{Jail: jail, Host: e.rec.Host, HostText: e.rec.HostText, Start: e.rec.Start, End: at, Ended: true}
		if err := b.Put(e.key, encodeRecord(nil, &r)); err != nil {
			return fmt.Errorf("jail %q, host %s: forget: %w", jail, r.HostText, err)
		}
	}
	return nil
}

// get reads the record under key of a jail's bucket. A record that cannot
// be decoded counts as missing: the action then writes a whole new one,
// which is all that can be done with it.
func get(b *bolt.Bucket, jail string, key []byte) (engine.BanRecord, bool) {
	v := b.Get(key)
	if v == nil {
		return engine.BanRecord{}, false
	}
	r, err := decodeEntry(jail, key, v)
	return r, err == nil
}

// fromAction makes the record of a ban from its action.
func fromAction(a *engine.Action) engine.BanRecord {
	r := engine.BanRecord{
		Jail:     a.Jail,
		Host:     a.Host,
		HostText: a.HostText,
		Start:    a.Start,
		End:      a.End,
		BanTime:  a.BanTime,
		BanCount: a.BanCount,
		Failures: a.Failures,
		Matches:  capMatches(a.Matches),
	}
	if a.BanTime == engine.Permanent {
		r.End = time.Time{}
	}
	return r
}
