package stdin

import (
	"testing"

	"github.com/f2bproject/f2b/engine"
)

func TestRegister(t *testing.T) {
	r := engine.NewRegistry()
	Register(r)
	reg, ok := r.Lookup("source", "stdin")
	if !ok || reg.In != engine.KindNone || reg.Out != engine.KindLine {
		t.Fatalf("registration = %+v, %v", reg, ok)
	}
	s, err := reg.Build(engine.Options{}, reg.NewArgs())
	if err != nil || s == nil {
		t.Fatalf("Build: %v", err)
	}
}
