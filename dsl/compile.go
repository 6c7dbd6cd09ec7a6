package dsl

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Compile builds the pipeline's graph with reg and maps every problem the
// engine finds back to its place in the source. The graph is nil when there
// are errors. spec may differ from p.Spec (replay swaps sources and sinks)
// as long as it keeps the node IDs.
func (p *Pipeline) Compile(spec engine.Spec, reg *engine.Registry, opts engine.BuildOptions) (*engine.Graph, hcl.Diagnostics) {
	g, problems := engine.Compile(spec, reg, opts)
	var diags hcl.Diagnostics
	for _, pr := range problems {
		if pr.Input < 0 && (p.badArgs[pr.ID] && pr.Severity == engine.SeverityError ||
			p.badInputs[pr.ID] && pr.Summary == engine.SummaryMissingInputs) {
			continue // a decode error already said what is wrong
		}
		if pr.Severity == engine.SeverityWarning && len(p.badInputs) > 0 && strings.HasPrefix(pr.Summary, "Unused ") {
			continue // likely the target of a reference that did not resolve
		}
		diags = append(diags, p.diagnose(pr)...)
	}
	if p.loadErrors {
		return nil, diags
	}
	if g != nil {
		diags = append(diags, p.advice(g)...)
	}
	return g, diags
}

// advice turns what stages advise (engine.Advisor) into warnings at the
// attribute, element or heredoc line they concern.
func (p *Pipeline) advice(g *engine.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, id := range g.Nodes() {
		st, _ := g.Stage(id)
		adv, ok := st.(engine.Advisor)
		if !ok {
			continue
		}
		for _, err := range adv.Advice() {
			for _, d := range p.diagnose(&engine.NodeError{Severity: engine.SeverityWarning, ID: id, Input: -1, Summary: "Advice", Err: err}) {
				if ae := (*confval.AttrError)(nil); errors.As(err, &ae) {
					d.Summary = "Note on " + ae.Attr
				}
				diags = append(diags, d)
			}
		}
	}
	return diags
}

// diagnose turns one engine problem into diagnostics at the right range.
func (p *Pipeline) diagnose(pr *engine.NodeError) hcl.Diagnostics {
	sev := hcl.DiagError
	if pr.Severity == engine.SeverityWarning {
		sev = hcl.DiagWarning
	}
	src := p.nodes[pr.ID]
	if src == nil {
		return hcl.Diagnostics{{Severity: sev, Summary: pr.Summary, Detail: sentence(pr.Err.Error())}}
	}
	d := &hcl.Diagnostic{
		Severity: sev,
		Summary:  pr.Summary,
		Detail:   sentence(pr.Err.Error()),
		Subject:  src.block.DefRange.Ptr(),
		Context:  src.block.DefRange.Ptr(),
	}
	if pr.Input >= 0 && pr.Input < len(src.inputs) {
		d.Subject = src.inputs[pr.Input].Ptr()
		return hcl.Diagnostics{d}
	}
	// Errors from Build: a stage may return hcl diagnostics of its own, or
	// errors that name attributes.
	var hd hcl.Diagnostics
	if errors.As(pr.Err, &hd) {
		return hd
	}
	var attrErrs []*confval.AttrError
	collectAttrErrors(pr.Err, &attrErrs)
	if len(attrErrs) == 0 {
		return hcl.Diagnostics{d}
	}
	var out hcl.Diagnostics
	for _, ae := range attrErrs {
		ad := *d
		ad.Summary = "Invalid " + ae.Attr
		ad.Detail = sentence(ae.Err.Error())
		if rng, ok := src.attrRange(p.Files, ae.Attr, ae.Index); ok {
			ad.Subject = &rng
		} else {
			ad.Detail = fmt.Sprintf("%s: %s", ae.Attr, ad.Detail)
		}
		out = append(out, &ad)
	}
	return out
}

// collectAttrErrors finds every *confval.AttrError in err's tree, so a
// stage can report several bad attributes at once with errors.Join.
func collectAttrErrors(err error, out *[]*confval.AttrError) {
	if ae, ok := err.(*confval.AttrError); ok {
		*out = append(*out, ae)
		return
	}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, sub := range e.Unwrap() {
			collectAttrErrors(sub, out)
		}
	case interface{ Unwrap() error }:
		if sub := e.Unwrap(); sub != nil {
			collectAttrErrors(sub, out)
		}
	}
}

// attrRange finds the range of an attribute of the node's body, or of one
// element (list) or line (heredoc) of it when index >= 0.
func (s *nodeSource) attrRange(files Files, name string, index int) (hcl.Range, bool) {
	body, ok := s.block.Body.(*hclsyntax.Body)
	if !ok {
		return hcl.Range{}, false
	}
	attr, ok := body.Attributes[name]
	if !ok {
		return hcl.Range{}, false
	}
	whole := attr.Expr.Range()
	if index < 0 {
		return whole, true
	}
	switch e := attr.Expr.(type) {
	case *hclsyntax.TupleConsExpr:
		if index < len(e.Exprs) {
			return e.Exprs[index].Range(), true
		}
	case *hclsyntax.TemplateExpr:
		v, diags := e.Value(s.ctx)
		if diags.HasErrors() {
			return whole, true
		}
		lines, err := confval.Lines(v)
		if err != nil || index >= len(lines) {
			return whole, true
		}
		if rng, ok := heredocLine(files, whole, lines[index]); ok {
			return rng, true
		}
	}
	return whole, true
}

// heredocLine finds the source range of one line of a heredoc value. The
// heredoc's value keeps one line per source line after the opening marker,
// so row k of the value is source line start+1+k; the range covers the
// line's trimmed text.
func heredocLine(files Files, whole hcl.Range, line confval.Line) (hcl.Range, bool) {
	f := files[whole.Filename]
	if f == nil {
		return hcl.Range{}, false
	}
	src := f.Bytes
	want := whole.Start.Line + 1 + line.Row
	if want > whole.End.Line {
		return hcl.Range{}, false
	}
	off := 0
	for l := 1; l < want; l++ {
		i := strings.IndexByte(string(src[off:]), '\n')
		if i < 0 {
			return hcl.Range{}, false
		}
		off += i + 1
	}
	end := off
	for end < len(src) && src[end] != '\n' {
		end++
	}
	text := string(src[off:end])
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	trimmed := strings.TrimSpace(text)
	startCol := utf8.RuneCountInString(text[:lead]) + 1
	return hcl.Range{
		Filename: whole.Filename,
		Start:    hcl.Pos{Line: want, Column: startCol, Byte: off + lead},
		End:      hcl.Pos{Line: want, Column: startCol + utf8.RuneCountInString(trimmed), Byte: off + lead + len(trimmed)},
	}, true
}

// sentence capitalises msg and ends it with a period, for diagnostic
// details made from Go error strings.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = strings.ToUpper(string(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") {
		msg += "."
	}
	return msg
}

// CheckEnv asks every stage of g that needs something of the machine
// (engine.EnvChecker) whether it is there, and returns its answer as
// errors at the block or attribute concerned.
func (p *Pipeline) CheckEnv(g *engine.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, id := range g.Nodes() {
		st, _ := g.Stage(id)
		ec, ok := st.(engine.EnvChecker)
		if !ok {
			continue
		}
		err := ec.CheckEnv()
		if err == nil {
			continue
		}
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			for _, d := range p.diagnose(&engine.NodeError{Severity: engine.SeverityError, ID: id, Input: -1, Summary: "Missing on this machine", Err: e}) {
				d.Summary = "Missing on this machine"
				diags = append(diags, d)
			}
		}
	}
	return diags
}
