package failfilter

import (
	"errors"
	"io"
	"math/bits"
	"time"
	"unsafe"

	"github.com/f2bproject/f2b/failregex"
)

// ProcessAll runs the lines next returns through the filter, in order, as
// ProcessLineInto does, and hands each line's failures to emit with the
// line and its number (the failures are valid until emit returns). next
// returns io.EOF at the end.
//
// The dates and the regexes of the lines ahead run on a second goroutine,
// so a log goes through about twice as fast on two CPUs. The results are
// ProcessLineInto's: this goroutine builds the failures from the other's
// matches in order, and takes a match only for the same regex on the same
// text; regexes on the backtracking engine (their time budget is this
// goroutine's) and the buffers of multi-line filters are left to it.
//
// ProcessAll returns next's error (but io.EOF) or emit's. The Filter must
// not be used by anything else meanwhile (DateTemplate, from emit, is
// fine). After an error the date detector may have read a few lines more
// than emit saw.
func (f *Filter) ProcessAll(next func() (string, int64, error), emit func(line string, no int64, fails []Failure) error) error {
	if f.pipeMats == nil {
		f.pipeMats = f.matchers()
	}
	const ahead = 16 // chunks read ahead of the one being built
	todo := make(chan *chunk, ahead)
	full := make(chan *chunk, ahead)
	w := &pipeWorker{f: f, mats: f.pipeMats}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range todo {
			w.chunk(c)
			full <- c
		}
	}()
	f.piped = true
	defer func() {
		close(todo)
		<-done
		f.memo, f.piped = nil, false
	}()
	var (
		fails  []Failure
		free   []*chunk
		queued int
		err    error // next's, after the last line read
	)
	for {
		// Read ahead: the other goroutine works on what is queued.
		for queued < ahead && err == nil {
			var c *chunk
			if n := len(free); n > 0 {
				c, free = free[n-1], free[:n-1]
			} else {
				c = &chunk{}
			}
			for len(c.recs) < chunkLines {
				line, no, e := next()
				if e != nil {
					err = e
					break
				}
				c.recs = append(c.recs, lineRec{line: line, no: no, now: f.opts.Now()})
			}
			todo <- c
			queued++
		}
		if queued == 0 {
			break
		}
		c := <-full
		queued--
		for i := range c.recs {
			rec := &c.recs[i]
			f.memo, f.pipeTemplate = rec.memo, rec.tmpl
			if rec.hasBuf {
				f.pipeBuf = &rec.buf
			}
			f.pipeSkip = rec.skip
			fails = f.processLine(rec.line, rec.now, rec.hit, fails[:0])
			f.memo, f.pipeBuf, f.pipeSkip = nil, nil, false
			if e := emit(rec.line, rec.no, fails); e != nil {
				for ; queued > 0; queued-- { // let the other goroutine finish
					<-full
				}
				return e
			}
		}
		c.reset()
		free = append(free, c)
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// chunkLines is how many lines go from one goroutine to the other at once.
const chunkLines = 256

// chunk is a batch of lines with their dates and matches. Its strings and
// slices point into its own buffers, reused once the lines are done.
type chunk struct {
	recs  []lineRec
	ents  []memoEnt
	bytes []byte
	ints  []int
}

func (c *chunk) reset() {
	clear(c.recs)
	clear(c.ents)
	c.recs, c.ents, c.bytes, c.ints = c.recs[:0], c.ents[:0], c.bytes[:0], c.ints[:0]
}

// lineRec is one line as the worker leaves it.
type lineRec struct {
	line string
	no   int64
	now  time.Time
	hit  dateHit
	tmpl string    // the date template after the line
	memo []memoEnt // the matches found
	// buf is the text the regexes saw (hasBuf: single-line filters).
	buf    string
	hasBuf bool
	// skip: every regex findFailure would run ran, on its text, and none
	// matched but maybe the prefregex, or an ignoreregex turned the line
	// away before it: findFailure has nothing to do.
	skip bool
}

// memoEnt is the match of regex id on buf (loc nil: no match); done is
// false when only the whole match and the last group are filled (see
// runLast).
type memoEnt struct {
	id   int
	buf  string
	loc  []int
	done bool
}

// memoGet returns the match the other goroutine found for r on buf, or
// nil.
func (f *Filter) memoGet(r *regex, buf string) *memoEnt {
	for i := range f.memo {
		if e := &f.memo[i]; e.id == r.id && e.buf == buf {
			return e
		}
	}
	return nil
}

// pipeWorker reads the lines, finds their dates and runs their regexes.
type pipeWorker struct {
	f    *Filter
	mats []*failregex.Matcher
	c    *chunk // being worked on
}

// chunk finds the dates and runs the regexes of a chunk's lines.
func (w *pipeWorker) chunk(c *chunk) {
	f := w.f
	w.c = c
	for i := range c.recs {
		rec := &c.recs[i]
		if !f.none {
			rec.hit.t, rec.hit.s, rec.hit.e, rec.hit.ok = f.dates.MatchAt(rec.line, rec.now)
			rec.tmpl = f.dates.LastTemplate()
		}
		first := len(c.ents)
		if f.def.MaxLines <= 1 {
			rec.buf, rec.skip = w.regexes(rec.line, rec.hit)
			rec.hasBuf = true
		}
		c.recs[i].memo = c.ents[first:len(c.ents):len(c.ents)]
	}
}

// regexes runs, on the text of a single-line filter, the regexes
// findFailure runs (the budget-free ones), on the texts it runs them on.
func (w *pipeWorker) regexes(line string, h dateHit) (buf string, skip bool) {
	f, c := w.f, w.c
	before, after := f.regexText(line, h)
	start := len(c.bytes)
	c.bytes = append(append(append(c.bytes, before...), after...), '\n')
	buf = w.str(start)
	if len(f.ignore) > 0 && len(f.ignore) < len(f.fail)-2 {
		all, hit := w.ignores(buf)
		if hit {
			return buf, all
		}
	}
	fbuf := buf
	pref := -1 // its entry
	if f.pref != nil {
		if slow, _ := f.pref.re.Backtracking(); slow || f.pref.content != len(f.pref.names)-1 {
			return buf, false
		}
		loc, done, err := w.mats[f.pref.id].SubmatchLast(buf, w.ints(len(f.pref.names)))
		if err != nil {
			return buf, false
		}
		pref = w.add(f.pref.id, buf, loc, done)
		if loc == nil {
			return buf, true
		}
		if g := f.pref.content; g >= 0 && 2*g+1 < len(loc) && loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
			if a, b := loc[2*g], loc[2*g+1]; b == len(buf)-1 {
				fbuf = buf[a:]
			} else {
				start := len(c.bytes)
				c.bytes = append(append(c.bytes, buf[a:b]...), '\n')
				fbuf = w.str(start)
			}
		}
	}
	may := f.candidates(fbuf)
	ignored := false
	skip = true
	for i := 0; i < len(f.fail); i++ {
		if i < 64 {
			if i += bits.TrailingZeros64(may >> i); i >= 64 {
				if i = 64; i >= len(f.fail) {
					break
				}
			}
		}
		r := f.fail[i]
		if slow, _ := r.re.Backtracking(); slow {
			skip = false
			continue
		}
		var (
			loc []int
			err error
		)
		if i < 64 { // a candidate: its literal checks passed
			loc, err = w.mats[r.id].SubmatchChecked(fbuf, w.ints(len(r.names)))
		} else {
			loc, err = w.mats[r.id].Submatch(fbuf, w.ints(len(r.names)))
		}
		if err != nil {
			skip = false
			continue
		}
		w.add(r.id, fbuf, loc, true)
		if loc == nil {
			continue
		}
		skip = false
		if pref >= 0 && !c.ents[pref].done {
			e := &c.ents[pref]
			e.loc, e.done = w.mats[f.pref.id].Complete(e.loc), true
		}
		if !ignored {
			ignored = true
			w.ignores(fbuf)
		}
	}
	return buf, skip
}

// ignores runs the ignoreregexes on buf; all reports that none was left
// out (on the backtracking engine), hit that one matched.
func (w *pipeWorker) ignores(buf string) (all, hit bool) {
	all = true
	for _, g := range w.f.ignore {
		if slow, _ := g.re.Backtracking(); slow {
			all = false
			continue
		}
		loc, err := w.mats[g.id].Submatch(buf, w.ints(len(g.names)))
		if err != nil {
			all = false
			continue
		}
		w.add(g.id, buf, loc, true)
		hit = hit || loc != nil
	}
	return all, hit
}

// add records a match; it returns its index in the chunk.
func (w *pipeWorker) add(id int, buf string, loc []int, done bool) int {
	if loc != nil {
		w.c.ints = w.c.ints[:len(w.c.ints)+len(loc)] // ints returned room for it
	}
	w.c.ents = append(w.c.ents, memoEnt{id: id, buf: buf, loc: loc, done: done})
	return len(w.c.ents) - 1
}

// ints returns room for the groups of a regex with n groups, at the end
// of the chunk's ints (add takes it); one more for the group of a final
// $ the engine may fill before it drops it.
func (w *pipeWorker) ints(n int) []int {
	c := w.c
	n = 2*n + 2
	if cap(c.ints)-len(c.ints) < n {
		// NOTE: the matches already taken keep the old array.
		c.ints = append(make([]int, 0, 2*cap(c.ints)+n+1024), c.ints...)
	}
	return c.ints[len(c.ints) : len(c.ints) : len(c.ints)+n]
}

// str returns the chunk's bytes from start as a string. NOTE: the bytes
// are not written again until the chunk is reset, after its lines are
// done; a buffer that grows leaves the old array to the strings made of it.
func (w *pipeWorker) str(start int) string {
	b := w.c.bytes[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// matchers returns new matchers for the Filter's regexes.
func (f *Filter) matchers() []*failregex.Matcher {
	out := make([]*failregex.Matcher, len(f.mats))
	for _, rs := range [][]*regex{f.fail, f.ignore} {
		for _, r := range rs {
			out[r.id] = r.re.Matcher()
		}
	}
	if f.pref != nil {
		out[f.pref.id] = f.pref.re.Matcher()
	}
	return out
}
