package window

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	attrMaxRetry      = "max_retry"
	attrFindTime      = "find_time"
	attrBanTime       = "ban_time"
	attrIgnore        = "ignore"
	attrBanTimeFactor = "ban_time_factor"
	attrBanTimeMax    = "ban_time_max"
)

// maxMaxRetry bounds max_retry so the per-host ring indexes fit in 32 bits.
const maxMaxRetry = 1 << 20

// Arguments configure a window counter. Absent optional attributes keep the
// values of DefaultArguments.
type Arguments struct {
	// MaxRetry is the number of failures within FindTime that bans a host.
	// At least 1; default 5.
	MaxRetry int `hcl:"max_retry,optional"`
	// FindTime is the length of the window, e.g. "10m" (the default). It
	// cannot be permanent.
	FindTime string `hcl:"find_time,optional"`
	// BanTime is the length of a first ban, e.g. "1h"; "permanent" or "-1"
	// for bans that never end. Default "10m".
	BanTime string `hcl:"ban_time,optional"`
	// Ignore lists addresses and CIDR prefixes, IPv4 or IPv6, whose failures
	// are dropped, e.g. ["127.0.0.0/8", "::1", "2001:db8::/32"]; "self"
	// for this host's own addresses (fail2ban's ignoreself); and host
	// names (fail2ban's ignoreip), looked up when the counter starts and
	// every 5 minutes.
	Ignore []string `hcl:"ignore,optional"`
	// BanTimeFactor makes repeat offenders' bans longer: ban n of a host
	// lasts BanTime * BanTimeFactor^(n-1). At least 1; default 1 (every ban
	// lasts BanTime).
	BanTimeFactor float64 `hcl:"ban_time_factor,optional"`
	// BanTimeMax caps escalated bans, e.g. "1w"; empty (the default) or
	// "permanent" for no cap. It cannot be shorter than BanTime.
	BanTimeMax string `hcl:"ban_time_max,optional"`
}

// DefaultArguments returns the defaults: max_retry 5, find_time and ban_time
// "10m", no escalation, nothing ignored.
func DefaultArguments() Arguments {
	return Arguments{
		MaxRetry:      5,
		FindTime:      "10m",
		BanTime:       "10m",
		BanTimeFactor: 1,
	}
}

// Register adds counter "window" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "counter",
		Type:    "window",
		In:      engine.KindFailure,
		Out:     engine.KindAction,
		Summary: "bans a host after max_retry failures within an exact sliding find_time window",
		NewArgs: func() any {
			a := DefaultArguments()
			return &a
		},
		Build: engine.Build(New),
	})
}

// config is the checked form of Arguments.
type config struct {
	maxRetry int
	findTime time.Duration
	banTime  time.Duration // engine.Permanent for permanent bans
	factor   float64
	banMax   time.Duration // 0: no cap
	ignore   *ignore.List
}

// Counter is the built stage: the counter of one jail. Run owns its window
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

	// Run state: read and written by the Run goroutine only.
	// NOTE: hosts and mem are off the Go heap (see package offheap): a
	// million tracked hosts cost their bytes once, not twice over as the
	// collector's pacing would make them, and are never scanned.
	hosts  *offheap.Table[hostState] // every host with kept failures, a ban or ban history
	mem    *offheap.Arena            // the hosts' rings and the lines of their kept failures
	bans   map[hostKey]*ban          // the running ban of each banned host
	peak   int                       // largest hosts.Len() since the table was last rebuilt
	queue  unbanq.Queue[*ban]        // bans that end, earliest End first
	seq    uint64                    // bans made so far; orders ties
	now    jailrun.Now               // latest event time seen, and the clock
	sweeps jailrun.Sweeps            // paces the purges of hosts
	// noMatches is set when no consumer reads a ban's Matches (see
	// KeepMatches): failures keep no lines, and bans carry none.
	noMatches bool

	// NOTE: active is written by the Run goroutine only, and only while it
	// holds mu; Banned reads it under mu. The *ban values are immutable once
	// made except for their queue slot, which Banned never reads.
	mu     sync.Mutex
	active unbanq.Active[*ban] // running bans, in no order

	stats struct {
		jailrun.Counts
		whileBanned atomic.Int64 // failures of hosts banned then
	}
	failed atomic.Int64 // hosts with kept failures
}

var (
	_ engine.Stage = (*Counter)(nil)
	_ engine.Stats = (*Counter)(nil)
	_ engine.Jail  = (*Counter)(nil)
)

// New checks args and returns the counter of jail opts.Name. It is pure:
// no I/O and no goroutines. Errors are *confval.AttrError values naming the
// attribute (and, for ignore, the index of the bad element). A nil args means
// DefaultArguments.
func New(opts engine.Options, args *Arguments) (*Counter, error) {
	if args == nil {
		d := DefaultArguments()
		args = &d
	}
	cfg, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	jail, logger, clock := jailrun.Setup(opts)
	c := &Counter{
		jail:   jail,
		logger: logger,
		now:    jailrun.Now{Clock: clock},
		cfg:    cfg,
		batch:  jailrun.NewBatch(opts.Store, logger, jail),
		hosts:  offheap.NewTable[hostState](),
		mem:    new(offheap.Arena),
		bans:   map[hostKey]*ban{},
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

	ft, err := confval.ParseDuration(a.FindTime, false)
	switch {
	case err != nil:
		bad(attrFindTime, err)
	case ft == confval.Permanent:
		bad(attrFindTime, errors.New("cannot be permanent; write a finite window such as \"10m\""))
	}
	cfg.findTime = ft

	bt, err := confval.ParseDuration(a.BanTime, false)
	if err != nil {
		bad(attrBanTime, err)
	}
	cfg.banTime = bt
	if bt == confval.Permanent {
		cfg.banTime = engine.Permanent
	}

	f := a.BanTimeFactor
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 1 {
		bad(attrBanTimeFactor, fmt.Errorf("must be a finite number of at least 1 (1 means no escalation), got %v", f))
	}
	cfg.factor = f

	if strings.TrimSpace(a.BanTimeMax) != "" {
		m, err := confval.ParseDuration(a.BanTimeMax, false)
		switch {
		case err != nil:
			bad(attrBanTimeMax, err)
		case m == confval.Permanent:
		case bt > 0 && m < bt:
			bad(attrBanTimeMax, fmt.Errorf("%s is shorter than ban_time (%s); the cap must be at least ban_time",
				confval.FormatDuration(m), confval.FormatDuration(bt)))
		default:
			cfg.banMax = m
		}
	}

	ign, err := ignore.Parse(attrIgnore, a.Ignore)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.ignore = ign
	return cfg, errors.Join(errs...)
}

// banDuration is the length of ban n of a host.
func (c *Counter) banDuration(n int32) time.Duration {
	d := c.cfg.banTime
	if d == engine.Permanent {
		return d
	}
	if c.cfg.factor != 1 && n > 1 {
		f := float64(d) * math.Pow(c.cfg.factor, float64(n-1))
		if f >= float64(math.MaxInt64) {
			d = math.MaxInt64
		} else {
			d = time.Duration(f)
		}
	}
	if c.cfg.banMax > 0 && d > c.cfg.banMax {
		d = c.cfg.banMax
	}
	return d
}

// Stats implements engine.Stats. The keys are "failures" (every failure
// received, ignored ones included), "ignored", "failures_while_banned",
// "bans" (restored ones excluded), "unbans", "restored" (bans put back from
// the store on start), "failures_behind_restored" (failures at or before
// the start of a saved ban of their host: lines read again on start) and
// "store_errors" (failed saves). It is safe to call while Run runs.
func (c *Counter) Stats() map[string]int64 {
	s := jailrun.Stats(&c.intake, &c.stats.Counts, c.batch)
	s["failures_while_banned"] = c.stats.whileBanned.Load()
	return s
}

// BanInfo describes one running ban, for status.
type BanInfo = engine.BanInfo

// Banned returns the hosts banned now, in ban order. It is safe to call
// while Run runs.
func (c *Counter) Banned() []BanInfo {
	return unbanq.Collect(&c.mu, &c.active, (*ban).info)
}

// KeepMatches implements engine.MatchesKeeper; it is called before Run.
func (c *Counter) KeepMatches(keep bool) { c.noMatches = !keep }

// CheckEnv implements engine.EnvChecker: every host name in ignore must
// resolve here.
func (c *Counter) CheckEnv() error { return c.cfg.ignore.Check(context.Background(), attrIgnore) }
