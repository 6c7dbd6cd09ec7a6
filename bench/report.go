package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// Row is one figure of the suite: what was measured, the number, the goal
// it is held to and whether it met it. The JSON form keeps Key stable so
// results of two commits can be compared row by row.
type Row struct {
	Key    string  `json:"key"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Figure string  `json:"figure"` // Value as printed, with what gives it context
	Goal   string  `json:"goal,omitempty"`
	Result string  `json:"result"` // PASS, MISS, "" (no goal), n/a or ERROR
	Note   string  `json:"note,omitempty"`
	Error  string  `json:"error,omitempty"`  // why the figure is missing
	Failed bool    `json:"failed,omitempty"` // the measurement failed (not merely unavailable)
}

// Results and their spellings in the table.
const (
	Pass = "PASS"
	Miss = "MISS"
	NA   = "n/a"   // not measurable here (fail2ban missing)
	Err  = "ERROR" // the measurement failed
)

// goal is a target a figure is held to.
type goal struct {
	text string
	ok   func(v float64) bool
}

func atLeast(text string, min float64) *goal {
	return &goal{text: text, ok: func(v float64) bool { return v >= min }}
}

func below(text string, max float64) *goal {
	return &goal{text: text, ok: func(v float64) bool { return v < max }}
}

// newRow makes a measured row and judges it against g (nil: no goal).
func newRow(key, name string, v float64, unit, figure string, g *goal) Row {
	r := Row{Key: key, Name: name, Value: v, Unit: unit, Figure: figure}
	if g != nil {
		r.Goal = g.text
		r.Result = Miss
		if g.ok(v) {
			r.Result = Pass
		}
	}
	return r
}

// missingRow is a row whose figure could not be measured; why says what
// was missing, as the table prints it: "n/a (why)".
func missingRow(key, name string, g *goal, why string) Row {
	r := Row{Key: key, Name: name, Figure: NA + " (" + why + ")", Result: NA, Error: why}
	if g != nil {
		r.Goal = g.text
	}
	return r
}

// Report is everything one run measured, as written to the JSON file.
type Report struct {
	Date     string            `json:"date"`
	Commit   string            `json:"commit,omitempty"`
	Go       string            `json:"go"`
	Machine  string            `json:"machine"`
	Load     string            `json:"load,omitempty"` // /proc/loadavg at the start: others' work skews the figures
	Quick    bool              `json:"quick"`
	Runs     int               `json:"runs"`
	Rows     []Row             `json:"rows"`
	Profiles map[string]string `json:"profiles,omitempty"`
	Seconds  float64           `json:"seconds"` // the suite's own run time
}

// writeTable prints the rows as an aligned table with a header naming the
// run.
func writeTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "f2b benchmark suite, %s, commit %s, %s, %s", rep.Date, orDash(rep.Commit), rep.Go, rep.Machine)
	if rep.Quick {
		fmt.Fprint(w, " (QUICK: small sizes)")
	}
	if rep.Load != "" {
		fmt.Fprintf(w, ", load %s at start", rep.Load)
	}
	fmt.Fprintf(w, "\nwall times are the median of %d run(s); lines/s = lines / whole-process wall time\n\n", rep.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tFIGURE\tGOAL\tRESULT\tNOTES")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Figure, orDash(r.Goal), orDash(r.Result), r.Note)
	}
	return tw.Flush()
}

// writeMarkdown prints the rows as a Markdown table (for the README).
func writeMarkdown(w io.Writer, rep *Report) {
	fmt.Fprintln(w, "| measure | figure | goal | result | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", esc(r.Name), esc(r.Figure), esc(orDash(r.Goal)), orDash(r.Result), esc(r.Note))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJSON writes the report to path.
func writeJSON(path string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the results: %w", err)
	}
	return nil
}

// rate formats lines per second as 1.23M or 456.7k.
func rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// count formats a size such as 200000 as 200k, 2000000 as 2M.
func count(n int) string {
	switch {
	case n >= 1e6 && n%1e5 == 0:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e6), ".0") + "M"
	case n >= 1e3 && n%100 == 0:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e3), ".0") + "k"
	}
	return fmt.Sprint(n)
}
