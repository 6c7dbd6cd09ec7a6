package dsl

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/f2bproject/f2b/engine"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Pipeline is a decoded pipeline: the spec the engine compiles, and the
// source positions its diagnostics point at.
type Pipeline struct {
	// Spec is what engine.Compile builds.
	Spec engine.Spec
	// Files is the parsed source, for printing diagnostics.
	Files Files

	nodes map[string]*nodeSource
	// decoded is set once every block was decoded, even with errors: the
	// spec is then worth compiling to find the remaining mistakes.
	decoded bool
	// loadErrors is set when Load reported errors; Compile then only
	// reports problems and never returns a graph.
	loadErrors bool
	// badArgs are nodes whose arguments failed to decode and badInputs
	// nodes with an input that did not resolve; the engine's follow-on
	// complaints about them (a failed Build, missing inputs) would only
	// repeat what was said.
	badArgs, badInputs map[string]bool
}

// Decoded reports whether every block was decoded, so that compiling the
// pipeline can find further mistakes even when Load reported errors.
func (p *Pipeline) Decoded() bool { return p != nil && p.decoded }

// nodeSource remembers where a node was written.
type nodeSource struct {
	block  *hcl.Block
	inputs []hcl.Range // one per Spec input, same order
	body   hcl.Body    // the block body less the meta-attributes
	ctx    *hcl.EvalContext
}

// Load reads the pipeline at paths (files, or directories of *.hcl files)
// and decodes it against reg. Diagnostics hold every error found; the
// pipeline is nil when there are errors.
func Load(paths []string, reg *engine.Registry) (*Pipeline, hcl.Diagnostics) {
	files, parsed, diags := parse(paths)
	if diags.HasErrors() {
		return &Pipeline{Files: parsed}, diags
	}
	baseDir := "."
	if len(paths) > 0 {
		baseDir = paths[0]
		if !isDir(baseDir) {
			baseDir = filepath.Dir(baseDir)
		}
	}
	p, d := decode(files, reg, baseDir)
	p.Files = parsed
	diags = append(diags, d...)
	p.loadErrors = diags.HasErrors()
	return p, diags
}

// LoadSource decodes one pipeline held in memory; name is used in
// diagnostics and relative file() paths are taken from its directory.
func LoadSource(name string, src []byte, reg *engine.Registry) (*Pipeline, hcl.Diagnostics) {
	files, parsed, diags := parseSource(name, src)
	if diags.HasErrors() {
		return &Pipeline{Files: parsed}, diags
	}
	p, d := decode(files, reg, filepath.Dir(name))
	p.Files = parsed
	diags = append(diags, d...)
	p.loadErrors = diags.HasErrors()
	return p, diags
}

func decode(files []*hcl.File, reg *engine.Registry, baseDir string) (*Pipeline, hcl.Diagnostics) {
	p := &Pipeline{nodes: map[string]*nodeSource{}, badArgs: map[string]bool{}, badInputs: map[string]bool{}}
	var diags hcl.Diagnostics

	// Phase 2: the top level of every file.
	var varBlocks, localBlocks, stageBlocks []*hcl.Block
	for _, f := range files {
		content, d := f.Body.Content(rootSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			switch b.Type {
			case kindVariable:
				varBlocks = append(varBlocks, b)
			case kindLocals:
				localBlocks = append(localBlocks, b)
			default:
				stageBlocks = append(stageBlocks, b)
			}
		}
	}
	if diags.HasErrors() {
		return p, diags
	}

	// Phase 3: variables, then locals.
	fns := functions(baseDir)
	vars, d := evalVariables(varBlocks, fns)
	diags = append(diags, d...)
	ctx := &hcl.EvalContext{
		Functions: fns,
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars), "local": cty.EmptyObjectVal},
	}
	locals, d := evalLocals(localBlocks, ctx)
	diags = append(diags, d...)
	ctx.Variables["local"] = cty.ObjectVal(locals)
	if diags.HasErrors() {
		return p, diags
	}
	var localNames []string
	for name := range locals {
		localNames = append(localNames, name)
	}

	// Phase 4: every stage block, collecting every error.
	declared := map[string]map[string]*hcl.Block{} // kind -> name -> block
	type pending struct {
		spec     engine.NodeSpec
		src      *nodeSource
		inputs   hcl.Expression
		disabled bool
	}
	var nodes []*pending
	for _, b := range stageBlocks {
		kind, typ, name := b.Type, b.Labels[0], b.Labels[1]
		if !hclIdent(name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + kind + " name",
				Detail:   "A name must start with a letter or underscore and hold only letters, digits, underscores and dashes, so that other blocks can refer to it as " + kind + ".NAME.",
				Subject:  b.LabelRanges[1].Ptr(),
			})
			continue
		}
		if declared[kind] == nil {
			declared[kind] = map[string]*hcl.Block{}
		}
		if prev, dup := declared[kind][name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate " + kind,
				Detail:   fmt.Sprintf("A %s named %q was already declared at %s. Names are unique per kind, whatever the type.", kind, name, prev.DefRange),
				Subject:  b.LabelRanges[1].Ptr(),
				Context:  b.DefRange.Ptr(),
			})
			continue
		}
		declared[kind][name] = b

		meta, rest, d := b.Body.PartialContent(metaSchema)
		diags = append(diags, d...)
		pn := &pending{
			spec: engine.NodeSpec{Kind: kind, Type: typ, Name: name},
			src:  &nodeSource{block: b, body: rest, ctx: ctx},
		}
		if a, ok := meta.Attributes[attrInputs]; ok {
			pn.inputs = a.Expr
		}
		if a, ok := meta.Attributes[attrEnabled]; ok {
			var enabled bool
			d := gohcl.DecodeExpression(a.Expr, ctx, &enabled)
			diags = append(diags, d...)
			pn.disabled = !d.HasErrors() && !enabled
		}

		r, ok := reg.Lookup(kind, typ)
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown " + kind + " type",
				Detail: fmt.Sprintf("There is no %s of type %q.%s Known types: %s.", kind, typ,
					didYouMean(typ, reg.Types(kind)), strings.Join(reg.Types(kind), ", ")),
				Subject: b.LabelRanges[0].Ptr(),
			})
			continue
		}
		args := r.NewArgs()
		if d := checkBodyRefs(b.Body, ctx, localNames); d.HasErrors() {
			diags = append(diags, d...)
			p.badArgs[pn.spec.ID()] = true
			pn.spec.Args = args
			nodes = append(nodes, pn)
			continue
		}
		d = gohcl.DecodeBody(rest, ctx, args)
		diags = append(diags, d...)
		if d.HasErrors() {
			p.badArgs[pn.spec.ID()] = true
		}
		pn.spec.Args = args
		nodes = append(nodes, pn)
	}

	// Phase 5: inputs, resolved as traversals so each keeps its range.
	kindsOf := func(kind string) []string {
		var names []string
		for n := range declared[kind] {
			names = append(names, n)
		}
		return names
	}
	disabled := map[string]bool{}
	for _, pn := range nodes {
		if pn.disabled {
			disabled[pn.spec.ID()] = true
		}
	}
	for _, pn := range nodes {
		if pn.inputs == nil {
			continue
		}
		exprs, d := hcl.ExprList(pn.inputs)
		if d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid inputs",
				Detail:   "inputs must be a list of references, e.g. inputs = [source.auth].",
				Subject:  pn.inputs.Range().Ptr(),
			})
			p.badInputs[pn.spec.ID()] = true
			continue
		}
		for _, e := range exprs {
			id, rng, d := resolveRef(e, declared, kindsOf)
			diags = append(diags, d...)
			if d.HasErrors() {
				p.badInputs[pn.spec.ID()] = true
			}
			if d.HasErrors() || disabled[id] {
				continue
			}
			pn.spec.Inputs = append(pn.spec.Inputs, id)
			pn.src.inputs = append(pn.src.inputs, rng)
		}
	}

	// A node whose inputs were all disabled is disabled too.
	for changed := true; changed; {
		changed = false
		for _, pn := range nodes {
			id := pn.spec.ID()
			if disabled[id] || p.badInputs[id] || pn.inputs == nil || len(pn.spec.Inputs) > 0 {
				continue
			}
			disabled[id] = true
			changed = true
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Block disabled",
				Detail:   fmt.Sprintf("Every input of %s is disabled, so it is disabled too.", id),
				Subject:  pn.src.block.DefRange.Ptr(),
			})
			for _, other := range nodes {
				if i := indexOf(other.spec.Inputs, id); i >= 0 {
					other.spec.Inputs = append(other.spec.Inputs[:i:i], other.spec.Inputs[i+1:]...)
					other.src.inputs = append(other.src.inputs[:i:i], other.src.inputs[i+1:]...)
				}
			}
		}
	}
	for _, pn := range nodes {
		if disabled[pn.spec.ID()] {
			continue
		}
		p.Spec.Nodes = append(p.Spec.Nodes, pn.spec)
		p.nodes[pn.spec.ID()] = pn.src
	}
	p.decoded = true
	return p, diags
}

// resolveRef turns one inputs element into a node ID.
func resolveRef(e hcl.Expression, declared map[string]map[string]*hcl.Block, namesOf func(string) []string) (string, hcl.Range, hcl.Diagnostics) {
	rng := e.Range()
	bad := func(summary, detail string) (string, hcl.Range, hcl.Diagnostics) {
		return "", rng, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}}
	}
	if _, isTemplate := e.(*hclsyntax.TemplateExpr); isTemplate {
		return bad("Invalid reference", "inputs take references like matcher.sshd, not strings: remove the quotes.")
	}
	tr, d := hcl.AbsTraversalForExpr(e)
	if d.HasErrors() || len(tr) != 2 {
		return bad("Invalid reference", "An input must be a reference of the form KIND.NAME, e.g. source.auth or matcher.sshd.")
	}
	kind := tr.RootName()
	step, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return bad("Invalid reference", "An input must be a reference of the form KIND.NAME, e.g. source.auth or matcher.sshd.")
	}
	if indexOf(stageKinds, kind) < 0 {
		return bad("Invalid reference", fmt.Sprintf("%q is not a block kind; inputs refer to source, matcher, counter or sink blocks.%s", kind, didYouMean(kind, stageKinds)))
	}
	if _, ok := declared[kind][step.Name]; !ok {
		return bad("Reference to undeclared "+kind, fmt.Sprintf("No %s named %q is declared.%s", kind, step.Name, didYouMean(step.Name, namesOf(kind))))
	}
	return kind + "." + step.Name, rng, nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// checkBodyRefs runs checkRefs over every attribute of a block body.
func checkBodyRefs(body hcl.Body, ctx *hcl.EvalContext, locals []string) hcl.Diagnostics {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	for _, a := range sb.Attributes {
		if a.Name == attrInputs {
			continue // references to blocks, checked as traversals
		}
		diags = append(diags, checkRefs(a.Expr, ctx, locals)...)
	}
	return diags
}
