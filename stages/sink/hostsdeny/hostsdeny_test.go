package hostsdeny

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// driver runs one sink.
type driver = fwtest.Running[*Sink]

func startSink(t *testing.T, stateDir string, args Arguments, mod func(*Sink)) *driver {
	t.Helper()
	build := func(o engine.Options) (*Sink, error) {
		o.StateDir = stateDir
		return New(o, &args)
	}
	return fwtest.StartSink(t, "deny", build, hooks, nil, mod)
}

func ban(jail, host string, restored bool) engine.Event {
	return fwtest.Event(engine.Ban, jail, host, time.Hour, restored)
}

func unban(jail, host string) engine.Event {
	return fwtest.Event(engine.Unban, jail, host, 0, false)
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBanUnban: lines as fail2ban writes them are added and removed, the
// other lines, the file's mode and a missing final newline are kept.
func TestBanUnban(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hosts.deny")
	if err := os.WriteFile(path, []byte("# comment\nsshd: 10.0.0.1"), 0o640); err != nil {
		t.Fatal(err)
	}
	d := startSink(t, t.TempDir(), Arguments{Path: path}, nil)
	d.Send(ban("sshd", "192.0.2.1", false))
	d.Send(ban("sshd", "2001:db8::1", false))
	d.Wait(map[string]int64{"hostsdeny_elements_added": 2})
	got := read(t, path)
	if !strings.HasPrefix(got, "# comment\nsshd: 10.0.0.1\n") || !strings.Contains(got, "\nALL: 192.0.2.1\n") || !strings.Contains(got, "\nALL: [2001:db8::1]\n") {
		t.Errorf("file after bans:\n%s", got)
	}
	// A second jail bans the same host: the line stays until both unban.
	d.Send(ban("web", "192.0.2.1", false))
	d.Send(unban("sshd", "192.0.2.1"))
	d.Send(unban("sshd", "2001:db8::1"))
	d.Wait(map[string]int64{"hostsdeny_elements_deleted": 1})
	if got := read(t, path); got != "# comment\nsshd: 10.0.0.1\nALL: 192.0.2.1\n" {
		t.Errorf("file after one unban:\n%q", got)
	}
	d.Send(unban("web", "192.0.2.1"))
	d.Wait(map[string]int64{"hostsdeny_elements_deleted": 2})
	if got := read(t, path); got != "# comment\nsshd: 10.0.0.1\n" {
		t.Errorf("file after the unbans:\n%q", got)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v; want 0640", st.Mode(), err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".hosts.deny.f2b-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestBurstOneRewrite: 500 restored bans are one rewrite, with
// daemon_list, into a file that did not exist.
func TestBurstOneRewrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hosts.deny")
	d := startSink(t, "", Arguments{Path: path, DaemonList: "sshd, vsftpd"}, nil)
	for i := range 500 {
		d.Send(ban("sshd", netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String(), true))
	}
	d.Wait(map[string]int64{"hostsdeny_elements_added": 500})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := d.S.Stats(); st["hostsdeny_batches"] != 1 {
		t.Errorf("stats = %v, want one rewrite", st)
	}
	got := read(t, path)
	if n := strings.Count(got, "\n"); n != 500 || !strings.HasPrefix(got, "sshd, vsftpd: 10.0.") {
		t.Errorf("%d lines:\n%.200s", n, got)
	}
}

// appendLocked appends line to path as a well-behaved writer does: it
// takes an flock on the file, makes sure the file it locked is still the
// one at path (a rewrite replaces it), and appends.
func appendLocked(path, line string) error {
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return err
		}
		a, err1 := f.Stat()
		b, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			f.Close()
			continue
		}
		_, err = f.WriteString(line + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
}

// TestConcurrentWriter: lines another writer appends under the file's
// lock while the sink rewrites the file all survive.
func TestConcurrentWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hosts.deny")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startSink(t, t.TempDir(), Arguments{Path: path}, nil)
	const others, ours = 200, 400
	errc := make(chan error, 1)
	go func() {
		for i := range others {
			if err := appendLocked(path, fmt.Sprintf("in.ftpd: 198.51.100.%d", i)); err != nil {
				errc <- err
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
		errc <- nil
	}()
	for i := range ours {
		d.Send(ban("sshd", netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String(), false))
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	for i := range ours / 2 {
		d.Send(unban("sshd", netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String()))
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	d.Wait(map[string]int64{"hostsdeny_elements_deleted": ours / 2})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	got := read(t, path)
	for i := range others {
		if !strings.Contains(got, fmt.Sprintf("in.ftpd: 198.51.100.%d\n", i)) {
			t.Errorf("line %d of the other writer lost", i)
		}
	}
	if n := strings.Count(got, "ALL: "); n != ours/2 {
		t.Errorf("%d lines of the sink, want %d", n, ours/2)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	if b := d.S.Stats()["hostsdeny_batches"]; b < 3 {
		t.Errorf("%d rewrites; the test wants several to race with", b)
	}
}

// TestOwnLinesOnly: with a state directory the sink deletes only lines it
// wrote; an admin's identical line survives the stale cleanup and a ban
// and unban of its host. Without one, every line in its format is its
// own, as for fail2ban.
func TestOwnLinesOnly(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	path := filepath.Join(t.TempDir(), "hosts.deny")
	if err := os.WriteFile(path, []byte("ALL: 192.0.2.50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fast := func(s *Sink) { s.fw.StaleGrace = 100 * time.Millisecond }
	a := startSink(t, state, Arguments{Path: path}, fast)
	a.Send(ban("sshd", "192.0.2.7", false))
	a.Send(ban("sshd", "192.0.2.50", false))
	a.Wait(map[string]int64{"hostsdeny_elements_added": 2})
	a.Send(unban("sshd", "192.0.2.50"))
	a.Wait(map[string]int64{"hostsdeny_elements_deleted": 1})
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "ALL: 192.0.2.50\nALL: 192.0.2.7\n" {
		t.Errorf("file:\n%q", got)
	}
	// A restart without bans: the sink's stale line goes, the admin's stays.
	b := startSink(t, state, Arguments{Path: path}, fast)
	b.Wait(map[string]int64{"hostsdeny_elements_deleted": 1})
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "ALL: 192.0.2.50\n" {
		t.Errorf("file after the restart:\n%q", got)
	}
	// Without a state directory the admin's line is taken as the sink's.
	c := startSink(t, "", Arguments{Path: path}, fast)
	c.Wait(map[string]int64{"hostsdeny_elements_deleted": 1})
	c.Stop()
	if got := read(t, path); got != "" {
		t.Errorf("file without a ledger:\n%q", got)
	}
}

// TestSymlinkAndFlush: a path that is a link has its target rewritten;
// flush_on_stop removes the sink's lines.
func TestSymlinkAndFlush(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "real.deny")
	link := filepath.Join(dir, "hosts.deny")
	if err := os.WriteFile(real, []byte("ALL: LOCAL\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	d := startSink(t, t.TempDir(), Arguments{Path: link, FlushOnStop: true}, nil)
	d.Send(ban("sshd", "192.0.2.1", false))
	d.Wait(map[string]int64{"hostsdeny_elements_added": 1})
	if got := read(t, real); got != "ALL: LOCAL\nALL: 192.0.2.1\n" {
		t.Errorf("target:\n%q", got)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(link); err != nil || target != real {
		t.Errorf("link: %q, %v", target, err)
	}
	if got := read(t, real); got != "ALL: LOCAL\n" {
		t.Errorf("after flush_on_stop:\n%q", got)
	}
}

// TestFailure: a file that cannot be rewritten (its directory is gone) is
// logged, counted and retried; once it can be, the bans are in.
func TestFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "etc")
	path := filepath.Join(dir, "hosts.deny")
	d := startSink(t, "", Arguments{Path: path}, nil)
	d.Send(ban("sshd", "192.0.2.1", false))
	d.Wait(map[string]int64{"hostsdeny_errors": 2})
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d.Wait(map[string]int64{"hostsdeny_elements_added": 1})
	if got := read(t, path); got != "ALL: 192.0.2.1\n" {
		t.Errorf("file:\n%q", got)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, err := New(engine.Options{}, &Arguments{Path: "hosts.deny", DaemonList: "sshd: ALL"})
	attrs, _ := fwtest.AttrErrors(t, err)
	if !slices.Equal(attrs, []string{"path", "daemon_list"}) {
		t.Errorf("error %v", err)
	}
	s, err := New(engine.Options{Name: "a b", StateDir: "/var/lib/f2b"}, nil)
	if err != nil || s.path != "/etc/hosts.deny" || s.daemons != "ALL" || s.ledger != "/var/lib/f2b/hostsdeny-a_b.lines" {
		t.Errorf("defaults: %+v, %v", s, err)
	}
	b := &backend{s: s}
	for _, l := range []string{"ALL: 192.0.2.1", "ALL: [2001:db8::1]"} {
		if a, ok := b.parseLine(l); !ok || b.lineOf(a) != l {
			t.Errorf("%q: %v %v", l, a, ok)
		}
	}
	for _, l := range []string{"ALL: 2001:db8::1", "ALL: [192.0.2.1]", "ALL:192.0.2.1", "sshd: 192.0.2.1", "ALL: 192.0.2.1 "} {
		if _, ok := b.parseLine(l); ok {
			t.Errorf("%q taken as the sink's", l)
		}
	}
}

// hooks are the sink's test hooks.
func hooks(s *Sink) *fwsync.Stage { return &s.fw }
