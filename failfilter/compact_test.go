package failfilter

import (
	"maps"
	"testing"
)

// TestCompactFields checks that CompactFields gives the fields Fields
// gives, with plain, ALT, TUPLE and multi-line groups, and that failures
// with the same keys share one Names slice.
func TestCompactFields(t *testing.T) {
	t.Parallel()
	def := Definition{
		FailRegex: []string{
			`^(?:user=<F-USER>\S*</F-USER> )?(?:ruser=<F-ALT_USER>\S*</F-ALT_USER> )?from <HOST>$`,
			`^t <F-TUPLE_ID_1>\w+</F-TUPLE_ID_1> <F-TUPLE_ID_2>\w+</F-TUPLE_ID_2> <F-ID>\w+</F-ID>$`,
			`^c<F-MLFID>\d+</F-MLFID> user <F-USER>\S+</F-USER>$`,
			`^c<F-MLFID>\d+</F-MLFID> from <HOST>$`,
		},
	}
	lines := []string{
		"user=root from 192.0.2.1",
		"user= ruser=bob from 192.0.2.2",
		"from 2001:db8::1",
		"user=eve from 192.0.2.3",
		"t a b c",
		"c1 user alice",
		"c1 from 192.0.2.9",
		"from 192.0.2.4",
	}
	full := newFilter(t, def, Options{})
	compact := newFilter(t, def, Options{CompactFields: true})
	names := map[string][]string{} // by the joined names: the first slice seen
	n := 0
	for _, l := range lines {
		want, got := full.ProcessLine(l), compact.ProcessLine(l)
		if len(got) != len(want) {
			t.Fatalf("%q: %d failures, want %d", l, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Fields != nil {
				t.Errorf("%q: Fields %v set with CompactFields", l, g.Fields)
			}
			if g.Names == nil || len(g.Names) != len(g.Values) {
				t.Fatalf("%q: Names %q, Values %q", l, g.Names, g.Values)
			}
			m := map[string]string{}
			for j, k := range g.Names {
				m[k] = g.Values[j]
			}
			if !maps.Equal(m, w.Fields) {
				t.Errorf("%q: compact fields %v, want %v", l, m, w.Fields)
			}
			if g.ID != w.ID || g.Attempts != w.Attempts || len(g.Users) != len(w.Users) {
				t.Errorf("%q: got %+v, want %+v", l, g, w)
			}
			key := ""
			for _, k := range g.Names {
				key += k + "\x00"
			}
			if s, ok := names[key]; ok && &s[0] != &g.Names[0] {
				t.Errorf("%q: Names %q not shared with an earlier failure's", l, g.Names)
			}
			names[key] = g.Names
			n++
		}
	}
	if n < 6 {
		t.Fatalf("only %d failures compared", n)
	}
	if len(names) == len(lines) {
		t.Errorf("no two failures share their keys: the test shows no sharing")
	}
}

// BenchmarkMatchFields: failures, with their fields in a map (Fields) or
// compact (Names and Values).
func BenchmarkMatchFields(b *testing.B) {
	m, _ := benchLines()
	for _, c := range []struct {
		name string
		opts Options
	}{{"map", Options{}}, {"compact", Options{CompactFields: true}}} {
		b.Run(c.name, func(b *testing.B) {
			f := newFilter(b, benchDef(), c.opts)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f.ProcessLine(m[i%len(m)])
			}
		})
	}
}
