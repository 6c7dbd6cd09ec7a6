package command

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// Bits of a family's state, as fail2ban's CommandAction.__started keeps
// them.
const (
	famStarted  uint8 = 1 // start ran (or was not needed)
	famHasItems uint8 = 2 // a ban of the family is in force
)

// famState is the state of one family; the empty family stands for a
// start that is not per family.
type famState struct {
	fam  string
	bits uint8
}

// banKey identifies a ban in force: one host in one jail.
type banKey struct{ jail, host string }

// heldBan is a ban in force, as the sink last heard of it.
type heldBan struct {
	seq uint64 // order of the first ban
	key banKey
	a   engine.Action
}

// jailStat are the counts behind the <jail.*> tags of one jail.
type jailStat struct {
	banned, bannedTotal, found, foundTotal int
}

// runner is the state of one Run: fail2ban's started families and
// executed operations, the bans in force and the jail counts.
type runner struct {
	s   *Sink
	ctx context.Context

	// ops are the commands with their built-in tags resolved.
	ops    [numHooks][numFams]string
	fq, sh string

	started  []famState                  // in the order families were first started
	executed [numHooks]map[string]string // hook -> family -> command run

	held     map[banKey]*heldBan
	seq      uint64
	jails    map[string]*jailStat
	lastTime time.Time

	// restored lists the families whose environment was restored (by
	// repair or by stop and start) while handling the current action;
	// their bans in force are put back afterwards.
	restored []string
	rebaning bool
}

// newRunner prepares a Run: it reads the host name and resolves the
// built-in tags of every command.
func (s *Sink) newRunner(ctx context.Context) *runner {
	r := &runner{s: s, ctx: ctx, held: map[banKey]*heldBan{}, jails: map[string]*jailStat{}}
	for h := range numHooks {
		r.executed[h] = map[string]string{}
	}
	if name, err := s.hostname(); err != nil {
		s.logger.Warn("cannot read the host name for <fq-hostname> and <sh-hostname>", "err", err)
	} else {
		r.fq = name
		r.sh, _, _ = strings.Cut(name, ".")
	}
	for h := range numHooks {
		for f := range numFams {
			r.ops[h][f] = builtinTags(s.cmds[h][f], r.builtin)
		}
	}
	return r
}

// builtin returns the value of a built-in tag.
func (r *runner) builtin(tag string) (string, bool) {
	switch tag {
	case tagBr:
		return "\n", true
	case tagSp:
		return " ", true
	case tagFQHostname:
		return r.fq, true
	case tagSHHostname:
		return r.sh, true
	}
	return "", false
}

// Run implements engine.Stage. It starts the action (unless on demand),
// runs the commands of every action in the order the actions arrive, one
// at a time, and when in is closed flushes (or unbans every ban still in
// force) and stops every started family. Failing commands are logged and
// counted; the sink goes on.
//
// NOTE: Run never writes to out. When ctx is cancelled (the engine's hard
// stop) the running command is killed and Run returns without reading the
// rest of in; flush and stop still run, on a context detached from ctx and
// bounded by the timeout, but the single unbans of an action without
// flush are skipped.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	r := s.newRunner(ctx)
	if !r.start(nil, false) {
		s.logger.Error("start failed")
	}
	for {
		if ctx.Err() != nil {
			r.teardown(ctx, true)
			return fmt.Errorf("stopped before its input ended: %w", context.Cause(ctx))
		}
		select {
		case ev, ok := <-in:
			if !ok {
				r.teardown(ctx, false)
				return nil
			}
			r.handle(ev)
		case <-ctx.Done():
		}
	}
}

// handle runs the commands of one event.
func (r *runner) handle(ev engine.Event) {
	a := ev.Action
	if ev.Kind != engine.KindAction || a == nil {
		return
	}
	if t := sinkfmt.EventTime(ev); !t.IsZero() {
		r.lastTime = t
	}
	key := banKey{jail: a.Jail, host: sinkfmt.Host(a)}
	js := r.jail(a.Jail)
	switch a.Type {
	case engine.Ban:
		if h, ok := r.held[key]; ok {
			// Already in force: put it in force again, as fail2ban
			// re-bans a ticket it finds already banned.
			js.found += a.Failures - h.a.Failures
			js.foundTotal += a.Failures
			h.a = *a
			if r.s.noRestored && a.Restored {
				break
			}
			r.ban(r.ticket(&h.a), r.rebanHook())
			break
		}
		r.seq++
		h := &heldBan{seq: r.seq, key: key, a: *a}
		r.held[key] = h
		js.banned++
		js.bannedTotal++
		js.found += a.Failures
		js.foundTotal += a.Failures
		if r.s.noRestored && a.Restored {
			break
		}
		r.ban(r.ticket(&h.a), hBan)
	case engine.Prolong:
		merged := *a
		if h, ok := r.held[key]; ok {
			merged = merge(*a, &h.a)
			js.found += merged.Failures - h.a.Failures
			h.a = merged
		}
		if r.s.noRestored && merged.Restored || !r.s.prolongable {
			break
		}
		t := r.ticket(&merged)
		if !r.processCmd(hProlong, t) {
			r.s.logger.Error("prolong failed", "jail", a.Jail, "host", key.host)
		}
	case engine.Unban:
		merged := *a
		if h, ok := r.held[key]; ok {
			merged = merge(*a, &h.a)
			delete(r.held, key)
			js.banned--
			js.found -= h.a.Failures
		}
		r.unban(r.ticket(&merged))
	}
	r.rebanRestored(key)
}

// merge fills what a lacks (an unban or prolong carries less than the ban)
// from the ban in force h.
func merge(a engine.Action, h *engine.Action) engine.Action {
	if a.Matches == nil {
		a.Matches = h.Matches
	}
	if a.Fields == nil {
		a.Fields = h.Fields
	}
	if a.Failures == 0 {
		a.Failures = h.Failures
	}
	if a.BanTime == 0 {
		a.BanTime = h.BanTime
	}
	if a.Start.IsZero() {
		a.Start = h.Start
	}
	if a.End.IsZero() {
		a.End = h.End
	}
	if a.BanCount == 0 {
		a.BanCount = h.BanCount
	}
	if a.HostText == "" {
		a.HostText = h.HostText
	}
	a.Restored = a.Restored || h.Restored
	return a
}

// ticket returns the tag values of ban a. Its <time> is the start of the
// ban (fail2ban's ticket time).
func (r *runner) ticket(a *engine.Action) *ticket {
	at := a.Start
	if at.IsZero() {
		at = r.lastTime
	}
	return &ticket{r: r, a: a, family: familyOf(a.Host), at: at}
}

// noTicket returns the tag values of a command that runs without a ban
// for family fam. Its <time> is now: the clock's time, or in a replay the
// time of the last action.
func (r *runner) noTicket(fam string) *ticket {
	at := r.s.clock.Now()
	if at.IsZero() {
		at = r.lastTime
	}
	if at.IsZero() {
		at = r.s.now()
	}
	return &ticket{r: r, family: fam, at: at}
}

// jail returns the counts of jail name.
func (r *runner) jail(name string) *jailStat {
	js := r.jails[name]
	if js == nil {
		js = &jailStat{}
		r.jails[name] = js
	}
	return js
}

// jailTag returns a <jail.*> count of jail name, or with name "" the sum
// over every jail the sink serves (or of the jail that tags names with
// jail.name).
func (r *runner) jailTag(name, tag string) (string, bool) {
	var sum jailStat
	if name == "" {
		name = r.s.noBan[tagJailName]
	}
	for n, js := range r.jails {
		if name == "" || n == name {
			sum.banned += js.banned
			sum.bannedTotal += js.bannedTotal
			sum.found += js.found
			sum.foundTotal += js.foundTotal
		}
	}
	switch tag {
	case tagJailBanned:
		return strconv.Itoa(sum.banned), true
	case tagJailBannedTot:
		return strconv.Itoa(sum.bannedTotal), true
	case tagJailFound:
		return strconv.Itoa(sum.found), true
	case tagJailFoundTotal:
		return strconv.Itoa(sum.foundTotal), true
	}
	return "", false
}

// heldInOrder returns the bans in force in the order they began.
func (r *runner) heldInOrder() []*heldBan {
	out := make([]*heldBan, 0, len(r.held))
	for _, h := range r.held {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *heldBan) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// bits returns the state of family fam and whether it has one.
func (r *runner) bits(fam string) (uint8, bool) {
	for _, f := range r.started {
		if f.fam == fam {
			return f.bits, true
		}
	}
	return 0, false
}

// setBits sets the state of family fam.
func (r *runner) setBits(fam string, bits uint8) {
	for i := range r.started {
		if r.started[i].fam == fam {
			r.started[i].bits = bits
			return
		}
	}
	r.started = append(r.started, famState{fam: fam, bits: bits})
}

// families are the families a start that is not on demand covers:
// inet4 and inet6 for a family-dependent action, else the empty family.
func (r *runner) families() []string {
	if r.s.conditional {
		return []string{familyInet4, familyInet6}
	}
	return []string{""}
}

// opText is the command of hook h for family fam before the values of a
// ban are put in (fail2ban's _getOperation): <family> is replaced, and
// with it every <F-NAME> disappears, as in fail2ban.
func (r *runner) opText(h hook, fam string) string {
	t := r.ops[h][famSlot(fam)]
	if fam == "" || !strings.Contains(t, "<") {
		return t
	}
	only := func(tag string) (string, bool) {
		if tag == tagFamily {
			return fam, true
		}
		return "", false
	}
	return replaceDynamic(t, only, nil, r.builtin).text
}

// ranElsewhere reports whether cmd was run as hook h for a family other
// than fam (fail2ban runs a command shared by both families once).
func (r *runner) ranElsewhere(h hook, fam, cmd string) bool {
	for f, c := range r.executed[h] {
		if f != fam && c == cmd {
			return true
		}
	}
	return false
}

// forget removes the record of hook h run for fam, and of every family
// that ran the same command (fail2ban's _operationExecuted with None).
func (r *runner) forget(h hook, fam string) {
	cmd, ok := r.executed[h][fam]
	if !ok {
		return
	}
	for f, c := range r.executed[h] {
		if c == cmd {
			delete(r.executed[h], f)
		}
	}
}

// operation runs hook h (start, stop or flush) for each family in fams,
// without a ban (fail2ban's _executeOperation). after is told of each
// family's outcome. It reports whether every command succeeded.
func (r *runner) operation(h hook, fams []string, after func(fam string, ok bool)) bool {
	all := true
	for _, fam := range fams {
		cmd := r.opText(h, fam)
		ok := true
		if cmd != "" && !r.ranElsewhere(h, fam, cmd) {
			t := r.noTicket(fam)
			ok = r.run(h, fam, t, replaceDynamic(cmd, t.lookup, t.field, r.builtin))
			all = all && ok
		}
		if after != nil {
			after(fam, ok)
		}
		if ok && cmd != "" {
			r.executed[h][fam] = cmd
		} else {
			r.forget(h, fam)
		}
	}
	return all
}

// run runs one script; an empty one succeeds without running.
func (r *runner) run(h hook, fam string, t *ticket, sc script) bool {
	if sc.text == "" {
		return true
	}
	return r.s.exec(r, h, fam, t, sc)
}

// start runs start (fail2ban's _start): for fam, or with fam nil for
// every family of a start that is not on demand. On demand, only a forced
// start runs.
func (r *runner) start(fam *string, force bool) bool {
	if r.s.onDemand {
		if !force {
			return true
		}
	} else if !force && fam != nil {
		if b, _ := r.bits(*fam); b != 0 {
			return true
		}
	}
	fams := r.families()
	if fam != nil {
		fams = []string{*fam}
	}
	return r.operation(hStart, fams, func(f string, ok bool) {
		if ok {
			r.forget(hStop, f)
			r.setBits(f, famStarted)
		}
	})
}

// stop runs stop (fail2ban's _stop): for fam, or with fam nil for every
// started family, forgetting them all.
func (r *runner) stop(fam *string) bool {
	var fams []string
	if fam == nil {
		for _, f := range r.started {
			if f.bits != 0 {
				fams = append(fams, f.fam)
			}
		}
		if len(fams) == 0 {
			return true
		}
		r.started = nil
	} else {
		if _, ok := r.bits(*fam); !ok {
			return true
		}
		r.setBits(*fam, 0)
		fams = []string{*fam}
	}
	return r.operation(hStop, fams, func(f string, ok bool) {
		if ok {
			r.forget(hStart, f)
		}
	})
}

// rebanHook is the hook that puts a ban in force again.
func (r *runner) rebanHook() hook {
	if r.s.set[hReban] {
		return hReban
	}
	return hBan
}

// ban runs ban (or reban) for t, starting its family first when on
// demand (fail2ban's ban).
func (r *runner) ban(t *ticket, h hook) bool {
	fam := t.family
	if r.s.onDemand {
		if b, _ := r.bits(fam); b == 0 && !r.start(&fam, true) {
			r.s.logger.Error("start failed; ban not run", "family", fam, "jail", t.a.Jail, "host", sinkfmt.Host(t.a))
			return false
		}
	}
	if !r.processCmd(h, t) {
		r.s.logger.Error(h.String()+" failed", "jail", t.a.Jail, "host", sinkfmt.Host(t.a))
		return false
	}
	b, _ := r.bits(fam)
	r.setBits(fam, b|famStarted|famHasItems)
	return true
}

// unban runs unban for t if its family holds bans (fail2ban's unban).
func (r *runner) unban(t *ticket) bool {
	if b, _ := r.bits(t.family); b&famHasItems == 0 {
		return true
	}
	if !r.processCmd(hUnban, t) {
		r.s.logger.Error("unban failed", "jail", t.a.Jail, "host", sinkfmt.Host(t.a))
		return false
	}
	return true
}

// flush runs flush for every family that holds bans (fail2ban's flush).
func (r *runner) flush() bool {
	var fams []string
	for _, f := range r.started {
		if f.bits&(famStarted|famHasItems) == famStarted|famHasItems {
			fams = append(fams, f.fam)
		}
	}
	if len(fams) == 0 {
		return true
	}
	return r.operation(hFlush, fams, func(f string, ok bool) {
		if b, _ := r.bits(f); ok && b != 0 {
			r.setBits(f, b&^famHasItems)
		}
	})
}

// processCmd runs hook h for ban t; when it fails, it checks the
// environment, restores it when the check fails, and runs the command once
// more (fail2ban's _processCmd).
func (r *runner) processCmd(h hook, t *ticket) bool {
	fam := t.family
	for rep := 0; ; rep++ {
		if rep > 0 && r.s.set[hCheck] {
			before := func() bool {
				if h == hUnban && !r.s.repairOnUnban {
					r.s.logger.Error("check failed; the unban is impossible", "family", fam)
					return false
				}
				return true
			}
			if r.check(fam, before, h != hUnban) != 1 {
				return false
			}
		}
		ok := r.run(h, fam, t, replaceDynamic(r.ops[h][famSlot(fam)], t.lookup, t.field, r.builtin))
		if ok || rep > 0 {
			return ok
		}
	}
}

// check runs check for fam and, when it fails, repair, or stop and start
// (fail2ban's _invariantCheck). It returns 1 when the environment is sane
// (again), 0 when it could not be restored and -1 when before refused to
// restore it.
func (r *runner) check(fam string, before func() bool, force bool) int {
	if !force {
		if _, ok := r.bits(fam); !ok {
			return 1
		}
	}
	checkCmd := r.opText(hCheck, fam)
	if checkCmd == "" || r.run(hCheck, fam, nil, script{text: checkCmd}) {
		return 1
	}
	if before != nil && !before() {
		return -1
	}
	r.s.logger.Error("check failed; restoring a sane environment", "family", fam)
	r.s.repairs.Add(1)
	if repairCmd := r.opText(hRepair, fam); repairCmd != "" {
		if !r.run(hRepair, fam, nil, script{text: repairCmd}) {
			r.setBits(fam, 0)
			r.s.logger.Error("repair failed; unable to restore the environment", "family", fam)
			return 0
		}
		r.setBits(fam, famStarted)
	} else {
		r.stop(&fam)
		// NOTE: fail2ban 1.0.2 skips this start when the same command
		// already ran for another family (the empty family of a start
		// that is not per family, always): the family would stay
		// stopped. Here it always runs.
		if cmd := r.opText(hStart, fam); cmd != "" {
			for f, c := range r.executed[hStart] {
				if c == cmd {
					delete(r.executed[hStart], f)
				}
			}
		}
		if !r.start(&fam, force || !r.s.onDemand) {
			r.s.logger.Error("start failed; unable to restore the environment", "family", fam)
			return 0
		}
	}
	if b, _ := r.bits(fam); b != 0 && !r.run(hCheck, fam, nil, script{text: checkCmd}) {
		r.s.logger.Error("check still fails; unable to restore the environment", "family", fam)
		return 0
	}
	r.restored = append(r.restored, fam)
	return 1
}

// consistencyCheck checks every started family after a flush failed and
// forgets those that could not be restored (fail2ban's consistencyCheck).
func (r *runner) consistencyCheck(before func() bool) {
	if !r.s.set[hCheck] {
		return
	}
	for _, f := range slices.Clone(r.started) {
		if f.bits != 0 && r.check(f.fam, before, true) == 0 {
			r.setBits(f.fam, 0)
			r.forget(hStart, f.fam)
		}
	}
}

// rebanRestored puts the bans in force again whose environment was
// restored while handling the action of key (not that one: its command
// was retried). This stands for fail2ban's ban epoch, which re-bans such
// tickets when they are seen again.
func (r *runner) rebanRestored(current banKey) {
	if len(r.restored) == 0 || r.rebaning {
		return
	}
	fams := r.restored
	r.rebaning = true
	defer func() { r.rebaning, r.restored = false, nil }()
	perFamily := r.s.conditional || r.s.onDemand
	for _, h := range r.heldInOrder() {
		if h.key == current || r.s.noRestored && h.a.Restored {
			continue
		}
		fam := familyOf(h.a.Host)
		if perFamily && !r.sharesStart(fams, fam) {
			continue
		}
		r.ban(r.ticket(&h.a), r.rebanHook())
	}
}

// sharesStart reports whether fam is one of fams or shares its start
// command with one of them.
func (r *runner) sharesStart(fams []string, fam string) bool {
	for _, f := range fams {
		if f == fam || r.opText(hStart, f) == r.opText(hStart, fam) {
			return true
		}
	}
	return false
}

// teardown ends a Run: flush (or one unban per ban still in force), then
// stop for every started family. It runs on a context detached from ctx;
// after a hard stop (hard) the single unbans are skipped.
func (r *runner) teardown(ctx context.Context, hard bool) {
	r.ctx = context.WithoutCancel(ctx)
	held := r.heldInOrder()
	// As fail2ban's flushBanList: the ban list is empty while the
	// commands run.
	r.held = map[banKey]*heldBan{}
	for _, js := range r.jails {
		js.banned, js.found = 0, 0
	}
	if r.s.set[hFlush] {
		if !r.flush() {
			r.s.logger.Error("flush failed; checking the environment")
			r.consistencyCheck(func() bool {
				if !r.s.repairOnUnban {
					r.s.logger.Error("check failed; the flush is impossible")
					return false
				}
				return true
			})
		}
	} else {
		for _, h := range held {
			if hard || ctx.Err() != nil {
				break
			}
			r.unban(r.ticket(&h.a))
		}
	}
	r.restored = nil
	if !r.stop(nil) {
		r.s.logger.Error("stop failed")
	}
}
