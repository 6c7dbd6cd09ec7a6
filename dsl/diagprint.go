package dsl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// SortDiagnostics orders diagnostics by file, line and column; diagnostics
// without a place come first.
func SortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		default:
			return a.Start.Column < b.Start.Column
		}
	})
}

// WriteDiagnostics prints diagnostics for people:
//
//	Error: pipeline.hcl:14:16: Reference to undeclared matcher
//
//	13 | counter "window" "sshd" {
//	14 |   inputs    = [matcher.sshdd]
//	   |                ^^^^^^^^^^^^^
//	15 |   find_time = "10m"
//
//	No matcher named "sshdd" is declared. Did you mean "sshd"?
//
// A blank line separates diagnostics.
func WriteDiagnostics(w io.Writer, files Files, diags hcl.Diagnostics) error {
	bw := bufio.NewWriter(w)
	for i, d := range diags {
		if i > 0 {
			bw.WriteString("\n")
		}
		sev := "Error"
		if d.Severity == hcl.DiagWarning {
			sev = "Warning"
		}
		if d.Subject == nil {
			fmt.Fprintf(bw, "%s: %s\n", sev, d.Summary)
		} else {
			fmt.Fprintf(bw, "%s: %s:%d:%d: %s\n", sev, d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary)
			if f := files[d.Subject.Filename]; f != nil {
				bw.WriteString("\n")
				writeSnippet(bw, f.Bytes, *d.Subject)
			}
		}
		if d.Detail != "" {
			bw.WriteString("\n")
			bw.WriteString(d.Detail)
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

// writeSnippet prints the subject's line with one line of context on each
// side and a caret line under the subject's range.
func writeSnippet(w *bufio.Writer, src []byte, rng hcl.Range) {
	lines := bytes.Split(src, []byte("\n"))
	first := max(rng.Start.Line-1, 1)
	last := min(rng.Start.Line+1, len(lines))
	width := len(fmt.Sprint(last))
	for n := first; n <= last; n++ {
		text := strings.TrimRight(string(lines[n-1]), "\r")
		text = strings.ReplaceAll(text, "\t", " ")
		if n == last && text == "" && n != rng.Start.Line {
			continue
		}
		fmt.Fprintf(w, "%*d | %s\n", width, n, text)
		if n != rng.Start.Line {
			continue
		}
		startCol := rng.Start.Column
		endCol := rng.End.Column
		if rng.End.Line != rng.Start.Line {
			endCol = utf8.RuneCountInString(text) + 1
		}
		carets := max(endCol-startCol, 1)
		fmt.Fprintf(w, "%*s | %s%s\n", width, "", strings.Repeat(" ", max(startCol-1, 0)), strings.Repeat("^", carets))
	}
}

// JSONDiagnostic is one diagnostic in `--format json` output.
type JSONDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// JSONReport is the whole `--format json` output of validate.
type JSONReport struct {
	Valid       bool             `json:"valid"`
	Diagnostics []JSONDiagnostic `json:"diagnostics"`
}

// WriteJSON prints the validate report as one JSON object.
func WriteJSON(w io.Writer, diags hcl.Diagnostics) error {
	rep := JSONReport{Valid: !diags.HasErrors(), Diagnostics: []JSONDiagnostic{}}
	for _, d := range diags {
		jd := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			jd.File, jd.Line, jd.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		rep.Diagnostics = append(rep.Diagnostics, jd)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(rep)
}
