package nftables

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// CheckEnv reports whether the nft binary that sink "nftables" runs is
// installed (for `f2b validate --check-env`).
func CheckEnv() error {
	_, err := findNft("nft")
	return err
}

// CheckEnv implements engine.EnvChecker: nft must be installed.
func (s *Sink) CheckEnv() error { return CheckEnv() }

// findNft returns the path of the program name, looked up in PATH, then
// in the sbin directories (nft lives in sbin, which a service's PATH may
// lack).
func findNft(name string) (string, error) {
	p, err := lookpath.Find(name)
	if err != nil {
		return "", fmt.Errorf("sink %q needs the %s program (package nftables): %w", typeName, name, err)
	}
	return p, nil
}

// snapshot is what the kernel holds of the sink's table.
type snapshot struct {
	exists bool
	owned  map[string]bool      // set bases the sink's chains refer to
	sets   map[string]*setInfo  // every set of the table, by name
	others int                  // chains and sets of the table that are not the sink's
	read   time.Time            // when it was read, for the element ends
	chains map[string]chainInfo // every chain of the table, by name
}

type chainInfo struct {
	typ, hook, policy string
	prio              int
}

type setInfo struct {
	typ   string
	flags []string
	elems map[netip.Prefix]fwsync.Elem
	// unknown counts elements the sink cannot read back (ranges); such a
	// set is flushed when taken over.
	unknown int
}

// JSON shapes of `nft -j list table`.
type (
	jsonList struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	jsonSet struct {
		Name  string          `json:"name"`
		Type  json.RawMessage `json:"type"`
		Flags json.RawMessage `json:"flags"`
		Elem  []jsonSetElem   `json:"elem"`
	}
	jsonChain struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Hook   string `json:"hook"`
		Prio   int    `json:"prio"`
		Policy string `json:"policy"`
	}
	jsonRule struct {
		Chain string          `json:"chain"`
		Expr  json.RawMessage `json:"expr"`
	}
	jsonPrefix struct {
		Addr string `json:"addr"`
		Len  int    `json:"len"`
	}
)

// listTable reads table (family inet) with the program nft; a missing
// table is an empty snapshot. chains are the names of the sink's chains
// (of every hook, configured or not): the sets their rules refer to are
// the sink's.
func listTable(ctx context.Context, run *fwrun.Runner, nft, table string, chains []string, now time.Time) (*snapshot, error) {
	out, err := run.Run(ctx, "", nft, "-j", "list", "table", "inet", table)
	snap := &snapshot{owned: map[string]bool{}, sets: map[string]*setInfo{}, chains: map[string]chainInfo{}, read: now}
	if err != nil {
		var fe *fwrun.Error
		if errors.As(err, &fe) && strings.Contains(fe.Stderr, "No such file or directory") {
			return snap, nil
		}
		return nil, fmt.Errorf("reading table inet %s: %w", table, err)
	}
	if err := parseTable(out, chains, snap); err != nil {
		return nil, fmt.Errorf("reading table inet %s: %w", table, err)
	}
	return snap, nil
}

// parseTable fills snap from nft's JSON listing of one table; chains are
// the names of the sink's chains.
func parseTable(data []byte, chains []string, snap *snapshot) error {
	var l jsonList
	if err := json.Unmarshal(data, &l); err != nil {
		return fmt.Errorf("nft's JSON output: %w", err)
	}
	for _, item := range l.Nftables {
		switch {
		case item["table"] != nil:
			snap.exists = true
		case item["set"] != nil:
			var js jsonSet
			if err := json.Unmarshal(item["set"], &js); err != nil {
				return fmt.Errorf("set in nft's JSON output: %w", err)
			}
			snap.sets[js.Name] = parseSet(js, snap.read)
		case item["chain"] != nil:
			var jc jsonChain
			if err := json.Unmarshal(item["chain"], &jc); err != nil {
				return fmt.Errorf("chain in nft's JSON output: %w", err)
			}
			snap.chains[jc.Name] = chainInfo{typ: jc.Type, hook: jc.Hook, policy: jc.Policy, prio: jc.Prio}
		case item["rule"] != nil:
			var jr jsonRule
			if err := json.Unmarshal(item["rule"], &jr); err != nil {
				return fmt.Errorf("rule in nft's JSON output: %w", err)
			}
			if slices.Contains(chains, jr.Chain) {
				for _, ref := range setRefs(jr.Expr) {
					if base, _, ok := baseOfSet(ref); ok {
						snap.owned[base] = true
					}
				}
			}
		}
	}
	for name := range snap.chains {
		if !slices.Contains(chains, name) {
			snap.others++
		}
	}
	for name := range snap.sets {
		if base, _, ok := baseOfSet(name); !ok || !snap.owned[base] {
			snap.others++
		}
	}
	return nil
}

// setRefs returns the set names a rule's expressions refer to ("@name").
func setRefs(expr json.RawMessage) []string {
	var v any
	if json.Unmarshal(expr, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			if name, ok := strings.CutPrefix(t, "@"); ok {
				out = append(out, name)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func parseSet(js jsonSet, now time.Time) *setInfo {
	si := &setInfo{elems: make(map[netip.Prefix]fwsync.Elem, len(js.Elem))}
	if json.Unmarshal(js.Type, &si.typ) != nil {
		si.typ = string(js.Type) // a concatenation: never one of ours
	}
	// flags is a list, or a single string in some nft versions.
	var one string
	if json.Unmarshal(js.Flags, &si.flags) != nil && json.Unmarshal(js.Flags, &one) == nil {
		si.flags = []string{one}
	}
	for _, e := range js.Elem {
		if !e.val.ok {
			si.unknown++
			continue
		}
		st := fwsync.Elem{Approx: true}
		left := e.expires
		if left == nil {
			left = e.timeout
		}
		if left != nil {
			st.End = now.Add(time.Duration(*left * float64(time.Second)))
		}
		si.elems[e.val.p] = st
	}
	return si
}

// jsonVal is an element's value: "1.2.3.4" or {"prefix": {…}}; ok is
// false for anything else (a range, a concatenation).
type jsonVal struct {
	p  netip.Prefix
	ok bool
}

// UnmarshalJSON implements json.Unmarshaler. It reads an address string
// without a second pass of the decoder: the sets hold 20,000 of them.
func (v *jsonVal) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		// An address holds no JSON escapes; one that does fails to parse.
		a, err := netip.ParseAddr(string(b[1 : len(b)-1]))
		if err == nil {
			v.p, v.ok = netip.PrefixFrom(a, a.BitLen()), true
		}
		return nil
	}
	var obj struct {
		Prefix *jsonPrefix `json:"prefix"`
	}
	if json.Unmarshal(b, &obj) != nil || obj.Prefix == nil {
		return nil
	}
	a, err := netip.ParseAddr(obj.Prefix.Addr)
	if err == nil && obj.Prefix.Len >= 0 && obj.Prefix.Len <= a.BitLen() {
		v.p, v.ok = netip.PrefixFrom(a, obj.Prefix.Len).Masked(), true
	}
	return nil
}

// jsonSetElem is one entry of a set's "elem": a value, or {"elem": {"val":
// value, "timeout": s, "expires": s}}.
type jsonSetElem struct {
	val              jsonVal
	timeout, expires *float64
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *jsonSetElem) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' && bytes.HasPrefix(bytes.TrimLeft(b[1:], " \t\r\n"), []byte(`"elem"`)) {
		var obj struct {
			Elem struct {
				Val     jsonVal  `json:"val"`
				Timeout *float64 `json:"timeout"`
				Expires *float64 `json:"expires"`
			} `json:"elem"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		e.val, e.timeout, e.expires = obj.Elem.Val, obj.Elem.Timeout, obj.Elem.Expires
		return nil
	}
	return e.val.UnmarshalJSON(b)
}
