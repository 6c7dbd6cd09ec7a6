package cli

import (
	"context"
	"io"
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
