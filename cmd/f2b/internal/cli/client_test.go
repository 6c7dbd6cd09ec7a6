package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/control"
)

// fakeDaemon answers the control socket like a daemon with jails sshd and
// nginx, and keeps the requests it got.
type fakeDaemon struct {
	mu   sync.Mutex
	reqs []control.Request
}

func (d *fakeDaemon) requests() []control.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.reqs)
}

func (d *fakeDaemon) Handle(_ context.Context, req control.Request) (any, error) {
	d.mu.Lock()
	d.reqs = append(d.reqs, req)
	d.mu.Unlock()

	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	bans := []control.BannedEntry{
		{Jail: "nginx", Host: "2001:db8::7", Start: start, End: start.Add(time.Hour), BanTime: "1h0m0s", BanCount: 1, Failures: 12},
		{Jail: "sshd", Host: "192.0.2.1", Start: start.Add(-24 * time.Hour), BanTime: "permanent", BanCount: 3, Failures: 5},
		{Jail: "sshd", Host: "198.51.100.23", Start: start.Add(90 * time.Second), End: start.Add(90*time.Second + 10*time.Minute), BanTime: "10m0s", BanCount: 1, Failures: 5},
	}
	switch req.Command {
	case control.CmdPing:
		return "pong", nil
	case control.CmdStatus:
		if len(req.Args) == 0 {
			return control.Overview{Jails: []string{"sshd", "nginx"}}, nil
		}
		switch req.Args[0] {
		case "sshd":
			return control.JailStatus{Jail: "sshd", TotalFailed: 5, Files: []string{"/var/log/auth.log"}, CurrentlyBanned: 1, TotalBanned: 1, Banned: []string{"192.0.2.1"}}, nil
		case "nginx":
			return control.JailStatus{Jail: "nginx", CurrentlyFailed: 3, TotalFailed: 1234, Files: []string{"/var/log/nginx/access.log", "/var/log/nginx/error.log"},
				CurrentlyBanned: 2, TotalBanned: 17, Banned: []string{"2001:db8::7", "203.0.113.9"}}, nil
		case "idle":
			return control.JailStatus{Jail: "idle", Files: []string{}, Banned: []string{}}, nil
		case "journal":
			return control.JailStatus{Jail: "journal", TotalFailed: 2, Files: []string{},
				JournalMatches: []string{"_SYSTEMD_UNIT=sshd.service + _COMM=sshd"}, Banned: []string{}}, nil
		case "mixed":
			return control.JailStatus{Jail: "mixed", Files: []string{"/var/log/auth.log"},
				JournalMatches: []string{"_SYSTEMD_UNIT=ssh.service", "_COMM=sshd"}, Banned: []string{}}, nil
		}
		return nil, fmt.Errorf("jail %q does not exist", req.Args[0])
	case control.CmdBanned:
		if len(req.Args) == 0 {
			return bans, nil
		}
		if req.Args[0] == "idle" {
			return nil, nil
		}
		return slices.DeleteFunc(bans, func(b control.BannedEntry) bool { return b.Jail != req.Args[0] }), nil
	case control.CmdBan:
		if req.Args[0] != "sshd" {
			return nil, fmt.Errorf("jail %q does not exist", req.Args[0])
		}
		return control.BanResult{Banned: req.Args[2:], Already: req.Args[1:2]}, nil
	case control.CmdUnban:
		if req.All {
			return control.UnbanResult{Unbanned: 3}, nil
		}
		return control.UnbanResult{Unbanned: 1, NotFound: req.Args[1:]}, nil
	case control.CmdReload:
		return control.ReloadResult{Jails: []string{"sshd", "nginx"}}, nil
	case control.CmdStop:
		return "stopping", nil
	}
	return nil, fmt.Errorf("unexpected %s", req.Command)
}

// startDaemon serves a fakeDaemon on a socket in a temp dir.
func startDaemon(t *testing.T) (*fakeDaemon, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	srv, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDaemon{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, d) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	return d, sock
}

// TestClientCommands runs every client command through the real command
// line against a daemon on a real socket and compares what it prints with
// testdata/client/NAME.golden (exit status, stdout, stderr).
func TestClientCommands(t *testing.T) {
	d, sock := startDaemon(t)
	for _, tc := range []struct {
		name string
		args []string
		want control.Request // what the daemon must receive
	}{
		{"ping", []string{"ping"}, control.Request{Command: "ping"}},
		{"status", []string{"status"}, control.Request{Command: "status"}},
		{"status_json", []string{"status", "--json"}, control.Request{Command: "status"}},
		{"status_sshd", []string{"status", "sshd"}, control.Request{Command: "status", Args: []string{"sshd"}}},
		{"status_nginx", []string{"status", "nginx"}, control.Request{Command: "status", Args: []string{"nginx"}}},
		{"status_idle", []string{"status", "idle"}, control.Request{Command: "status", Args: []string{"idle"}}},
		{"status_journal", []string{"status", "journal"}, control.Request{Command: "status", Args: []string{"journal"}}},
		{"status_journal_json", []string{"status", "journal", "--json"}, control.Request{Command: "status", Args: []string{"journal"}}},
		{"status_mixed", []string{"status", "mixed"}, control.Request{Command: "status", Args: []string{"mixed"}}},
		{"status_sshd_json", []string{"status", "sshd", "--json"}, control.Request{Command: "status", Args: []string{"sshd"}}},
		{"status_unknown_jail", []string{"status", "nope"}, control.Request{Command: "status", Args: []string{"nope"}}},
		{"banned", []string{"banned"}, control.Request{Command: "banned"}},
		{"banned_sshd", []string{"banned", "sshd"}, control.Request{Command: "banned", Args: []string{"sshd"}}},
		{"banned_json", []string{"banned", "--json", "nginx"}, control.Request{Command: "banned", Args: []string{"nginx"}}},
		{"banned_none_json", []string{"banned", "--json", "idle"}, control.Request{Command: "banned", Args: []string{"idle"}}},
		{"banned_none", []string{"banned", "idle"}, control.Request{Command: "banned", Args: []string{"idle"}}},
		{"ban", []string{"ban", "sshd", "192.0.2.1", "::ffff:198.51.100.7", "2001:DB8::1"},
			control.Request{Command: "ban", Args: []string{"sshd", "192.0.2.1", "198.51.100.7", "2001:db8::1"}}},
		{"ban_json", []string{"ban", "--json", "sshd", "192.0.2.1", "192.0.2.2"}, control.Request{Command: "ban", Args: []string{"sshd", "192.0.2.1", "192.0.2.2"}}},
		{"ban_unknown_jail", []string{"ban", "nope", "192.0.2.1"}, control.Request{Command: "ban", Args: []string{"nope", "192.0.2.1"}}},
		{"unban", []string{"unban", "192.0.2.1", "192.0.2.99"}, control.Request{Command: "unban", Args: []string{"192.0.2.1", "192.0.2.99"}}},
		{"unban_all", []string{"unban", "--all"}, control.Request{Command: "unban", All: true}},
		{"unban_all_json", []string{"unban", "--all", "--json"}, control.Request{Command: "unban", All: true}},
		{"reload", []string{"reload"}, control.Request{Command: "reload"}},
		{"stop", []string{"stop"}, control.Request{Command: "stop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(d.requests())
			code, stdout, stderr := run(t, append(tc.args, "--socket", sock)...)
			got := fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
			compareGolden(t, filepath.Join("testdata", "client", tc.name+".golden"), got)

			reqs := d.requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("daemon got %d requests, want 1: %+v", len(reqs), reqs)
			}
			if r := reqs[0]; r.Command != tc.want.Command || !slices.Equal(r.Args, tc.want.Args) || r.All != tc.want.All {
				t.Errorf("daemon got %+v, want %+v", r, tc.want)
			}
		})
	}
}

// TestClientUsageErrors checks the mistakes caught before calling the
// daemon: exit status 2, the reason first on stderr, nothing sent.
func TestClientUsageErrors(t *testing.T) {
	d, sock := startDaemon(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ban", "sshd", "192.0.2.1", "300.1.2.3"}, `Error: invalid IP address "300.1.2.3"`},
		{[]string{"ban", "sshd", "example.com", "192.0.2.0/24", "192.0.2.1"}, `Error: invalid IP addresses "example.com", "192.0.2.0/24"`},
		{[]string{"ban", "sshd", "fe80::1%eth0"}, `Error: invalid IP address "fe80::1%eth0"`},
		{[]string{"ban", "sshd"}, "Error: requires at least 2 arg(s), only received 1"},
		{[]string{"unban", "--all", "192.0.2.1"}, "Error: give IP addresses or --all, not both"},
		{[]string{"unban"}, "Error: give the IP addresses to unban, or --all"},
		{[]string{"unban", "1.2.3"}, `Error: invalid IP address "1.2.3"`},
		{[]string{"status", "sshd", "nginx"}, "Error: accepts at most 1 arg(s), received 2"},
		{[]string{"banned", "a", "b"}, "Error: accepts at most 1 arg(s), received 2"},
		{[]string{"ping", "x"}, `Error: unknown command "x" for "f2b ping"`},
		{[]string{"stop", "--json"}, "Error: unknown flag: --json"},
		{[]string{"reload", "now"}, `Error: unknown command "now" for "f2b reload"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, append(tc.args, "--socket", sock)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if first, _, _ := strings.Cut(stderr, "\n"); first != tc.want {
				t.Errorf("stderr starts %q, want %q\n%s", first, tc.want, stderr)
			}
			if !strings.Contains(stderr, "Usage:") {
				t.Errorf("no usage printed:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
	if reqs := d.requests(); len(reqs) != 0 {
		t.Errorf("usage errors reached the daemon: %+v", reqs)
	}
}

// TestClientDaemonUnreachable: no daemon is a plain error (exit 1) that
// says where f2b looked.
func TestClientDaemonUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	for _, args := range [][]string{{"ping"}, {"status"}, {"status", "sshd", "--json"}, {"banned"}, {"ban", "sshd", "192.0.2.1"}, {"unban", "--all"}, {"reload"}, {"stop"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, append(args, "--socket", sock)...)
			want := "Error: the f2b daemon does not seem to run at " + sock + " (no such file or directory)\n"
			if code != ExitError || stderr != want || stdout != "" {
				t.Errorf("got exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, want)
			}
		})
	}
}

// TestClientDefaultSocket: without --socket the commands call the daemon's
// default socket.
func TestClientDefaultSocket(t *testing.T) {
	cmd := newStatusCmd(IOStreams{})
	if got := cmd.Flags().Lookup("socket").DefValue; got != "/run/f2b/f2b.sock" {
		t.Errorf("default socket %q", got)
	}
}
