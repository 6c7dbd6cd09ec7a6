package dsl

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// VarEnvPrefix is the prefix of environment variables that override a
// variable's default: F2B_VAR_trusted overrides variable "trusted". The
// value is read as HCL, so lists and numbers can be given too; a value that
// does not parse as HCL is taken as a plain string.
const VarEnvPrefix = "F2B_VAR_"

// functions are the functions expressions may call: cty's standard library
// plus env() and file().
func functions(baseDir string) map[string]function.Function {
	fns := map[string]function.Function{
		"abs":        stdlib.AbsoluteFunc,
		"ceil":       stdlib.CeilFunc,
		"chomp":      stdlib.ChompFunc,
		"coalesce":   stdlib.CoalesceFunc,
		"compact":    stdlib.CompactFunc,
		"concat":     stdlib.ConcatFunc,
		"contains":   stdlib.ContainsFunc,
		"distinct":   stdlib.DistinctFunc,
		"element":    stdlib.ElementFunc,
		"flatten":    stdlib.FlattenFunc,
		"floor":      stdlib.FloorFunc,
		"format":     stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc,
		"indent":     stdlib.IndentFunc,
		"join":       stdlib.JoinFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"keys":       stdlib.KeysFunc,
		"length":     stdlib.LengthFunc,
		"lookup":     stdlib.LookupFunc,
		"lower":      stdlib.LowerFunc,
		"max":        stdlib.MaxFunc,
		"merge":      stdlib.MergeFunc,
		"min":        stdlib.MinFunc,
		"regex":      stdlib.RegexFunc,
		"regexall":   stdlib.RegexAllFunc,
		"replace":    stdlib.ReplaceFunc,
		"reverse":    stdlib.ReverseListFunc,
		"setunion":   stdlib.SetUnionFunc,
		"slice":      stdlib.SliceFunc,
		"sort":       stdlib.SortFunc,
		"split":      stdlib.SplitFunc,
		"strrev":     stdlib.ReverseFunc,
		"substr":     stdlib.SubstrFunc,
		"title":      stdlib.TitleFunc,
		"tolist":     stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":   stdlib.MakeToFunc(cty.String),
		"trim":       stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc,
		"trimspace":  stdlib.TrimSpaceFunc,
		"trimsuffix": stdlib.TrimSuffixFunc,
		"upper":      stdlib.UpperFunc,
		"values":     stdlib.ValuesFunc,
		"zipmap":     stdlib.ZipmapFunc,
	}
	fns["env"] = function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or \"\" when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(os.Getenv(args[0].AsString())), nil
		},
	})
	fns["file"] = function.New(&function.Spec{
		Description: "Returns the contents of a file; a relative path is taken from the pipeline's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, p)
			}
			b, err := readSmallFile(p)
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(b)), nil
		},
	})
	return fns
}

// maxFileSize bounds what file() reads: a pipeline includes regex lists
// and address lists, not data sets, and a device like /dev/zero must not
// hang validate.
const maxFileSize = 16 << 20

func readSmallFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", p, maxFileSize>>20)
	}
	return b, nil
}

// evalVariables evaluates every variable block into the "var" object.
// A variable's default may not refer to other variables or locals.
func evalVariables(blocks []*hcl.Block, fns map[string]function.Function) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vars := map[string]cty.Value{}
	defs := map[string]hcl.Range{}
	ctx := &hcl.EvalContext{Functions: fns}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, dup := defs[name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("A variable named %q was already declared at %s.", name, prev),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		defs[name] = b.DefRange
		if !hclIdent(name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable name",
				Detail:   "A name must start with a letter or underscore and hold only letters, digits, underscores and dashes.",
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		content, d := b.Body.Content(variableSchema)
		diags = append(diags, d...)
		if override, ok := os.LookupEnv(VarEnvPrefix + name); ok {
			vars[name] = parseOverride(override)
			continue
		}
		attr, ok := content.Attributes["default"]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Variable without a value",
				Detail:   fmt.Sprintf("Variable %q has no default; give it one or set %s%s in the environment.", name, VarEnvPrefix, name),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		v, d := attr.Expr.Value(ctx)
		diags = append(diags, d...)
		vars[name] = v
	}
	return vars, diags
}

// parseOverride reads an environment override as an HCL expression, or as
// a plain string when it is not one.
func parseOverride(s string) cty.Value {
	expr, diags := hclsyntaxParse(s)
	if !diags.HasErrors() {
		if v, d := expr.Value(nil); !d.HasErrors() {
			return v
		}
	}
	return cty.StringVal(s)
}

// evalLocals evaluates the attributes of every locals block in dependency
// order, so a local may use variables and other locals.
func evalLocals(blocks []*hcl.Block, ctx *hcl.EvalContext) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for name, a := range as {
			if prev, dup := attrs[name]; dup {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate local value",
					Detail:   fmt.Sprintf("A local value named %q was already defined at %s.", name, prev.NameRange),
					Subject:  a.NameRange.Ptr(),
				})
				continue
			}
			attrs[name] = a
		}
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)

	locals := map[string]cty.Value{}
	const (
		fresh = iota
		inProgress
		done
		failed // in a cycle, or refers to something undeclared or failed
	)
	state := map[string]int{}
	var visit func(name string, stack []string)
	visit = func(name string, stack []string) {
		switch state[name] {
		case done, failed:
			return
		case inProgress:
			a := attrs[name]
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail:   fmt.Sprintf("Local values refer to each other in a circle: %s.", strings.Join(append(stack, name), " -> ")),
				Subject:  a.Expr.Range().Ptr(),
			})
			state[name] = failed
			return
		}
		state[name] = inProgress
		a := attrs[name]
		ok := true
		if d := checkRefs(a.Expr, ctx, names); d.HasErrors() {
			diags = append(diags, d...)
			ok = false
		}
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			step, isAttr := tr[1].(hcl.TraverseAttr)
			if !isAttr || attrs[step.Name] == nil {
				continue
			}
			visit(step.Name, append(stack, name))
			if state[step.Name] != done {
				ok = false
			}
		}
		if state[name] != inProgress {
			return // a cycle through this local was found and reported
		}
		if !ok {
			state[name] = failed
			return
		}
		ctx.Variables["local"] = cty.ObjectVal(locals)
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		locals[name] = v
		state[name] = done
	}
	for _, n := range names {
		visit(n, nil)
	}
	return locals, diags
}

func hclIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// checkRefs reports references to undeclared variables and locals in expr,
// with a suggestion, before evaluation would give a vaguer error. locals
// are the names of every declared local value (declared, not necessarily
// evaluated yet).
func checkRefs(expr hcl.Expression, ctx *hcl.EvalContext, locals []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		if len(tr) < 2 {
			continue
		}
		step, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		var kind string
		var known []string
		switch tr.RootName() {
		case "var":
			kind = "variable"
			for name := range ctx.Variables["var"].Type().AttributeTypes() {
				known = append(known, name)
			}
		case "local":
			kind, known = "local value", locals
		default:
			continue
		}
		if indexOf(known, step.Name) >= 0 {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared " + kind,
			Detail:   fmt.Sprintf("No %s named %q is declared.%s", kind, step.Name, didYouMean(step.Name, known)),
			Subject:  tr.SourceRange().Ptr(),
		})
	}
	return diags
}
