package state

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/f2bproject/f2b/engine"
)

// The tests here run a second process: bbolt's lock is a flock, and a
// crash is a SIGKILL. The child is this test binary, re-executed to run
// TestHelperProcess with F2B_STATE_HELPER naming what it should do.
const helperEnv = "F2B_STATE_HELPER"

// helper starts this test binary as a helper doing mode on dir.
func helper(ctx context.Context, t *testing.T, mode, dir string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	// The race detector sleeps a second before a process exits (GORACE
	// atexit_sleep_ms) unless told otherwise; the helpers need not wait.
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "F2B_STATE_DIR="+dir, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// TestHelperProcess is the child of the tests below; it does nothing in a
// normal run.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv("F2B_STATE_DIR")
	var err error
	switch mode {
	case "open":
		err = helperOpen(dir)
	case "crash":
		err = helperCrash(dir)
	case "diskfull":
		err = helperDiskFull(dir)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// helperOpen opens the store and closes it.
func helperOpen(dir string) error {
	s, err := Open(dir, Options{lockTimeout: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	return s.Close()
}

// hostN is the host of the crash test's n-th ban.
func hostN(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
}

// helperCrash records bans for ever, from number F2B_STATE_BASE on,
// printing "ok N" after each Record of ban N returns. Every other call
// carries a second, IPv6 ban, so that transactions vary in size.
func helperCrash(dir string) error {
	base, err := strconv.Atoi(os.Getenv("F2B_STATE_BASE"))
	if err != nil {
		return err
	}
	s, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	for n := base; ; n++ {
		a := &engine.Action{Type: engine.Ban, Jail: "crash", Host: hostN(n), HostText: hostN(n).String(),
			BanTime: time.Hour, Start: t0, End: t0.Add(time.Hour), BanCount: 1, Failures: n,
			Matches: []string{strings.Repeat("m", n%300)}}
		actions := []*engine.Action{a}
		if n%2 == 0 {
			b := *a
			b.Host = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 13: byte(n >> 16), 14: byte(n >> 8), 15: byte(n)})
			actions = append(actions, &b)
		}
		if err := s.Record(actions); err != nil {
			return err
		}
		// os.Stdout is not buffered: the line is in the pipe when this returns.
		if _, err := fmt.Printf("ok %d\n", n); err != nil {
			return err
		}
	}
}

// helperDiskFull limits the size of the files it may write to the current
// size of the state file (RLIMIT_FSIZE, which binds root too), records
// bans until Record fails, and checks the failure and that reads still
// work. It prints "ok N" for every ban recorded.
func helperDiskFull(dir string) error {
	s, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		return err
	}
	// Room for a few bans, so that some succeed before the failure.
	lim := &syscall.Rlimit{Cur: uint64(fi.Size()) + 64<<10, Max: uint64(fi.Size()) + 64<<10}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, lim); err != nil {
		return err
	}
	var recErr error
	n := 0
	for ; n < 100000; n++ {
		a := &engine.Action{Type: engine.Ban, Jail: "full", Host: hostN(n), HostText: hostN(n).String(),
			BanTime: time.Hour, Start: t0, End: t0.Add(time.Hour), BanCount: 1, Matches: []string{strings.Repeat("z", 1000)}}
		if recErr = s.Record([]*engine.Action{a}); recErr != nil {
			break
		}
		fmt.Printf("ok %d\n", n)
	}
	if recErr == nil {
		return fmt.Errorf("%d bans recorded beyond the file size limit", n)
	}
	if !strings.Contains(recErr.Error(), s.Path()) {
		return fmt.Errorf("Record error does not name %s: %w", s.Path(), recErr)
	}
	fmt.Printf("error %v\n", recErr)
	recs, err := s.Bans("full")
	if err != nil {
		return fmt.Errorf("Bans after a failed Record: %w", err)
	}
	if len(recs) != n {
		return fmt.Errorf("Bans after a failed Record: %d records, want %d", len(recs), n)
	}
	if _, _, err := s.Position("x"); err != nil {
		return fmt.Errorf("Position after a failed Record: %w", err)
	}
	return s.Close()
}

func TestLockSecondProcess(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	out, err := helper(t.Context(), t, "open", dir).CombinedOutput()
	if err == nil {
		t.Fatalf("a second process opened the store: %s", out)
	}
	want := "state dir " + dir + " is in use by another f2b"
	if !strings.Contains(string(out), want) {
		t.Fatalf("second process: %v\n%s\nwant %q", err, out, want)
	}

	// Once the first closes, the second gets in.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := helper(t.Context(), t, "open", dir).CombinedOutput(); err != nil {
		t.Fatalf("open after Close: %v\n%s", err, out)
	}
}

func TestCrashDurability(t *testing.T) {
	dir := t.TempDir()
	deadline := time.Now().Add(8 * time.Second)
	acked := map[int]bool{} // of every run: later runs must not lose them
	for run := range 8 {
		base := run * 10000 // each run bans hosts of its own
		if run > 2 && time.Now().After(deadline) {
			break
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := helper(ctx, t, "crash", dir, "F2B_STATE_BASE="+strconv.Itoa(base))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rand.IntN(150)
		sc := bufio.NewScanner(stdout)
		lines, killed := 0, false
		for sc.Scan() {
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "ok %d", &n); err != nil {
				t.Fatalf("run %d: child wrote %q", run, sc.Text())
			}
			if n != base+lines {
				t.Fatalf("run %d: line %d acknowledges ban %d", run, lines, n)
			}
			acked[n] = true
			if lines++; lines == killAfter && !killed {
				// A random pause lands the kill anywhere in a Record.
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		cancel()
		if !killed {
			t.Fatalf("run %d: child stopped after %d lines: %v\n%s", run, lines, err, stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: child ended with %v, not by SIGKILL\n%s", run, err, stderr.String())
		}

		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("run %d: reopen after SIGKILL: %v", run, err)
		}
		checkConsistent(t, s)
		got := map[netip.Addr]bool{}
		recs, err := s.Bans("crash")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got[r.Host] = true
		}
		for n := range acked {
			if !got[hostN(n)] {
				t.Errorf("run %d: ban %d was acknowledged but is missing", run, n)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d: killed after %d acknowledged bans; %d records", run, lines, len(recs))
	}
}

// checkConsistent runs bbolt's consistency check over the whole file.
func checkConsistent(t *testing.T, s *Store) {
	t.Helper()
	err := s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s is inconsistent: %v", s.Path(), err)
	}
}

func TestRecordDiskFull(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := helper(t.Context(), t, "diskfull", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "ok ") {
			n++
		}
	}
	if !strings.Contains(string(out), "error state file "+s.Path()) {
		t.Errorf("helper output lacks the Record error:\n%s", out)
	}
	s = open(t, dir, Options{})
	checkConsistent(t, s)
	recs, err := s.Bans("full")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Errorf("%d bans after the disk filled, want the %d acknowledged", len(recs), n)
	}
	t.Logf("%d bans fit; the child said:\n%s", n, out[max(0, len(out)-300):])
}

func TestHostN(t *testing.T) {
	// The crash test depends on hostN being one-to-one over its range.
	seen := map[netip.Addr]int{}
	for n := range 1 << 17 { // 8 runs of 10000
		if m, dup := seen[hostN(n)]; dup {
			t.Fatalf("hostN(%d) == hostN(%d)", n, m)
		}
		seen[hostN(n)] = n
	}
}
