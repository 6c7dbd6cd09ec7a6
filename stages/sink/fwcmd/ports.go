package fwcmd

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
)

// portRange is a port (lo == hi) or an inclusive range.
type portRange struct{ lo, hi uint16 }

// parsePorts reads the ports attribute; each bad entry is an
// *confval.AttrError with its index.
func parsePorts(entries []string) ([]portRange, []error) {
	var out []portRange
	var errs []error
	for i, e := range entries {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(e), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := parsePort(lo)
		h, err2 := parsePort(hi)
		switch {
		case err1 != nil || err2 != nil:
			errs = append(errs, &confval.AttrError{Attr: attrPorts, Index: i, Err: fmt.Errorf("%q is not a port or a range of ports such as \"22\" or \"8000-8080\"", e)})
		case l > h:
			errs = append(errs, &confval.AttrError{Attr: attrPorts, Index: i, Err: fmt.Errorf("range %q ends before it starts", e)})
		default:
			out = append(out, portRange{l, h})
		}
	}
	return out, errs
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("bad port")
	}
	return uint16(n), nil
}

// mergePorts sorts the ranges and joins those that overlap or touch, so
// each port is in one entry of a multiport list.
func mergePorts(ps []portRange) []portRange {
	slices.SortFunc(ps, func(a, b portRange) int { return cmp.Compare(a.lo, b.lo) })
	var out []portRange
	for _, p := range ps {
		if n := len(out); n > 0 && uint32(p.lo) <= uint32(out[n-1].hi)+1 {
			out[n-1].hi = max(out[n-1].hi, p.hi)
			continue
		}
		out = append(out, p)
	}
	return out
}

// protocolNames are the protocols whose ports the tools match.
var protocolNames = map[string]bool{"tcp": true, "udp": true, "sctp": true, "dccp": true}

// parseProtocols reads the protocol attribute: a string or a list of
// strings. all reports "all", which leaves the list empty.
func parseProtocols(v cty.Value) (protos []string, all bool, err error) {
	if v == cty.NilVal || v.IsNull() {
		return []string{"tcp"}, false, nil
	}
	if !v.IsWhollyKnown() {
		return nil, false, errors.New("value is not known")
	}
	var names []string
	ty := v.Type()
	switch {
	case ty == cty.String:
		names = []string{v.AsString()}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				return nil, false, errors.New("want a protocol name or a list of names")
			}
			names = append(names, e.AsString())
		}
		if len(names) == 0 {
			return nil, false, errors.New("the list is empty; give a protocol such as \"tcp\", or \"all\"")
		}
	default:
		return nil, false, errors.New("want a protocol name or a list of names")
	}
	for _, n := range names {
		switch {
		case n == "all":
			if len(names) > 1 {
				return nil, false, errors.New(`"all" already covers every protocol; give it alone`)
			}
			return nil, true, nil
		case !protocolNames[n]:
			return nil, false, fmt.Errorf("unknown protocol %q; use tcp, udp, sctp, dccp or \"all\"", n)
		case !slices.Contains(protos, n):
			protos = append(protos, n)
		}
	}
	slices.Sort(protos)
	return protos, false, nil
}

// slots is how many entries of a multiport list ps takes (a range: two).
func slots(ps []portRange) int {
	n := 0
	for _, p := range ps {
		n++
		if p.hi != p.lo {
			n++
		}
	}
	return n
}

// portText writes a port or range with sep between the ends.
func portText(p portRange, sep string) string {
	if p.lo == p.hi {
		return strconv.Itoa(int(p.lo))
	}
	return strconv.Itoa(int(p.lo)) + sep + strconv.Itoa(int(p.hi))
}
