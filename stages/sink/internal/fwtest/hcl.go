package fwtest

import (
	"testing"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/f2bproject/f2b/engine"
)

// Build decodes src as the body of a block of sink typ through the
// registration register makes, as the front end does, and builds the
// stage with opts. The registration must take actions and emit nothing.
func Build(tb testing.TB, register func(*engine.Registry), typ, src string, opts engine.Options) engine.Stage {
	tb.Helper()
	r := engine.NewRegistry()
	register(r)
	reg, ok := r.Lookup("sink", typ)
	if !ok || reg.In != engine.KindAction || reg.Out != engine.KindNone {
		tb.Fatalf("registration = %+v, %v", reg, ok)
	}
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	args := reg.NewArgs()
	if diags := gohcl.DecodeBody(f.Body, nil, args); diags.HasErrors() {
		tb.Fatal(diags)
	}
	st, err := reg.Build(opts, args)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
