// Package lines reads log lines from a stream: newline-terminated, a final
// line without newline kept, CR before LF dropped, and lines longer than a
// limit skipped and counted instead of held in memory whole.
package lines

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unsafe"
)

// MaxLine is the longest line kept, in bytes. Longer lines are skipped:
// no log format f2b knows writes one, and holding them costs memory an
// attacker controls.
const MaxLine = 1 << 20

// maxKept is the most bytes a kept line takes with its line ending.
const maxKept = MaxLine + 2

// bufSize is the read buffer's size, and so about the size of the string
// the complete lines of one read become: one allocation for several
// hundred lines (more buys nothing measurable), yet small, since a line
// kept after (a failure's line in a ban) keeps its whole string alive.
const bufSize = 64 << 10

// Scanner reads lines from r. It reads a chunk at a time into a buffer,
// makes the chunk's complete lines one string (the buffer itself when the
// read filled half of it, a copy when it was small), and returns the
// lines as substrings of it: no allocation or copy per line.
type Scanner struct {
	r       io.Reader
	buf     []byte // read, not yet made lines: buf[:n]
	n       int
	text    string // the complete lines of the last chunk
	pos     int    // the next line in text
	lineNo  int64
	skipped int64
	drop    bool // within an overlong line: drop bytes until its end
	err     error
}

// NewScanner returns a Scanner reading r.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{r: r}
}

// Next returns the next line (without its line ending) and its physical
// line number counting from 1. It returns io.EOF after the last line, or
// the error reading failed with (the lines before it are returned first).
func (s *Scanner) Next() (string, int64, error) {
	for {
		if s.pos < len(s.text) {
			rest := s.text[s.pos:]
			i := strings.IndexByte(rest, '\n')
			line := rest[:i]
			s.pos += i + 1
			s.lineNo++
			if s.drop || len(line)+1 > maxKept {
				s.drop = false
				s.skipped++
				continue
			}
			return strings.TrimSuffix(line, "\r"), s.lineNo, nil
		}
		if s.err != nil {
			return s.last()
		}
		s.fill()
	}
}

// Skipped returns how many overlong lines were skipped so far.
func (s *Scanner) Skipped() int64 { return s.skipped }

// fill reads until the new bytes hold a line break (so that a slow pipe's
// lines are not held back), the input ends or fails, and makes the
// complete lines text.
func (s *Scanner) fill() {
	if s.buf == nil {
		s.buf = make([]byte, bufSize)
	}
	for s.err == nil {
		if s.n == len(s.buf) {
			// No line break in the whole buffer: a long line.
			if s.n > maxKept {
				// Overlong whatever follows: keep nothing of it.
				s.drop, s.n = true, 0
			} else {
				s.buf = append(s.buf, make([]byte, len(s.buf))...)
			}
		}
		k, err := s.r.Read(s.buf[s.n:])
		old := s.n
		s.n += k
		if err != nil {
			s.err = err
		}
		if j := bytes.LastIndexByte(s.buf[old:s.n], '\n'); j >= 0 {
			end := old + j + 1
			if end >= len(s.buf)/2 {
				// A big read (a file read through, a burst): the buffer
				// becomes the lines' string as it is, and a new one takes
				// the partial line after them. The lines live on in
				// receivers, so the old buffer is never written again.
				s.text, s.pos = unsafe.String(&s.buf[0], end), 0
				b := make([]byte, max(bufSize, s.n-end))
				s.n = copy(b, s.buf[end:s.n])
				s.buf = b
				return
			}
			// NOTE: a small read (a live log, a line at a time) is copied,
			// so that the buffer can be read into again while the lines
			// live on, and a line does not keep a whole buffer alive.
			s.text, s.pos = string(s.buf[:end]), 0
			s.n = copy(s.buf, s.buf[end:s.n])
			if len(s.buf) > bufSize && s.n <= bufSize {
				// Done with a long line: give its buffer back.
				b := make([]byte, bufSize)
				copy(b, s.buf[:s.n])
				s.buf = b
			}
			return
		}
	}
}

// last returns the line after the last line break, then the error.
func (s *Scanner) last() (string, int64, error) {
	if (s.n > 0 || s.drop) && errors.Is(s.err, io.EOF) {
		line := string(s.buf[:s.n])
		drop := s.drop || len(line) > maxKept
		s.n, s.drop = 0, false
		s.lineNo++
		if drop {
			s.skipped++
			return "", s.lineNo, s.err
		}
		return strings.TrimSuffix(line, "\r"), s.lineNo, nil
	}
	return "", s.lineNo, s.err
}
