package hostsdeny

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// checkEvery is the sink's check interval in the tests.
const checkEvery = 100 * time.Millisecond

// TestCheckRestores: with no new ban, the periodic check finds the
// sink's lines dropped by a rewrite of the file (an admin's, a
// configuration-management tool's), then the file deleted, and writes
// them again within a few intervals, keeping the admin's lines. Each is
// one warning naming what was missing; no rewrite failed.
func TestCheckRestores(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hosts.deny")
	if err := os.WriteFile(path, []byte("# admin\nsshd: 10.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startSink(t, t.TempDir(), Arguments{Path: path}, func(s *Sink) { s.fw.CheckInterval = checkEvery })
	d.Send(ban("sshd", "192.0.2.1", false), ban("sshd", "2001:db8::1", false))
	d.Wait(map[string]int64{"hostsdeny_elements_added": 2})
	within := 10 * checkEvery
	held := func(head string) func() bool {
		return func() bool {
			b, err := os.ReadFile(path)
			got := "\n" + string(b)
			return err == nil && strings.HasPrefix(got, "\n"+head) && strings.Contains(got, "\nALL: 192.0.2.1\n") && strings.Contains(got, "\nALL: [2001:db8::1]\n")
		}
	}

	tmp := filepath.Join(dir, "hosts.deny.new")
	if err := os.WriteFile(tmp, []byte("# managed by puppet\nsshd: 10.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	fwtest.Eventually(t, within, "the lines back after the rewrite", held("# managed by puppet\nsshd: 10.0.0.1\n"))

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	fwtest.Eventually(t, within, "the file back", held("ALL: "))

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := d.Logs.String()
	for _, want := range []string{
		`missing="lines missing from ` + path + `: 2 of 2" restored=2`,
		`missing="file ` + path + `, with the sink's 2 lines" restored=2`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, "level=WARN"); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, logs)
	}
	if st := d.S.Stats(); st["hostsdeny_errors"] != 0 || st["hostsdeny_elements_added"] != 6 {
		t.Errorf("stats = %v, want no error and the 2 lines added 3 times", st)
	}
}

// TestCheckHeld: Check reports nothing while the sink's lines are there
// (whatever else the file holds) and counts those that go.
func TestCheckHeld(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hosts.deny")
	s, err := New(engine.Options{Name: "deny", StateDir: t.TempDir()}, &Arguments{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{s: s}
	ctx := context.Background()
	check := func(want ...string) {
		t.Helper()
		got, err := b.Check(ctx, []string{""})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Check = %q, %v; want %q", got, err, want)
		}
	}
	check()
	if _, err := b.Sync(ctx, []string{""}); err != nil {
		t.Fatal(err)
	}
	check()
	addr := func(s string) fwsync.Key {
		a := netip.MustParseAddr(s)
		return fwsync.Key{Net: netip.PrefixFrom(a, a.BitLen())}
	}
	if err := b.Apply(ctx, []fwsync.Op{{Kind: fwsync.Add, Key: addr("192.0.2.1")}, {Kind: fwsync.Add, Key: addr("2001:db8::1")}}); err != nil {
		t.Fatal(err)
	}
	check()
	if err := os.WriteFile(path, []byte("ALL: [2001:db8::1]\n# admin\nALL: 10.9.9.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("lines missing from " + path + ": 1 of 2")
	// A resync reads the file again: what it finds is what the sink holds.
	if _, err := b.Sync(ctx, []string{""}); err != nil {
		t.Fatal(err)
	}
	check()
	if err := b.Apply(ctx, []fwsync.Op{{Kind: fwsync.Delete, Key: addr("2001:db8::1")}}); err != nil {
		t.Fatal(err)
	}
	check()
	if got := read(t, path); got != "# admin\nALL: 10.9.9.9\n" {
		t.Errorf("file: %q", got)
	}
}
