package fwconf

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

// PortRange is a port (Lo == Hi) or an inclusive range.
type PortRange struct{ Lo, Hi uint16 }

// Text writes the port, or the range with sep between its ends ("-" for
// nft and firewalld, ":" for iptables, ufw and pf).
func (p PortRange) Text(sep string) string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return strconv.Itoa(int(p.Lo)) + sep + strconv.Itoa(int(p.Hi))
}

// ParsePorts reads the ports attribute ("22", "8000-8080") and returns
// the ranges sorted, with those that overlap or touch joined (nft refuses
// overlapping intervals in one set, and a multiport list wants each port
// once). Each bad entry is an *confval.AttrError with its index.
func ParsePorts(entries []string) ([]PortRange, []error) {
	var out []PortRange
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
			errs = append(errs, &confval.AttrError{Attr: AttrPorts, Index: i, Err: fmt.Errorf("%q is not a port or a range of ports such as \"22\" or \"8000-8080\"", e)})
		case l > h:
			errs = append(errs, &confval.AttrError{Attr: AttrPorts, Index: i, Err: fmt.Errorf("range %q ends before it starts", e)})
		default:
			out = append(out, PortRange{l, h})
		}
	}
	return mergePorts(out), errs
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("bad port")
	}
	return uint16(n), nil
}

// mergePorts sorts the ranges and joins those that overlap or touch.
func mergePorts(ps []PortRange) []PortRange {
	slices.SortFunc(ps, func(a, b PortRange) int { return cmp.Compare(a.Lo, b.Lo) })
	var out []PortRange
	for _, p := range ps {
		if n := len(out); n > 0 && uint32(p.Lo) <= uint32(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, p.Hi)
			continue
		}
		out = append(out, p)
	}
	return out
}

// Slots is how many entries of a multiport list (iptables, ufw) the port
// takes: a range takes two.
func (p PortRange) Slots() int {
	if p.Lo == p.Hi {
		return 1
	}
	return 2
}

// Slots is how many entries of a multiport list ps take.
func Slots(ps []PortRange) int {
	n := 0
	for _, p := range ps {
		n += p.Slots()
	}
	return n
}

// Protocols are the protocols whose ports nft ("th dport") and
// iptables' multiport match take: all carry the ports at the same place.
var Protocols = []string{"tcp", "udp", "sctp", "dccp", "udplite"}

// ParseProtocols reads the protocol attribute: a name, a list of names
// (case and surrounding blanks do not matter), or "all", which all
// reports and which leaves the list empty. known are the names the sink
// takes; the default is "tcp". The list comes back sorted, each name
// once.
func ParseProtocols(v cty.Value, known []string) (protos []string, all bool, err error) {
	if v == cty.NilVal || v.IsNull() {
		return []string{"tcp"}, false, nil
	}
	names, err := stringList(v, `want a protocol such as "tcp", "all", or a list of protocols`)
	if err != nil {
		return nil, false, err
	}
	if len(names) == 0 {
		return nil, false, errors.New(`the list is empty; give a protocol such as "tcp", or "all" to block every protocol`)
	}
	for _, n := range names {
		switch {
		case n == "all":
			all = true
		case slices.Contains(known, n):
			if !slices.Contains(protos, n) {
				protos = append(protos, n)
			}
		default:
			return nil, false, fmt.Errorf("unknown protocol %q; use %s or \"all\"", n, quoteList(known))
		}
	}
	if all {
		if len(protos) > 0 || len(names) > 1 {
			return nil, false, errors.New(`"all" already covers every protocol; give it alone`)
		}
		return nil, true, nil
	}
	slices.Sort(protos)
	return protos, false, nil
}

// quoteList writes names as `"a", "b", "c"`.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
