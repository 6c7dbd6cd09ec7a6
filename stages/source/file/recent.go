package file

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"time"

	"github.com/f2bproject/f2b/logtime"
	"github.com/f2bproject/f2b/stages/source/lines"
)

// This file is from = "recent": on a first start a file is read from its
// first line dated at or after a cutoff (now - Options.Rewind), found by a
// binary search over byte offsets, as fail2ban's seekToTime does for a
// logpath without `tail`. A log has millions of lines; a search reads a
// few dozen chunks instead of the whole file.

const (
	// maxProbes bounds the binary search: 64 halvings cover any file.
	maxProbes = 64
	// disorder is how far back in time the lines before the found offset
	// may still hold a line at or after the cutoff: writers that log out
	// of order (several processes, a clock step) are seconds apart, not
	// more. The walk back reads on until a line older than cutoff-disorder.
	disorder = time.Minute
	// backWindow bounds the bytes that walk back reads.
	backWindow = 256 << 10
	// probeReach bounds the bytes one probe reads: enough to pass the
	// longest line kept and find a dated line after it.
	probeReach = lines.MaxLine + 64<<10
	// cutMargin is how far before the cut of a line longer than a probe's
	// buffer its date must end to count.
	cutMargin = 64
)

// recentSeeker finds where a file read from = "recent" starts.
type recentSeeker struct {
	f      *os.File
	size   int64
	det    *logtime.Detector
	now    time.Time // the reference for year-less dates
	cutoff time.Time
	br     *bufio.Reader // reads a probe's chunks
	dated  bool          // some line seen had a date
}

// probeResult is what one probe found from a line start on.
type probeResult struct {
	start  int64 // the line start the probe read from
	ls, le int64 // the first dated line: its start and end (after '\n')
	t      time.Time
	found  bool // a dated line was found
	// stop is the line start the probe stopped at; eof is true when
	// only an incomplete line (or nothing) follows it in the file.
	stop int64
	eof  bool
}

// seekRecent returns the offset of the start of the line from which a
// file of size bytes is read so that every line dated at or after cutoff
// comes: the end of the last dated line before the cutoff that precedes
// the first dated line at or after it, so that undated lines in between
// (continuations) come too. Without a dated line at or after the cutoff
// it is the end of the last complete line, undated lines before it
// included. ok is false when no line seen had a date: the caller then
// starts at the end.
//
// The search assumes dates grow through the file. Where they do not, it
// errs towards reading earlier: an undecided probe lowers the upper
// bound, and the walk back from the result picks up lines at or after the
// cutoff within disorder before it.
func seekRecent(f *os.File, size int64, det *logtime.Detector, now, cutoff time.Time, chunk int) (off int64, ok bool, err error) {
	s := &recentSeeker{f: f, size: size, det: det, now: now, cutoff: cutoff, br: bufio.NewReaderSize(nil, chunk)}
	lo, hi := int64(0), size
	for probes := 0; lo < hi && probes < maxProbes; probes++ {
		mid := lo + (hi-lo)/2
		p, hasStart, err := s.probe(mid, hi)
		if err != nil {
			return 0, false, err
		}
		if !hasStart {
			// A line longer than probeReach holds mid: nothing known,
			// so only lower the bound (reading earlier is safe).
			hi = mid
			continue
		}
		if p.start >= hi {
			// No line starts between mid and hi: decide on lo's line.
			if p, _, err = s.probe(lo, hi); err != nil {
				return 0, false, err
			}
		}
		switch {
		case p.found && p.t.Before(cutoff):
			lo = p.le
		default:
			// A line at or after the cutoff, or only undated lines:
			// the start is at p.start or before.
			hi = p.start
		}
	}
	if !s.dated {
		return 0, false, nil
	}
	if off, err = s.walkBack(lo); err != nil || off < lo {
		return off, err == nil, err
	}
	// Only undated lines after the last older one, up to the end: they
	// continue old lines, so start at the end as "end" would.
	if lo < size {
		p, _, err := s.probe(lo, size)
		if err != nil {
			return 0, false, err
		}
		if !p.found && p.eof {
			off = p.stop
		}
	}
	return off, true, nil
}

// probe reads from the first line start at or after at and finds the
// first complete line with a date starting before hi, reading at most
// probeReach bytes. A line longer than the buffer is judged by the date
// at its start. hasStart is false when no line starts within reach.
func (s *recentSeeker) probe(at, hi int64) (p probeResult, hasStart bool, err error) {
	from := max(at-1, 0)
	s.br.Reset(io.NewSectionReader(s.f, from, probeReach))
	pos := from
	if at > 0 {
		n, complete, err := s.skipLine(nil)
		if err != nil || !complete {
			return p, false, err
		}
		pos += n
	}
	p.start = pos
	for pos < hi {
		var t time.Time
		var dated bool
		n, complete, err := s.skipLine(func(head []byte, cut bool) { t, dated = s.date(head, cut) })
		if err != nil || !complete {
			// The reach or the file ends inside this line.
			p.stop, p.eof = pos, pos+n >= s.size
			return p, true, err
		}
		if dated {
			p.ls, p.le, p.t, p.found = pos, pos+n, t, true
			break
		}
		pos += n
	}
	p.stop, p.eof = pos, pos >= s.size
	return p, true, nil
}

// skipLine reads the next line from s.br and returns its length with the
// newline. look, if set, sees the line without the newline, or its first
// buffer's worth (cut) when it is longer. complete is false when the
// input ended before a newline.
func (s *recentSeeker) skipLine(look func(head []byte, cut bool)) (n int64, complete bool, err error) {
	for first := true; ; first = false {
		b, err := s.br.ReadSlice('\n')
		n += int64(len(b))
		if first && look != nil && (err == nil || errors.Is(err, bufio.ErrBufferFull)) {
			look(bytes.TrimSuffix(b, []byte{'\n'}), err != nil)
		}
		switch {
		case err == nil:
			return n, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return n, false, nil
		default:
			return n, false, err
		}
	}
}

// date returns the time of line by the default date detection. A line
// cut short counts as undated when its date ends near the cut: the date
// may have been cut too, and a shortened date may read earlier.
func (s *recentSeeker) date(line []byte, cut bool) (time.Time, bool) {
	t, _, end, ok := s.det.MatchAt(string(trimCR(line)), s.now)
	if ok && cut && end > len(line)-cutMargin {
		ok = false
	}
	if ok {
		s.dated = true
	}
	return t, ok
}

// walkBack moves off, the search's result, back over lines dated at or
// after the cutoff that precede it out of order (and the undated lines
// just before them), until a line older than cutoff-disorder or
// backWindow bytes.
func (s *recentSeeker) walkBack(off int64) (int64, error) {
	if off == 0 {
		return 0, nil
	}
	from := max(off-backWindow, 0)
	b := make([]byte, off-from)
	if _, err := s.f.ReadAt(b, from); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	// The block's first bytes belong to a line that starts before it,
	// unless the block starts the file.
	first := 0
	if from > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return off, nil
		}
		first = i + 1
	}
	start, limit := off, s.cutoff.Add(-disorder)
	end := len(b) // end of the line being looked at, relative to from
	for end > first {
		ls := bytes.LastIndexByte(b[:end-1], '\n') + 1
		ls = max(ls, first)
		t, ok := s.date(b[ls:end-1], false)
		switch {
		case ok && !t.Before(s.cutoff):
			start = from + int64(ls)
		case !ok && start < off && start == from+int64(end):
			// An undated line right before one taken in: its
			// continuation context, as the search would keep it.
			start = from + int64(ls)
		case ok && t.Before(limit):
			return start, nil
		}
		end = ls
	}
	return start, nil
}

// countLines returns the number of lines (newlines) in f before off.
func countLines(f *os.File, off int64, buf []byte) (int64, error) {
	var n, pos int64
	for pos < off {
		b := buf[:min(int64(len(buf)), off-pos)]
		k, err := f.ReadAt(b, pos)
		n += int64(bytes.Count(b[:k], []byte{'\n'}))
		pos += int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, err
		}
	}
	return n, nil
}
