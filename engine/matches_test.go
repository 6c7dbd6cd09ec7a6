package engine

import "testing"

// keeperStage is a line stage that records what KeepMatches told it.
type keeperStage struct {
	passStage
	told, keep bool
}

func (k *keeperStage) KeepMatches(keep bool) { k.told, k.keep = true, keep }

// readerSink is a sink that says whether it reads Matches.
type readerSink struct {
	collectSink
	reads bool
}

func (r *readerSink) ReadsMatches() bool { return r.reads }

func TestKeepMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		sinks []Stage
		want  bool
	}{
		{"every consumer reads none", []Stage{&readerSink{}, &readerSink{}}, false},
		{"one consumer reads them", []Stage{&readerSink{}, &readerSink{reads: true}}, true},
		{"a consumer that cannot tell", []Stage{&readerSink{}, &collectSink{}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := &keeperStage{}
			nodes := []NodeSpec{
				spec("source", "test", "src", &countSource{n: 1}),
				spec("matcher", "pass", "k", k, "source.src"),
			}
			for i, s := range tc.sinks {
				nodes = append(nodes, spec("sink", "lines", string(rune('a'+i)), s, "matcher.k"))
			}
			g, problems := Compile(Spec{Nodes: nodes}, testRegistry(), BuildOptions{})
			if g == nil {
				t.Fatalf("Compile: %v", problems)
			}
			if !k.told || k.keep != tc.want {
				t.Errorf("KeepMatches told %v with %v, want told with %v", k.told, k.keep, tc.want)
			}
		})
	}
}
