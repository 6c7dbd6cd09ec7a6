// Command bench is f2b's benchmark suite (`make bench`). It builds f2b
// once, generates seeded logs, and measures in one run on this machine:
// `f2b regex` with fail2ban's stock sshd filter against fail2ban-regex and
// grep on the same file, `f2b replay` of the example pipelines, ban latency
// and a burst of bans through a running daemon, its memory with a million
// tracked addresses and idle, and its start-up time. It prints one table
// with each figure's goal and PASS or MISS, and writes the same figures as
// JSON so that commits can be compared.
//
//	go run ./bench [-quick] [-json FILE] [-cpuprofile DIR] [-runs N] [-markdown]
//
// Figures are only as steady as the machine: each wall time is the median
// of -runs runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// sizes are the sizes of one run's workloads.
type sizes struct {
	regex   int           // lines of the auth.log and access log of the regex and small replay rows
	replay  int           // lines of the big replay
	flood   int           // lines of the flood replay, every one a failure
	memory  int           // distinct addresses fed to the daemon
	latency int           // bans timed one by one
	burst   int           // addresses banned in the burst (5 lines each)
	idle    time.Duration // how long the idle daemon runs before its RSS is read
}

var (
	fullSizes  = sizes{regex: 200_000, replay: 2_000_000, flood: 1_000_000, memory: 1_000_000, latency: 2000, burst: 20_000, idle: 2 * time.Second}
	quickSizes = sizes{regex: 10_000, replay: 50_000, flood: 20_000, memory: 20_000, latency: 100, burst: 2000, idle: time.Second}
)

// suite is one run: where things are and what it measured so far.
type suite struct {
	repo     string // the repository root
	bin      string // the f2b binary built for the run
	dir      string // temporary files, removed at the end
	fail2ban string // the unpacked fail2ban package, "" when there is none
	runs     int
	log      io.Writer // progress
	start    time.Time
	rows     []Row
}

func (s *suite) progress(format string, args ...any) {
	fmt.Fprintf(s.log, "bench: [%5.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}

func (s *suite) add(r Row) {
	if r.Failed {
		s.progress("%s: FAILED: %s", r.Name, r.Error)
	}
	s.rows = append(s.rows, r)
}

// run is the command: it returns the exit status, 1 when a measurement
// failed (a MISS is a figure, not a failure).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small sizes, one run each: checks that the suite works, measures little")
	jsonPath := fs.String("json", "", "write the figures as JSON to this file (default bench/results.json in the repository)")
	profDir := fs.String("cpuprofile", "", "write CPU profiles of the regex and replay runs into this directory")
	runs := fs.Int("runs", 0, "runs per timed figure, the median is kept (default 3, 1 with -quick)")
	fetch := fs.Bool("fetch", true, "fetch fail2ban's package with scripts/fetch-fail2ban.sh when it is not cached")
	markdown := fs.Bool("markdown", false, "also print the table in Markdown")
	repo := fs.String("repo", "", "the f2b repository (default: found from the working directory)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	sz := fullSizes
	if *quick {
		sz = quickSizes
	}
	if *runs == 0 {
		*runs = 3
		if *quick {
			*runs = 1
		}
	}
	s := &suite{repo: *repo, runs: *runs, log: stderr, start: time.Now()}
	load := loadAverage()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if s.repo == "" {
		var err error
		if s.repo, err = findRepo(); err != nil {
			return fail(err)
		}
	}
	if *jsonPath == "" {
		*jsonPath = filepath.Join(s.repo, "bench", "results.json")
	}
	dir, err := os.MkdirTemp("", "f2b-bench")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	s.dir = dir

	s.progress("building f2b")
	s.bin = filepath.Join(dir, "f2b")
	build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/f2b")
	build.Dir = s.repo
	if b, err := build.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("go build ./cmd/f2b: %w\n%s", err, b))
	}
	s.fail2ban, err = fail2banRoot(ctx, s.repo, *fetch)
	if err != nil {
		s.progress("fail2ban not available: %v", err)
	}

	s.progress("generating logs")
	auth, access, big := filepath.Join(dir, "auth.log"), filepath.Join(dir, "access.log"), filepath.Join(dir, "auth-big.log")
	flood := filepath.Join(dir, "auth-flood.log")
	if err := authLog(auth, sz.regex, time.Second); err != nil {
		return fail(err)
	}
	if err := accessLog(access, sz.regex); err != nil {
		return fail(err)
	}
	if err := authLog(big, sz.replay, 50*time.Millisecond); err != nil {
		return fail(err)
	}
	if err := floodLog(flood, sz.flood); err != nil {
		return fail(err)
	}

	sshd, nginx := filepath.Join(s.repo, "examples", "sshd.hcl"), filepath.Join(s.repo, "examples", "nginx.hcl")
	s.regexRows(ctx, auth, sz.regex)
	s.replayRow(ctx, "replay.sshd_small", fmt.Sprintf("f2b replay examples/sshd.hcl (same %s-line auth.log)", count(sz.regex)), sshd, auth, sz.regex, nil)
	s.replayRow(ctx, "replay.nginx_small", fmt.Sprintf("f2b replay examples/nginx.hcl (%s-line access log)", count(sz.regex)), nginx, access, sz.regex, nil)
	s.replayRow(ctx, "replay.sshd_big", fmt.Sprintf("f2b replay examples/sshd.hcl (%s lines, all CPUs)", count(sz.replay)), sshd, big, sz.replay, nil)
	s.replayRow(ctx, "replay.sshd_big_1cpu", fmt.Sprintf("f2b replay examples/sshd.hcl (%s lines, GOMAXPROCS=1)", count(sz.replay)), sshd, big, sz.replay,
		atLeast(">= 2M lines/s", 2e6), "GOMAXPROCS=1")
	s.replayRow(ctx, "replay.sshd_flood_1cpu", fmt.Sprintf("f2b replay examples/sshd.hcl, botnet flood (%s failures, GOMAXPROCS=1)", count(sz.flood)), sshd, flood, sz.flood,
		nil, "GOMAXPROCS=1")
	s.latencyRows(ctx, sz.latency)
	s.burstRow(ctx, sz.burst)
	s.memoryRow(ctx, sz.memory)
	s.idleRows(ctx, sz.idle)

	rep := &Report{
		Date:    time.Now().Format("2006-01-02 15:04 MST"),
		Commit:  commit(s.repo),
		Go:      runtime.Version(),
		Machine: machine(),
		Load:    load,
		Quick:   *quick,
		Runs:    s.runs,
		Rows:    s.rows,
	}
	failed := ctx.Err() != nil
	if *profDir != "" {
		if rep.Profiles, err = s.profiles(ctx, *profDir); err != nil {
			s.progress("profiles: %v", err)
			failed = true
		}
	}
	rep.Seconds = time.Since(s.start).Seconds()
	fmt.Fprintln(stdout)
	if err := writeTable(stdout, rep); err != nil {
		return fail(err)
	}
	if *markdown {
		fmt.Fprintln(stdout)
		writeMarkdown(stdout, rep)
	}
	for _, name := range []string{"regex", "replay"} {
		if p := rep.Profiles[name]; p != "" {
			fmt.Fprintf(stdout, "\n%s CPU profile: go tool pprof %s %s", name, rep.Profiles["binary"], p)
		}
	}
	if err := writeJSON(*jsonPath, rep); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "\nfigures written to %s (%.0f s)\n", *jsonPath, rep.Seconds)
	for _, r := range rep.Rows {
		if r.Failed {
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

// notAvailable is why the fail2ban rows are missing on a machine that
// cannot fetch it; that does not fail the run.
const notAvailable = "fail2ban not available"

// findRepo walks up from the working directory to f2b's go.mod.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/f2bproject/f2b\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the f2b repository (use -repo)")
		}
		dir = parent
	}
}

// fail2banRoot returns the unpacked fail2ban package: fetched by
// scripts/fetch-fail2ban.sh when fetch is set, else only if already in
// the script's cache.
func fail2banRoot(ctx context.Context, repo string, fetch bool) (string, error) {
	if fetch {
		cmd := exec.CommandContext(ctx, filepath.Join(repo, "scripts", "fetch-fail2ban.sh"))
		cmd.Env = os.Environ()
		b, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("scripts/fetch-fail2ban.sh: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	// The script's cache: ${F2B_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/f2b}/fail2ban/root.
	cache := os.Getenv("F2B_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			base = filepath.Join(os.Getenv("HOME"), ".cache")
		}
		cache = filepath.Join(base, "f2b")
	}
	root := filepath.Join(cache, "fail2ban", "root")
	if _, err := os.Stat(filepath.Join(root, ".complete")); err != nil {
		return "", fmt.Errorf("not in the cache (%s) and -fetch=false", root)
	}
	return root, nil
}

// commit names the checked-out commit, "+dirty" when tracked files
// changed; "" outside git.
func commit(repo string) string {
	b, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(b))
	// --no-optional-locks: only look, never refresh the index.
	st, err := exec.Command("git", "--no-optional-locks", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "+dirty"
	}
	return c
}
