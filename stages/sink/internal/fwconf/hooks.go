package fwconf

import (
	"errors"
	"fmt"
	"slices"

	"github.com/zclconf/go-cty/cty"
)

// AttrHook is the attribute that picks where a sink blocks.
const AttrHook = "hook"

// Hooks are the hooks a firewall sink can block at, in the order it sets
// them up: "input" (packets to this host) and "forward" (packets it
// routes: published ports of containers, a router's clients).
var Hooks = []string{"input", "forward"}

// ParseHooks reads the hook attribute: "input" or "forward", or a list
// of them; unset is "input". The hooks come in the order of Hooks, each
// once; names are taken whatever their case and surrounding spaces.
func ParseHooks(v cty.Value) ([]string, error) {
	if v == cty.NilVal || v.IsNull() {
		return []string{"input"}, nil
	}
	const choices = `"input", "forward", or both: ["input", "forward"]`
	names, err := stringList(v, "want "+choices)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("the list is empty; use " + choices)
	}
	var hooks []string
	for _, n := range names {
		if !slices.Contains(Hooks, n) {
			return nil, fmt.Errorf("unknown hook %q; use %s", n, choices)
		}
		hooks = append(hooks, n)
	}
	return slices.DeleteFunc(slices.Clone(Hooks), func(h string) bool { return !slices.Contains(hooks, h) }), nil
}
