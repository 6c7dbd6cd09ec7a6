package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/state"
)

// Opener opens the store under test afresh (a real one on disk, say);
// the returned function closes it.
type Opener func(t *testing.T) (engine.Store, func())

// RoundTrip runs a counter on a real store on the wall clock, closes
// everything, and runs a new counter on the store opened again: a manual
// ban comes back restored, and the ended ban of another host is its
// history (its next ban is its second). It waits on channels only, never
// on time.
func RoundTrip(t *testing.T, build Build, open Opener) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	type running struct {
		c    Counter
		in   chan engine.Event
		out  chan engine.Event
		errc chan error
	}
	start := func(store engine.Store) running {
		r := running{NewCounter(t, build, store, nil), make(chan engine.Event, 4), make(chan engine.Event, 16), make(chan error, 1)}
		go func() { r.errc <- r.c.Run(ctx, r.in, r.out) }()
		return r
	}
	next := func(r running) string {
		t.Helper()
		select {
		case ev := <-r.out:
			return Describe(ev)
		case err := <-r.errc:
			t.Fatalf("Run returned early: %v", err)
		case <-ctx.Done():
			t.Fatal("no action came")
		}
		return ""
	}
	stopRun := func(r running) {
		t.Helper()
		close(r.in)
		if err := <-r.errc; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	// Manual commands work once Run runs; until then they say so.
	ban := func(r running, host string) {
		t.Helper()
		for {
			err := r.c.Ban(ctx, addr(host))
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("Ban(%s): %v", host, err)
			}
			time.Sleep(time.Millisecond)
		}
	}

	store, closeStore := open(t)
	r := start(store)
	ban(r, hostA)
	if got := next(r); got != "ban 192.0.2.1 #1" {
		t.Fatalf("got %s", got)
	}
	now := time.Now()
	r.in <- Failure(hostB, now)
	r.in <- Failure(hostB, now)
	if got := next(r); got != "ban 192.0.2.2 #1" {
		t.Fatalf("got %s", got)
	}
	if ok, err := r.c.Unban(ctx, addr(hostB)); !ok || err != nil {
		t.Fatalf("Unban = %v, %v", ok, err)
	}
	if got := next(r); got != "unban 192.0.2.2 #1" {
		t.Fatalf("got %s", got)
	}
	stopRun(r)
	closeStore()

	store, closeStore = open(t)
	defer closeStore()
	recs, err := store.Bans(Jail)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(recs, func(a, b engine.BanRecord) int { return a.Host.Compare(b.Host) })
	// B's manual unban forgot its history (fail2ban's unbanip), keeping
	// only its moment.
	if len(recs) != 2 || recs[0].Host != addr(hostA) || recs[0].Ended || recs[1].Host != addr(hostB) || !recs[1].Forgotten() {
		t.Fatalf("stored %+v", recs)
	}
	r = start(store)
	if got := next(r); got != "ban 192.0.2.1 #1 restored" {
		t.Fatalf("after reopening: %s", got)
	}
	now = time.Now()
	r.in <- Failure(hostB, now)
	r.in <- Failure(hostB, now)
	if got := next(r); got != "ban 192.0.2.2 #1" {
		t.Fatalf("after reopening: %s", got)
	}
	if st := r.c.Status(); st.CurrentlyBanned != 2 || st.TotalBanned != 1 {
		t.Errorf("Status = %+v", st)
	}
	stopRun(r)
}

// OpenState is an Opener of the daemon's store (package state) in a
// temporary directory of t, the same one on every call.
func OpenState(t *testing.T) Opener {
	dir := t.TempDir()
	return func(t *testing.T) (engine.Store, func()) {
		s, err := state.Open(dir, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s, func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}
