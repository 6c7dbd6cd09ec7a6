package iptables

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Check implements fwsync.Checker: for each group, in both families, the
// sink's chain must be there with its rule (ipset mode) or, when the
// sink wrote ban rules into it (plain mode), with a first rule; every
// configured jump to it must be in the chains it is jumped to from; and
// with ipset, both sets must be there. It asks iptables -C and -S CHAIN 1
// and `ipset list -n`: never a listing of the bans, so it costs the same
// with 20,000 bans as with none.
func (b *backend) Check(ctx context.Context, groups []string) ([]string, error) {
	var missing []string
	gone := map[string]bool{} // ipset sets not there
	if b.ipset {
		out, err := b.run.Run(ctx, "", b.ipsetBin, "list", "-n")
		if err != nil {
			return nil, fmt.Errorf("listing the ipset sets: %w", err)
		}
		names := strings.Split(string(out), "\n")
		for _, g := range groups {
			for fam := range 2 {
				if !slices.Contains(names, setOf(g, fam)) {
					gone[setOf(g, fam)] = true
					missing = append(missing, "ipset set "+setOf(g, fam))
				}
			}
		}
	}
	for fam := range 2 {
		prog := filepath.Base(b.bins[fam])
		for _, g := range groups {
			chain := chainOf(g)
			what, err := b.checkChain(ctx, fam, g, gone)
			if err != nil {
				return nil, err
			}
			if what != "" {
				missing = append(missing, what+" ("+prog+")")
				if what == "chain "+chain {
					// The jumps to it are gone with it.
					continue
				}
			}
			for _, from := range b.cfg.from {
				for _, w := range b.cfg.jumps(g) {
					there, err := b.exists(ctx, fam, append([]string{"-C", from}, strings.Fields(w)...))
					if err != nil {
						return nil, err
					}
					if !there {
						missing = append(missing, "jump from "+from+" to "+chain+" ("+prog+")")
						break
					}
				}
			}
		}
	}
	return missing, nil
}

// checkChain returns what is missing of group g's chain in family fam
// ("" when nothing is): the chain, its rule (ipset mode), or its ban
// rules (plain mode, when the sink wrote some). gone are the ipset sets
// not there: a rule cannot name one, and -C fails otherwise on it.
func (b *backend) checkChain(ctx context.Context, fam int, g string, gone map[string]bool) (string, error) {
	chain := chainOf(g)
	if b.ipset && !gone[setOf(g, fam)] {
		there, err := b.exists(ctx, fam, append([]string{"-C", chain}, strings.Fields(b.cfg.setRule(g, fam))...))
		if err != nil || there {
			return "", err
		}
	}
	// -C says the same of a missing chain and of a missing rule: -S
	// tells them apart.
	out, err := b.run.Run(ctx, "", b.bins[fam], "-w", "-S", chain, "1")
	switch {
	case noSuch(err):
		return "chain " + chain, nil
	case err != nil:
		return "", fmt.Errorf("checking chain %s: %w", chain, err)
	case b.ipset:
		return "rule of chain " + chain, nil
	case len(strings.TrimSpace(string(out))) == 0 && b.rules[g][fam] > 0:
		return "ban rules of chain " + chain, nil
	}
	return "", nil
}

// exists runs iptables of family fam with args (a -C) and reports
// whether the rule is there (see noSuch).
func (b *backend) exists(ctx context.Context, fam int, args []string) (bool, error) {
	_, err := b.run.Run(ctx, "", append([]string{b.bins[fam], "-w"}, args...)...)
	switch {
	case err == nil:
		return true, nil
	case noSuch(err):
		return false, nil
	}
	return false, fmt.Errorf("checking a rule: %w", err)
}

// noSuch reports whether err is iptables saying that a rule or chain is
// not there: exit status 1 ("Bad rule", legacy's "No chain/target/match
// by that name"), or the status 2 of a rule naming a chain that is not
// there (a jump to the sink's chain, deleted meanwhile).
func noSuch(err error) bool {
	var fe *fwrun.Error
	if !errors.As(err, &fe) {
		return false
	}
	return fwrun.ExitCode(err) == 1 || strings.Contains(fe.Stderr, "does not exist") || strings.Contains(fe.Stderr, "Couldn't load target")
}

// countHeld records, in plain mode, how many ban rules each group's
// chain holds per family after Sync found held there, so Check tells a
// chain emptied behind the sink's back from one that holds no ban.
func (b *backend) countHeld(held map[string]map[netip.Prefix]fwsync.Elem) {
	if b.ipset {
		return
	}
	if b.rules == nil {
		b.rules = map[string][2]int{}
	}
	for g, elems := range held {
		var n [2]int
		for p := range elems {
			n[fwsync.Family(p.Addr())]++
		}
		b.rules[g] = n
	}
}

// countOps records, in plain mode, the ban rules of family fam that ops
// added and deleted.
func (b *backend) countOps(fam int, ops []fwsync.Op) {
	if b.ipset || b.rules == nil {
		return
	}
	for _, o := range ops {
		if fwsync.Family(o.Key.Net.Addr()) != fam {
			continue
		}
		n := b.rules[o.Key.Group]
		switch o.Kind {
		case fwsync.Add:
			n[fam]++
		case fwsync.Delete:
			n[fam] = max(n[fam]-1, 0)
		}
		b.rules[o.Key.Group] = n
	}
}

var _ fwsync.Checker = (*backend)(nil)
