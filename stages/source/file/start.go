package file

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/f2bproject/f2b/logtime"
)

// place sets where a file opened at start is read from: its saved
// position if it is the same file, else its start if the path had a
// position (the file changed while f2b was down), else `from`.
func (rn *runner) place(f *follower, r *reader, size int64) error {
	if p := rn.byID[r.id]; p != nil && size >= p.off && p.sameHead(r.f) {
		delete(rn.byID, r.id)
		rn.resume(r, p)
		rn.log.Info("resuming file at its saved position", "path", f.path, "offset", r.sentOff, "line", r.sentLine, "from_offset", r.off)
		return nil
	}
	switch {
	case rn.known[f.key]:
		r.startAt(0, 0, rn.now)
		rn.log.Info("file changed since its position was saved; reading it from its start", "path", f.path)
	case rn.s.from == FromStart:
		r.startAt(0, 0, rn.now)
		rn.log.Info("following file from its start", "path", f.path)
	case rn.s.from == FromRecent && rn.rewind > 0:
		return rn.placeRecent(f, r, size)
	default:
		off, line, err := lastLineEnd(r.f, rn.buf)
		if err != nil {
			return err
		}
		r.startAt(off, line, rn.now)
		rn.log.Info("following file from its end", "path", f.path, "offset", off, "line", line)
	}
	return nil
}

// placeRecent places r at the first line dated at or after now - Rewind
// (from = "recent"), or at the end when no line has a date. The lines
// from there on are new lines: nothing of the file was counted before.
func (rn *runner) placeRecent(f *follower, r *reader, size int64) error {
	if rn.det == nil {
		det, err := logtime.New(logtime.Options{})
		if err != nil {
			return err
		}
		rn.det = det
	}
	cutoff := rn.now.Add(-rn.rewind)
	off, ok, err := seekRecent(r.f, size, rn.det, rn.now, cutoff, len(rn.buf))
	if err != nil {
		return err
	}
	if !ok {
		off, line, err := lastLineEnd(r.f, rn.buf)
		if err != nil {
			return err
		}
		r.startAt(off, line, rn.now)
		rn.log.Info("following file from its end: no line has a date to find recent lines by", "path", f.path, "offset", off, "line", line)
		return nil
	}
	line, err := countLines(r.f, off, rn.buf)
	if err != nil {
		return err
	}
	r.startAt(off, line, rn.now)
	rn.log.Info("following file from its recent lines", "path", f.path, "since", cutoff, "offset", off, "line", line)
	return nil
}

// resume places r at its saved position p, or at the checkpoint Rewind
// before it, from where lines up to p are sent again as Recount.
func (rn *runner) resume(r *reader, p *position) {
	r.off, r.line = p.off, p.line
	r.sentOff, r.sentLine = p.off, p.line
	r.cps = p.cps
	r.head, _ = readHead(r.f)
	if rn.rewind > 0 {
		if c, ok := rewindPoint(p.cps, rn.now, rn.rewind); ok && c.off < p.off && c.line <= p.line {
			r.off, r.line = c.off, c.line
			r.recountTo = p.off
		}
	}
}

// lastLineEnd returns the offset after the last newline of f and the
// number of lines before it, so that a start at the end keeps physical
// line numbers and does not begin mid-line.
func lastLineEnd(f *os.File, buf []byte) (off, line int64, err error) {
	var pos int64
	for {
		n, err := f.ReadAt(buf, pos)
		for i, c := range buf[:n] {
			if c == '\n' {
				line++
				off = pos + int64(i) + 1
			}
		}
		pos += int64(n)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return 0, 0, err
			}
			return off, line, nil
		}
	}
}

// loadPositions reads the saved positions of the files the paths match.
func (rn *runner) loadPositions() {
	rn.byID, rn.known = map[fileID]*position{}, map[string]bool{}
	if rn.store == nil {
		return
	}
	names, _ := rn.expand()
	for _, name := range names {
		abs, err := filepath.Abs(name)
		if err != nil {
			continue
		}
		key := rn.s.opts.ID + "\x00" + abs
		v, ok, err := rn.store.Position(key)
		if err != nil {
			rn.log.Warn("cannot load saved position; reading by `from`", "path", name, "err", err)
			continue
		}
		if !ok {
			continue
		}
		p, err := decodePosition(v)
		if err != nil {
			rn.log.Warn("ignoring saved position", "path", name, "err", err)
			continue
		}
		p.path = abs
		rn.known[key] = true
		rn.saved[key] = string(v)
		if old := rn.byID[p.id]; old == nil || p.off > old.off {
			rn.byID[p.id] = &p
		}
	}
}

// readRotatedWhileDown finds the files whose positions were not used at
// start in the directory they were saved in, under another name (rotated
// while f2b was down), and reads their rest once, before the new files.
func (rn *runner) readRotatedWhileDown() {
	var left []*position
	for _, p := range rn.byID {
		if rn.readers[p.id] == nil {
			left = append(left, p)
		}
	}
	sort.Slice(left, func(i, j int) bool { return left[i].path < left[j].path })
	for _, p := range left {
		name := findByID(filepath.Dir(p.path), p.id)
		if name == "" {
			continue
		}
		file, err := os.Open(name)
		if err != nil {
			rn.log.Warn("cannot read rotated file", "path", name, "err", err)
			continue
		}
		fi, err := file.Stat()
		if err != nil || idOf(fi) != p.id || fi.Size() < p.off || !p.sameHead(file) {
			file.Close()
			continue
		}
		r := &reader{id: p.id, f: file, path: name, deadline: rn.now}
		rn.resume(r, p)
		rn.readers[r.id] = r
		rn.detached = append(rn.detached, r)
		rn.s.stats.Rotations.Add(1)
		rn.log.Info("file was rotated while stopped; reading the rest of the old file first", "path", name, "was", p.path, "offset", p.off)
	}
}

// findByID returns the regular file in dir with id, or "".
func findByID(dir string, id fileID) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err == nil && idOf(fi) == id {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}
