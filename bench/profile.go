package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// cliPkg holds the Go benchmarks of the regex and replay commands.
const cliPkg = "./cmd/f2b/internal/cli"

// profiles writes CPU profiles of the regex and replay runs into dir.
// f2b has no profiling flag, so they come from the Go benchmarks that run
// the same commands in process: BenchmarkStockSSHD200k (`f2b regex LOG
// sshd`, stock filter, 200,000 lines) and BenchmarkReplaySSHD (`f2b
// replay` of examples/sshd.hcl, 1,000,000 lines). The test binary is kept
// next to them for pprof.
func (s *suite) profiles(ctx context.Context, dir string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "cli.test")
	out := map[string]string{"binary": bin}
	var errs []error
	for _, p := range []struct{ name, bench, benchtime string }{
		{"regex", "BenchmarkStockSSHD200k", "10x"},
		{"replay", "BenchmarkReplaySSHD", "2x"},
	} {
		prof := filepath.Join(dir, p.name+".cpu.prof")
		s.progress("CPU profile of %s (go test -bench %s)", p.name, p.bench)
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^"+p.bench+"$", "-benchtime", p.benchtime,
			"-cpuprofile", prof, "-o", bin, cliPkg)
		cmd.Dir = s.repo
		cmd.Env = childEnv()
		b, err := cmd.CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s profile: %w\n%s", p.name, err, tail(string(b), 2000)))
			continue
		}
		out[p.name] = prof
	}
	return out, errors.Join(errs...)
}
