// Package loggen writes realistic, seeded log files for tests and
// benchmarks: OpenSSH auth.log lines in syslog form and nginx access-log
// lines, with a known mix of failures from many attacking addresses. The
// same seed always gives the same bytes.
package loggen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Options shape a generated log.
type Options struct {
	Seed  uint64
	Lines int
	// Start is the time of the first line; lines are 0-2 s apart on average
	// (Step sets the mean gap).
	Start time.Time
	Step  time.Duration
	// FailureRatio is the share of lines that are authentication failures.
	FailureRatio float64
	// Attackers is how many distinct attacking addresses there are; a share
	// of them are IPv6.
	Attackers int
	// Host is the syslog host name.
	Host string
}

func (o *Options) defaults() {
	if o.Lines == 0 {
		o.Lines = 1000
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)
	}
	if o.Step == 0 {
		o.Step = time.Second
	}
	if o.FailureRatio == 0 {
		o.FailureRatio = 0.2
	}
	if o.Attackers == 0 {
		o.Attackers = 50
	}
	if o.Host == "" {
		o.Host = "web1"
	}
}

// attackers returns n addresses from the documentation ranges, one in
// eight IPv6.
func attackers(r *rand.Rand, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		if i%8 == 7 {
			var b [16]byte
			copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
			b[6], b[7] = byte(i>>8), byte(i)
			b[15] = byte(r.IntN(250) + 1)
			out[i] = netip.AddrFrom16(b)
			continue
		}
		// 198.18.0.0/15 (benchmarking range) has room for many hosts.
		out[i] = netip.AddrFrom4([4]byte{198, 18 + byte(i>>16&1), byte(i >> 8), byte(i)})
	}
	return out
}

var users = []string{"root", "admin", "test", "oracle", "postgres", "ubuntu", "git", "user", "guest", "ftp"}

// SSHD writes an OpenSSH auth.log in traditional syslog form
// ("Jan  5 06:00:00 web1 sshd[1234]: ...").
func SSHD(w io.Writer, o Options) error {
	o.defaults()
	r := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	bad := attackers(r, o.Attackers)
	bw := bufio.NewWriterSize(w, 64<<10)
	t := o.Start
	for i := 0; i < o.Lines; i++ {
		t = t.Add(time.Duration(r.Int64N(int64(2 * o.Step))))
		pid := 1000 + r.IntN(30000)
		stamp := t.Format(time.Stamp)
		var msg string
		if r.Float64() < o.FailureRatio {
			ip := bad[r.IntN(len(bad))]
			// Attackers hit in bursts: favour the low-numbered ones.
			if r.IntN(3) == 0 {
				ip = bad[r.IntN(max(len(bad)/10, 1))]
			}
			user := users[r.IntN(len(users))]
			switch r.IntN(4) {
			case 0, 1:
				msg = fmt.Sprintf("sshd[%d]: Failed password for %s from %s port %d ssh2", pid, user, ip, 1024+r.IntN(60000))
			case 2:
				msg = fmt.Sprintf("sshd[%d]: Failed password for invalid user %s from %s port %d ssh2", pid, user, ip, 1024+r.IntN(60000))
			default:
				msg = fmt.Sprintf("sshd[%d]: Invalid user %s from %s port %d", pid, user, ip, 1024+r.IntN(60000))
			}
		} else {
			switch r.IntN(6) {
			case 0:
				msg = fmt.Sprintf("sshd[%d]: Accepted publickey for alice from 192.0.2.%d port %d ssh2: ED25519 SHA256:q1w2e3r4t5y6u7i8o9p0", pid, 1+r.IntN(200), 1024+r.IntN(60000))
			case 1:
				msg = fmt.Sprintf("sshd[%d]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)", pid)
			case 2:
				msg = fmt.Sprintf("CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", pid)
			case 3:
				msg = fmt.Sprintf("sshd[%d]: Received disconnect from 192.0.2.%d port %d:11: disconnected by user", pid, 1+r.IntN(200), 1024+r.IntN(60000))
			case 4:
				msg = fmt.Sprintf("systemd-logind[%d]: New session %d of user alice.", pid, r.IntN(9000))
			default:
				msg = fmt.Sprintf("sudo[%d]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update", pid)
			}
		}
		if _, err := fmt.Fprintf(bw, "%s %s %s\n", stamp, o.Host, msg); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var paths = []string{"/", "/index.html", "/about", "/static/app.js", "/static/style.css", "/blog/2025/10/hello"}
var probes = []string{"/wp-login.php", "/.env", "/phpmyadmin/", "/admin/config.php", "/.git/config", "/cgi-bin/luci", "/xmlrpc.php"}

// Nginx writes an nginx access log in the combined format. Failures are
// probes of paths that do not exist (404) and failed basic auth (401).
func Nginx(w io.Writer, o Options) error {
	o.defaults()
	r := rand.New(rand.NewPCG(o.Seed, 0x9e1c))
	bad := attackers(r, o.Attackers)
	bw := bufio.NewWriterSize(w, 64<<10)
	t := o.Start
	for i := 0; i < o.Lines; i++ {
		t = t.Add(time.Duration(r.Int64N(int64(2 * o.Step))))
		stamp := t.Format("02/Jan/2006:15:04:05 -0700")
		var line string
		if r.Float64() < o.FailureRatio {
			ip := bad[r.IntN(len(bad))]
			if r.IntN(4) == 0 {
				line = fmt.Sprintf("%s - admin [%s] \"GET /private/ HTTP/1.1\" 401 179 \"-\" \"curl/8.5.0\"", ip, stamp)
			} else {
				line = fmt.Sprintf("%s - - [%s] \"GET %s HTTP/1.1\" 404 153 \"-\" \"Mozilla/5.0 (compatible; scanner)\"", ip, stamp, probes[r.IntN(len(probes))])
			}
		} else {
			line = fmt.Sprintf("192.0.2.%d - - [%s] \"GET %s HTTP/2.0\" 200 %d \"https://example.org/\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
				1+r.IntN(200), stamp, paths[r.IntN(len(paths))], 200+r.IntN(9000))
		}
		if _, err := fmt.Fprintln(bw, line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
