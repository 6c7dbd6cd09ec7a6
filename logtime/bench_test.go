package logtime

import (
	"testing"
	"time"
)

const (
	benchSyslog = "Jan  2 03:04:05 host sshd[4242]: Failed password for invalid user admin from 192.0.2.1 port 51234 ssh2"
	benchISO    = "2024-01-02T03:04:05.123456+01:00 host app[7]: authentication failure for user=admin rhost=192.0.2.1"
	benchApache = `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /wp-login.php HTTP/1.1" 404 2326 "-" "Mozilla/5.0"`
	benchNoDate = "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1 user=root"
)

func benchMatch(b *testing.B, opts Options, line string) {
	d, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	d.Match(line)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Match(line)
	}
}

// BenchmarkMatchSyslog: a year-less syslog date at line start, in a zone
// with DST, with the default clock (the realistic daemon setting).
func BenchmarkMatchSyslog(b *testing.B) {
	benchMatch(b, Options{Location: zurich}, benchSyslog)
}

func BenchmarkMatchISO(b *testing.B) {
	benchMatch(b, Options{Location: zurich}, benchISO)
}

func BenchmarkMatchApache(b *testing.B) {
	benchMatch(b, Options{Location: zurich}, benchApache)
}

// BenchmarkMatchNoDate: every default template is tried over the whole line.
func BenchmarkMatchNoDate(b *testing.B) {
	benchMatch(b, Options{Location: zurich}, benchNoDate)
}

// BenchmarkMatchAtSyslog: the caller supplies now, no clock read.
func BenchmarkMatchAtSyslog(b *testing.B) {
	d, err := New(Options{Location: zurich})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.MatchAt(benchSyslog, now)
	}
}

// BenchmarkMatchSyslogMixed: consecutive lines with different seconds and
// days, so that the caches see changing input.
func BenchmarkMatchSyslogMixed(b *testing.B) {
	lines := []string{
		"Jan  2 03:04:05 host sshd[1]: x",
		"Jan  2 03:04:06 host sshd[1]: x",
		"Jan  3 13:44:59 host sshd[1]: x",
		"Jul 14 23:59:59 host sshd[1]: x",
	}
	d, err := New(Options{Location: zurich})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Match(lines[i&3])
	}
}

// BenchmarkMatchExplicitRegexp: an explicit pattern no scanner covers.
func BenchmarkMatchExplicitRegexp(b *testing.B) {
	benchMatch(b, Options{Patterns: []string{"{^LN-BEG}%d.%m.%Y %H:%M:%S"}, Location: zurich}, "02.01.2024 03:04:05 host x: authentication failure rhost=192.0.2.1")
}

// BenchmarkMatchExplicitRegexpNoDate: the same pattern on a line without date.
func BenchmarkMatchExplicitRegexpNoDate(b *testing.B) {
	benchMatch(b, Options{Patterns: []string{"%d.%m.%Y %H:%M:%S"}, Location: zurich}, benchNoDate)
}
