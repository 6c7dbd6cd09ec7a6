package failfilter

import (
	"fmt"
	"testing"
)

// benchDef is an sshd-style filter: a prefregex with a multi-line id and
// content, failregexes with a user field, a helper (nofail) and a
// look-ahead one (on the backtracking engine).
func benchDef() Definition {
	return Definition{
		PrefRegex: `^\s*<F-MLFID>\S+ sshd\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{
			`^Failed (?:<F-NOFAIL>publickey</F-NOFAIL>|\S+) for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST>(?: port \d+)?(?: ssh\d*)?$`,
			`^Invalid user <F-USER>\S*</F-USER> from <HOST>(?: port \d+)?$`,
			`^Connection closed by (?:authenticating|invalid) user <F-USER>\S*</F-USER> <HOST> port \d+ \[preauth\]$`,
			`^User <F-USER>\S+</F-USER> from <HOST> not allowed because (?:(?! from ).)*$`,
			`^Disconnecting: Too many authentication failures`,
			`^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>`,
		},
	}
}

func benchLines() (match, noMatch []string) {
	for i := 0; i < 64; i++ {
		match = append(match,
			fmt.Sprintf("Aug 14 11:00:%02d host sshd[%d]: Failed password for root from 192.0.2.%d port 22 ssh2", i%60, 1000+i, i+1),
			fmt.Sprintf("Aug 14 11:00:%02d host sshd[%d]: Invalid user admin%d from 2001:db8::%x port 40022", i%60, 2000+i, i, i+1),
		)
		noMatch = append(noMatch,
			fmt.Sprintf("Aug 14 11:00:%02d host CRON[%d]: pam_unix(cron:session): session opened for user root", i%60, 3000+i),
			fmt.Sprintf("Aug 14 11:00:%02d host kernel: [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.%d DST=10.0.0.2 LEN=40 PROTO=TCP DPT=23", i%60, i+1),
			fmt.Sprintf("Aug 14 11:00:%02d host systemd-logind[500]: New session %d of user alice.", i%60, i),
			fmt.Sprintf("Aug 14 11:00:%02d host sudo[300]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update", i%60),
		)
	}
	return match, noMatch
}

func benchRun(b *testing.B, lines []string) {
	f := newFilter(b, benchDef(), Options{})
	bytes := 0
	for _, l := range lines {
		bytes += len(l)
	}
	b.SetBytes(int64(bytes / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.ProcessLine(lines[i%len(lines)])
	}
}

// BenchmarkNoMatch: lines of other daemons (the bulk of an auth.log).
func BenchmarkNoMatch(b *testing.B) {
	_, no := benchLines()
	benchRun(b, no)
}

// BenchmarkPrefOnly: sshd lines the prefregex takes but no failregex.
func BenchmarkPrefOnly(b *testing.B) {
	var lines []string
	for i := 0; i < 64; i++ {
		lines = append(lines, fmt.Sprintf("Aug 14 11:00:%02d host sshd[%d]: Received disconnect from 10.0.0.%d port 5:11: disconnected by user", i%60, 4000+i, i+1))
	}
	benchRun(b, lines)
}

// BenchmarkMatch: failures.
func BenchmarkMatch(b *testing.B) {
	m, _ := benchLines()
	benchRun(b, m)
}

// BenchmarkMixed: one failure in six lines.
func BenchmarkMixed(b *testing.B) {
	m, no := benchLines()
	var lines []string
	for i := range m {
		lines = append(lines, m[i])
		lines = append(lines, no[(2*i)%len(no)], no[(2*i+1)%len(no)])
	}
	benchRun(b, lines)
}

// BenchmarkBacktracking: lines that reach the look-ahead failregex.
func BenchmarkBacktracking(b *testing.B) {
	var lines []string
	for i := 0; i < 64; i++ {
		lines = append(lines, fmt.Sprintf("Aug 14 11:00:%02d host sshd[%d]: User root from 192.0.2.%d not allowed because not listed in AllowUsers", i%60, 5000+i, i+1))
	}
	benchRun(b, lines)
}
