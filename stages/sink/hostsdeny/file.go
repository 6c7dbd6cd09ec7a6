package hostsdeny

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// backend is the fwsync.Backend of one Run: the file's lines. All jails
// share one group: a line stays while any jail bans its host.
type backend struct {
	s *Sink
	// held are the addresses whose lines the sink last knew the file
	// held: those Sync read, with the rewrites since. Check looks for
	// them.
	held map[netip.Addr]struct{}
}

func statDir(dir string) (fs.FileInfo, error) {
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return st, err
}

// lineOf is the line of a banned address, as fail2ban's hostsdeny action
// writes it: "ALL: 192.0.2.1", "ALL: [2001:db8::1]".
func (b *backend) lineOf(a netip.Addr) string {
	if a.Is6() {
		return b.s.daemons + ": [" + a.String() + "]"
	}
	return b.s.daemons + ": " + a.String()
}

// parseLine returns the address of a line the sink would write.
func (b *backend) parseLine(line string) (netip.Addr, bool) {
	rest, ok := strings.CutPrefix(line, b.s.daemons+": ")
	if !ok {
		return netip.Addr{}, false
	}
	v6 := strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]")
	if v6 {
		rest = rest[1 : len(rest)-1]
	}
	a, err := netip.ParseAddr(rest)
	if err != nil || a.Zone() != "" || a.Is6() != v6 || a.Is4In6() {
		return netip.Addr{}, false
	}
	return a, true
}

// target is the file the path names, through symbolic links, so the
// rewrite replaces the file and not the link.
func (b *backend) target() string {
	if p, err := filepath.EvalSymlinks(b.s.path); err == nil {
		return p
	}
	return b.s.path
}

// lock opens the file (creating it with mode 0644 when create is set)
// and takes an exclusive flock on it. A rewrite replaces the file, so a
// lock taken on a file that was replaced meanwhile is dropped and taken
// again on the new one. It returns a nil file when the file is missing
// and create is not set.
func lock(path string, create bool) (*os.File, error) {
	flags := os.O_RDONLY
	if create {
		flags |= os.O_CREATE
	}
	for {
		f, err := os.OpenFile(path, flags, 0o644)
		if errors.Is(err, fs.ErrNotExist) && !create {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
		if err1 != nil {
			return nil, err1
		}
		if err2 != nil && !errors.Is(err2, fs.ErrNotExist) {
			return nil, err2
		}
	}
}

// Sync implements fwsync.Backend: it returns the addresses of the
// sink's lines; it creates nothing.
func (b *backend) Sync(_ context.Context, _ []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	path := b.target()
	f, err := lock(path, false)
	if err != nil {
		return nil, err
	}
	held := map[netip.Prefix]fwsync.Elem{}
	out := map[string]map[netip.Prefix]fwsync.Elem{"": held}
	owned, err := b.readLedger()
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	if f == nil {
		b.held = nil
		return out, nil
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	b.held = map[netip.Addr]struct{}{}
	for _, line := range strings.Split(string(data), "\n") {
		a, ok := b.parseLine(strings.TrimRight(line, "\r"))
		if ok && (owned == nil || owned[a]) {
			held[netip.PrefixFrom(a, a.BitLen())] = fwsync.Elem{}
			b.held[a] = struct{}{}
		}
	}
	return out, nil
}

// Apply implements fwsync.Backend: one rewrite of the file per batch.
func (b *backend) Apply(_ context.Context, ops []fwsync.Op) error {
	var add, del []netip.Addr
	for _, o := range ops {
		if o.Kind == fwsync.Delete {
			del = append(del, o.Key.Net.Addr())
		} else if o.Kind == fwsync.Add {
			add = append(add, o.Key.Net.Addr())
		}
	}
	if err := b.rewrite(add, del); err != nil {
		// The driver reads the file again.
		return err
	}
	b.track(add, del)
	return nil
}

// Teardown implements fwsync.Backend: the sink's lines go.
func (b *backend) Teardown(ctx context.Context, groups []string) error {
	held, err := b.Sync(ctx, groups)
	if err != nil {
		return err
	}
	var del []netip.Addr
	for p := range held[""] {
		del = append(del, p.Addr())
	}
	return b.rewrite(nil, del)
}

// rewrite adds a line for each of add and removes the last line of each
// of del, keeping every other line as it is, under the file's lock:
// the new content goes to a temporary file of the same directory, with
// the file's mode and owner, is synced, and replaces the file at once, so
// a reader never sees half a file.
func (b *backend) rewrite(add, del []netip.Addr) error {
	if len(add) == 0 && len(del) == 0 {
		return nil
	}
	path := b.target()
	f, err := lock(path, len(add) > 0)
	if err != nil {
		return err
	}
	if f == nil {
		// No file, nothing to delete.
		return b.writeLedger(nil, del)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	owned, err := b.readLedger()
	if err != nil {
		return err
	}
	for _, a := range del {
		want := b.lineOf(a)
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.TrimRight(lines[i], "\r\n") == want {
				lines = slices.Delete(lines, i, i+1)
				break
			}
		}
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
	}
	if buf.Len() > 0 && !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	for _, a := range add {
		line := b.lineOf(a)
		if owned == nil && slices.ContainsFunc(lines, func(l string) bool { return strings.TrimRight(l, "\r\n") == line }) {
			// Without a ledger every such line is the sink's: one is enough.
			continue
		}
		buf.WriteString(line + "\n")
	}
	// The ledger names the added lines before they are written, and
	// forgets the deleted ones once they are gone, so it never lacks a
	// line of the sink's.
	if err := b.writeLedger(add, nil); err != nil {
		return err
	}
	if err := replace(path, buf.Bytes(), st.Mode().Perm(), st.Sys()); err != nil {
		return err
	}
	return b.writeLedger(nil, del)
}

// replace writes data to a temporary file beside path with mode and the
// owner of sys (a *syscall.Stat_t; none: the sink's), syncs it and
// renames it over path.
func replace(path string, data []byte, mode fs.FileMode, sys any) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".f2b-*")
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	if sys, ok := sys.(*syscall.Stat_t); ok {
		if err := tmp.Chown(int(sys.Uid), int(sys.Gid)); err != nil && (int(sys.Uid) != os.Geteuid() || int(sys.Gid) != os.Getegid()) {
			return fmt.Errorf("rewriting %s: keeping its owner %d:%d: %w", path, sys.Uid, sys.Gid, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// readLedger returns the addresses whose lines the sink wrote, or nil
// when it keeps no ledger (no state directory): then every line in its
// format counts as its own, as fail2ban's action takes them.
func (b *backend) readLedger() (map[netip.Addr]bool, error) {
	if b.s.ledger == "" {
		return nil, nil
	}
	data, err := os.ReadFile(b.s.ledger)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the sink's list of its lines: %w", err)
	}
	owned := map[netip.Addr]bool{}
	for _, f := range strings.Fields(string(data)) {
		if a, err := netip.ParseAddr(f); err == nil {
			owned[a] = true
		}
	}
	return owned, nil
}

// writeLedger adds add to the ledger and removes del from it.
func (b *backend) writeLedger(add, del []netip.Addr) error {
	if b.s.ledger == "" || (len(add) == 0 && len(del) == 0) {
		return nil
	}
	owned, err := b.readLedger()
	if err != nil {
		return err
	}
	for _, a := range add {
		owned[a] = true
	}
	for _, a := range del {
		delete(owned, a)
	}
	var buf bytes.Buffer
	for _, a := range slices.SortedFunc(maps.Keys(owned), netip.Addr.Compare) {
		buf.WriteString(a.String() + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(b.s.ledger), 0o755); err != nil {
		return fmt.Errorf("writing the sink's list of its lines: %w", err)
	}
	return replace(b.s.ledger, buf.Bytes(), 0o644, nil)
}
