package iptables

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// backend is the fwsync.Backend of one Run: ipset sets and iptables
// chains, or iptables chains alone.
type backend struct {
	cfg      *config
	logger   *slog.Logger
	run      *fwrun.Runner
	ipset    bool
	bins     [2]string // the iptables programs of each family
	ipsetBin string

	// rules are, in plain mode, the ban rules each group's chain holds
	// per family as far as the sink knows (for Check); only the driver's
	// goroutines use them, one at a time.
	rules map[string][2]int
}

// table is what iptables-save says of the filter table of one family.
type table struct {
	chains map[string]bool
	rules  map[string][]string // rule specs by chain, as after "-A CHAIN "
}

// save reads the filter table of family fam.
func (b *backend) save(ctx context.Context, fam int) (*table, error) {
	out, err := b.run.Run(ctx, "", b.bins[fam]+"-save", "-t", "filter")
	if err != nil {
		return nil, err
	}
	t := &table{chains: map[string]bool{}, rules: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			t.chains[name] = true
		case strings.HasPrefix(line, "-A "):
			chain, spec, _ := strings.Cut(line[3:], " ")
			t.rules[chain] = append(t.rules[chain], spec)
		}
	}
	return t, sc.Err()
}

// restore applies an iptables-restore script to family fam without
// flushing anything it does not name; the script is one transaction.
func (b *backend) restore(ctx context.Context, fam int, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	var sb strings.Builder
	sb.WriteString("*filter\n")
	for _, l := range lines {
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	sb.WriteString("COMMIT\n")
	_, err := b.run.Run(ctx, sb.String(), b.bins[fam]+"-restore", "-w", "--noflush")
	return err
}

// check reports whether the rule spec is in chain (iptables -C).
func (b *backend) check(ctx context.Context, fam int, chain, spec string) bool {
	args := append([]string{b.bins[fam], "-w", "-C", chain}, strings.Fields(spec)...)
	_, err := b.run.Run(ctx, "", args...)
	return err == nil
}

// setInfo is one ipset set as `ipset save` lists it.
type setInfo struct {
	typ, family string
	timeout     bool
	elems       map[netip.Prefix]fwsync.Elem
}

// ipsetSave reads every set through `ipset save`, keeping the elements
// of the sets named in want only.
func (b *backend) ipsetSave(ctx context.Context, want map[string]bool) (map[string]*setInfo, error) {
	out, err := b.run.Run(ctx, "", b.ipsetBin, "save")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sets := map[string]*setInfo{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		switch f[0] {
		case "create":
			si := &setInfo{typ: f[2], family: "inet", elems: map[netip.Prefix]fwsync.Elem{}}
			for i := 3; i < len(f); i++ {
				switch f[i] {
				case "family":
					if i+1 < len(f) {
						si.family = f[i+1]
					}
				case "timeout":
					si.timeout = true
				}
			}
			sets[f[1]] = si
		case "add":
			si := sets[f[1]]
			if si == nil || !want[f[1]] {
				continue
			}
			p, ok := fwsync.ParseNet(f[2])
			if !ok {
				continue
			}
			e := fwsync.Elem{Approx: true}
			if len(f) >= 5 && f[3] == "timeout" {
				if n, err := strconv.ParseInt(f[4], 10, 64); err == nil && n > 0 {
					e.End = now.Add(time.Duration(n) * time.Second)
				}
			}
			si.elems[p] = e
		}
	}
	return sets, sc.Err()
}

// ipsetRestore runs an `ipset restore -exist` script.
func (b *backend) ipsetRestore(ctx context.Context, script string) error {
	if script == "" {
		return nil
	}
	_, err := b.run.Run(ctx, script, b.ipsetBin, "restore", "-exist")
	return err
}

// familyName is ipset's name of family fam.
func familyName(fam int) string {
	if fam == famV6 {
		return "inet6"
	}
	return "inet"
}

// Sync implements fwsync.Backend: it creates the sets, chains and jumps
// of groups that are missing (checking each jump with iptables -C first),
// repairs those not as configured, and returns the elements the sets (or
// the chains' rules) hold.
func (b *backend) Sync(ctx context.Context, groups []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	groups = slices.Sorted(slices.Values(groups))
	held := make(map[string]map[netip.Prefix]fwsync.Elem, len(groups))
	for _, g := range groups {
		held[g] = map[netip.Prefix]fwsync.Elem{}
	}
	var tables [2]*table
	for fam := range tables {
		t, err := b.save(ctx, fam)
		if err != nil {
			return nil, fmt.Errorf("reading the filter table: %w", err)
		}
		tables[fam] = t
	}
	var lines [2][]string
	if b.ipset {
		if err := b.syncSets(ctx, groups, &tables, held); err != nil {
			return nil, err
		}
	}
	for fam := range tables {
		t := tables[fam]
		for _, g := range groups {
			chain := chainOf(g)
			if b.ipset {
				want := []string{b.cfg.setRule(g, fam)}
				if !t.chains[chain] || !slices.Equal(t.rules[chain], want) {
					// Declaring the chain flushes it: the new rule replaces
					// the old ones in one transaction.
					lines[fam] = append(lines[fam], ":"+chain+" - [0:0]", "-A "+chain+" "+want[0])
				}
			} else if !t.chains[chain] {
				lines[fam] = append(lines[fam], ":"+chain+" - [0:0]")
			} else {
				lines[fam] = append(lines[fam], b.readRules(g, fam, t.rules[chain], held[g])...)
			}
			lines[fam] = append(lines[fam], b.syncJumps(ctx, fam, g, t)...)
		}
	}
	for fam := range lines {
		if err := b.restore(ctx, fam, lines[fam]); err != nil {
			return nil, fmt.Errorf("setting up the chains: %w", err)
		}
	}
	b.countHeld(held)
	return held, nil
}

// syncSets creates the sets of groups that are missing, replaces those of
// another type, and puts the elements of the others in held.
func (b *backend) syncSets(ctx context.Context, groups []string, tables *[2]*table, held map[string]map[netip.Prefix]fwsync.Elem) error {
	want := map[string]bool{}
	for _, g := range groups {
		want[setOf(g, famV4)], want[setOf(g, famV6)] = true, true
	}
	sets, err := b.ipsetSave(ctx, want)
	if err != nil {
		return fmt.Errorf("reading the ipset sets: %w", err)
	}
	var create, destroy strings.Builder
	var flush [2][]string
	for _, g := range groups {
		for fam := range 2 {
			name := setOf(g, fam)
			si := sets[name]
			if si != nil && (si.typ != b.cfg.setType(fam) || si.family != familyName(fam) || !si.timeout) {
				b.logger.Warn("replacing a set that is not of the configured type", "set", name, "type", si.typ, "family", si.family, "timeout", si.timeout)
				// The chain refers to the set: it is flushed first (and
				// filled again by Sync).
				chain := chainOf(g)
				for f := range 2 {
					if tables[f].chains[chain] && !slices.Contains(flush[f], ":"+chain+" - [0:0]") {
						flush[f] = append(flush[f], ":"+chain+" - [0:0]")
						tables[f].rules[chain] = nil
					}
				}
				destroy.WriteString("destroy " + name + "\n")
				si = nil
			}
			if si == nil {
				fmt.Fprintf(&create, "create %s %s family %s timeout 0 maxelem %d\n", name, b.cfg.setType(fam), familyName(fam), ipsetMaxElem)
				continue
			}
			for n, e := range si.elems {
				held[g][n] = e
			}
		}
	}
	for fam := range flush {
		if err := b.restore(ctx, fam, flush[fam]); err != nil {
			return fmt.Errorf("flushing a chain to replace its set: %w", err)
		}
	}
	if err := b.ipsetRestore(ctx, destroy.String()); err != nil {
		return fmt.Errorf("removing a set of another type: %w", err)
	}
	if err := b.ipsetRestore(ctx, create.String()); err != nil {
		return fmt.Errorf("creating the sets: %w", err)
	}
	return nil
}

// readRules puts the bans of a group's chain (plain mode) in held and
// returns the deletions of its rules that are not bans as the sink writes
// them (another block type, a duplicate, anything else).
func (b *backend) readRules(g string, fam int, rules []string, held map[netip.Prefix]fwsync.Elem) []string {
	chain := chainOf(g)
	proto, target := b.cfg.verdict(fam)
	suffix := " " + proto + target
	var del []string
	for _, r := range rules {
		src, ok := strings.CutPrefix(r, "-s ")
		var p netip.Prefix
		if ok {
			var rest string
			src, rest, _ = strings.Cut(src, " ")
			p, ok = fwsync.ParseNet(src)
			ok = ok && " "+rest == suffix
		}
		if _, dup := held[p]; !ok || dup || p.Addr().Is4() != (fam == famV4) {
			del = append(del, "-D "+chain+" "+r)
			continue
		}
		held[p] = fwsync.Elem{}
	}
	return del
}

// syncJumps returns the insertions of the jumps to a group's chain that
// the chains it is jumped to from lack (checked with iptables -C), and
// the deletions of jumps to it that are not configured ones, in those
// chains and in the hooks' chains not configured.
func (b *backend) syncJumps(ctx context.Context, fam int, g string, t *table) []string {
	var out []string
	for _, from := range b.cfg.from {
		out = append(out, b.syncJumpsFrom(ctx, fam, g, from, t)...)
	}
	for _, from := range b.cfg.stale {
		if del := jumpsTo(t, from, chainOf(g)); len(del) > 0 {
			b.logger.Info("removing the jumps of a hook no longer configured", "chain", from, "to", chainOf(g), "family", familyName(fam))
			out = append(out, del...)
		}
	}
	return out
}

// syncJumpsFrom does syncJumps' work for chain from, one of those that
// jump to the group's chain.
func (b *backend) syncJumpsFrom(ctx context.Context, fam int, g, from string, t *table) []string {
	chain := chainOf(g)
	want := b.cfg.jumps(g)
	have := t.rules[from]
	var out []string
	allSeen := true
	for _, w := range want {
		if slices.Contains(have, w) {
			continue
		}
		// Not listed as the sink writes it: ask iptables itself.
		switch {
		case !t.chains[chain] || !b.check(ctx, fam, from, w):
			out = append(out, "-I "+from+" 1 "+w)
		default:
			// There, but listed otherwise than the sink writes it.
			allSeen = false
		}
	}
	// Jumps to the sink's chain that are not configured (another port
	// list before a restart) go; only when every configured jump that is
	// there was listed as the sink writes it, so a listing written
	// otherwise never deletes one.
	if allSeen {
		for _, d := range jumpsTo(t, from, chain) {
			if !slices.Contains(want, strings.TrimPrefix(d, "-D "+from+" ")) {
				out = append(out, d)
			}
		}
	}
	return out
}

// jumpsTo returns the deletions of the rules of chain from that jump to
// chain, as the listing t has them.
func jumpsTo(t *table, from, chain string) []string {
	var out []string
	for _, h := range t.rules[from] {
		if strings.HasSuffix(h, " -j "+chain) || h == "-j "+chain {
			out = append(out, "-D "+from+" "+h)
		}
	}
	return out
}

// Apply implements fwsync.Backend: one `ipset restore -exist` for the
// batch, or one iptables-restore per family in plain mode.
func (b *backend) Apply(ctx context.Context, ops []fwsync.Op) error {
	if b.ipset {
		return b.ipsetRestore(ctx, b.ipsetScript(ops, time.Now()))
	}
	var lines [2][]string
	for _, o := range ops {
		fam := fwsync.Family(o.Key.Net.Addr())
		rule := chainOf(o.Key.Group) + " " + b.cfg.banRule(o.Key.Net, fam)
		switch o.Kind {
		case fwsync.Add:
			lines[fam] = append(lines[fam], "-A "+rule)
		case fwsync.Delete:
			lines[fam] = append(lines[fam], "-D "+rule)
		}
	}
	for fam := range lines {
		if err := b.restore(ctx, fam, lines[fam]); err != nil {
			return err
		}
		b.countOps(fam, ops)
	}
	return nil
}

// ipsetScript writes ops as `ipset restore -exist` reads them: an add (of
// an element that is there: a new timeout) or a del.
func (b *backend) ipsetScript(ops []fwsync.Op, now time.Time) string {
	var sb strings.Builder
	for _, o := range ops {
		set := setOf(o.Key.Group, fwsync.Family(o.Key.Net.Addr()))
		if o.Kind == fwsync.Delete {
			sb.WriteString("del " + set + " " + fwsync.NetText(o.Key.Net) + "\n")
			continue
		}
		secs := int64(0)
		if !o.End.IsZero() {
			secs = max(int64((o.End.Sub(now)+time.Second-1)/time.Second), 1)
			secs = min(secs, ipsetMaxTimeout)
		}
		sb.WriteString("add " + set + " " + fwsync.NetText(o.Key.Net) + " timeout " + strconv.FormatInt(secs, 10) + "\n")
	}
	return sb.String()
}

// timeout is the end ipset holds for an element wanted until end: none
// past the longest timeout ipset takes.
func timeout(end, now time.Time) time.Time {
	if end.IsZero() || end.Sub(now) > ipsetMaxTimeout*time.Second {
		return time.Time{}
	}
	return end
}

// Teardown implements fwsync.Backend: the jumps to the groups' chains
// (from the configured chains and the hooks' others alike), the chains,
// then the sets go.
func (b *backend) Teardown(ctx context.Context, groups []string) error {
	for fam := range 2 {
		t, err := b.save(ctx, fam)
		if err != nil {
			return err
		}
		var lines []string
		for _, g := range slices.Sorted(slices.Values(groups)) {
			chain := chainOf(g)
			for _, from := range slices.Concat(b.cfg.from, b.cfg.stale) {
				lines = append(lines, jumpsTo(t, from, chain)...)
			}
			if t.chains[chain] {
				lines = append(lines, "-F "+chain, "-X "+chain)
			}
		}
		if err := b.restore(ctx, fam, lines); err != nil {
			return err
		}
	}
	if !b.ipset {
		return nil
	}
	sets, err := b.ipsetSave(ctx, nil)
	if err != nil {
		return err
	}
	var sb strings.Builder
	for _, g := range slices.Sorted(slices.Values(groups)) {
		for fam := range 2 {
			if sets[setOf(g, fam)] != nil {
				sb.WriteString("destroy " + setOf(g, fam) + "\n")
			}
		}
	}
	return b.ipsetRestore(ctx, sb.String())
}
