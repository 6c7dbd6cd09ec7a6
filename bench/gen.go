package main

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/f2bproject/f2b/internal/loggen"
)

// writeLog creates path and fills it with gen.
func writeLog(path string, gen func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gen(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	// Written back now, not by the kernel's flusher in the middle of a
	// timed run (a 2M-line log is 180 MB of dirty pages).
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// authLog writes a seeded sshd auth.log of n lines: 20% failures from
// tens of thousands of addresses (one in eight IPv6), lines step apart on
// average.
func authLog(path string, n int, step time.Duration) error {
	return writeLog(path, func(f *os.File) error {
		return loggen.SSHD(f, loggen.Options{Seed: 1, Lines: n, Attackers: 20000, Step: step})
	})
}

// floodLog writes a seeded sshd auth.log of n lines that are all
// failures, 1,000 a second from 20,000 addresses: a botnet at full tilt,
// where every line runs the regexes to the end and reaches the counter.
func floodLog(path string, n int) error {
	return writeLog(path, func(f *os.File) error {
		return loggen.SSHD(f, loggen.Options{Seed: 2, Lines: n, Attackers: 20000, Step: time.Millisecond, FailureRatio: 1})
	})
}

// accessLog writes a seeded nginx access log of n lines.
func accessLog(path string, n int) error {
	return writeLog(path, func(f *os.File) error {
		return loggen.Nginx(f, loggen.Options{Seed: 1, Lines: n, Attackers: 20000, Step: 50 * time.Millisecond})
	})
}

// distinctAddr is the i-th of many distinct addresses: 10.0.0.0/8 for
// seven in eight, 2001:db8::/96 for the rest. loggen's attackers repeat
// after 131,072 IPv4 addresses; this gives 16 million.
func distinctAddr(i int) netip.Addr {
	if i%8 == 7 {
		var b [16]byte
		copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
		b[12], b[13], b[14], b[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// distinctFailures writes n sshd failures, each from another address,
// dated at (in the daemon's local time, syslog form, as examples/sshd.hcl
// reads them).
func distinctFailures(path string, n int, at time.Time) error {
	stamp := at.Format(time.Stamp)
	return writeLog(path, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 256<<10)
		for i := range n {
			fmt.Fprintf(w, "%s web1 sshd[%d]: Failed password for root from %s port %d ssh2\n",
				stamp, 1000+i%30000, distinctAddr(i), 1024+i%60000)
		}
		return w.Flush()
	})
}

// failureLine is a failure from ip dated now, in the form the latency and
// burst pipelines match (e2e's failure lines).
func failureLine(ip string) string {
	return fmt.Sprintf("%s host sshd[%d]: Failed password for root from %s port 22 ssh2\n",
		time.Now().Format("2006-01-02 15:04:05"), os.Getpid(), ip)
}

// burstAddr is the h-th address of the burst and latency runs.
func burstAddr(h int) string {
	return fmt.Sprintf("10.%d.%d.%d", h>>16&255, h>>8&255, h&255)
}
