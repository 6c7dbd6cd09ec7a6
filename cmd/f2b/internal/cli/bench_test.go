package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/internal/loggen"
)

// BenchmarkReplaySSHD replays a generated 1,000,000-line auth.log (20%
// failures from 20,000 addresses) through examples/sshd.hcl and reports
// lines per second, end to end: reading, date detection, matching,
// counting and the timeline.
func BenchmarkReplaySSHD(b *testing.B) {
	const lines = 1_000_000
	dir := b.TempDir()
	log := filepath.Join(dir, "auth.log")
	f, err := os.Create(log)
	if err != nil {
		b.Fatal(err)
	}
	if err := loggen.SSHD(f, loggen.Options{Seed: 1, Lines: lines, Attackers: 20000, Step: 50 * time.Millisecond}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	pipeline := filepath.Join(repoRoot, "examples", "sshd.hcl")
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		code := Main(context.Background(), []string{"replay", log, "--config", pipeline, "--dry-run", "--json", "--now", "2026-06-01T00:00:00Z"},
			IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
		if code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkReplayDistinct1M replays 1,000,000 failures from as many
// distinct addresses (one in eight IPv6; bench's memory row) through
// examples/sshd.hcl: none reaches max_retry, so the counter tracks every
// address at the end. Run it with -memprofile to see what a tracked
// address costs.
func BenchmarkReplayDistinct1M(b *testing.B) {
	const lines = 1_000_000
	log := filepath.Join(b.TempDir(), "auth.log")
	f, err := os.Create(log)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	for i := range lines {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if i%8 == 7 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
		}
		fmt.Fprintf(w, "Jun  1 12:00:00 web1 sshd[%d]: Failed password for root from %s port %d ssh2\n", 1000+i%30000, a, 1024+i%60000)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	pipeline := filepath.Join(repoRoot, "examples", "sshd.hcl")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		code := Main(context.Background(), []string{"replay", log, "--config", pipeline, "--dry-run", "--json", "--now", "2026-06-01T12:05:00Z"},
			IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
		if code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/time.Since(start).Seconds(), "lines/s")
}
