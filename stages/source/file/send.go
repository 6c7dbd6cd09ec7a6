package file

import (
	"slices"

	"github.com/f2bproject/f2b/engine"
)

// readAll reads every open file: rotated-away ones first (their lines are
// older), then each path's. Rotated-away files past their grace are
// closed. It returns false when ctx ended while sending.
func (rn *runner) readAll() bool {
	rn.now = rn.clock.Now()
	for _, r := range slices.Clone(rn.detached) {
		if !rn.readFile(r) {
			return false
		}
		if !rn.now.Before(r.deadline) {
			if !rn.flushPartial(r) {
				return false
			}
			rn.closeDetached(r)
		}
	}
	for _, f := range rn.order {
		if f.r != nil && !rn.readFile(f.r) {
			return false
		}
	}
	return rn.flush()
}

func (rn *runner) closeDetached(r *reader) {
	r.f.Close()
	r.closed = true
	delete(rn.readers, r.id)
	if i := slices.Index(rn.detached, r); i >= 0 {
		rn.detached = slices.Delete(rn.detached, i, i+1)
	}
}

// emit adds the line r just read to the batch, sending a full batch.
func (rn *runner) emit(r *reader, text string) bool {
	recount := r.off <= r.recountTo
	rn.batch = append(rn.batch, engine.Line{Text: text, Origin: r.path, No: r.line, ReadAt: engine.UnixNanos(rn.now), Recount: recount})
	rn.marks = append(rn.marks, mark{r: r, gen: r.gen, off: r.off, line: r.line})
	if len(rn.batch) >= BatchSize {
		return rn.flush()
	}
	return true
}

// flush sends the batch. Only once it is sent do the readers' sent
// positions move, so a stop in between repeats the lines next time
// instead of losing them.
func (rn *runner) flush() bool {
	if len(rn.batch) == 0 {
		return true
	}
	select {
	case rn.out <- engine.Event{Kind: engine.KindLine, Lines: rn.batch}:
	case <-rn.ctx.Done():
		return false
	}
	var recount int64
	for _, l := range rn.batch {
		if l.Recount {
			recount++
		}
	}
	rn.s.stats.Lines.Add(int64(len(rn.batch)) - recount)
	rn.s.stats.Recount.Add(recount)
	for _, m := range rn.marks {
		if m.gen == m.r.gen && m.off > m.r.sentOff {
			m.r.sentOff, m.r.sentLine = m.off, m.line
		}
	}
	// NOTE: the receiver owns the sent slice; start a new one.
	rn.batch = make([]engine.Line, 0, BatchSize)
	rn.marks = rn.marks[:0]
	rn.dirty = true
	return true
}

// save stores the position of every path whose position changed, in one
// transaction.
func (rn *runner) save() {
	rn.dirty = false
	rn.lastSave = rn.now
	if rn.store == nil {
		return
	}
	vals := map[string][]byte{}
	for _, k := range rn.gone {
		if _, ok := rn.saved[k]; ok {
			vals[k] = nil
		}
	}
	for _, f := range rn.order {
		r := f.r
		if r == nil {
			r = f.last
		} else {
			r.checkpoint(rn.now, rn.rewind)
		}
		if r == nil {
			continue
		}
		enc := r.position().encode()
		if rn.saved[f.key] != string(enc) {
			vals[f.key] = enc
		}
	}
	if len(vals) == 0 {
		rn.gone = nil
		return
	}
	if err := rn.store.SavePositions(vals); err != nil {
		rn.log.Error("cannot save file positions", "err", err)
		rn.dirty = true
		return
	}
	rn.gone = nil
	for k, v := range vals {
		if v == nil {
			delete(rn.saved, k)
		} else {
			rn.saved[k] = string(v)
		}
	}
}
