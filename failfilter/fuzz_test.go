package failfilter

import (
	"strings"
	"testing"
)

// FuzzProcessLine feeds arbitrary lines (several per input, so that the
// multi-line id cache and the buffer see sequences) through an sshd-style
// filter and a multi-line one: no panic, failures carry an id, the caches
// stay bounded.
func FuzzProcessLine(f *testing.F) {
	f.Add("2005-08-14 11:00:00 h sshd[1]: Failed password for root from 192.0.2.1 port 22\n2005-08-14 11:00:01 h sshd[1]: Connection closed")
	f.Add("Aug 14 11:00:00 h sshd[2]: Connection from 2001:db8::1 port 1\nAug 14 11:00:00 h sshd[2]: Disconnecting: Too many authentication failures")
	f.Add("x 2005-08-14 11:00:00 [conn1] auth failed\n [conn1] end from 192.0.2.9\n\x00\xff")
	multi := Definition{
		MaxLines:    3,
		FailRegex:   []string{`^ \[conn(?P<c>\d+)\] auth failed<SKIPLINES>^ \[conn(?P=c)\] end from <HOST>$`},
		IgnoreRegex: []string{`skip`},
	}
	var base []*Filter
	for _, def := range []Definition{sshdLike(), multi} {
		base = append(base, newFilter(f, def, Options{CheckAllRegex: true, KeepPending: true}))
	}
	f.Fuzz(func(t *testing.T, input string) {
		for _, b := range base {
			fl, def := b.Clone(), b.def
			for _, line := range strings.Split(input, "\n") {
				for _, r := range fl.ProcessLine(line) {
					if !r.Pending && r.ID == "" {
						t.Fatalf("%q: failure without id: %+v", line, r)
					}
					if r.Attempts < 1 && !r.NoFail && !r.Pending {
						t.Fatalf("%q: %d attempts", line, r.Attempts)
					}
				}
				if len(fl.lineBuf) > max(def.MaxLines, 1) {
					t.Fatalf("buffer of %d lines", len(fl.lineBuf))
				}
				if fl.mlfid != nil && fl.mlfid.order.Len() > 100 {
					t.Fatalf("id cache of %d entries", fl.mlfid.order.Len())
				}
			}
		}
	})
}
