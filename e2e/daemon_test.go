package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBanOnFailingLine: the third failure of a host bans it, and the ban
// reaches the sink shortly after the line is written (the figure is
// logged; the benchmark measures it properly).
func TestBanOnFailingLine(t *testing.T) {
	e := newEnv(t)
	e.start()
	appendLines(t, e.log, failure("192.0.2.10"), failure("192.0.2.10"))
	time.Sleep(50 * time.Millisecond)
	if n := count(e.events(), "ban", "192.0.2.10"); n != 0 {
		t.Fatalf("banned after 2 failures (max_retry 3)")
	}
	written := time.Now()
	appendLines(t, e.log, failure("192.0.2.10"))
	e.waitFor("the ban of 192.0.2.10", func() bool { return count(e.events(), "ban", "192.0.2.10") == 1 })
	t.Logf("ban reached the sink %v after the failing line was written", time.Since(written).Round(time.Microsecond))

	st := e.status("sshd")
	if st.CurrentlyBanned != 1 || !slices.Equal(st.Banned, []string{"192.0.2.10"}) || st.TotalFailed != 3 {
		t.Errorf("status = %+v", st)
	}
	if !slices.Equal(st.Files, []string{e.log}) {
		t.Errorf("status files = %v, want [%s]", st.Files, e.log)
	}
	f2b, _ := os.ReadFile(e.f2bLog)
	if !strings.Contains(string(f2b), "fail2ban.actions        [") || !strings.Contains(string(f2b), "]: NOTICE  [sshd] Ban 192.0.2.10\n") {
		t.Errorf("fail2ban-format log:\n%s", f2b)
	}
	if err := e.stop(syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, e.stderr)
	}
}

// TestRotationFollowed: rename+create, copytruncate and a new file that
// the glob matches are all followed.
func TestRotationFollowed(t *testing.T) {
	e := newEnv(t)
	e.writePipeline(pipelineText(e, 2, "1h", filepath.Join(e.dir, "*.log")))
	e.start()

	appendLines(t, e.log, failure("192.0.2.1"))
	e.waitFor("the first line read", func() bool { return e.status("sshd").TotalFailed == 1 })

	// logrotate's create: rename, new file.
	if err := os.Rename(e.log, e.log+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, e.log, failure("192.0.2.1"))
	e.waitFor("a ban after rename+create", func() bool { return count(e.events(), "ban", "192.0.2.1") == 1 })

	// copytruncate: copy away, truncate in place, write on.
	appendLines(t, e.log, failure("192.0.2.2"))
	e.waitFor("the line before copytruncate", func() bool { return e.status("sshd").TotalFailed == 3 })
	data, _ := os.ReadFile(e.log)
	os.WriteFile(e.log+".2", data, 0o640)
	if err := os.Truncate(e.log, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	appendLines(t, e.log, failure("192.0.2.2"))
	e.waitFor("a ban after copytruncate", func() bool { return count(e.events(), "ban", "192.0.2.2") == 1 })

	// A file that appears later and matches the glob.
	other := filepath.Join(e.dir, "other.log")
	appendLines(t, other, failure("192.0.2.3"), failure("192.0.2.3"))
	e.waitFor("a ban from a new glob-matched file", func() bool { return count(e.events(), "ban", "192.0.2.3") == 1 })

	if n := count(e.events(), "ban", "192.0.2.1"); n != 1 {
		t.Errorf("192.0.2.1 banned %d times", n)
	}
}

// TestBansSurviveRestart: bans are kept across SIGTERM and across kill -9,
// restored once, and the lines already read are not counted again.
func TestBansSurviveRestart(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			e := newEnv(t)
			e.start()
			appendLines(t, e.log, failure("198.51.100.7"), failure("198.51.100.7"), failure("198.51.100.7"))
			e.waitFor("the ban", func() bool { return count(e.events(), "ban", "198.51.100.7") == 1 })
			// Two failures of another host: its window must survive too.
			appendLines(t, e.log, failure("198.51.100.8"), failure("198.51.100.8"))
			e.waitFor("two failures counted", func() bool { return e.status("sshd").TotalFailed == 5 })
			e.stop(sig)

			e.start()
			e.waitFor("the restored ban", func() bool {
				b, _ := os.ReadFile(e.f2bLog)
				return strings.Contains(string(b), "Restore Ban 198.51.100.7")
			})
			st := e.status("sshd")
			if !slices.Contains(st.Banned, "198.51.100.7") {
				t.Fatalf("after restart, banned = %v", st.Banned)
			}
			// The window of .8 was rebuilt from the log: one more bans it.
			appendLines(t, e.log, failure("198.51.100.8"))
			e.waitFor("the ban of .8 after restart", func() bool { return count(e.events(), "ban", "198.51.100.8") == 1 })
			if n := count(e.events(), "ban", "198.51.100.7"); n != 2 { // the ban and its restore
				t.Errorf("198.51.100.7: %d ban lines, want 2 (ban + restore)", n)
			}
			if b, _ := os.ReadFile(e.f2bLog); strings.Count(string(b), "] Ban 198.51.100.7") != 1 {
				t.Errorf("198.51.100.7 banned anew after restart:\n%s", b)
			}
		})
	}
}

// TestKill9Loop: kill -9 at random moments while a log grows; after each
// restart no ban is lost and no host is banned twice.
func TestKill9Loop(t *testing.T) {
	e := newEnv(t)
	r := rand.New(rand.NewPCG(1, 2))
	var want []string
	host := 0
	for round := range 6 {
		e.start()
		// Some hosts with 3 failures (banned), interleaved with others
		// with 1 (never banned), written in small bursts while f2b reads.
		for range 3 + r.IntN(4) {
			host++
			ip := fmt.Sprintf("203.0.113.%d", host)
			want = append(want, ip)
			noise := fmt.Sprintf("198.18.%d.%d", round, host)
			for i := range 3 {
				lines := []string{failure(ip)}
				if i == 0 {
					lines = append(lines, failure(noise))
				}
				appendLines(t, e.log, lines...)
				time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
			}
		}
		time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
		e.stop(syscall.SIGKILL)
	}
	e.start()
	e.waitFor("every ban", func() bool {
		st := e.status("sshd")
		for _, ip := range want {
			if !slices.Contains(st.Banned, ip) {
				return false
			}
		}
		return true
	})
	st := e.status("sshd")
	if len(st.Banned) != len(want) {
		t.Errorf("banned %d hosts, want %d: %v", len(st.Banned), len(want), st.Banned)
	}
	f2b, _ := os.ReadFile(e.f2bLog)
	for _, ip := range want {
		// A kill between the ban's save and the sink's line leaves the
		// ban announced by its restore alone: saved, so not lost, and
		// not made twice.
		n := strings.Count(string(f2b), "] Ban "+ip+"\n")
		restored := strings.Contains(string(f2b), "] Restore Ban "+ip+"\n")
		if n > 1 || n == 0 && !restored {
			t.Errorf("%s banned %d times (want exactly once, or restored only):\n%s", ip, n, f2b)
		}
	}
}

// TestUnbanThroughSocket: f2b unban lifts a ban; f2b ban bans by hand.
func TestUnbanThroughSocket(t *testing.T) {
	e := newEnv(t)
	e.start()
	appendLines(t, e.log, failure("192.0.2.50"), failure("192.0.2.50"), failure("192.0.2.50"))
	e.waitFor("the ban", func() bool { return count(e.events(), "ban", "192.0.2.50") == 1 })

	out, errOut, code := e.client("unban", "192.0.2.50")
	if code != 0 {
		t.Fatalf("unban: exit %d %s %s", code, out, errOut)
	}
	e.waitFor("the unban", func() bool { return count(e.events(), "unban", "192.0.2.50") == 1 })
	if st := e.status("sshd"); len(st.Banned) != 0 {
		t.Errorf("still banned: %v", st.Banned)
	}

	if _, errOut, code := e.client("ban", "sshd", "2001:db8::5"); code != 0 {
		t.Fatalf("ban: exit %d %s", code, errOut)
	}
	e.waitFor("the manual ban", func() bool { return count(e.events(), "ban", "2001:db8::5") == 1 })
	if _, _, code := e.client("ban", "nojail", "192.0.2.1"); code != 1 {
		t.Errorf("ban in an unknown jail: exit %d, want 1", code)
	}
	out, _, code = e.client("unban", "--all")
	if code != 0 {
		t.Fatalf("unban --all: exit %d", code)
	}
	e.waitFor("unban --all", func() bool { return count(e.events(), "unban", "2001:db8::5") == 1 })
	e.client("stop")
	select {
	case <-e.waitErr:
		e.cmd = nil
	case <-time.After(20 * time.Second):
		t.Fatal("f2b stop did not stop the daemon")
	}
}

// TestReloadKeepsState: a reload keeps running bans and failure windows of
// jails that still exist; an invalid pipeline is refused and the running
// one stays.
func TestReloadKeepsState(t *testing.T) {
	e := newEnv(t)
	e.start()
	appendLines(t, e.log, failure("192.0.2.60"), failure("192.0.2.60"), failure("192.0.2.60"))
	appendLines(t, e.log, failure("192.0.2.61"), failure("192.0.2.61"))
	e.waitFor("ban and counts", func() bool {
		return count(e.events(), "ban", "192.0.2.60") == 1 && e.status("sshd").TotalFailed == 5
	})

	// An invalid pipeline: refused, the old one keeps running.
	good, _ := os.ReadFile(e.pipeline)
	e.writePipeline(string(good) + "\ncounter \"window\" \"broken\" {\n  inputs = [matcher.nope]\n}\n")
	_, errOut, code := e.client("reload")
	if code != 1 || !strings.Contains(errOut, "matcher.nope") {
		t.Errorf("invalid reload: exit %d, stderr %q", code, errOut)
	}
	if st := e.status("sshd"); !slices.Contains(st.Banned, "192.0.2.60") {
		t.Fatalf("after refused reload: %+v", st)
	}

	// A valid change (longer ban time), by SIGHUP.
	e.writePipeline(strings.Replace(string(good), `ban_time  = "1h"`, `ban_time  = "2h"`, 1))
	e.cmd.Process.Signal(syscall.SIGHUP)
	e.waitFor("the reload", func() bool { return strings.Contains(e.stderr.String(), "pipeline reloaded") })
	if st := e.status("sshd"); !slices.Contains(st.Banned, "192.0.2.60") {
		t.Fatalf("ban lost by reload: %+v", st)
	}
	appendLines(t, e.log, failure("192.0.2.61"))
	e.waitFor("a ban completing a window begun before the reload", func() bool { return count(e.events(), "ban", "192.0.2.61") == 1 })
}

// TestUnwritableStateDir: when the ban store cannot be opened the daemon
// says so loudly and still bans.
func TestUnwritableStateDir(t *testing.T) {
	e := newEnv(t)
	blocker := filepath.Join(e.dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.state = filepath.Join(blocker, "state")
	e.start()
	appendLines(t, e.log, failure("192.0.2.70"), failure("192.0.2.70"), failure("192.0.2.70"))
	e.waitFor("the ban without a store", func() bool { return count(e.events(), "ban", "192.0.2.70") == 1 })
	if !strings.Contains(e.stderr.String(), "level=ERROR msg=\"ban store unavailable: bans will NOT survive a restart\"") {
		t.Errorf("no loud error about the store:\n%s", e.stderr)
	}
}

// TestSystemdUnitVerifies: examples/f2b.service passes systemd-analyze
// verify with the binary in place.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("F2B_REQUIRE_ALL") == "1" {
			t.Fatal("systemd-analyze is missing")
		}
		t.Skip("systemd-analyze is missing")
	}
	unit, err := os.ReadFile("../examples/f2b.service")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/f2b", f2bBin)
	for _, want := range []string{"Type=notify", "CapabilityBoundingSet=CAP_NET_ADMIN\n", "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !strings.Contains(text, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "f2b.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestNotifyReady: under a service manager (NOTIFY_SOCKET) the daemon
// reports READY=1 once its pipeline runs and STOPPING=1 on the way out.
func TestNotifyReady(t *testing.T) {
	e := newEnv(t)
	sock := filepath.Join(e.dir, "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	e.start()
	e.stop(syscall.SIGTERM)
	var got []string
	buf := make([]byte, 256)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 2 {
		n, _, err := l.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}
	if got[0] != "READY=1" || got[1] != "STOPPING=1" {
		t.Errorf("notifications = %q", got)
	}
}
