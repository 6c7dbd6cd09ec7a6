// Package lines reads log lines from a stream: newline-terminated, a final
// line without newline kept, CR before LF dropped, and lines longer than a
// limit skipped and counted instead of held in memory whole.
package lines

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxLine is the longest line kept, in bytes. Longer lines are skipped:
// no log format f2b knows writes one, and holding them costs memory an
// attacker controls.
const MaxLine = 1 << 20

// Scanner reads lines from r.
type Scanner struct {
	r       *bufio.Reader
	lineNo  int64
	skipped int64
	buf     []byte
}

// NewScanner returns a Scanner reading r.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next line (without its line ending) and its physical
// line number counting from 1. It returns io.EOF after the last line.
func (s *Scanner) Next() (string, int64, error) {
	for {
		line, tooLong, err := s.read()
		if err != nil && (len(line) == 0 && !tooLong || !errors.Is(err, io.EOF)) {
			return "", s.lineNo, err
		}
		s.lineNo++
		if tooLong {
			s.skipped++
			if err != nil {
				return "", s.lineNo, err
			}
			continue
		}
		return string(line), s.lineNo, nil
	}
}

// Skipped returns how many overlong lines were skipped so far.
func (s *Scanner) Skipped() int64 { return s.skipped }

// read returns one line, or tooLong when it passed MaxLine (its bytes are
// discarded up to the newline). At EOF a last line without newline comes
// with a nil error; the next call returns io.EOF.
func (s *Scanner) read() (line []byte, tooLong bool, err error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		if !tooLong {
			if len(s.buf)+len(chunk) > MaxLine+2 {
				tooLong = true
				s.buf = s.buf[:0]
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return nil, true, nil
			}
			return trimEOL(s.buf), false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if tooLong {
				return nil, true, nil
			}
			if len(s.buf) == 0 {
				return nil, false, io.EOF
			}
			return trimEOL(s.buf), false, nil
		default:
			return nil, false, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
