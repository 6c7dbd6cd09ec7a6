package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Decode decodes body the way the front end does (the registration's
// NewArgs, then gohcl) for the counter of type typ that register adds,
// and builds it for jail sshd, so a test checks the hcl tags and the
// defaults together.
func Decode(t *testing.T, register func(*engine.Registry), typ, body string) engine.Stage {
	t.Helper()
	r := engine.NewRegistry()
	register(r)
	reg, _ := r.Lookup("counter", typ)
	f, diags := hclparse.NewParser().ParseHCL([]byte(body), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	args := reg.NewArgs()
	if diags := gohcl.DecodeBody(f.Body, nil, args); diags.HasErrors() {
		t.Fatal(diags)
	}
	st, err := reg.Build(engine.Options{ID: "counter.sshd", Name: "sshd"}, args)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// WantAttrErr checks the error of a counter's New for a bad block: a
// *confval.AttrError naming attr (and, for a list, the element index; -1
// otherwise) whose message contains msg.
func WantAttrErr(t *testing.T, err error, attr string, index int, msg string) {
	t.Helper()
	var ae *confval.AttrError
	if !errors.As(err, &ae) {
		t.Fatalf("New error = %v (%T), want *confval.AttrError", err, err)
	}
	if ae.Attr != attr || ae.Index != index || !strings.Contains(err.Error(), msg) {
		t.Errorf("New error = %+v (%q), want attr %q index %d containing %q",
			ae, err.Error(), attr, index, msg)
	}
}
