package command

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// Block labels and attribute names.
const (
	typeName          = "command"
	attrFamily        = "family"
	attrStartOnDemand = "start_on_demand"
	attrTimeout       = "timeout"
	attrTags          = "tags"
	defaultTimeout    = "60s"
)

// Address families, as fail2ban's <family> names them.
const (
	familyInet4 = "inet4"
	familyInet6 = "inet6"
)

// Arguments are the attributes of a sink "command" block: the commands of
// a fail2ban action (action.d's actionstart, actionban, …), each a shell
// script run with /bin/sh -c. A command that is unset or "" does nothing.
type Arguments struct {
	// Start runs when the sink starts (fail2ban's actionstart), or at the
	// first ban of each family when StartOnDemand is set.
	Start string `hcl:"start,optional"`
	// Stop runs when the sink stops, once per started family
	// (actionstop).
	Stop string `hcl:"stop,optional"`
	// Check runs after a command failed, to test that the environment is
	// sane (actioncheck).
	Check string `hcl:"check,optional"`
	// Ban runs for every ban (actionban).
	Ban string `hcl:"ban,optional"`
	// Unban runs for every unban of a family that holds bans
	// (actionunban).
	Unban string `hcl:"unban,optional"`
	// Flush removes every ban at once when the sink stops, instead of one
	// unban per ban still in force (actionflush).
	Flush string `hcl:"flush,optional"`
	// Repair restores a sane environment when Check fails; without it the
	// family is stopped and started again (actionrepair).
	Repair string `hcl:"repair,optional"`
	// Reban puts a ban in force again after the environment was restored;
	// Ban runs when it is unset (actionreban).
	Reban string `hcl:"reban,optional"`
	// Prolong runs when a running ban is extended; nothing runs when it is
	// unset (actionprolong).
	Prolong string `hcl:"prolong,optional"`

	// Family overrides commands for one address family (fail2ban's
	// [Init?family=inet6] sections and ?family= options).
	Family []FamilyArguments `hcl:"family,block"`

	// StartOnDemand runs Start at the first ban of each family instead of
	// when the sink starts (actionstart_on_demand). Unset, it is true when
	// any family block exists, as fail2ban decides from conditional
	// sections.
	StartOnDemand *bool `hcl:"start_on_demand,optional"`
	// RepairOnUnban lets a failed unban (or flush at stop) repair or
	// restart the environment as a failed ban does (actionrepair_on_unban).
	RepairOnUnban bool `hcl:"repair_on_unban,optional"`
	// NoRestored skips the ban and prolong commands of bans restored from
	// saved state (norestored), e.g. so that mails are not sent again.
	NoRestored bool `hcl:"no_restored,optional"`
	// Timeout bounds each command ("60s" by default, as in fail2ban); a
	// command still running then is killed with its process group.
	Timeout string `hcl:"timeout,optional"`
	// Tags are static tags, <NAME> in the commands, for what the importer
	// could not resolve. NAME?family=inet6 gives a family's own value. A
	// tag named like a dynamic tag (bantime, jail.name, …) does not
	// override it: it is the value used by start, stop and flush, which
	// run without a ban.
	Tags map[string]string `hcl:"tags,optional"`
}

// FamilyArguments override commands for one address family: a command
// set here (even to "") replaces the sink's own for bans of that family.
// A family block, even an empty one, makes the action family-dependent
// like an [Init?family=…] section: Start defaults to on demand and, when
// not on demand, runs once per family.
type FamilyArguments struct {
	// Name is "inet4" or "inet6".
	Name    string  `hcl:"name,label"`
	Start   *string `hcl:"start,optional"`
	Stop    *string `hcl:"stop,optional"`
	Check   *string `hcl:"check,optional"`
	Ban     *string `hcl:"ban,optional"`
	Unban   *string `hcl:"unban,optional"`
	Flush   *string `hcl:"flush,optional"`
	Repair  *string `hcl:"repair,optional"`
	Reban   *string `hcl:"reban,optional"`
	Prolong *string `hcl:"prolong,optional"`
}

// Register adds sink "command" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "runs fail2ban action commands through /bin/sh with fail2ban's lifecycle and escaping",
		NewArgs: func() any { return &Arguments{Timeout: defaultTimeout} },
		Build:   engine.Build(New),
	})
}

// hook is one of an action's commands.
type hook uint8

// The hooks, in the order of Arguments.
const (
	hStart hook = iota
	hStop
	hCheck
	hBan
	hUnban
	hFlush
	hRepair
	hReban
	hProlong
	numHooks
)

// hookNames are the attribute names of the hooks.
var hookNames = [numHooks]string{"start", "stop", "check", "ban", "unban", "flush", "repair", "reban", "prolong"}

func (h hook) String() string { return hookNames[h] }

// Family slots of the resolved commands.
const (
	famNone = iota // no family: the sink's own commands
	famInet4
	famInet6
	numFams
)

// famNames are the family names of the slots.
var famNames = [numFams]string{"", familyInet4, familyInet6}

// famSlot returns the slot of family name fam.
func famSlot(fam string) int {
	switch fam {
	case familyInet4:
		return famInet4
	case familyInet6:
		return famInet6
	}
	return famNone
}

// Sink is a sink "command": it runs a fail2ban action's commands.
type Sink struct {
	// cmds holds every command with its static tags resolved, per family
	// slot (a family without its own command has the sink's).
	cmds [numHooks][numFams]string
	// set tells which hooks have a command of their own (not per family):
	// fail2ban decides from these whether to check, reban, flush or prolong.
	set [numHooks]bool

	conditional   bool // a family block exists
	onDemand      bool
	prolongable   bool // prolong is set and not blank
	repairOnUnban bool
	noRestored    bool
	timeout       time.Duration
	noBan         map[string]string // values of dynamic tags without a ban

	logger *slog.Logger
	clock  engine.Clock
	now    func() time.Time

	// hostname returns the host's name for <fq-hostname> and
	// <sh-hostname>; exec runs a script. Tests replace them.
	hostname func() (string, error)
	exec     func(r *runner, h hook, fam string, t *ticket, sc script) bool

	commands atomic.Int64
	failures atomic.Int64
	repairs  atomic.Int64
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O and starts nothing.
// Errors are *confval.AttrError values naming the attribute; all problems
// are reported, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	s := &Sink{
		logger:        opts.Logger,
		clock:         opts.Clock,
		now:           opts.Now,
		hostname:      os.Hostname,
		repairOnUnban: args.RepairOnUnban,
		noRestored:    args.NoRestored,
	}
	s.exec = s.execScript
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = engine.WallClock{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	var errs []error

	tags, terrs := parseTags(args.Tags)
	for _, err := range terrs {
		errs = append(errs, confval.AttrErr(attrTags, err))
	}
	s.noBan = tags.noBan

	base := [numHooks]string{args.Start, args.Stop, args.Check, args.Ban, args.Unban, args.Flush, args.Repair, args.Reban, args.Prolong}
	var over [numFams][numHooks]*string
	seen := map[string]bool{}
	for _, f := range args.Family {
		slot := famSlot(f.Name)
		switch {
		case slot == famNone:
			errs = append(errs, confval.AttrErr(attrFamily, fmt.Errorf("unknown family %q: write family \"inet4\" or family \"inet6\"", f.Name)))
			continue
		case seen[f.Name]:
			errs = append(errs, confval.AttrErr(attrFamily, fmt.Errorf("family %q is declared twice", f.Name)))
			continue
		}
		seen[f.Name] = true
		over[slot] = [numHooks]*string{f.Start, f.Stop, f.Check, f.Ban, f.Unban, f.Flush, f.Repair, f.Reban, f.Prolong}
	}
	s.conditional = len(seen) > 0 || len(tags.byFamily) > 0
	s.onDemand = s.conditional
	if args.StartOnDemand != nil {
		s.onDemand = *args.StartOnDemand
	}

	anySet := false
	// A command that no family overrides is resolved for every family;
	// its problems are reported once.
	reported := map[string]bool{}
	report := func(err error) {
		if !reported[err.Error()] {
			reported[err.Error()] = true
			errs = append(errs, err)
		}
	}
	for h := range numHooks {
		s.set[h] = base[h] != ""
		for slot := range numFams {
			raw, where := base[h], hookNames[h]
			if p := over[slot][h]; p != nil {
				raw, where = *p, fmt.Sprintf("family %q %s", famNames[slot], hookNames[h])
			}
			if raw == "" {
				continue
			}
			anySet = true
			if strings.IndexByte(raw, 0) >= 0 {
				report(confval.AttrErr(hookNames[h], fmt.Errorf("%s holds a NUL byte, which no shell script can carry", where)))
				continue
			}
			cmd, err := tags.resolveStatic(raw, famNames[slot])
			if err != nil {
				report(confval.AttrErr(hookNames[h], fmt.Errorf("%s: %w", where, err)))
				continue
			}
			s.cmds[h][slot] = cmd
			if (h == hStart || h == hStop || h == hFlush) && usesTag(cmd, tagBanTime) && tags.noBan[tagBanTime] == "" {
				report(confval.AttrErr(hookNames[h], fmt.Errorf("%s uses <bantime>, but %s runs without a ban; set tags = { bantime = \"…\" } to the jail's ban time in seconds (fail2ban takes the jail's bantime there)", where, hookNames[h])))
			}
		}
	}
	s.prolongable = strings.TrimSpace(args.Prolong) != ""
	if !anySet {
		errs = append(errs, errors.New("no command is set: give at least ban (and usually unban, start and stop)"))
	}

	limit := args.Timeout
	if limit == "" {
		limit = defaultTimeout
	}
	d, err := confval.ParseDuration(limit, false)
	switch {
	case err != nil:
		errs = append(errs, confval.AttrErr(attrTimeout, err))
	case d == confval.Permanent:
		errs = append(errs, confval.AttrErr(attrTimeout, errors.New("a command timeout must be a finite duration, e.g. \"60s\"")))
	}
	s.timeout = d

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// usesTag reports whether cmd holds <tag>.
func usesTag(cmd, tag string) bool {
	return strings.Contains(cmd, "<"+tag+">")
}

// Stats returns the number of commands run ("commands"), of those that
// failed to start, exited non-zero or timed out ("command_failures"), and
// of the attempts to restore a sane environment after a check failed,
// with repair or by stopping and starting again ("repairs").
func (s *Sink) Stats() map[string]int64 {
	return map[string]int64{
		"commands":         s.commands.Load(),
		"command_failures": s.failures.Load(),
		"repairs":          s.repairs.Load(),
	}
}
