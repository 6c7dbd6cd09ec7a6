package dsl_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/all"
	"golang.org/x/tools/txtar"
)

// FuzzLoad feeds arbitrary text to the decoder and the compiler: they must
// never panic, and a pipeline they accept must come with no errors. The
// seeds are the golden cases and the examples.
func FuzzLoad(f *testing.F) {
	cases, _ := filepath.Glob("testdata/diags/*.txtar")
	for _, c := range cases {
		ar, err := txtar.ParseFile(c)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			f.Add(file.Data)
		}
	}
	examples, _ := filepath.Glob("../examples/*.hcl")
	for _, e := range examples {
		b, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	reg := all.Registry()
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := dsl.LoadSource("fuzz.hcl", src, reg)
		if p == nil {
			t.Fatal("LoadSource returned a nil pipeline")
		}
		if !p.Decoded() {
			if !diags.HasErrors() {
				t.Fatal("not decoded, yet no error")
			}
			return
		}
		g, d := p.Compile(p.Spec, reg, engine.BuildOptions{Clock: engine.LogClock{}, Replay: true})
		diags = append(diags, d...)
		if (g == nil) != diags.HasErrors() {
			t.Fatalf("graph %v with errors %v", g != nil, diags.HasErrors())
		}
	})
}
