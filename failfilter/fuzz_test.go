package failfilter

import (
	"io"
	"reflect"
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
				if fl.mlfid != nil && fl.mlfid.len() > 100 {
					t.Fatalf("id cache of %d entries", fl.mlfid.len())
				}
			}
		}
	})
}

// FuzzPipeline: lines through ProcessAll (the DFA, on another goroutine)
// give what ProcessLine gives on Go's regexp alone, line by line: the
// failures, their fields, the date templates and the counters.
func FuzzPipeline(f *testing.F) {
	f.Add("2005-08-14 11:00:00 h sshd[1]: Failed password for root from 192.0.2.1\n2005-08-14 11:00:01 h sshd[1]: Connection closed\nx")
	f.Add("Aug 14 11:00:00 h sshd[2]: Connection from 2001:db8::1 port 1\nAug 14 11:00:00 h sshd[2]: Accepted publickey for a from 192.0.2.3\n\xff")
	f.Add("h sshd[3]: Failed publickey for root from 192.0.2.9\n\nh sshd[3]: Failed password for admin from 192.0.2.9 é")
	defs := []Definition{sshdLike(), {
		FailRegex:   []string{`^(?:\S+ )?auth failure for <F-USER>.*</F-USER> from <HOST>( port \d+)?$`, `client <ADDR> denied`},
		IgnoreRegex: []string{`denied.*ok$`},
	}}
	type pair struct{ plain, piped *Filter }
	var base []pair
	for _, def := range defs {
		for _, check := range []bool{true, false} {
			base = append(base, pair{
				newFilter(f, def, Options{CheckAllRegex: check, KeepPending: check, PlainRegexp: true}),
				newFilter(f, def, Options{CheckAllRegex: check, KeepPending: check}),
			})
		}
	}
	f.Fuzz(func(t *testing.T, input string) {
		lines := strings.Split(input, "\n")
		for _, b := range base {
			{
				plain, piped := b.plain.Clone(), b.piped.Clone()
				k := 0
				next := func() (string, int64, error) {
					if k == len(lines) {
						return "", 0, io.EOF
					}
					k++
					return lines[k-1], int64(k), nil
				}
				err := piped.ProcessAll(next, func(line string, no int64, fails []Failure) error {
					want := plain.ProcessLine(line)
					if !reflect.DeepEqual(fails, want) && !(len(fails) == 0 && len(want) == 0) {
						t.Fatalf("line %d %q: %+v, want %+v", no, line, fails, want)
					}
					if piped.DateTemplate() != plain.DateTemplate() || piped.LastDate() != plain.LastDate() {
						t.Fatalf("line %d %q: date %q %v, want %q %v", no, line, piped.DateTemplate(), piped.LastDate(), plain.DateTemplate(), plain.LastDate())
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if piped.Stats() != plain.Stats() {
					t.Fatalf("stats %+v, want %+v", piped.Stats(), plain.Stats())
				}
			}
		}
	})
}
