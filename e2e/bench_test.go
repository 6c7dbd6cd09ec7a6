package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fifoPipeline bans on the first failure (latency) or the fifth (burst)
// and writes bans as JSON lines into a named pipe, so the benchmark sees
// each ban the moment the sink writes it.
func fifoPipeline(e *env, fifo string, maxRetry int) string {
	return fmt.Sprintf(`
source "file" "auth" {
  paths = [%q]
  from  = "start"
}
matcher "regex" "sshd" {
  inputs = [source.auth]
  fail   = ["^\\S+ sshd\\[\\d+\\]: Failed password for \\S+ from <HOST> port \\d+ ssh2$"]
}
counter "window" "sshd" {
  inputs    = [matcher.sshd]
  max_retry = %d
  find_time = "10m"
  ban_time  = "1h"
}
sink "log" "fifo" {
  inputs = [counter.sshd]
  path   = %q
  format = "json"
}
`, e.log, maxRetry, fifo)
}

// benchEnv starts a daemon whose bans come out of a FIFO; it returns the
// reader of ban lines.
func benchEnv(b *testing.B, maxRetry int) (*env, *bufio.Scanner) {
	e := newEnv(b)
	fifo := filepath.Join(e.dir, "bans.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		b.Fatal(err)
	}
	e.writePipeline(fifoPipeline(e, fifo, maxRetry))
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the sink opens it
		if err != nil {
			panic(err)
		}
		opened <- f
	}()
	e.start()
	f := <-opened
	b.Cleanup(func() { f.Close() })
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return e, sc
}

// BenchmarkBanLatency measures the time from appending a failing line to
// the ban leaving the sink (max_retry 1, so every line is a ban), with
// inotify, and reports p50 and p99.
func BenchmarkBanLatency(b *testing.B) {
	e, sc := benchEnv(b, 1)
	f, err := os.OpenFile(e.log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		line := failure(ip) + "\n"
		t0 := time.Now()
		if _, err := f.WriteString(line); err != nil {
			b.Fatal(err)
		}
		if !sc.Scan() {
			b.Fatal("sink pipe closed")
		}
		lat = append(lat, time.Since(t0))
		if !strings.Contains(sc.Text(), `"`+ip+`"`) {
			b.Fatalf("unexpected ban line %q for %s", sc.Text(), ip)
		}
		time.Sleep(time.Millisecond) // lines apart, as a live attack writes them
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkBurst20kBans appends 100,000 failing lines (20,000 addresses,
// 5 failures each) in one burst and measures the time until the 20,000th
// ban leaves the sink.
func BenchmarkBurst20kBans(b *testing.B) {
	const hosts, per = 20000, 5
	var sb strings.Builder
	for r := range per {
		_ = r
		for h := range hosts {
			sb.WriteString(failure(fmt.Sprintf("10.%d.%d.%d", h>>16&255, h>>8&255, h&255)))
			sb.WriteByte('\n')
		}
	}
	burst := sb.String()
	for range b.N {
		b.StopTimer()
		e, sc := benchEnv(b, per)
		b.StartTimer()
		t0 := time.Now()
		if err := os.WriteFile(e.log, []byte(burst), 0o640); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < hosts; n++ {
			if !sc.Scan() {
				b.Fatalf("sink pipe closed after %d bans", n)
			}
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s-for-20k-bans")
		b.StopTimer()
		e.kill()
	}
}
