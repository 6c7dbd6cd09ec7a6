package file

import (
	"bytes"
	"errors"
	"io"
	"os"
	"time"

	"github.com/f2bproject/f2b/stages/source/lines"
)

// reader reads one open file (one inode) from its offset on. It stays with
// the inode when the file is renamed: a follower (a path) attaches the
// reader of whatever file its path names now.
type reader struct {
	id    fileID
	f     *os.File
	path  string    // Origin of its lines: the name it was last seen under
	owner *follower // the path it is attached to; nil once detached
	// deadline is when a detached reader is closed (after reading to the
	// end once more): the grace its writer gets to finish with it.
	deadline time.Time
	closed   bool

	off      int64  // bytes consumed from f
	line     int64  // lines before off, the held partial line not counted
	partial  []byte // bytes of the line whose newline has not come yet
	skipping bool   // the held line passed lines.MaxLine; its rest is dropped
	head     []byte // the file's first line (readHead), once complete
	// recountTo is the saved offset a rewind started before: lines that
	// end at or before it were sent in an earlier run (Line.Recount).
	recountTo int64

	// gen changes when the file is read again from its start, so that
	// marks of lines of the old content do not move the sent position.
	gen               int
	sentOff, sentLine int64 // end of the last line sent downstream
	cps               []checkpoint
	failing           bool // a read error was logged and has not cleared
}

// position returns what the store keeps of r: the end of the last line
// sent, not of the last line read, so a stop loses nothing in flight.
func (r *reader) position() *position {
	p := &position{id: r.id, off: r.sentOff, line: r.sentLine, cps: r.cps}
	if r.head != nil {
		p.headLen = len(r.head)
		p.head = hashHead(r.head)
	}
	return p
}

// checkpoint notes at now how far r was sent, and thins the list for a
// rewind of span.
func (r *reader) checkpoint(now time.Time, span time.Duration) {
	if n := len(r.cps); n == 0 || r.cps[n-1].off != r.sentOff {
		r.cps = append(r.cps, checkpoint{off: r.sentOff, line: r.sentLine, at: now})
	}
	r.cps = thin(r.cps, now, span)
}

// startAt places r at off, the end of line number line, as sent already.
func (r *reader) startAt(off, line int64, now time.Time) {
	r.off, r.line = off, line
	r.sentOff, r.sentLine = off, line
	r.cps = []checkpoint{{off: off, line: line, at: now}}
}

// changedHead reports whether the file no longer starts with the first
// line read from it: it was rewritten in place (copytruncate, or truncated
// and written past the old offset before the change was seen).
func (r *reader) changedHead() bool {
	if r.head == nil {
		return false
	}
	buf := make([]byte, len(r.head))
	n, err := r.f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return !bytes.Equal(buf[:n], r.head)
}

// readFile reads what r's file holds past its offset and hands the
// complete lines to emit. A file that shrank or whose start changed is
// read again from its start. It returns false when ctx ended while
// sending.
func (rn *runner) readFile(r *reader) bool {
	fi, err := r.f.Stat()
	if err != nil {
		rn.readError(r, err)
		return true
	}
	if size := fi.Size(); size < r.off || size > r.off && rn.changedHead(r) {
		rn.log.Info("file truncated; reading it from its start", "path", r.path, "size", size, "offset", r.off)
		rn.s.stats.Truncations.Add(1)
		if !rn.flushPartial(r) {
			return false
		}
		r.gen++
		r.off, r.line, r.recountTo, r.head = 0, 0, 0, nil
		r.startAt(0, 0, rn.now)
		rn.dirty = true
	}
	for {
		n, err := r.f.ReadAt(rn.buf, r.off)
		if n > 0 {
			rn.now = rn.clock.Now()
			if !rn.consume(r, rn.buf[:n]) {
				return false
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rn.readError(r, err)
			return true
		}
	}
	if r.head == nil && r.off > 0 {
		r.head, _ = readHead(r.f)
	}
	r.failing = false
	return true
}

// changedHead checks the start only when r has read past it.
func (rn *runner) changedHead(r *reader) bool {
	return r.off >= int64(len(r.head)) && r.changedHead()
}

// consume splits b, the next bytes of r's file, into lines.
func (rn *runner) consume(r *reader, b []byte) bool {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if !r.skipping {
				if len(r.partial)+len(b) > lines.MaxLine+1 {
					r.skipping, r.partial = true, nil
				} else {
					r.partial = append(r.partial, b...)
				}
			}
			r.off += int64(len(b))
			return true
		}
		seg := b[:i]
		b = b[i+1:]
		r.off += int64(i + 1)
		r.line++
		if r.skipping || len(r.partial)+len(seg) > lines.MaxLine+1 {
			r.skipping, r.partial = false, r.partial[:0]
			rn.s.stats.Skipped.Add(1)
			continue
		}
		var text string
		if len(r.partial) > 0 {
			r.partial = append(r.partial, seg...)
			text = string(trimCR(r.partial))
			r.partial = r.partial[:0]
		} else {
			text = string(trimCR(seg))
		}
		if len(text) > lines.MaxLine {
			rn.s.stats.Skipped.Add(1)
			continue
		}
		if !rn.emit(r, text) {
			return false
		}
	}
	return true
}

// flushPartial sends the held partial line of r as a line: its file is
// being left (rotated away, truncated), so no newline will come.
func (rn *runner) flushPartial(r *reader) bool {
	skipping, partial := r.skipping, r.partial
	r.skipping, r.partial = false, nil
	switch {
	case skipping:
		r.line++
		rn.s.stats.Skipped.Add(1)
	case len(partial) > 0:
		r.line++
		if text := trimCR(partial); len(text) <= lines.MaxLine {
			return rn.emit(r, string(text))
		}
		rn.s.stats.Skipped.Add(1)
	}
	return true
}

func trimCR(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\r")) }

// readError logs a read error of r once until reading works again.
func (rn *runner) readError(r *reader, err error) {
	if r.failing {
		return
	}
	r.failing = true
	rn.s.stats.Errors.Add(1)
	rn.log.Error("cannot read log", "path", r.path, "err", err)
}
