package journal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// BatchSize is the most lines one event carries.
const BatchSize = 256

// maxEntry is the longest JSON line read; a longer entry is skipped and
// counted as bad. journalctl writes a byte of a non-UTF-8 value as up to
// four characters, so this leaves room for a message of a few MiB.
const maxEntry = 8 << 20

// runState is what one Run keeps across restarts of journalctl.
type runState struct {
	no         int64     // lines read so far: Line.No of the last one
	started    bool      // journalctl was started at least once
	firstStart time.Time // when it was first started
	initial    []string  // the start options of the first start
	fromEnd    bool      // the first start read new entries only (--lines=0)
	lastSent   position  // the last entry handed on, recounts included
	// recountTo is the saved position while a rewound start reads
	// entries up to it again; nil once they are behind.
	recountTo *position
}

// Run implements engine.Stage: it runs journalctl until ctx is done (or,
// in replay, until journalctl has printed every entry).
func (s *Source) Run(ctx context.Context, _ <-chan engine.Event, out chan<- engine.Event) error {
	s.mu.Lock()
	s.delivered, s.saved = position{}, position{}
	s.mu.Unlock()
	if len(s.args.Match) == 0 {
		s.opts.Logger.Info("no match given: every journal entry is read, which costs more than reading only the unit's")
	}
	st := &runState{}
	if s.opts.Store != nil && !s.opts.Replay {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.saveLoop(stop)
		}()
		defer func() {
			close(stop)
			<-done
			s.save()
		}()
	}
	backoff := s.backoffMin
	for {
		began := s.opts.Clock.Now()
		err := s.runOnce(ctx, st, out)
		if ctx.Err() != nil {
			return nil
		}
		if s.opts.Replay {
			return err
		}
		if err == nil {
			err = errors.New("journalctl ended")
		}
		// A journalctl that ran for a while earns a quick restart.
		if !began.IsZero() && s.opts.Clock.Now().Sub(began) >= s.backoffMax {
			backoff = s.backoffMin
		}
		s.stats.restarts.Add(1)
		s.opts.Logger.Error("journalctl exited; starting it again", "err", err, "after", backoff)
		if !s.sleep(ctx, backoff) {
			return nil
		}
		backoff = nextBackoff(backoff, s.backoffMax)
	}
}

// nextBackoff doubles d up to limit.
func nextBackoff(d, limit time.Duration) time.Duration {
	return min(2*d, limit)
}

func (s *Source) sleep(ctx context.Context, d time.Duration) bool {
	t := s.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// runOnce starts journalctl, hands on what it prints and returns when it
// exits (with its exit status and the tail of its stderr) or when ctx is
// done (after stopping it).
func (s *Source) runOnce(ctx context.Context, st *runState, out chan<- engine.Event) error {
	args := s.command(st)
	cmd := exec.CommandContext(ctx, s.args.Journalctl, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	// A journalctl that ignores SIGTERM is killed, and its pipes closed,
	// after this.
	cmd.WaitDelay = 5 * time.Second
	stderr := &tailBuffer{max: 2048}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if !st.started {
		st.firstStart = s.opts.Clock.Now()
	}
	s.opts.Logger.Debug("starting journalctl", "path", s.args.Journalctl, "args", args)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.args.Journalctl, err)
	}
	st.started = true
	readErr := s.read(ctx, stdout, st, out)
	if readErr != nil {
		cmd.Process.Kill()
	}
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if err := errors.Join(readErr, waitErr); err != nil {
		if tail := stderr.String(); tail != "" {
			return fmt.Errorf("%s: %w; stderr: %s", s.args.Journalctl, err, tail)
		}
		return fmt.Errorf("%s: %w", s.args.Journalctl, err)
	}
	return nil
}

// command returns journalctl's arguments for the next start.
func (s *Source) command(st *runState) []string {
	var args []string
	if !s.opts.Replay {
		args = append(args, "--follow")
	}
	// --all: without it journalctl prints a field of 4 KiB or more as
	// null, and fail2ban reads the whole message.
	args = append(args, "--output=json", "--no-pager", "--all", "--output-fields="+strings.Join(outputFields, ","))
	if s.args.Directory != "" {
		args = append(args, "--directory="+s.args.Directory)
	}
	for _, f := range s.args.Files {
		args = append(args, "--file="+f)
	}
	args = append(args, s.startOptions(st)...)
	return append(args, s.args.Match...)
}

// startOptions says where journalctl starts reading: after the last entry
// handed on when restarting; on the first start after the saved position
// (or Rewind before now, recounting up to it), else at the end or the
// start of the journal as From says. Replay reads the whole journal.
func (s *Source) startOptions(st *runState) []string {
	switch {
	case s.opts.Replay:
		return nil
	case st.started && st.lastSent.valid():
		return []string{"--after-cursor=" + st.lastSent.Cursor}
	case st.started && st.fromEnd:
		// Nothing came yet: read what was written since the first start.
		return []string{"--since=@" + strconv.FormatInt(st.firstStart.Unix(), 10)}
	case st.started:
		return st.initial
	}
	st.initial = s.initialOptions(st)
	return st.initial
}

// initialOptions are the start options of the first start.
func (s *Source) initialOptions(st *runState) []string {
	if pos, ok := s.loadPosition(); ok {
		s.mu.Lock()
		s.delivered, s.saved = pos, pos
		s.mu.Unlock()
		if s.opts.Rewind > 0 {
			since := s.opts.Clock.Now().Add(-s.opts.Rewind)
			// A saved entry older than the rewind leaves nothing to
			// recount: what follows it is new.
			if pos.Realtime >= since.UnixMicro() {
				st.recountTo = &pos
				return []string{"--since=@" + strconv.FormatInt(since.Unix(), 10)}
			}
		}
		return []string{"--after-cursor=" + pos.Cursor}
	}
	if s.args.From == FromStart {
		return nil
	}
	st.fromEnd = true
	return []string{"--lines=0"}
}

// loadPosition reads the saved position; ok is false when there is none
// that journalctl would take.
func (s *Source) loadPosition() (position, bool) {
	if s.opts.Store == nil || s.opts.Replay {
		return position{}, false
	}
	b, ok, err := s.opts.Store.Position(s.opts.ID)
	if err != nil {
		s.opts.Logger.Warn("cannot read the saved journal position; starting without it", "err", err)
		return position{}, false
	}
	if !ok {
		return position{}, false
	}
	pos, err := decodePosition(b)
	if err != nil {
		s.opts.Logger.Warn("ignoring the saved journal position", "err", err)
		return position{}, false
	}
	return pos, true
}

// read hands on the entries journalctl prints until its output ends or
// ctx is done. A batch goes out as soon as no complete line is left in
// the buffer, so a quiet journal costs no latency.
func (s *Source) read(ctx context.Context, r io.Reader, st *runState, out chan<- engine.Event) error {
	br := bufio.NewReaderSize(r, 64<<10)
	batch := make([]engine.Line, 0, BatchSize)
	var last position
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case out <- engine.Event{Kind: engine.KindLine, Lines: batch}:
		case <-ctx.Done():
			return false
		}
		var recount int64
		for _, l := range batch {
			if l.Recount {
				recount++
			}
		}
		s.stats.lines.Add(int64(len(batch)) - recount)
		s.stats.recount.Add(recount)
		st.lastSent = last
		if !batch[len(batch)-1].Recount {
			// The saved position never moves back into a recount.
			s.mu.Lock()
			s.delivered = last
			s.mu.Unlock()
		}
		// NOTE: the receiver owns the sent slice; start a new one.
		batch = make([]engine.Line, 0, BatchSize)
		return true
	}
	var buf []byte
	for {
		line, tooLong, err := readLine(br, &buf)
		switch {
		case tooLong:
			s.stats.bad.Add(1)
			s.opts.Logger.Warn("skipping a journal entry longer than the limit", "limit_bytes", maxEntry)
		case len(bytes.TrimSpace(line)) > 0:
			if l, pos, ok := s.entryLine(line, st); ok {
				batch = append(batch, l)
				last = pos
			}
		}
		if err != nil {
			if !flush() || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(batch) >= BatchSize || !lineBuffered(br) {
			if !flush() {
				return nil
			}
		}
	}
}

// entryLine turns one JSON line into a Line.
func (s *Source) entryLine(data []byte, st *runState) (engine.Line, position, bool) {
	e, err := parseEntry(data)
	if err != nil {
		s.stats.bad.Add(1)
		s.opts.Logger.Warn("skipping a journal entry journalctl printed in a form not understood", "err", err, "entry", excerpt(data))
		return engine.Line{}, position{}, false
	}
	st.no++
	l := engine.Line{Text: e.line, Origin: "journal", No: st.no, ReadAt: engine.UnixNanos(s.opts.Clock.Now()), At: engine.UnixNanos(e.time)}
	if to := st.recountTo; to != nil {
		switch {
		case e.cursor == to.Cursor:
			l.Recount = true
			st.recountTo = nil
		case e.realtime > to.Realtime:
			// The saved entry is gone (vacuumed, or another journal):
			// this one is past it.
			st.recountTo = nil
		default:
			l.Recount = true
		}
	}
	return l, position{Cursor: e.cursor, Realtime: e.realtime}, true
}

func excerpt(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// readLine returns the next line without its newline, reusing *buf. A
// line longer than maxEntry is consumed and reported with tooLong. At the
// end a last line without newline comes with io.EOF.
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(chunk) > maxEntry {
				tooLong = true
				*buf = (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case tooLong:
			return nil, true, err
		case err != nil:
			return *buf, false, err
		}
		return bytes.TrimSuffix(*buf, []byte("\n")), false, nil
	}
}

// lineBuffered reports whether a complete line waits in br, so reading it
// will not block.
func lineBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n == 0 {
		return false
	}
	p, _ := br.Peek(n)
	return bytes.IndexByte(p, '\n') >= 0
}

// saveLoop saves the position every saveEvery until stop is closed.
func (s *Source) saveLoop(stop <-chan struct{}) {
	t := s.opts.Clock.NewTimer(s.saveEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C():
			s.save()
			t.Reset(s.saveEvery)
		}
	}
}

// save writes the position of the last entry handed on, when it moved.
func (s *Source) save() {
	s.mu.Lock()
	p, saved := s.delivered, s.saved
	s.mu.Unlock()
	if !p.valid() || p == saved {
		return
	}
	if err := s.opts.Store.SavePositions(map[string][]byte{s.opts.ID: p.encode()}); err != nil {
		s.opts.Logger.Error("cannot save the journal position", "err", err)
		return
	}
	s.mu.Lock()
	s.saved = p
	s.mu.Unlock()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return strings.TrimSpace(string(t.b)) }
