package state

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/f2bproject/f2b/engine"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 250, time.UTC)

// open opens a store in dir and closes it when the test ends.
func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ban(jail, host string, start time.Time, banTime time.Duration, count int) *engine.Action {
	a := &engine.Action{
		Type:     engine.Ban,
		Jail:     jail,
		Host:     netip.MustParseAddr(host),
		HostText: host,
		Failures: 3,
		BanTime:  banTime,
		Start:    start,
		BanCount: count,
		Matches:  []string{"fail 1 from " + host, "fail 2 from " + host, "fail 3 from " + host},
	}
	if banTime != engine.Permanent {
		a.End = start.Add(banTime)
	}
	return a
}

// byHost returns the records of jail keyed by host text.
func byHost(t *testing.T, s *Store, jail string) map[string]engine.BanRecord {
	t.Helper()
	recs, err := s.Bans(jail)
	if err != nil {
		t.Fatalf("Bans(%q): %v", jail, err)
	}
	m := map[string]engine.BanRecord{}
	for _, r := range recs {
		if _, dup := m[r.Host.String()]; dup {
			t.Fatalf("Bans(%q): two records for %s", jail, r.Host)
		}
		m[r.Host.String()] = r
	}
	return m
}

// sameRecord fails unless got equals want, comparing times with Equal.
func sameRecord(t *testing.T, got, want engine.BanRecord) {
	t.Helper()
	if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
		t.Errorf("%s: start/end = %v/%v, want %v/%v", want.HostText, got.Start, got.End, want.Start, want.End)
	}
	got.Start, got.End, want.Start, want.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record:\n got %+v\nwant %+v", got, want)
	}
}

func record(t *testing.T, s *Store, actions ...*engine.Action) {
	t.Helper()
	if err := s.Record(actions); err != nil {
		t.Fatalf("Record: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	unbanNow := t0.Add(5 * time.Hour)
	s := open(t, dir, Options{now: func() time.Time { return unbanNow }})

	v4 := ban("sshd", "192.0.2.1", t0, 10*time.Minute, 1)
	v4.Matches = append(v4.Matches, "ünïcode line", "")
	perm := ban("sshd", "2001:db8::7", t0.Add(time.Second), engine.Permanent, 4)
	prolonged := ban("sshd", "198.51.100.9", t0, time.Hour, 2)
	ended := ban("sshd", "203.0.113.5", t0, time.Minute, 1)
	endedPerm := ban("sshd", "2001:db8::8", t0, engine.Permanent, 1)
	record(t, s, v4, nil, perm, prolonged, ended, endedPerm)

	prolong := &engine.Action{Type: engine.Prolong, Jail: "sshd", Host: prolonged.Host, HostText: prolonged.HostText,
		BanTime: 3 * time.Hour, Start: t0, End: t0.Add(3 * time.Hour), BanCount: 2, Failures: 9}
	unban := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: ended.Host, HostText: ended.HostText,
		BanTime: time.Minute, Start: t0, End: t0.Add(time.Minute), BanCount: 1, Failures: 3}
	unbanPerm := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: endedPerm.Host, HostText: endedPerm.HostText,
		BanTime: engine.Permanent, Start: t0, BanCount: 1, Failures: 3}
	record(t, s, prolong, unban, unbanPerm)

	want := map[string]engine.BanRecord{
		"192.0.2.1": {Jail: "sshd", Host: v4.Host, HostText: "192.0.2.1", Start: t0, End: t0.Add(10 * time.Minute),
			BanTime: 10 * time.Minute, BanCount: 1, Failures: 3, Matches: v4.Matches},
		"2001:db8::7": {Jail: "sshd", Host: perm.Host, HostText: "2001:db8::7", Start: t0.Add(time.Second),
			BanTime: engine.Permanent, BanCount: 4, Failures: 3, Matches: perm.Matches},
		"198.51.100.9": {Jail: "sshd", Host: prolonged.Host, HostText: "198.51.100.9", Start: t0, End: t0.Add(3 * time.Hour),
			BanTime: 3 * time.Hour, BanCount: 2, Failures: 3, Matches: prolonged.Matches},
		"203.0.113.5": {Jail: "sshd", Host: ended.Host, HostText: "203.0.113.5", Start: t0, End: t0.Add(time.Minute),
			BanTime: time.Minute, BanCount: 1, Failures: 3, Matches: ended.Matches, Ended: true},
		"2001:db8::8": {Jail: "sshd", Host: endedPerm.Host, HostText: "2001:db8::8", Start: t0, End: unbanNow,
			BanTime: engine.Permanent, BanCount: 1, Failures: 3, Matches: endedPerm.Matches, Ended: true},
	}
	check := func(s *Store) {
		t.Helper()
		got := byHost(t, s, "sshd")
		if len(got) != len(want) {
			t.Fatalf("got %d records, want %d: %v", len(got), len(want), got)
		}
		for h, w := range want {
			sameRecord(t, got[h], w)
		}
		now := t0.Add(30 * time.Minute)
		if got["192.0.2.1"].Running(now) || !got["2001:db8::7"].Running(now) || !got["198.51.100.9"].Running(now) ||
			got["203.0.113.5"].Running(now) || got["2001:db8::8"].Running(now) {
			t.Errorf("Running at %v is wrong: %+v", now, got)
		}
	}
	check(s)

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Bans("sshd"); err == nil {
		t.Error("Bans after Close succeeded")
	}
	if err := s.Record([]*engine.Action{v4}); err == nil {
		t.Error("Record after Close succeeded")
	}
	check(open(t, dir, Options{}))
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	open(t, dir, Options{})
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

func TestLatestBanPerHost(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	first := ban("sshd", "192.0.2.1", t0, time.Minute, 1)
	record(t, s, first)
	record(t, s, &engine.Action{Type: engine.Unban, Jail: "sshd", Host: first.Host, HostText: first.HostText,
		Start: first.Start, End: first.End, BanTime: time.Minute, BanCount: 1})
	second := ban("sshd", "192.0.2.1", t0.Add(time.Hour), 2*time.Minute, 2)
	second.Matches = []string{"again"}
	record(t, s, second)
	// A late unban of the first ban must not end the second.
	record(t, s, &engine.Action{Type: engine.Unban, Jail: "sshd", Host: first.Host, HostText: first.HostText,
		Start: first.Start, End: first.End, BanTime: time.Minute, BanCount: 1})

	got := byHost(t, s, "sshd")
	if len(got) != 1 {
		t.Fatalf("got %d records, want 1", len(got))
	}
	sameRecord(t, got["192.0.2.1"], engine.BanRecord{Jail: "sshd", Host: first.Host, HostText: "192.0.2.1",
		Start: second.Start, End: second.End, BanTime: 2 * time.Minute, BanCount: 2, Failures: 3, Matches: []string{"again"}})
}

func TestAddressFamilies(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	hosts := []netip.Addr{
		netip.MustParseAddr("192.0.2.1"),
		netip.MustParseAddr("::ffff:192.0.2.1"), // same 16 bytes as the v4 one
		netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("fe80::1%eth0"),
	}
	for i, h := range hosts {
		record(t, s, &engine.Action{Type: engine.Ban, Jail: "j", Host: h, HostText: h.String(), BanCount: i + 1, BanTime: engine.Permanent})
	}
	recs, err := s.Bans("j")
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.Addr]int{}
	for _, r := range recs {
		got[r.Host] = r.BanCount
	}
	for i, h := range hosts {
		if got[h] != i+1 {
			t.Errorf("%v: ban count %d, want %d (all: %v)", h, got[h], i+1, got)
		}
	}
}

func TestMatchesCapped(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	a := ban("j", "192.0.2.1", t0, time.Hour, 1)
	a.Matches = nil
	for i := range 60 {
		a.Matches = append(a.Matches, fmt.Sprintf("line %d", i))
	}
	a.Matches[59] = strings.Repeat("x", maxMatchLen+10)
	record(t, s, a)
	r := byHost(t, s, "j")["192.0.2.1"]
	if len(r.Matches) != maxMatches || r.Matches[0] != "line 10" || r.Matches[48] != "line 58" || len(r.Matches[49]) != maxMatchLen {
		t.Errorf("matches: %d lines, first %q, last of %d bytes", len(r.Matches), r.Matches[0], len(r.Matches[len(r.Matches)-1]))
	}
}

func TestRecordRejects(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	if err := s.Record([]*engine.Action{{Type: engine.Ban, HostText: "x"}}); err == nil || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("Record without jail: %v", err)
	}
	if err := s.Record([]*engine.Action{{Type: 77, Jail: "j"}}); err == nil {
		t.Error("Record of an unknown type succeeded")
	}
	if err := s.Record([]*engine.Action{nil, nil}); err != nil {
		t.Errorf("Record of nils: %v", err)
	}
	if jails, _ := s.Jails(); len(jails) != 0 {
		t.Errorf("jails after rejected records: %v", jails)
	}
}

func TestPurge(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	day := 24 * time.Hour
	old := t0.Add(-30 * day)
	record(t, s,
		ban("a", "192.0.2.1", old, time.Hour, 1),                  // stale running
		ban("a", "192.0.2.2", old, engine.Permanent, 1),           // permanent: kept
		ban("a", "192.0.2.3", t0, time.Hour, 1),                   // running
		ban("a", "192.0.2.4", old, time.Hour, 1),                  // ended long ago
		ban("a", "192.0.2.5", t0.Add(-2*time.Hour), time.Hour, 1), // ended recently
		ban("b", "192.0.2.6", old, time.Hour, 1),                  // the only one of jail b
	)
	for _, h := range []string{"192.0.2.4", "192.0.2.5", "192.0.2.6"} {
		j := "a"
		if h == "192.0.2.6" {
			j = "b"
		}
		a := ban(j, h, old, time.Hour, 1)
		if h == "192.0.2.5" {
			a = ban(j, h, t0.Add(-2*time.Hour), time.Hour, 1)
		}
		a.Type = engine.Unban
		record(t, s, a)
	}
	n, err := s.Purge(t0.Add(-day))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("Purge deleted %d, want 3", n)
	}
	var left []string
	for h := range byHost(t, s, "a") {
		left = append(left, h)
	}
	slices.Sort(left)
	if want := []string{"192.0.2.2", "192.0.2.3", "192.0.2.5"}; !slices.Equal(left, want) {
		t.Errorf("left after purge: %v, want %v", left, want)
	}
	if jails, _ := s.Jails(); !slices.Equal(jails, []string{"a"}) {
		t.Errorf("jails after purge: %v, want [a]", jails)
	}
}

func TestPositions(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if _, ok, err := s.Position("file:/var/log/auth.log"); ok || err != nil {
		t.Fatalf("Position of a new store: %v %v", ok, err)
	}
	if err := s.SavePositions(map[string][]byte{"a": []byte("pos-a"), "b": []byte("pos-b"), "c": {}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePositions(map[string][]byte{"a": []byte("pos-a2"), "b": nil, "never": nil}); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePositions(map[string][]byte{"": []byte("x")}); err == nil {
		t.Error("SavePositions with an empty key succeeded")
	}
	check := func(s *Store) {
		t.Helper()
		for key, want := range map[string][]byte{"a": []byte("pos-a2"), "b": nil, "c": {}} {
			v, ok, err := s.Position(key)
			if err != nil || ok != (want != nil) || !bytes.Equal(v, want) {
				t.Errorf("Position(%q) = %q, %v, %v; want %q", key, v, ok, err, want)
			}
		}
	}
	check(s)
	_ = s.Close()
	check(open(t, dir, Options{}))
}

func TestJailsIsolated(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	record(t, s, ban("sshd", "192.0.2.1", t0, time.Hour, 1), ban("nginx", "192.0.2.1", t0, 2*time.Hour, 3),
		ban("nginx", "192.0.2.2", t0, time.Hour, 1))
	unban := ban("sshd", "192.0.2.1", t0, time.Hour, 1)
	unban.Type = engine.Unban
	record(t, s, unban)

	sshd, nginx := byHost(t, s, "sshd"), byHost(t, s, "nginx")
	if len(sshd) != 1 || !sshd["192.0.2.1"].Ended {
		t.Errorf("sshd: %+v", sshd)
	}
	if len(nginx) != 2 || nginx["192.0.2.1"].Ended || nginx["192.0.2.1"].BanCount != 3 {
		t.Errorf("nginx: %+v", nginx)
	}
	if recs, err := s.Bans("none"); len(recs) != 0 || err != nil {
		t.Errorf("Bans of an unknown jail: %v, %v", recs, err)
	}
	if jails, err := s.Jails(); !slices.Equal(jails, []string{"nginx", "sshd"}) || err != nil {
		t.Errorf("Jails = %v, %v", jails, err)
	}
}

func TestConcurrentRecord(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	const workers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				// Some calls carry several actions, some one.
				a := ban(fmt.Sprintf("jail%d", w%3), fmt.Sprintf("10.%d.%d.1", w, i), t0, time.Hour, 1)
				actions := []*engine.Action{a}
				if i%4 == 0 {
					b := *a
					b.Host = netip.MustParseAddr(fmt.Sprintf("10.%d.%d.2", w, i))
					actions = append(actions, &b)
				}
				if err := s.Record(actions); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_ = s.Close()
	s = open(t, dir, Options{})
	for w := range workers {
		got := byHost(t, s, fmt.Sprintf("jail%d", w%3))
		for i := range each {
			if _, ok := got[fmt.Sprintf("10.%d.%d.1", w, i)]; !ok {
				t.Fatalf("worker %d: ban %d missing", w, i)
			}
			if _, ok := got[fmt.Sprintf("10.%d.%d.2", w, i)]; ok != (i%4 == 0) {
				t.Fatalf("worker %d: second ban of call %d present = %v", w, i, ok)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tmp := t.TempDir()

	// The parent of the state dir is a regular file. (Tests usually run as
	// root, where a 0500 directory does not stop writes; this error path
	// works for every user.)
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "state"), Options{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open under a regular file: %v", err)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(tmp, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ro, Options{}); err == nil || !strings.Contains(err.Error(), ro) {
			t.Errorf("Open of a read-only dir: %v", err)
		}
	}

	// Garbage: refused, named, left as it was.
	bad := filepath.Join(tmp, "bad")
	garbage := bytes.Repeat([]byte("not a database "), 1000)
	if err := os.MkdirAll(bad, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, FileName), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(bad, Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, FileName)) || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Open of garbage: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(bad, FileName)); !bytes.Equal(b, garbage) {
		t.Error("Open changed a corrupt file")
	}

	// A bbolt file of something else.
	other := filepath.Join(tmp, "other")
	writeBolt(t, other, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("theirs"))
		return err
	})
	if _, err := Open(other, Options{}); err == nil || !strings.Contains(err.Error(), "without an f2b schema") {
		t.Errorf("Open of a foreign bbolt file: %v", err)
	}

	// A newer schema.
	newer := filepath.Join(tmp, "newer")
	writeBolt(t, newer, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte{schemaVersion + 1})
	})
	if _, err := Open(newer, Options{}); err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), newer) {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// writeBolt makes dir/FileName a bbolt file filled by fn.
func writeBolt(t *testing.T, dir string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	// A crashed compaction left its copy behind.
	if err := os.WriteFile(path+".compact", []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir, Options{})
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("leftover compaction file kept: %v", err)
	}
	// About 100 KB per record: 60 records make a file of some 6 MiB.
	long := strings.Repeat("y", 2000)
	for i := range 60 {
		a := ban("j", fmt.Sprintf("10.0.0.%d", i), t0.Add(-48*time.Hour), time.Hour, 1)
		a.Matches = slices.Repeat([]string{long}, maxMatches)
		record(t, s, a)
	}
	record(t, s, ban("j", "192.0.2.1", t0, engine.Permanent, 1))
	if err := s.SavePositions(map[string][]byte{"p": []byte("pos")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(t0.Add(-time.Hour)); n != 60 || err != nil {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	before := size(t, path)
	if before <= compactMinSize {
		t.Fatalf("file of %d bytes is too small to test compaction", before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Open compacts the bloated file.
	s = open(t, dir, Options{})
	after := size(t, path)
	if after*4 > before {
		t.Errorf("Open left a file of %d bytes (was %d)", after, before)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	checkCompacted := func(s *Store) {
		t.Helper()
		if got := byHost(t, s, "j"); len(got) != 1 || got["192.0.2.1"].BanTime != engine.Permanent {
			t.Errorf("records after compaction: %+v", got)
		}
		if v, ok, _ := s.Position("p"); !ok || string(v) != "pos" {
			t.Errorf("position after compaction: %q %v", v, ok)
		}
	}
	checkCompacted(s)

	// Compact on demand, while open: the store goes on working.
	for i := range 60 {
		a := ban("k", fmt.Sprintf("10.0.1.%d", i), t0.Add(-48*time.Hour), time.Hour, 1)
		a.Matches = slices.Repeat([]string{long}, maxMatches)
		record(t, s, a)
	}
	if _, err := s.Purge(t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	before = size(t, path)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if after := size(t, path); after*4 > before {
		t.Errorf("Compact left a file of %d bytes (was %d)", after, before)
	}
	checkCompacted(s)
	record(t, s, ban("j", "192.0.2.2", t0, time.Hour, 1))
	_ = s.Close()
	s = open(t, dir, Options{})
	if got := byHost(t, s, "j"); len(got) != 2 {
		t.Errorf("records after compaction and reopen: %+v", got)
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestForget: an Unban with Forget leaves a forgotten record of the host
// in its jail (fail2ban's unbanip deletes its history): at the lifted
// ban's moment when it lifted one (its Start), else with the Start of the
// host's last ban, or nothing for a host without a record. With the zero
// Host it forgets every host of the jail (its unban --all), Starts kept;
// other jails keep theirs, and the jail works on after.
func TestForget(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	record(t, s, ban("sshd", "192.0.2.1", t0, time.Hour, 1), ban("sshd", "2001:db8::2", t0, time.Hour, 2),
		ban("sshd", "192.0.2.3", t0, time.Hour, 1), ban("nginx", "192.0.2.1", t0, time.Hour, 3))
	lifted := t0.Add(10 * time.Minute)
	forget := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: netip.MustParseAddr("192.0.2.1"), HostText: "192.0.2.1",
		Start: lifted, End: lifted, BanCount: 1, Forget: true}
	// No ban lifted (no Start): a host without a record gets none, one
	// with a record keeps its Start.
	never := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: netip.MustParseAddr("192.0.2.9"), HostText: "192.0.2.9", End: lifted, Forget: true}
	history := &engine.Action{Type: engine.Unban, Jail: "sshd", Host: netip.MustParseAddr("192.0.2.3"), HostText: "192.0.2.3", End: lifted, Forget: true}
	record(t, s, forget, never, history)
	got := byHost(t, s, "sshd")
	if r := got["192.0.2.1"]; !r.Forgotten() || !r.Start.Equal(lifted) || !r.End.Equal(lifted) || r.Failures != 0 || len(r.Matches) != 0 {
		t.Errorf("host of a lifted ban: %+v", r)
	}
	if r, ok := got["192.0.2.9"]; ok {
		t.Errorf("host without a record got one: %+v", r)
	}
	if r := got["192.0.2.3"]; !r.Forgotten() || !r.Start.Equal(t0) || !r.End.Equal(lifted) {
		t.Errorf("host forgotten without a lifted ban: %+v, want its Start kept", r)
	}
	if len(got) != 3 || got["2001:db8::2"].BanCount != 2 {
		t.Errorf("sshd after forgetting: %+v", got)
	}
	if got := byHost(t, s, "nginx"); len(got) != 1 || got["192.0.2.1"].Forgotten() {
		t.Errorf("nginx: %+v", got)
	}

	// The whole jail, then a ban in the same group commit: the ban stays.
	all := &engine.Action{Type: engine.Unban, Jail: "sshd", Forget: true}
	record(t, s, all, ban("sshd", "192.0.2.4", t0, time.Hour, 1))
	got = byHost(t, s, "sshd")
	if len(got) != 4 || got["192.0.2.4"].BanCount != 1 || got["192.0.2.4"].Forgotten() {
		t.Errorf("sshd after forgetting the jail and a new ban: %+v", got)
	}
	for host, r := range got {
		if host != "192.0.2.4" && !r.Forgotten() {
			t.Errorf("%s not forgotten: %+v", host, r)
		}
	}
	if r := got["2001:db8::2"]; !r.Start.Equal(t0) {
		t.Errorf("forgetting the jail moved a Start: %+v", r)
	}
	record(t, s, all, &engine.Action{Type: engine.Unban, Jail: "none", Forget: true}) // a missing jail: no error
	recs, err := s.Bans("sshd")
	if len(recs) != 4 || err != nil {
		t.Errorf("sshd after forgetting it: %v, %v", recs, err)
	}
	for _, r := range recs {
		if !r.Forgotten() {
			t.Errorf("not forgotten: %+v", r)
		}
	}
	if got := byHost(t, s, "nginx"); len(got) != 1 || got["192.0.2.1"].BanCount != 3 {
		t.Errorf("nginx after forgetting sshd: %+v", got)
	}
}
