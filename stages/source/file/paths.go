package file

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// expand returns the paths to follow now: the plain paths, then each
// glob's matches in order. Compressed files are not followed.
func (rn *runner) expand() (names []string, plain map[string]bool) {
	plain = map[string]bool{}
	for _, p := range rn.plain {
		if !plain[p] {
			plain[p] = true
			names = append(names, p)
		}
	}
	seen := map[string]bool{}
	for _, p := range rn.patterns {
		matches, _ := filepath.Glob(p.text)
		for _, m := range matches {
			m = filepath.Clean(m)
			if plain[m] || seen[m] || strings.HasSuffix(m, ".gz") {
				continue
			}
			seen[m] = true
			names = append(names, m)
		}
	}
	return names, plain
}

// rescan evaluates the globs again and looks at every path: a new file
// is opened, a rotated one detached. At start, files are opened at their
// saved position or by `from`; later, from their start.
func (rn *runner) rescan(start bool) {
	names, plain := rn.expand()
	current := map[string]bool{}
	for _, name := range names {
		current[name] = true
		if rn.followers[name] != nil {
			continue
		}
		abs, err := filepath.Abs(name)
		if err != nil {
			continue
		}
		f := &follower{path: name, abs: abs, key: rn.s.opts.ID + "\x00" + abs, plain: plain[name]}
		rn.followers[name] = f
		rn.byAbs[abs] = f
	}
	for name, f := range rn.followers {
		if !current[name] {
			rn.drop(f)
		}
	}
	rn.order = rn.order[:0]
	for _, f := range rn.followers {
		rn.order = append(rn.order, f)
	}
	sort.Slice(rn.order, func(i, j int) bool { return rn.order[i].path < rn.order[j].path })
	for _, f := range slices.Clone(rn.order) {
		rn.check(f, start)
	}
	rn.watchDirs()
	files := []string{}
	for _, f := range rn.order {
		if f.r != nil {
			files = append(files, f.path)
		}
	}
	rn.s.setFiles(files)
}

// drop stops following a glob match that is gone; its saved position is
// deleted.
func (rn *runner) drop(f *follower) {
	if f.r != nil {
		rn.detach(f)
	}
	delete(rn.followers, f.path)
	delete(rn.byAbs, f.abs)
	if i := slices.Index(rn.order, f); i >= 0 {
		rn.order = slices.Delete(rn.order, i, i+1)
	}
	rn.gone = append(rn.gone, f.key)
	rn.dirty = true
}

// check looks at what f's path names now and attaches the right reader.
func (rn *runner) check(f *follower, start bool) {
	fi, err := os.Stat(f.path)
	if err != nil {
		if f.r != nil {
			rn.log.Info("file removed or renamed; reading it to its end", "path", f.path)
			rn.detach(f)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			rn.problem(f, "cannot read log", err)
		} else if f.plain {
			rn.problem(f, "file does not exist yet; waiting for it", nil)
		}
		if !f.plain {
			rn.drop(f)
		}
		return
	}
	if !fi.Mode().IsRegular() {
		if f.r != nil {
			rn.detach(f)
		}
		rn.problem(f, "not a regular file; not following it", nil)
		return
	}
	id := idOf(fi)
	if f.r != nil {
		if f.r.id == id {
			return
		}
		rn.log.Info("file rotated; reading the old one to its end and the new one from its start", "path", f.path)
		rn.detach(f)
	}
	if r := rn.readers[id]; r != nil {
		if o := r.owner; o != nil {
			if oi, err := os.Stat(o.path); err == nil && idOf(oi) == id {
				rn.problem(f, "same file as "+o.path+"; following it once", nil)
				return
			}
			// The file moved from o's name to f's (auth.log → auth.log.1
			// with both followed): it goes on where it was.
			o.r, o.last = nil, r
			rn.s.stats.Rotations.Add(1)
		}
		rn.attach(f, r)
		return
	}
	rn.open(f, start)
}

// problem logs a problem of f once until it changes or clears. A problem
// with an error counts as a read error.
func (rn *runner) problem(f *follower, msg string, err error) {
	key := msg
	if err != nil {
		key += ": " + err.Error()
	}
	if f.problem == key {
		return
	}
	f.problem = key
	if err != nil {
		rn.s.stats.Errors.Add(1)
		rn.log.Error(msg, "path", f.path, "err", err)
		return
	}
	rn.log.Info(msg, "path", f.path)
}

// detach takes f's reader off it. The reader is still read for the grace
// period, then closed.
func (rn *runner) detach(f *follower) {
	r := f.r
	f.r, f.last = nil, r
	r.owner = nil
	r.deadline = rn.now.Add(rn.grace)
	rn.detached = append(rn.detached, r)
	rn.s.stats.Rotations.Add(1)
	rn.dirty = true
}

func (rn *runner) attach(f *follower, r *reader) {
	f.r, f.problem = r, ""
	r.owner, r.path, r.deadline = f, f.path, time.Time{}
	if i := slices.Index(rn.detached, r); i >= 0 {
		rn.detached = slices.Delete(rn.detached, i, i+1)
	}
	rn.dirty = true
}

// open opens f's file and places its reader.
func (rn *runner) open(f *follower, start bool) {
	file, err := os.Open(f.path)
	if err != nil {
		rn.problem(f, "cannot read log", err)
		return
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		rn.problem(f, "cannot read log", err)
		return
	}
	r := &reader{id: idOf(fi), f: file, path: f.path}
	if rn.readers[r.id] != nil {
		// The name moved between stat and open; the next pass sorts it out.
		file.Close()
		return
	}
	if !start {
		r.startAt(0, 0, rn.now)
		rn.log.Info("following new file from its start", "path", f.path)
	} else if err := rn.place(f, r, fi.Size()); err != nil {
		file.Close()
		rn.problem(f, "cannot read log", err)
		return
	}
	rn.readers[r.id] = r
	rn.attach(f, r)
}
