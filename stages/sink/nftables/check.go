package nftables

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
)

// Check implements fwsync.Checker: the table must be there, each
// configured chain in it, and in each chain a rule for both sets of every
// group. It lists the inet tables' names and each chain with its rules,
// never the sets' elements, so it costs the same with 20,000 bans as
// with none. A set cannot go while a rule refers to it, so the rules
// stand for the sets.
func (b *backend) Check(ctx context.Context, groups []string) ([]string, error) {
	if b.pending != "" {
		// Sets and rules declared for the next batch are not in the
		// kernel yet; if that batch fails, the driver resyncs anyway.
		return nil, nil
	}
	out, err := b.run.Run(ctx, "", b.nft, "list", "tables", "inet")
	if err != nil {
		return nil, fmt.Errorf("listing the inet tables: %w", err)
	}
	if !slices.Contains(strings.Split(string(out), "\n"), "table inet "+b.cfg.table) {
		return []string{"table inet " + b.cfg.table}, nil
	}
	var missing []string
	for _, hc := range b.cfg.chains {
		refs, ok, err := listChain(ctx, b.run, b.nft, b.cfg.table, hc.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, "chain inet "+b.cfg.table+" "+hc.name)
			continue
		}
		for _, g := range groups {
			for _, suf := range famSuffix {
				if !refs[g+suf] {
					missing = append(missing, "rule for @"+g+suf+" in chain "+hc.name)
				}
			}
		}
	}
	return missing, nil
}

// listChain reads one chain of table (family inet) with its rules and
// returns the sets the rules refer to; ok is false when the chain (or
// the table) is not there.
func listChain(ctx context.Context, run *fwrun.Runner, nft, table, chain string) (refs map[string]bool, ok bool, err error) {
	out, err := run.Run(ctx, "", nft, "-j", "list", "chain", "inet", table, chain)
	if err != nil {
		var fe *fwrun.Error
		if errors.As(err, &fe) && strings.Contains(fe.Stderr, "No such file or directory") {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("reading chain inet %s %s: %w", table, chain, err)
	}
	var l jsonList
	if err := json.Unmarshal(out, &l); err != nil {
		return nil, false, fmt.Errorf("reading chain inet %s %s: nft's JSON output: %w", table, chain, err)
	}
	refs = map[string]bool{}
	for _, item := range l.Nftables {
		switch {
		case item["chain"] != nil:
			ok = true
		case item["rule"] != nil:
			var jr jsonRule
			if err := json.Unmarshal(item["rule"], &jr); err != nil {
				return nil, false, fmt.Errorf("reading chain inet %s %s: rule in nft's JSON output: %w", table, chain, err)
			}
			for _, name := range setRefs(jr.Expr) {
				refs[name] = true
			}
		}
	}
	return refs, ok, nil
}
