package fwconf

import (
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestParseHooks: hook takes "input", "forward" or a list of them, in any
// case and order, and gives them in the order of Hooks, each once.
func TestParseHooks(t *testing.T) {
	t.Parallel()
	str := cty.StringVal
	for _, c := range []struct {
		v    cty.Value
		want []string
	}{
		{cty.NilVal, []string{"input"}},
		{cty.NullVal(cty.String), []string{"input"}},
		{str("forward"), []string{"forward"}},
		{cty.TupleVal([]cty.Value{str("forward"), str(" INPUT ")}), []string{"input", "forward"}},
		{cty.ListVal([]cty.Value{str("forward"), str("forward")}), []string{"forward"}},
		{cty.SetVal([]cty.Value{str("input")}), []string{"input"}},
	} {
		if got, err := ParseHooks(c.v); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseHooks(%#v) = %q, %v; want %q", c.v, got, err, c.want)
		}
	}
	for _, c := range []struct {
		v   cty.Value
		msg string
	}{
		{str("output"), `unknown hook "output"; use "input", "forward", or both: ["input", "forward"]`},
		{cty.NumberIntVal(1), `want "input", "forward", or both: ["input", "forward"]`},
		{cty.TupleVal([]cty.Value{str("input"), cty.True}), `want "input", "forward"`},
		{cty.ListValEmpty(cty.String), "the list is empty"},
		{cty.UnknownVal(cty.String), "value is not known"},
	} {
		if got, err := ParseHooks(c.v); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseHooks(%#v) = %q, %v; want an error with %q", c.v, got, err, c.msg)
		}
	}
}
