package ticket

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// The differential test runs the same failure streams through the counter
// and through fail2ban 1.0.2's own classes (testdata/f2bdriver.py, with
// the unpacked Debian package that scripts/fetch-fail2ban.sh provides) and
// requires identical ban, prolong and unban timelines: host, time, start,
// end, ban time, failures, ban count (with increment) and matches.
//
// It skips, loudly, when the package cannot be fetched or python3 is
// missing; F2B_REQUIRE_FAIL2BAN=1 turns that skip into a failure.

var (
	fail2banOnce sync.Once
	fail2banPath string // PYTHONPATH holding the fail2ban package
	python       string
	fail2banErr  error
)

// fail2banEnv returns python3 and the PYTHONPATH of fail2ban, or skips.
func fail2banEnv(t *testing.T) (string, string) {
	t.Helper()
	fail2banOnce.Do(func() {
		python, fail2banErr = exec.LookPath("python3")
		if fail2banErr != nil {
			return
		}
		script, err := filepath.Abs("../../../scripts/fetch-fail2ban.sh")
		if err != nil {
			fail2banErr = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command(script)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			fail2banErr = fmt.Errorf("%s: %v: %s", script, err, stderr.String())
			return
		}
		fail2banPath = filepath.Join(strings.TrimSpace(string(out)), "usr/lib/python3/dist-packages")
		if _, err := os.Stat(filepath.Join(fail2banPath, "fail2ban/server/failmanager.py")); err != nil {
			fail2banErr = err
		}
	})
	if fail2banErr != nil {
		msg := fmt.Sprintf("!!! DIFFERENTIAL TEST AGAINST FAIL2BAN SKIPPED: cannot run fail2ban's classes: %v", fail2banErr)
		if os.Getenv("F2B_REQUIRE_FAIL2BAN") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return python, fail2banPath
}

// diffConfig is one jail configuration, as the counter's Arguments and as
// the driver's options.
type diffConfig struct {
	name       string
	maxRetry   int
	findSec    int
	banSec     int // -1 permanent
	maxMatches int
	increment  bool
	factor     string
	formula    string
	mult       string
	maxTime    int // seconds; 0 none
	rndTime    int // seconds; 0 none
	seed       int64
	// stream shape
	hosts, events int
	fractional    bool    // quarter-second times
	late          float64 // share of events out of order
	lateMax       float64 // how late they are at most, in seconds; default 3
}

func (d diffConfig) arguments() Arguments {
	a := DefaultArguments()
	a.MaxRetry = d.maxRetry
	a.FindTime = strconv.Itoa(d.findSec)
	a.BanTime = strconv.Itoa(d.banSec)
	mm := d.maxMatches
	a.MaxMatches = &mm
	a.BanTimeIncrement = d.increment
	if d.factor != "" {
		a.BanTimeFactor = d.factor
	}
	if d.formula != "" {
		a.BanTimeFormula = d.formula
	}
	a.BanTimeMultipliers = d.mult
	if d.maxTime > 0 {
		a.BanTimeMax = strconv.Itoa(d.maxTime)
	}
	if d.rndTime > 0 {
		a.BanTimeRnd = strconv.Itoa(d.rndTime)
	}
	seed := d.seed
	a.BanTimeRndSeed = &seed
	a.BanHistoryAge = "permanent" // the driver never purges its database
	return a
}

func (d diffConfig) driverOptions() map[string]any {
	o := map[string]any{
		"max_retry":   d.maxRetry,
		"find_time":   d.findSec,
		"ban_time":    d.banSec,
		"max_matches": d.maxMatches,
		"increment":   d.increment,
		"seed":        uint64(d.seed),
	}
	if d.factor != "" {
		o["factor"] = d.factor
	}
	if d.formula != "" {
		o["formula"] = d.formula
	}
	if d.mult != "" {
		o["multipliers"] = d.mult
	}
	if d.maxTime > 0 {
		o["maxtime"] = d.maxTime
	}
	if d.rndTime > 0 {
		o["rndtime"] = d.rndTime
	}
	return o
}

// diffBase is the epoch second the streams start at.
const diffBase = 1_700_000_000

// failure is one generated failure; q is its time in quarter seconds from
// diffBase.
type failure struct {
	q    int64
	host int
}

// schedule is a heap of the hosts' next failure times.
type schedule []failure

func (s schedule) Len() int { return len(s) }
func (s schedule) Less(i, j int) bool {
	if s[i].q != s[j].q {
		return s[i].q < s[j].q
	}
	return s[i].host < s[j].host
}
func (s schedule) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)   { *s = append(*s, x.(failure)) }
func (s *schedule) Pop() any {
	old := *s
	x := old[len(old)-1]
	*s = old[:len(old)-1]
	return x
}

// genStream makes a seeded stream of failures of d.hosts hosts, each with
// a behaviour: bursts, slow steady failures (which rescaling thins), gaps
// right around find_time and ban_time, repeat offenders that come back
// as their ban ends, and random ones. Times are whole seconds or, with
// fractional, quarter seconds; with late, some failures come out of order,
// up to lateMax seconds.
func genStream(d diffConfig, seed uint64) []failure {
	r := rand.New(rand.NewPCG(seed, 0x7469636b6574))
	unit := int64(4) // quarter seconds per step
	if d.fractional {
		unit = 1
	}
	sec := func(s float64) int64 {
		q := int64(math.Round(s * 4))
		return q / unit * unit
	}
	find, ban := float64(d.findSec), float64(d.banSec)
	if ban < 0 {
		ban = find
	}
	burstLeft := make([]int, d.hosts)
	gap := func(h int) int64 {
		switch h % 5 {
		case 0: // bursts
			if burstLeft[h] > 0 {
				burstLeft[h]--
				return sec(r.Float64() * 5)
			}
			burstLeft[h] = r.IntN(2 * d.maxRetry)
			return sec(find/2 + r.Float64()*3*find)
		case 1: // slow and steady: rescaled
			return sec(find * (0.15 + 0.6*r.Float64()))
		case 2: // right at the edges
			edges := []float64{find, find - 1, find + 1, find - 0.25, find + 0.25, 0, 1, ban, ban + 1, ban - 1, ban + 0.25, find / 2}
			return sec(edges[r.IntN(len(edges))])
		case 3: // repeat offenders: a quick run, then back as the ban ends
			if burstLeft[h] > 0 {
				burstLeft[h]--
				return sec(r.Float64() * 2)
			}
			burstLeft[h] = d.maxRetry + r.IntN(3)
			return sec(ban + float64(r.IntN(7)-3) + r.Float64()*find/10)
		}
		return sec(r.Float64() * 2 * find) // random
	}
	var s schedule
	for h := range d.hosts {
		heap.Push(&s, failure{q: sec(r.Float64() * find), host: h})
	}
	out := make([]failure, 0, d.events)
	var latest int64
	for len(out) < d.events {
		f := heap.Pop(&s).(failure)
		latest = max(latest, f.q)
		if d.late > 0 && r.Float64() < d.late {
			lateMax := d.lateMax
			if lateMax == 0 {
				lateMax = 3
			}
			out = append(out, failure{q: max(0, latest-sec(1+(lateMax-1)*r.Float64())), host: f.host})
		} else {
			out = append(out, f)
		}
		f.q += gap(f.host)
		heap.Push(&s, f)
	}
	return out
}

func hostAddr(h int) netip.Addr {
	if h%7 == 6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(h), 14: byte(h >> 8)})
	}
	return netip.AddrFrom4([4]byte{10, 9, byte(h >> 8), byte(h)})
}

func qTime(q int64) time.Time {
	return time.Unix(diffBase+q/4, (q%4)*int64(250*time.Millisecond)).UTC()
}

func qSecs(q int64) float64 { return float64(diffBase) + float64(q)/4 }

// record is one event of a timeline, from either side.
type record struct {
	Ev       string   `json:"ev"`
	Host     string   `json:"host"`
	Time     float64  `json:"time"`  // ban, prolong: the ticket's time
	Start    float64  `json:"start"` // the ban's start
	End      *float64 `json:"end"`   // nil when permanent
	BanTime  float64  `json:"bantime"`
	Failures int      `json:"failures"`
	BanCount int      `json:"bancount"`
	Matches  []string `json:"matches"`
}

func (r record) String() string {
	end := "permanent"
	if r.End != nil {
		end = strconv.FormatFloat(*r.End-diffBase, 'f', 4, 64)
	}
	if r.Ev == "unban" {
		return fmt.Sprintf("unban %s start=%.4f end=%s #%d", r.Host, r.Start-diffBase, end, r.BanCount)
	}
	return fmt.Sprintf("%s %s t=%.4f start=%.4f end=%s bantime=%.4f failures=%d #%d matches=%q",
		r.Ev, r.Host, r.Time-diffBase, r.Start-diffBase, end, r.BanTime, r.Failures, r.BanCount, r.Matches)
}

// same compares two records; times to 1e-4 s (the counter's ends are in
// nanoseconds, fail2ban's in float seconds), ban counts only when asked.
func same(a, b record, counts bool) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-4 }
	if a.Ev != b.Ev || a.Host != b.Host || !near(a.Start, b.Start) || (a.End == nil) != (b.End == nil) {
		return false
	}
	if a.End != nil && !near(*a.End, *b.End) {
		return false
	}
	if counts && a.BanCount != b.BanCount {
		return false
	}
	if a.Ev == "unban" {
		return true
	}
	if !near(a.Time, b.Time) || !near(a.BanTime, b.BanTime) || a.Failures != b.Failures || len(a.Matches) != len(b.Matches) {
		return false
	}
	for i := range a.Matches {
		if a.Matches[i] != b.Matches[i] {
			return false
		}
	}
	return true
}

// runGo runs the stream through the counter.
func runGo(t *testing.T, d diffConfig, stream []failure) []record {
	a := d.arguments()
	c, err := New(engine.Options{ID: "counter.sshd", Name: "sshd", Clock: engine.LogClock{}, Replay: true}, &a)
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan engine.Event, 1024)
	go func() {
		for i, f := range stream {
			host := hostAddr(f.host)
			in <- engine.Event{Kind: engine.KindFailure, Time: qTime(f.q), Failure: &engine.Failure{
				Host: host, HostText: host.String(), Lines: []string{fmt.Sprintf("%s #%d", host, i)},
			}}
		}
		close(in)
	}()
	out := make(chan engine.Event, 1024)
	var recs []record
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range out {
			checkAction(t, ev)
			a := ev.Action
			r := record{
				Ev: a.Type.String(), Host: a.Host.String(), Time: secs(ev.Time), Start: secs(a.Start),
				Failures: a.Failures, BanCount: a.BanCount, Matches: a.Matches,
			}
			if a.BanTime == engine.Permanent {
				r.BanTime = -1
			} else {
				end := secs(a.End)
				r.End = &end
				r.BanTime = a.BanTime.Seconds()
			}
			recs = append(recs, r)
		}
	}()
	err = c.Run(t.Context(), in, out)
	close(out)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// runPython runs the stream through fail2ban's classes.
func runPython(t *testing.T, d diffConfig, stream []failure) []record {
	py, path := fail2banEnv(t)
	var input bytes.Buffer
	enc := json.NewEncoder(&input)
	if err := enc.Encode(d.driverOptions()); err != nil {
		t.Fatal(err)
	}
	for i, f := range stream {
		host := hostAddr(f.host).String()
		fmt.Fprintf(&input, `{"t": %s, "host": %q, "lines": [%q]}`+"\n",
			strconv.FormatFloat(qSecs(f.q), 'f', -1, 64), host, fmt.Sprintf("%s #%d", host, i))
	}
	cmd := exec.CommandContext(t.Context(), py, "testdata/f2bdriver.py")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+path, "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0")
	cmd.Stdin = &input
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("f2bdriver.py: %v\n%s", err, stderr.String())
	}
	var recs []record
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	ended := false
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("f2bdriver.py printed %q: %v", sc.Text(), err)
		}
		if r.Ev == "end" {
			ended = true
			continue
		}
		recs = append(recs, r)
	}
	if !ended {
		t.Fatalf("f2bdriver.py did not finish; stderr:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "Traceback") {
		t.Fatalf("f2bdriver.py raised:\n%s", stderr.String())
	}
	return recs
}

// diffConfigs are the jails the streams run through.
var diffConfigs = []diffConfig{
	{name: "defaults", maxRetry: 5, findSec: 600, banSec: 600, maxMatches: 5, hosts: 300, events: 12000},
	{name: "short-fractional-late", maxRetry: 3, findSec: 60, banSec: 120, maxMatches: 2, hosts: 200, events: 12000, fractional: true, late: 0.03},
	{name: "increment-default-formula", maxRetry: 4, findSec: 300, banSec: 60, maxMatches: 4, increment: true, hosts: 300, events: 12000},
	{name: "increment-multipliers-cap", maxRetry: 3, findSec: 120, banSec: 30, maxMatches: 3, increment: true,
		mult: "1 5 30 60", factor: "2", maxTime: 3600, hosts: 200, events: 12000, fractional: true},
	{name: "increment-exp-formula-rnd-late", maxRetry: 5, findSec: 600, banSec: 60, maxMatches: 5, increment: true,
		factor: "2.0 / 2.885385", formula: "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)",
		rndTime: 30, seed: 7, hosts: 300, events: 12000, late: 0.02},
	{name: "increment-permanent", maxRetry: 3, findSec: 60, banSec: -1, maxMatches: 3, increment: true, hosts: 200, events: 6000},
	// Ban times below ban_time (multiplier 0, a cap under ban_time) with
	// late failures: fail2ban's late unbans, restored bans and prolongs of
	// tickets older than the ban.
	{name: "increment-shortened-late", maxRetry: 2, findSec: 120, banSec: 60, maxMatches: 2, increment: true,
		mult: "1 0 2 5", hosts: 100, events: 12000, fractional: true, late: 0.1, lateMax: 150},
	{name: "increment-cap-below-bantime-late", maxRetry: 2, findSec: 60, banSec: 120, maxMatches: 2, increment: true,
		maxTime: 45, hosts: 100, events: 12000, late: 0.1, lateMax: 200},
	{name: "maxretry1-nomatches-increment", maxRetry: 1, findSec: 60, banSec: 30, maxMatches: 0, increment: true, hosts: 100, events: 6000, fractional: true},
}

// TestDifferentialFail2ban is the proof: for every configuration and two
// seeds, the counter's timeline equals fail2ban's, event for event.
func TestDifferentialFail2ban(t *testing.T) {
	t.Parallel()
	fail2banEnv(t)
	var (
		mu    sync.Mutex
		total = map[string]int{}
	)
	t.Cleanup(func() {
		t.Logf("compared in all: %v", total)
		for _, k := range []string{"ban", "prolong", "unban", "ban failures>max_retry", "ban count>=3", "permanent ban"} {
			if total[k] == 0 {
				t.Errorf("no %q in any stream: the streams do not cover it", k)
			}
		}
	})
	for _, d := range diffConfigs {
		for _, seed := range []uint64{1, 2} {
			t.Run(fmt.Sprintf("%s/seed%d", d.name, seed), func(t *testing.T) {
				t.Parallel()
				d := d // the seeds' subtests share the loop's d
				if testing.Short() {
					d.events /= 4
				}
				stream := genStream(d, seed)
				got := runGo(t, d, stream)
				want := runPython(t, d, stream)
				counts := map[string]int{"failures": len(stream)}
				for _, r := range want {
					counts[r.Ev]++
					if r.Ev == "ban" {
						if r.Failures > d.maxRetry {
							counts["ban failures>max_retry"]++
						}
						if r.BanCount >= 3 {
							counts["ban count>=3"]++
						}
						if r.End == nil {
							counts["permanent ban"]++
						}
					}
				}
				mu.Lock()
				for k, v := range counts {
					total[k] += v
				}
				mu.Unlock()
				t.Logf("%v", counts)
				if counts["ban"] == 0 {
					t.Errorf("fail2ban banned nobody: the stream tests nothing")
				}
				for i := range max(len(got), len(want)) {
					if i < len(got) && i < len(want) && same(got[i], want[i], d.increment) {
						continue
					}
					var b strings.Builder
					for j := max(0, i-3); j < min(max(len(got), len(want)), i+4); j++ {
						mark := "  "
						if j == i {
							mark = "=>"
						}
						fmt.Fprintf(&b, "%s %d\n", mark, j)
						if j < len(want) {
							fmt.Fprintf(&b, "     fail2ban: %s\n", want[j])
						}
						if j < len(got) {
							fmt.Fprintf(&b, "     f2b:      %s\n", got[j])
						}
					}
					t.Fatalf("timelines differ at event %d of %d (fail2ban) / %d (f2b):\n%s", i, len(want), len(got), b.String())
				}
			})
		}
	}
}
