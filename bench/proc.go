package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// timing is one finished process: its wall time from start to exit, its
// CPU time, peak RSS and standard output.
type timing struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	out       []byte
}

// timeCmd runs a command to its end and times it. env replaces the
// environment when not nil.
func timeCmd(ctx context.Context, env []string, name string, args ...string) (timing, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	t := timing{wall: time.Since(start), out: out.Bytes()}
	if err != nil {
		return t, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(errOut.String(), 2000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		t.maxRSS = ru.Maxrss << 10 // Linux reports kilobytes
	}
	return t, nil
}

// medianRun runs fn n times and returns the run with the median wall time.
func medianRun(n int, fn func() (timing, error)) (timing, error) {
	var ts []timing
	for range max(n, 1) {
		t, err := fn()
		if err != nil {
			return t, err
		}
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b timing) int { return int(a.wall - b.wall) })
	return ts[len(ts)/2], nil
}

// childEnv is the environment of measured processes: this one's, without
// GOMAXPROCS (so "default" means all CPUs), plus extra.
func childEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	return append(env, extra...)
}

// procStatus reads the memory fields of /proc/PID/status, in bytes
// (VmRSS, VmHWM, ...).
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	return parseProcStatus(b), nil
}

// parseProcStatus picks the "Name:  123 kB" lines of a /proc status file.
func parseProcStatus(b []byte) map[string]int64 {
	m := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			m[name] = n << 10
		}
	}
	return m
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// mb formats bytes in megabytes (10^6).
func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// machine describes this computer: CPUs and model.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if model != "" {
		s += " (" + model + ")"
	}
	return s
}

// loadAverage is the 1, 5 and 15 minute load of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
