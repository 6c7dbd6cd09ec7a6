package conformance

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/failfilter"
)

// stockFilter builds a stock filter as the daemon runs it (first match
// wins, no pending failures).
func stockFilter(b *testing.B, spec string) *failfilter.Filter {
	b.Helper()
	root, err := Fetch("")
	if err != nil {
		b.Skip(err)
	}
	cfg, err := fail2ban.Load(filepath.Join(root, stockDir))
	if err != nil {
		b.Fatal(err)
	}
	conf, err := cfg.Filter(spec, nil)
	if err != nil {
		b.Fatal(err)
	}
	def := failfilter.Definition{PrefRegex: conf.PrefRegex.Text, MaxLines: conf.MaxLines}
	for _, v := range conf.FailRegex {
		def.FailRegex = append(def.FailRegex, v.Text)
	}
	for _, v := range conf.IgnoreRegex {
		def.IgnoreRegex = append(def.IgnoreRegex, v.Text)
	}
	for _, v := range conf.DatePattern {
		def.DatePattern = append(def.DatePattern, v.Text)
	}
	now := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	f, err := failfilter.New(def, failfilter.Options{Location: time.UTC, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// authLog generates a Debian-style auth.log of n lines: sshd sessions
// (about a fifth of the lines failures, as on a server under brute force),
// CRON, systemd-logind and sudo.
func authLog(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	var out []string
	t := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	pid := 1000
	ip := func() string {
		if r.IntN(30) == 0 {
			return fmt.Sprintf("2001:db8:%x::%x", r.IntN(4096), r.IntN(65536))
		}
		return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	users := []string{"admin", "test", "oracle", "ubuntu", "git", "postgres", "user1", "guest"}
	for len(out) < n {
		t = t.Add(time.Duration(r.IntN(1500)) * time.Millisecond)
		ts := t.Format(time.Stamp)
		pid++
		add := func(format string, a ...any) {
			out = append(out, ts+" web1 "+fmt.Sprintf(format, a...))
		}
		switch k := r.IntN(100); {
		case k < 45: // a brute-force session
			addr, port := ip(), 1024+r.IntN(60000)
			add("sshd[%d]: Connection from %s port %d on 10.0.0.1 port 22 rdomain \"\"", pid, addr, port)
			if r.IntN(3) == 0 {
				u := users[r.IntN(len(users))]
				add("sshd[%d]: Invalid user %s from %s port %d", pid, u, addr, port)
				add("sshd[%d]: pam_unix(sshd:auth): check pass; user unknown", pid)
				add("sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s", pid, addr)
				add("sshd[%d]: Failed password for invalid user %s from %s port %d ssh2", pid, u, addr, port)
			} else {
				add("sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=root", pid, addr)
				add("sshd[%d]: Failed password for root from %s port %d ssh2", pid, addr, port)
			}
			add("sshd[%d]: Received disconnect from %s port %d:11: Bye Bye [preauth]", pid, addr, port)
			add("sshd[%d]: Disconnected from authenticating user root %s port %d [preauth]", pid, addr, port)
		case k < 55: // a good login
			addr, port := "10.0.0.5", 1024+r.IntN(60000)
			add("sshd[%d]: Accepted publickey for alice from %s port %d ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", pid, addr, port)
			add("sshd[%d]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)", pid)
			add("systemd-logind[512]: New session %d of user alice.", pid)
		case k < 85:
			add("CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", pid)
			add("CRON[%d]: pam_unix(cron:session): session closed for user root", pid)
		default:
			add("sudo[%d]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update", pid)
			add("sudo[%d]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)", pid)
		}
	}
	return out[:n]
}

// BenchmarkStockSSHD runs fail2ban's stock sshd filter (mode normal) over
// a generated auth.log, one line per op. fail2ban-regex --no-check-all
// does 36-40k lines/s on such logs on the development machine
// (/work/shared/reference/perf-baseline.md), i.e. 25-28 µs per line.
func BenchmarkStockSSHD(b *testing.B) {
	f := stockFilter(b, "sshd")
	lines := authLog(100_000)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	failures := 0
	for i := 0; i < b.N; i++ {
		failures += len(f.ProcessLine(lines[i%len(lines)]))
	}
	b.ReportMetric(float64(failures)/float64(b.N), "failures/line")
}

// BenchmarkStockSSHDAggressive: the same in mode aggressive (more regexes,
// some on the backtracking engine).
func BenchmarkStockSSHDAggressive(b *testing.B) {
	f := stockFilter(b, "sshd[mode=aggressive]")
	lines := authLog(100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.ProcessLine(lines[i%len(lines)])
	}
}

// BenchmarkStockApacheAuth: the apache-auth prefregex has a negative
// look-ahead, so every error-log line passes the backtracking engine.
func BenchmarkStockApacheAuth(b *testing.B) {
	f := stockFilter(b, "apache-auth")
	var lines []string
	for i := 0; i < 1000; i++ {
		lines = append(lines,
			fmt.Sprintf("[Sun Jun 30 00:00:%02d.123456 2024] [core:error] [pid %d] [client 192.0.2.%d:51380] AH00128: File does not exist: /var/www/html/favicon.ico", i%60, i, i%250+1),
			fmt.Sprintf("[Sun Jun 30 00:00:%02d.123456 2024] [auth_basic:error] [pid %d] [client 192.0.2.%d:51380] AH01618: user admin not found: /admin", i%60, i, i%250+1),
		)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.ProcessLine(lines[i%len(lines)])
	}
}
