package failregex

import (
	"strings"
	"testing"
)

// benchRegexes are sshd-style failure regexes as they look after the date
// has been cut from the line (the syslog host is the first word).
func benchRegexes() []string {
	const pfx = `^\S+ sshd\[\d+\]: `
	return []string{
		pfx + `Failed (?:password|publickey) for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST> port \d+(?: ssh\d*)?$`,
		pfx + `Invalid user <F-USER>\S*</F-USER> from <HOST>(?: port \d+)?$`,
		pfx + `Connection closed by (?:authenticating|invalid) user \S* <HOST> port \d+ \[preauth\]$`,
		pfx + `error: maximum authentication attempts exceeded for (?:invalid user )?\S+ from <HOST> port \d+ ssh2 \[preauth\]$`,
		pfx + `Did not receive identification string from <HOST>(?: port \d+)?$`,
		pfx + `Disconnected from (?:invalid |authenticating )?user \S+ <HOST> port \d+ \[preauth\]$`,
	}
}

func benchMatchLines() []string {
	return []string{
		"host sshd[123]: Failed password for root from 203.0.113.7 port 22 ssh2",
		"host sshd[124]: Failed password for invalid user admin from 198.51.100.23 port 51234 ssh2",
		"host sshd[125]: Invalid user oracle from 2001:db8::17 port 40022",
		"host sshd[126]: Connection closed by authenticating user root 192.0.2.44 port 33100 [preauth]",
		"host sshd[127]: Did not receive identification string from 203.0.113.99 port 5555",
		"host sshd[128]: Disconnected from invalid user test 198.51.100.8 port 40000 [preauth]",
		"host sshd[129]: error: maximum authentication attempts exceeded for root from 192.0.2.7 port 2200 ssh2 [preauth]",
		"host sshd[130]: Failed publickey for git from ::ffff:192.0.2.200 port 61000 ssh2",
	}
}

func benchNoMatchLines() []string {
	return []string{
		"host sshd[123]: Accepted publickey for alice from 10.0.0.1 port 5 ssh2",
		"host CRON[9]: pam_unix(cron:session): session opened for user root",
		"host CRON[9]: pam_unix(cron:session): session closed for user root",
		"host sshd[200]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
		"host sshd[200]: Received disconnect from 10.0.0.1 port 5:11: disconnected by user",
		"host sshd[200]: Disconnected from user alice 10.0.0.1 port 5",
		"host systemd-logind[500]: New session 42 of user alice.",
		"host systemd[1]: Started session-42.scope - Session 42 of User alice.",
		"host kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55 SRC=198.51.100.9 DST=10.0.0.2 LEN=40 PROTO=TCP SPT=4444 DPT=23",
		"host sshd[201]: Server listening on 0.0.0.0 port 22.",
		"host sudo[300]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
	}
}

func benchSet(b *testing.B, noPrefilter bool) *Set {
	s, err := Compile(benchRegexes(), nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s.noPrefilter = noPrefilter
	return s
}

func benchLines(b *testing.B, s *Set, lines []string, wantMatch bool) {
	var bytes int
	for _, l := range lines {
		bytes += len(l)
	}
	b.SetBytes(int64(bytes / len(lines)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l := lines[i%len(lines)]
		if _, ok, _ := s.Match(l); ok != wantMatch {
			b.Fatalf("Match(%q) = %v", l, ok)
		}
	}
}

// BenchmarkSetNoMatch: ns per line for lines no regex matches (the common case).
func BenchmarkSetNoMatch(b *testing.B) {
	benchLines(b, benchSet(b, false), benchNoMatchLines(), false)
}

// BenchmarkSetMatch: ns per line for failure lines.
func BenchmarkSetMatch(b *testing.B) {
	benchLines(b, benchSet(b, false), benchMatchLines(), true)
}

// BenchmarkSetMixed: a 1:3 mix of failure and other lines.
func BenchmarkSetMixed(b *testing.B) {
	s := benchSet(b, false)
	var lines []string
	m, n := benchMatchLines(), benchNoMatchLines()
	for i := range 4 * len(m) {
		if i%4 == 0 {
			lines = append(lines, m[i/4])
		} else {
			lines = append(lines, n[i%len(n)])
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Match(lines[i%len(lines)])
	}
}

// BenchmarkSetNoMatchNoPrefilter shows what the literal prefilter saves.
func BenchmarkSetNoMatchNoPrefilter(b *testing.B) {
	benchLines(b, benchSet(b, true), benchNoMatchLines(), false)
}

// BenchmarkSetMatchNoPrefilter shows the prefilter's cost on failure lines.
func BenchmarkSetMatchNoPrefilter(b *testing.B) {
	benchLines(b, benchSet(b, true), benchMatchLines(), true)
}

// BenchmarkGrepBaseline is the floor: one substring search per line, as
// grep -F would do.
func BenchmarkGrepBaseline(b *testing.B) {
	lines := benchNoMatchLines()
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if strings.Contains(lines[i%len(lines)], "]: Failed password for ") {
			n++
		}
	}
	if n != 0 {
		b.Fatal(n)
	}
}
