package ticket

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/ignore"
	"github.com/f2bproject/f2b/stages/counter/internal/jailrun"
	"github.com/f2bproject/f2b/stages/counter/internal/offheap"
	"github.com/f2bproject/f2b/stages/counter/internal/unbanq"
)

// Attribute names, as error messages and the front end name them.
const (
	attrMaxRetry            = "max_retry"
	attrFindTime            = "find_time"
	attrBanTime             = "ban_time"
	attrMaxMatches          = "max_matches"
	attrIgnore              = "ignore"
	attrBanTimeFactor       = "ban_time_factor"
	attrBanTimeFormula      = "ban_time_formula"
	attrBanTimeMultipliers  = "ban_time_multipliers"
	attrBanTimeMax          = "ban_time_max"
	attrBanTimeRnd          = "ban_time_rnd"
	attrBanTimeOverallJails = "ban_time_overall_jails"
	attrBanHistoryAge       = "ban_history_age"
)

// DefaultFormula is fail2ban's default bantime.formula: ban n of a host
// (n >= 2) lasts ban_time * 2^(n-1) * banFactor, the doubling stopping at
// 2^20.
const DefaultFormula = "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor"

// maxMaxRetry bounds max_retry and max_matches.
const maxMaxRetry = 1 << 20

// Arguments configure a ticket counter. The defaults are fail2ban's
// jail.conf defaults; absent optional attributes keep the values of
// DefaultArguments.
type Arguments struct {
	// MaxRetry is fail2ban's maxretry: a host is banned when its ticket's
	// retry count reaches it. At least 1; default 5.
	MaxRetry int `hcl:"max_retry,optional"`
	// FindTime is fail2ban's findtime, e.g. "10m" (the default). It
	// cannot be permanent.
	FindTime string `hcl:"find_time,optional"`
	// BanTime is fail2ban's bantime, e.g. "10m" (the default); "permanent"
	// or "-1" for bans that never end.
	BanTime string `hcl:"ban_time,optional"`
	// MaxMatches is fail2ban's maxmatches: how many matched lines a ticket
	// keeps for Action.Matches (the newest ones). Absent: MaxRetry. Zero
	// keeps only the lines of a ticket's first failure, as fail2ban does.
	MaxMatches *int `hcl:"max_matches,optional"`
	// Ignore lists addresses and CIDR prefixes, IPv4 or IPv6, whose failures
	// are dropped; "self" for this host's own addresses (fail2ban's
	// ignoreself); and host names, looked up when the counter starts and
	// every 5 minutes (fail2ban's ignoreip, without its file: entries).
	Ignore []string `hcl:"ignore,optional"`

	// BanTimeIncrement is bantime.increment: repeat offenders get longer
	// bans and their failures count more (see the package documentation).
	BanTimeIncrement bool `hcl:"ban_time_increment,optional"`
	// BanTimeFactor is bantime.factor, a Python number expression such as
	// "1" (the default), "2" or "2.0 / 2.885385". An HCL number works too.
	BanTimeFactor string `hcl:"ban_time_factor,optional"`
	// BanTimeFormula is bantime.formula, a Python expression of ban.Time
	// (the ban_time in seconds), ban.Count (the host's earlier bans) and
	// banFactor; default DefaultFormula. It is evaluated by f2b's own small
	// evaluator (numbers, arithmetic, comparisons, `x if c else y`, min,
	// max, int, float, round, abs, pow and math.exp, math.log and the like),
	// never by a general eval. Ignored when BanTimeMultipliers is set.
	BanTimeFormula string `hcl:"ban_time_formula,optional"`
	// BanTimeMultipliers is bantime.multipliers: space-separated integers;
	// ban n of a host (n >= 2) lasts ban_time * banFactor * the (n-1)-th
	// entry counting from 0, the last entry repeating. Empty: use the
	// formula.
	BanTimeMultipliers string `hcl:"ban_time_multipliers,optional"`
	// BanTimeMax is bantime.maxtime, the cap of an increased ban time, e.g.
	// "1w"; empty (the default) for none. It may be below BanTime, as in
	// fail2ban. "permanent" is rejected: fail2ban's maxtime -1 would make
	// every repeat ban permanent, which is seldom what it means.
	BanTimeMax string `hcl:"ban_time_max,optional"`
	// BanTimeRnd is bantime.rndtime: up to this much random time is added
	// to each increased ban time, e.g. "5m"; empty (the default) for none.
	BanTimeRnd string `hcl:"ban_time_rnd,optional"`
	// BanTimeRndSeed seeds the random ban_time_rnd jitter. Absent: in a
	// replay a seed derived from the node's ID (replays are reproducible);
	// in `f2b run` a random one (unban times cannot be guessed).
	BanTimeRndSeed *int64 `hcl:"ban_time_rnd_seed,optional"`
	// BanTimeOverallJails is bantime.overalljails. Only false is supported:
	// a counter knows the bans of its own jail only.
	BanTimeOverallJails bool `hcl:"ban_time_overall_jails,optional"`
	// BanHistoryAge is fail2ban's dbpurgeage (default "1d"): a host's ban
	// history (its ban count, which ban time increment reads) is forgotten
	// once its last ban is older than this and older than this plus three
	// times its ban time. "permanent" keeps it for the life of the counter.
	BanHistoryAge string `hcl:"ban_history_age,optional"`
}

// DefaultArguments returns fail2ban's defaults: maxretry 5, findtime and
// bantime 10m, maxmatches = maxretry, no increment, bantime.factor 1, the
// default formula, dbpurgeage 1d, nothing ignored.
func DefaultArguments() Arguments {
	return Arguments{
		MaxRetry:       5,
		FindTime:       "10m",
		BanTime:        "10m",
		BanTimeFactor:  "1",
		BanTimeFormula: DefaultFormula,
		BanHistoryAge:  "1d",
	}
}

// Register adds counter "ticket" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "counter",
		Type:    "ticket",
		In:      engine.KindFailure,
		Out:     engine.KindAction,
		Summary: "bans a host the way fail2ban-server does (tickets, findtime rescaling, bantime.increment)",
		NewArgs: func() any {
			a := DefaultArguments()
			return &a
		},
		Build: engine.Build(New),
	})
}

// Formula variables, in the order program.eval takes them.
var formulaVars = []string{"ban.Time", "ban.Count", "banFactor"}

// config is the checked form of Arguments. Times that fail2ban computes
// with are kept as float64 seconds as well, so the arithmetic is the same.
type config struct {
	maxRetry   int
	findTime   time.Duration
	findSec    float64
	banTime    time.Duration // engine.Permanent for permanent bans
	banSec     float64       // -1 for permanent bans
	maxMatches int
	ignore     *ignore.List

	increment   bool
	banNum      num      // ban.Time as fail2ban has it: an int of seconds when whole
	factor      num      // banFactor
	formula     *program // nil when multipliers are set
	multipliers []int64
	maxTime     *num // bantime.maxtime in seconds; nil for none
	rndTime     *num // bantime.rndtime in seconds; nil for none
	seed        uint64
	historyAge  float64 // seconds; -1 to keep history forever
}

// Counter is the built stage: the counter of one jail. Run owns its ticket
// state and must not run twice at once; Stats, Banned and the engine.Jail
// methods may be called from any goroutine while it runs.
type Counter struct {
	jail   string
	logger *slog.Logger
	cfg    config
	batch  *jailrun.Batch  // the actions made, saved and sent together
	ctl    jailrun.Control // carries manual commands into Run
	manual jailrun.Manual  // the manual commands
	intake jailrun.Intake  // checks failures first; counts failures and ignored ones
	// noMatches is set when no consumer reads a ban's Matches (see
	// KeepMatches): tickets keep no lines, as with max_matches = 0.
	noMatches bool

	// Run state: read and written by the Run goroutine only.
	// NOTE: hosts and mem are off the Go heap (see package offheap): a
	// million tracked hosts cost their bytes once, not twice over as the
	// collector's pacing would make them, and are never scanned.
	hosts    *offheap.Table[hostState] // hosts with a ticket, a ban or a ban history
	mem      *offheap.Arena            // the tickets' lines and captures
	bans     map[hostKey]*ban          // the running ban of each banned host
	locs     []*time.Location          // the locations of the tickets' times
	locIdx   map[*time.Location]uint32 // index of each in locs
	scratch  []string                  // reused to encode and decode a ticket's captures
	peak     int                       // largest hosts.Len() since the table was last rebuilt
	queue    unbanq.Queue[*ban]        // bans that end, earliest End first
	nextScan int64                     // fail2ban's _nextUnbanTime, in clamped Unix nanoseconds
	seq      uint64                    // bans made so far; orders ties
	now      jailrun.Now               // latest event time seen, and the clock
	sweeps   jailrun.Sweeps            // paces the purges of hosts
	rnd      splitMix                  // the ban_time_rnd jitter

	// NOTE: active is written by the Run goroutine only, and only while it
	// holds mu; Banned reads it under mu. A *ban's end, endNanos, banTime
	// and banSec change (prolong) under mu too; its other fields are fixed
	// once made, except their queue slot, which Banned never reads.
	mu     sync.Mutex
	active unbanq.Active[*ban] // running bans, in no order

	stats struct {
		jailrun.Counts
		prolongs atomic.Int64
	}
	failed atomic.Int64 // hosts with an open ticket
}

// Counter is a stage that reports stats and a jail.
var (
	_ engine.Stage = (*Counter)(nil)
	_ engine.Stats = (*Counter)(nil)
	_ engine.Jail  = (*Counter)(nil)
)

// New checks args and returns the counter of jail opts.Name. It is pure:
// no I/O and no goroutines. Errors are *confval.AttrError values naming the
// attribute (and, for ignore, the index of the bad element). A nil args
// means DefaultArguments.
func New(opts engine.Options, args *Arguments) (*Counter, error) {
	if args == nil {
		d := DefaultArguments()
		args = &d
	}
	cfg, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	switch {
	case args.BanTimeRndSeed != nil:
		cfg.seed = uint64(*args.BanTimeRndSeed)
	case opts.Replay:
		h := fnv.New64a()
		h.Write([]byte(opts.ID))
		cfg.seed = h.Sum64()
	default:
		cfg.seed = rand.Uint64()
	}
	jail, logger, clock := jailrun.Setup(opts)
	c := &Counter{
		jail:     jail,
		logger:   logger,
		now:      jailrun.Now{Clock: clock},
		cfg:      cfg,
		batch:    jailrun.NewBatch(opts.Store, logger, jail),
		hosts:    offheap.NewTable[hostState](),
		mem:      new(offheap.Arena),
		bans:     map[hostKey]*ban{},
		locIdx:   map[*time.Location]uint32{},
		nextScan: math.MaxInt64,
		rnd:      splitMix{cfg.seed},
	}
	c.intake.Ignore, c.intake.FindTime, c.intake.Logger = cfg.ignore, cfg.findTime, logger
	c.manual = jailrun.Manual{
		Jail:      jail,
		Control:   &c.ctl,
		Batch:     c.batch,
		Now:       &c.now,
		Expire:    c.expire,
		BanHost:   c.manualBan,
		IsBanned:  c.isBanned,
		Lift:      c.lift,
		Running:   c.running,
		Forget:    c.forgetHost,
		ForgetAll: c.forgetAll,
	}
	return c, nil
}

// seconds is d in seconds as fail2ban would hold it: an int when whole,
// else a float. Permanent is -1.
func seconds(d time.Duration) num {
	if d == confval.Permanent {
		return intNum(-1)
	}
	if d%time.Second == 0 {
		return intNum(int64(d / time.Second))
	}
	return floatNum(d.Seconds())
}

// parseArgs checks every attribute and reports every bad one, so validate
// shows all mistakes of a block at once.
func parseArgs(a *Arguments) (config, error) {
	var cfg config
	var errs []error
	bad := func(attr string, err error) { errs = append(errs, confval.AttrErr(attr, err)) }

	if a.MaxRetry < 1 || a.MaxRetry > maxMaxRetry {
		bad(attrMaxRetry, fmt.Errorf("must be between 1 and %d, got %d", maxMaxRetry, a.MaxRetry))
	}
	cfg.maxRetry = a.MaxRetry

	cfg.maxMatches = a.MaxRetry
	if a.MaxMatches != nil {
		if m := *a.MaxMatches; m < 0 || m > maxMaxRetry {
			bad(attrMaxMatches, fmt.Errorf("must be between 0 and %d, got %d", maxMaxRetry, m))
		} else {
			cfg.maxMatches = m
		}
	}

	ft, err := confval.ParseDuration(a.FindTime, false)
	switch {
	case err != nil:
		bad(attrFindTime, err)
	case ft == confval.Permanent:
		bad(attrFindTime, errors.New("cannot be permanent; write a finite time such as \"10m\""))
	}
	cfg.findTime = ft
	cfg.findSec = seconds(ft).float()

	bt, err := confval.ParseDuration(a.BanTime, false)
	if err != nil {
		bad(attrBanTime, err)
	}
	cfg.banTime = bt
	if bt == confval.Permanent {
		cfg.banTime = engine.Permanent
	}
	cfg.banNum = seconds(bt)
	cfg.banSec = cfg.banNum.float()

	ign, err := ignore.Parse(attrIgnore, a.Ignore)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.ignore = ign

	// The increment family is checked whether or not increment is on, as
	// fail2ban compiles it either way.
	cfg.increment = a.BanTimeIncrement
	cfg.factor = intNum(1)
	factorOK := true
	if strings.TrimSpace(a.BanTimeFactor) != "" {
		p, err := parseExpr(a.BanTimeFactor, nil)
		if err == nil {
			cfg.factor, err = p.eval(nil)
		}
		if err != nil {
			bad(attrBanTimeFactor, fmt.Errorf("want a number (a Python number expression such as \"2\" or \"2.0 / 2.885385\"): %w", err))
			factorOK = false
		}
	}

	for _, f := range strings.Fields(a.BanTimeMultipliers) {
		m, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			bad(attrBanTimeMultipliers, fmt.Errorf("%q is not an integer; write space-separated integers such as \"1 2 4 8 16\"", f))
			continue
		}
		cfg.multipliers = append(cfg.multipliers, m)
	}

	if len(cfg.multipliers) == 0 {
		src := a.BanTimeFormula
		if strings.TrimSpace(src) == "" {
			src = DefaultFormula
		}
		p, err := parseExpr(src, formulaVars)
		if err != nil {
			bad(attrBanTimeFormula, err)
		} else {
			cfg.formula = p
			// A trial run catches what Python would raise on every ban,
			// e.g. a shift of a float.
			probe := cfg.banNum
			if cfg.banSec <= 0 {
				probe = intNum(600)
			}
			if factorOK {
				if _, err := p.eval([]num{probe, intNum(1), cfg.factor}); err != nil {
					bad(attrBanTimeFormula, fmt.Errorf("fails with ban.Time = %v, ban.Count = 1, banFactor = %v: %w", probe, cfg.factor, err))
				}
			}
		}
	}

	if strings.TrimSpace(a.BanTimeMax) != "" {
		m, err := confval.ParseDuration(a.BanTimeMax, false)
		switch {
		case err != nil:
			bad(attrBanTimeMax, err)
		case m == confval.Permanent:
			bad(attrBanTimeMax, errors.New("cannot be permanent: leave it empty for no cap "+
				"(fail2ban's bantime.maxtime = -1 would make every repeat ban permanent; write that as ban_time_max = \"\" and a formula)"))
		default:
			v := seconds(m)
			cfg.maxTime = &v
		}
	}
	if strings.TrimSpace(a.BanTimeRnd) != "" {
		r, err := confval.ParseDuration(a.BanTimeRnd, true)
		switch {
		case err != nil:
			bad(attrBanTimeRnd, err)
		case r == confval.Permanent:
			bad(attrBanTimeRnd, errors.New("cannot be permanent; write the largest random addition, e.g. \"5m\""))
		default:
			v := seconds(r)
			cfg.rndTime = &v
		}
	}
	if a.BanTimeOverallJails {
		bad(attrBanTimeOverallJails, errors.New("not supported yet: a counter knows only its own jail's bans; set it to false"))
	}

	cfg.historyAge = 86400
	if strings.TrimSpace(a.BanHistoryAge) != "" {
		h, err := confval.ParseDuration(a.BanHistoryAge, false)
		if err != nil {
			bad(attrBanHistoryAge, err)
		}
		cfg.historyAge = seconds(h).float()
	}
	return cfg, errors.Join(errs...)
}

// increasedBanTime is fail2ban's evformula: the ban time in seconds of a
// host banned count times before (count >= 1). It draws from the jitter
// generator only when the formula succeeded, as fail2ban's lambda does.
func (c *Counter) increasedBanTime(count int32) (float64, error) {
	cfg := &c.cfg
	var v num
	if len(cfg.multipliers) > 0 {
		m := cfg.multipliers[len(cfg.multipliers)-1]
		if int(count) < len(cfg.multipliers) {
			m = cfg.multipliers[count]
		}
		p, err := binary("*", cfg.banNum, cfg.factor)
		if err == nil {
			v, err = binary("*", p, intNum(m))
		}
		if err != nil {
			return 0, err
		}
	} else {
		r, err := cfg.formula.eval([]num{cfg.banNum, intNum(int64(count)), cfg.factor})
		if err != nil {
			return 0, err
		}
		v = cfg.banNum // max(ban.Time, formula)
		if compare(">", r, v) {
			v = r
		}
	}
	if cfg.maxTime != nil && compare("<", *cfg.maxTime, v) {
		v = *cfg.maxTime
	}
	if cfg.rndTime != nil {
		j, err := binary("*", floatNum(c.rnd.float64()), *cfg.rndTime)
		if err == nil {
			v, err = binary("+", v, j)
		}
		if err != nil {
			return 0, err
		}
	}
	f := v.float()
	if math.IsNaN(f) {
		return 0, errors.New("the ban time is not a number")
	}
	return f, nil
}

// Stats implements engine.Stats. The keys are "failures" (every failure
// received, ignored ones included), "ignored", "bans" (restored ones
// excluded), "unbans", "prolongs", "restored" (bans put back from the store
// on start), "failures_behind_restored" (failures at or before the start of
// a saved ban of their host: lines read again on start) and "store_errors"
// (failed saves). It is safe to call while Run runs.
func (c *Counter) Stats() map[string]int64 {
	s := jailrun.Stats(&c.intake, &c.stats.Counts, c.batch)
	s["prolongs"] = c.stats.prolongs.Load()
	return s
}

// BanInfo describes one running ban, for status.
type BanInfo = engine.BanInfo

// Banned returns the hosts banned now, in ban order. It is safe to call
// while Run runs.
func (c *Counter) Banned() []BanInfo {
	// NOTE: a prolong changes a ban's end under mu, so Collect reads the
	// bans under mu.
	return unbanq.Collect(&c.mu, &c.active, (*ban).info)
}

// KeepMatches implements engine.MatchesKeeper; it is called before Run.
func (c *Counter) KeepMatches(keep bool) { c.noMatches = !keep }

// CheckEnv implements engine.EnvChecker: every host name in ignore must
// resolve here.
func (c *Counter) CheckEnv() error { return c.cfg.ignore.Check(context.Background(), attrIgnore) }
