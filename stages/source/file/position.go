package file

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// fileID names a file by device and inode, which stay when it is renamed.
type fileID struct{ dev, ino uint64 }

// checkpoint records that the lines up to off (line of them) had been read
// at time at. A rewind starts at one.
type checkpoint struct {
	off, line int64
	at        time.Time
}

// position is what the store keeps of one file.
type position struct {
	id        fileID
	off, line int64 // end of the last line sent, and its number
	// headLen bytes of the file's start hash to head; 0 when the file had
	// no complete first line yet (off is then 0).
	headLen int
	head    [headHashLen]byte
	cps     []checkpoint

	path string // the absolute path it was saved under (not encoded)
}

const (
	positionVersion = 1
	// headMax bounds the start of a file hashed to recognise it: enough
	// to hold the timestamp and first words of a log line.
	headMax        = 256
	headHashLen    = 16
	maxCheckpoints = 64
)

// encode returns the stored form: a version byte, then varints.
func (p *position) encode() []byte {
	b := make([]byte, 0, 64+len(p.cps)*16)
	b = append(b, positionVersion)
	b = binary.AppendUvarint(b, p.id.dev)
	b = binary.AppendUvarint(b, p.id.ino)
	b = binary.AppendUvarint(b, uint64(p.off))
	b = binary.AppendUvarint(b, uint64(p.line))
	b = binary.AppendUvarint(b, uint64(p.headLen))
	if p.headLen > 0 {
		b = append(b, p.head[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(p.cps)))
	for _, c := range p.cps {
		b = binary.AppendUvarint(b, uint64(c.off))
		b = binary.AppendUvarint(b, uint64(c.line))
		b = binary.AppendVarint(b, c.at.UnixNano())
	}
	return b
}

var errBadPosition = errors.New("malformed saved position")

// decodePosition reads what encode wrote.
func decodePosition(b []byte) (position, error) {
	var p position
	if len(b) == 0 || b[0] != positionVersion {
		return p, fmt.Errorf("%w: unknown version", errBadPosition)
	}
	d := decoder{b: b[1:]}
	p.id.dev = d.uvarint()
	p.id.ino = d.uvarint()
	p.off = d.int()
	p.line = d.int()
	p.headLen = int(d.int())
	if p.headLen > headMax {
		d.err = errBadPosition
	}
	if p.headLen > 0 {
		copy(p.head[:], d.bytes(headHashLen))
	}
	n := d.int()
	if n > maxCheckpoints*2 {
		d.err = errBadPosition
		n = 0
	}
	for range n {
		c := checkpoint{off: d.int(), line: d.int()}
		c.at = time.Unix(0, d.varint())
		p.cps = append(p.cps, c)
	}
	if d.err != nil || len(d.b) != 0 {
		return position{}, errBadPosition
	}
	return p, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadPosition
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a uvarint that must fit a non-negative int64.
func (d *decoder) int() int64 {
	v := d.uvarint()
	if v > 1<<62 {
		d.err = errBadPosition
		return 0
	}
	return int64(v)
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadPosition
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.err = errBadPosition
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// readHead returns the start of f that identifies it: its first line with
// the newline, or its first headMax bytes when the line is longer. It
// returns nil while the file is shorter than that and has no newline yet,
// since its head may still grow.
func readHead(f *os.File) ([]byte, error) {
	buf := make([]byte, headMax)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		return buf[:i+1], nil
	}
	if n == headMax {
		return buf, nil
	}
	return nil, nil
}

func hashHead(head []byte) [headHashLen]byte {
	sum := sha256.Sum256(head)
	return [headHashLen]byte(sum[:headHashLen])
}

// sameHead reports whether f still starts the way p recorded.
func (p *position) sameHead(f *os.File) bool {
	if p.headLen == 0 {
		// Nothing complete was read: starting at p.off (0) is the start.
		return p.off == 0
	}
	head, err := readHead(f)
	return err == nil && len(head) == p.headLen && hashHead(head) == p.head
}

// thin drops the checkpoints a rewind of span at now no longer needs
// (those before the newest one at least span old) and then the ones
// closest to their neighbours, until at most maxCheckpoints are left. The
// oldest and newest always stay. Without a rewind only the newest stays.
func thin(cps []checkpoint, now time.Time, span time.Duration) []checkpoint {
	if len(cps) == 0 {
		return cps
	}
	if span <= 0 {
		return cps[len(cps)-1:]
	}
	limit := now.Add(-span)
	keep := 0
	for i, c := range cps {
		if !c.at.After(limit) {
			keep = i
		}
	}
	cps = cps[keep:]
	for len(cps) > maxCheckpoints {
		best, gap := 1, time.Duration(1<<63-1)
		for i := 1; i < len(cps)-1; i++ {
			if g := cps[i+1].at.Sub(cps[i-1].at); g < gap {
				best, gap = i, g
			}
		}
		cps = slices.Delete(cps, best, best+1)
	}
	return cps
}

// rewindPoint returns the checkpoint a rewind of span at now starts at:
// the newest at least span old, else the oldest.
func rewindPoint(cps []checkpoint, now time.Time, span time.Duration) (checkpoint, bool) {
	if len(cps) == 0 {
		return checkpoint{}, false
	}
	limit := now.Add(-span)
	pick := cps[0]
	for _, c := range cps {
		if !c.at.After(limit) {
			pick = c
		}
	}
	return pick, true
}
