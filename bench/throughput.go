package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
)

// nowPin is the "now" of regex and replay runs, so that the generated
// logs' dates (January 2026, no year) read the same on every day.
const nowPin = "2026-06-01T00:00:00Z"

// grepPattern matches the failures of the generated auth.log as
// examples/sshd.hcl does (the same count): "Failed ... for [invalid user]
// U from ADDR port N" and "Invalid user U from ADDR [port N]".
const grepPattern = `sshd\[[0-9]+\]: (Failed (password|publickey|keyboard-interactive/pam|none) for (invalid user )?.* from [0-9a-fA-F.:]+ port [0-9]+( ssh[0-9]*)?$|Invalid user .* from [0-9a-fA-F.:]+( port [0-9]+)?$)`

// regexCounts are the figures of a fail2ban-regex style report.
type regexCounts struct {
	lines, ignored, matched, missed int64
}

var countsRE = regexp.MustCompile(`(?m)^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed`)

// parseRegexCounts reads the "Lines: N lines, I ignored, M matched, X
// missed" line that f2b regex and fail2ban-regex both print.
func parseRegexCounts(out []byte) (regexCounts, error) {
	m := countsRE.FindSubmatch(out)
	if m == nil {
		return regexCounts{}, fmt.Errorf("no \"Lines: ...\" line in the report:\n%s", tail(string(out), 1000))
	}
	var n [4]int64
	for i := range n {
		n[i], _ = strconv.ParseInt(string(m[i+1]), 10, 64)
	}
	return regexCounts{n[0], n[1], n[2], n[3]}, nil
}

func (c regexCounts) String() string {
	return fmt.Sprintf("%d matched, %d ignored, %d missed", c.matched, c.ignored, c.missed)
}

// replaySummary is the last line of `f2b replay --json`.
type replaySummary struct {
	Event   string `json:"event"`
	Lines   int64  `json:"lines"`
	Matched int64  `json:"matched"`
	Bans    int    `json:"bans"`
}

// parseReplaySummary reads the summary of `f2b replay --json`.
func parseReplaySummary(out []byte) (replaySummary, error) {
	last := bytes.TrimSpace(out)
	if i := bytes.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	var s replaySummary
	if err := json.Unmarshal(last, &s); err != nil || s.Event != "summary" {
		return s, fmt.Errorf("no replay summary at the end of the output: %q", tail(string(last), 300))
	}
	return s, nil
}

// perSecond is lines per second of wall time.
func perSecond(lines int, t timing) float64 { return float64(lines) / t.wall.Seconds() }

func throughputFigure(lines int, t timing) string {
	return fmt.Sprintf("%s lines/s (%.3f s)", rate(perSecond(lines, t)), t.wall.Seconds())
}

// contender is one command of the regex comparison. The contenders run
// in rounds (A B C A B C ...) so that what else loads the machine weighs
// on each alike, and each keeps its median.
type contender struct {
	why   string // why it cannot run; "" when it can
	run   func() (timing, error)
	times []timing
	err   error
}

// rounds runs each runnable contender n times, interleaved. A contender
// that fails is not run again.
func rounds(n int, cs ...*contender) {
	for range max(n, 1) {
		for _, c := range cs {
			if c.why != "" || c.err != nil {
				continue
			}
			t, err := c.run()
			if err != nil {
				c.err = err
				continue
			}
			c.times = append(c.times, t)
		}
	}
}

// median is the run with the median wall time; ok is false when the
// contender has none.
func (c *contender) median() (t timing, ok bool) {
	if c.why != "" || c.err != nil || len(c.times) == 0 {
		return t, false
	}
	ts := slices.Clone(c.times)
	slices.SortFunc(ts, func(a, b timing) int { return int(a.wall - b.wall) })
	return ts[len(ts)/2], true
}

// row is the contender's throughput row, or why it has none; with ok its
// report's counts.
func (c *contender) row(key, name string, n int, counts func([]byte) (string, error)) (Row, bool) {
	switch {
	case c.why != "":
		return missingRow(key, name, nil, c.why), false
	case c.err != nil:
		return failedRow(key, name, nil, c.err), false
	}
	t, _ := c.median()
	note, err := counts(t.out)
	if err != nil {
		c.err = err
		return failedRow(key, name, nil, err), false
	}
	r := newRow(key, name, perSecond(n, t), "lines/s", throughputFigure(n, t), nil)
	r.Note = note
	return r, true
}

// regexRows measures `f2b regex LOG sshd` with the stock filter,
// fail2ban-regex and grep on the same file of n lines.
func (s *suite) regexRows(ctx context.Context, log string, n int) {
	size := count(n)
	conf := filepath.Join(s.fail2ban, "etc", "fail2ban")
	f2b := &contender{run: func() (timing, error) {
		return timeCmd(ctx, childEnv(), s.bin, "regex", "-c", conf, "--now", nowPin, log, "sshd")
	}}
	fb := &contender{}
	grep := &contender{}
	if s.fail2ban == "" {
		f2b.why, fb.why = notAvailable, notAvailable
	} else if py, err := exec.LookPath("python3"); err != nil {
		fb.why = "python3 not found"
	} else {
		env := childEnv("PYTHONPATH=" + filepath.Join(s.fail2ban, "usr", "lib", "python3", "dist-packages"))
		fb.run = func() (timing, error) {
			return timeCmd(ctx, env, py, filepath.Join(s.fail2ban, "usr", "bin", "fail2ban-regex"), "-c", conf, log, "sshd")
		}
	}
	if g, err := exec.LookPath("grep"); err != nil {
		grep.why = "grep not found"
	} else {
		grep.run = func() (timing, error) { return timeCmd(ctx, childEnv("LC_ALL=C"), g, "-cE", grepPattern, log) }
	}
	s.progress("f2b regex, fail2ban-regex and grep on %s lines, %d rounds", size, s.runs)
	rounds(s.runs, f2b, fb, grep)

	var f2bCounts, fbCounts regexCounts
	r, f2bOK := f2b.row("regex.f2b_stock_sshd", fmt.Sprintf("f2b regex, stock sshd filter (%s-line auth.log)", size), n, func(out []byte) (string, error) {
		var err error
		f2bCounts, err = parseRegexCounts(out)
		return f2bCounts.String(), err
	})
	s.add(r)
	r, fbOK := fb.row("regex.fail2ban", "fail2ban-regex, stock sshd filter (same file)", n, func(out []byte) (string, error) {
		var err error
		fbCounts, err = parseRegexCounts(out)
		return fbCounts.String(), err
	})
	s.add(r)
	tf, _ := f2b.median()
	cpu := func(c *contender) string {
		t, _ := c.median()
		return fmt.Sprintf("CPU %.2f s", t.cpu.Seconds())
	}

	name := "f2b regex / fail2ban-regex (wall, same file)"
	g := atLeast(">= 50x", 50)
	switch {
	case !f2bOK:
		s.add(missingRow("regex.f2b_vs_fail2ban", name, g, "no f2b regex figure"))
	case !fbOK:
		s.add(missingRow("regex.f2b_vs_fail2ban", name, g, "no fail2ban-regex figure"))
	default:
		tb, _ := fb.median()
		ratio := tb.wall.Seconds() / tf.wall.Seconds()
		v := newRow("regex.f2b_vs_fail2ban", name, ratio, "x", fmt.Sprintf("%.1fx", ratio), g)
		v.Note = fmt.Sprintf("CPU time %.1fx (f2b %s, fail2ban %s)", tb.cpu.Seconds()/tf.cpu.Seconds(), cpu(f2b), cpu(fb))
		if fbCounts != f2bCounts {
			v.Note += fmt.Sprintf("; COUNTS DIFFER: f2b %s, fail2ban %s", f2bCounts, fbCounts)
		} else {
			v.Note += "; same counts"
		}
		s.add(v)
	}

	r, grepOK := grep.row("regex.grep", "LC_ALL=C grep -cE, equivalent pattern (same file)", n, func(out []byte) (string, error) {
		return fmt.Sprintf("%s lines counted", bytes.TrimSpace(out)), nil
	})
	s.add(r)
	name = "f2b regex / grep (share of grep's speed)"
	g = atLeast(">= 1/4 of grep", 0.25)
	switch {
	case !f2bOK:
		s.add(missingRow("regex.f2b_vs_grep", name, g, "no f2b regex figure"))
		return
	case !grepOK:
		s.add(missingRow("regex.f2b_vs_grep", name, g, "no grep figure"))
		return
	}
	tg, _ := grep.median()
	share := tg.wall.Seconds() / tf.wall.Seconds()
	s.add(newRow("regex.f2b_vs_grep", name, share, "fraction", fmt.Sprintf("%.2f of grep", share), g))
}

// replayRow measures `f2b replay LOG -c PIPELINE --dry-run` over a log of
// n lines; env adds to the environment (GOMAXPROCS=1).
func (s *suite) replayRow(ctx context.Context, key, name, pipeline, log string, n int, g *goal, env ...string) {
	s.progress("%s", name)
	t, err := medianRun(s.runs, func() (timing, error) {
		return timeCmd(ctx, childEnv(env...), s.bin, "replay", log, "-c", pipeline, "--dry-run", "--json", "--now", nowPin)
	})
	var sum replaySummary
	if err == nil {
		sum, err = parseReplaySummary(t.out)
	}
	if err == nil && sum.Lines != int64(n) {
		err = fmt.Errorf("replay read %d lines, want %d", sum.Lines, n)
	}
	if err != nil {
		s.add(failedRow(key, name, g, err))
		return
	}
	r := newRow(key, name, perSecond(n, t), "lines/s", throughputFigure(n, t), g)
	r.Note = fmt.Sprintf("%d matched, %d bans; CPU %.2f s; peak RSS %s", sum.Matched, sum.Bans, t.cpu.Seconds(), mb(t.maxRSS))
	s.add(r)
}

// failedRow is a row whose measurement failed with err.
func failedRow(key, name string, g *goal, err error) Row {
	var ee *exec.Error
	why := err.Error()
	if errors.As(err, &ee) {
		why = ee.Error()
	}
	r := missingRow(key, name, g, "measurement failed")
	r.Result, r.Error, r.Failed = Err, why, true
	return r
}
