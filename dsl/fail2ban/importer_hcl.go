package fail2ban

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// This file writes HCL text for the importer. Every string value is
// written in the most readable form that reads back as exactly the same
// value: a heredoc when it spans lines, a quoted string otherwise. Each
// rendering is parsed back and compared before it is used; a heredoc that
// would not read back unchanged (a line that closes it early, indentation
// the flush heredoc would strip) falls back to a quoted string.

// hclText accumulates the text of one HCL file. hclwrite.Format aligns it
// afterwards.
type hclText struct{ b strings.Builder }

func indent(depth int) string { return strings.Repeat("  ", depth) }

// line writes s at depth. s may hold line breaks of its own (a heredoc),
// which are written as they are.
func (t *hclText) line(depth int, s string) {
	if s != "" {
		t.b.WriteString(indent(depth))
		t.b.WriteString(s)
	}
	t.b.WriteByte('\n')
}

// commentWidth is where comment lines are wrapped.
const commentWidth = 90

// comment writes text as # comment lines at depth, wrapping lines longer
// than commentWidth at blanks (a line starting with a blank is kept as it
// is).
func (t *hclText) comment(depth int, text string) {
	for _, l := range strings.Split(text, "\n") {
		for _, w := range wrap(l, commentWidth-2*depth-2) {
			t.line(depth, strings.TrimRight("# "+w, " \t"))
		}
	}
}

// wrap breaks s at blanks into lines of at most width bytes where it can.
func wrap(s string, width int) []string {
	if len(s) <= width || strings.HasPrefix(s, " ") {
		return []string{s}
	}
	var out []string
	cur := ""
	for _, word := range strings.Split(s, " ") {
		switch {
		case cur == "":
			cur = word
		case len(cur)+1+len(word) <= width:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	return append(out, cur)
}

// maxTrailing is the longest one-line value that gets its note as a
// trailing comment; a longer one gets it on the line above, so that
// hclwrite does not push the other trailing comments of its block far to
// the right.
const maxTrailing = 40

// attr writes `name = expr` with note as a comment: trailing when the value
// is short, else on the line above.
func (t *hclText) attr(depth int, name, expr, note string) {
	s := name + " = " + expr
	switch {
	case note == "":
	case !strings.Contains(expr, "\n") && len(expr) <= maxTrailing:
		s += " # " + strings.ReplaceAll(note, "\n", " ")
	default:
		t.comment(depth, note)
	}
	t.line(depth, s)
}

func (t *hclText) open(depth int, head string) { t.line(depth, head+" {") }
func (t *hclText) close(depth int)             { t.line(depth, "}") }
func (t *hclText) blank()                      { t.b.WriteByte('\n') }

// formatted returns the text formatted as hclwrite does.
func (t *hclText) formatted() []byte { return hclwrite.Format([]byte(t.b.String())) }

// templateEscape doubles the template sequences of HCL: ${ and %{.
func templateEscape(s string) string {
	s = strings.ReplaceAll(s, "${", "$${")
	return strings.ReplaceAll(s, "%{", "%%{")
}

// quoted writes s as an HCL quoted string (with \n, \", \\, $${ and %%{
// escapes).
func quoted(s string) string {
	return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
}

// label writes a block label.
func label(s string) string { return quoted(s) }

// readsBack reports whether expr, written as an attribute, evaluates to
// want.
func readsBack(expr string, want cty.Value) bool {
	src := "x = " + expr + "\n"
	f, diags := hclsyntax.ParseConfig([]byte(src), "check.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return false
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() || attrs["x"] == nil {
		return false
	}
	got, diags := attrs["x"].Expr.Value(nil)
	if diags.HasErrors() || !got.IsWhollyKnown() {
		return false
	}
	return got.Type().Equals(want.Type()) && got.Equals(want).True()
}

// heredoc writes lines as a flush heredoc (<<-MARKER) whose content is
// indented one level below depth; its value is the lines joined with
// newlines, plus a final newline.
func heredoc(marker string, lines []string, depth int) string {
	var b strings.Builder
	b.WriteString("<<-" + marker + "\n")
	for _, l := range lines {
		if l != "" {
			b.WriteString(indent(depth + 1))
			b.WriteString(templateEscape(l))
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent(depth) + marker)
	return b.String()
}

// stringList writes ss as a list of quoted strings, on one line when it is
// short, else one element per line.
func stringList(ss []string, depth int) string {
	q := make([]string, len(ss))
	n := 0
	for i, s := range ss {
		q[i] = quoted(s)
		n += len(q[i]) + 2
	}
	if n <= 80 {
		return "[" + strings.Join(q, ", ") + "]"
	}
	var b strings.Builder
	b.WriteString("[\n")
	for _, s := range q {
		b.WriteString(indent(depth+1) + s + ",\n")
	}
	b.WriteString(indent(depth) + "]")
	return b.String()
}

// shellScript writes a command: a quoted string when it is one line, a
// <<-SH heredoc when it spans several (the heredoc's value ends with a
// newline, which ends the script's last line and changes nothing for
// /bin/sh), or a quoted string when the heredoc would not read back
// unchanged.
func shellScript(s string, depth int) string {
	if !strings.Contains(s, "\n") || hasControl(s) {
		return quoted(s)
	}
	h := heredoc("SH", strings.Split(s, "\n"), depth)
	if readsBack(h, cty.StringVal(s+"\n")) {
		return h
	}
	return quoted(s)
}

// hasControl reports whether s holds a control character other than a
// newline or a tab, which a quoted string shows escaped.
func hasControl(s string) bool {
	for _, r := range s {
		if r != '\n' && r != '\t' && (r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// heredocSafe reports whether a regex can be a line of a <<-RE heredoc:
// the regex-list attributes trim each line and skip blank lines and lines
// starting with #.
func heredocSafe(re string) bool {
	return re != "" && strings.TrimSpace(re) == re && !strings.HasPrefix(re, "#") &&
		!strings.ContainsAny(re, "\n\r") && !hasControl(re)
}

// regexList writes regexes as a <<-RE heredoc, one per line, when every
// one of them is heredoc-safe and the heredoc reads back unchanged, and as
// a list of strings otherwise.
func regexList(res []string, depth int) string {
	safe := true
	for _, re := range res {
		safe = safe && heredocSafe(re)
	}
	if safe {
		h := heredoc("RE", res, depth)
		if readsBack(h, cty.StringVal(strings.Join(res, "\n")+"\n")) {
			return h
		}
	}
	return stringList(res, depth)
}

// identifier turns s into an HCL block name: letters, digits, '_' and '-',
// starting with a letter or '_'. Other characters become '_'; a leading
// digit or '-' gets a '_' in front.
func identifier(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] == '-' || out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out
}

// names hands out unique identifiers within one kind of block.
type names map[string]bool

// take returns identifier(want), with _2, _3 … appended when taken.
func (n names) take(want string) string {
	base := identifier(want)
	id := base
	for i := 2; n[id]; i++ {
		id = base + "_" + strconv.Itoa(i)
	}
	n[id] = true
	return id
}
