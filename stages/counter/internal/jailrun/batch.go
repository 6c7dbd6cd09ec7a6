package jailrun

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// Limits of one group commit: the loop stops taking the events at hand
// once it has taken MaxEvents of them or made MaxActions actions, and saves
// what it has.
const (
	MaxEvents  = 256
	MaxActions = 1024
)

// keepCap bounds the capacity a Batch keeps between flushes, so one huge
// burst of unbans does not pin its memory.
const keepCap = 4 * MaxActions

// Batch collects the actions a counter makes while it takes the events at
// hand; Flush saves them to the store in one Record call and then sends
// them on. Only the Run goroutine uses a Batch, except Errors and Commits.
type Batch struct {
	store  engine.Store // nil: nothing is saved
	logger *slog.Logger
	jail   string

	evs  []engine.Event
	save []*engine.Action // the actions of evs that Record must see

	failing string // the last store error, "" while the store works

	errors  atomic.Int64 // failed Record calls
	commits atomic.Int64 // Record calls
}

// NewBatch returns the batch of jail; store may be nil.
func NewBatch(store engine.Store, logger *slog.Logger, jail string) *Batch {
	return &Batch{store: store, logger: logger, jail: jail}
}

// Add queues ev, an action event, to be saved and sent.
func (b *Batch) Add(ev engine.Event) {
	b.evs = append(b.evs, ev)
	if b.store != nil {
		b.save = append(b.save, ev.Action)
	}
}

// AddUnsaved queues ev to be sent without saving it: a ban restored from
// the store, which holds it already.
func (b *Batch) AddUnsaved(ev engine.Event) {
	b.evs = append(b.evs, ev)
}

// Forget queues, to be saved but not sent, the forgetting of host's ban
// history in the jail (every host's for the zero Addr): an Unban with
// Forget (see engine.Action.Forget) for a host that has no running ban,
// which sinks must not see.
func (b *Batch) Forget(host netip.Addr, now time.Time) {
	if b.store != nil {
		// No Start: no ban was lifted (see engine.Action.Forget).
		a := &engine.Action{Type: engine.Unban, Jail: b.jail, Host: host, End: now, Forget: true}
		if host.IsValid() {
			a.HostText = host.String()
		}
		b.save = append(b.save, a)
	}
}

// Len is the number of actions queued.
func (b *Batch) Len() int { return len(b.evs) }

// Errors is the number of Record calls that failed ("store_errors").
func (b *Batch) Errors() int64 { return b.errors.Load() }

// Commits is the number of Record calls made.
func (b *Batch) Commits() int64 { return b.commits.Load() }

// Flush saves the queued actions and sends them on out, in the order they
// were queued. A store error does not stop the sends: the bans still apply
// in memory and in the sinks, they are only lost on a restart. It returns
// ctx's error when a send gives way to a hard stop.
func (b *Batch) Flush(ctx context.Context, out chan<- engine.Event) error {
	if len(b.save) > 0 {
		b.commits.Add(1)
		// NOTE: a fresh slice each time, so a store may keep it.
		b.noteErr(b.store.Record(b.save), len(b.save))
		b.save = nil
	}
	var err error
	for _, ev := range b.evs {
		select {
		case out <- ev:
			continue
		case <-ctx.Done():
			err = ctx.Err()
		}
		break
	}
	clear(b.evs)
	b.evs = b.evs[:0]
	if cap(b.evs) > keepCap {
		b.evs = nil
	}
	return err
}

// noteErr counts a failed Record and logs it once per run of failures with
// the same error, so a full disk does not log every ban.
func (b *Batch) noteErr(err error, n int) {
	if err == nil {
		if b.failing != "" {
			b.logger.Info("saving bans works again", "jail", b.jail)
			b.failing = ""
		}
		return
	}
	b.errors.Add(1)
	if msg := err.Error(); msg != b.failing {
		b.failing = msg
		b.logger.Error("cannot save bans to the state store: they apply now but will be forgotten on restart",
			"jail", b.jail, "actions", n, "err", err)
	}
}
