// Package confval holds the value types and parsers that configuration
// front ends and stages share: fail2ban-style durations, regex lists written
// as heredocs or lists, and errors that point at one attribute of a block.
package confval

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// AttrError is an error about one attribute of a block. Stages return it
// from Build so the front end can point at the attribute (and, with Index >=
// 0, at one element of a list or one line of a heredoc) instead of the block.
type AttrError struct {
	Attr  string // attribute name, e.g. "find_time"
	Index int    // element or line index (see Lines), or -1 for the whole value
	Err   error
}

func (e *AttrError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("%s[%d]: %v", e.Attr, e.Index, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Attr, e.Err)
}

func (e *AttrError) Unwrap() error { return e.Err }

// AttrErr returns an *AttrError for the whole attribute.
func AttrErr(attr string, err error) error { return &AttrError{Attr: attr, Index: -1, Err: err} }

// Line is one entry of a Lines value with its position in the written text.
type Line struct {
	Text string
	// Row is the 0-based line number of the entry inside the string it was
	// split from, or the element index when the value was a list.
	Row int
}

// Lines turns a regex-list value into its entries. A string is split into
// lines, each trimmed of surrounding blanks; empty lines and lines whose
// first non-blank character is '#' are dropped (heredoc comments). A list or
// tuple of strings is taken element by element, untrimmed. A null value
// gives no entries.
func Lines(v cty.Value) ([]Line, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsKnown() {
		return nil, errors.New("value is not known")
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return SplitLines(v.AsString()), nil
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var out []Line
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			if ev.IsNull() || ev.Type() != cty.String {
				return nil, fmt.Errorf("element %d is %s, want a string", i, typeName(ev))
			}
			if strings.TrimSpace(ev.AsString()) == "" {
				return nil, fmt.Errorf("element %d is empty", i)
			}
			out = append(out, Line{Text: ev.AsString(), Row: i})
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string (one entry per line) or a list of strings, got %s", typeName(v))
}

// SplitLines splits s into trimmed, non-empty, non-comment lines.
func SplitLines(s string) []Line {
	var out []Line
	for row, raw := range strings.Split(s, "\n") {
		t := strings.TrimSpace(raw)
		if t == "" || t[0] == '#' {
			continue
		}
		out = append(out, Line{Text: t, Row: row})
	}
	return out
}

// Texts returns the entries' texts.
func Texts(lines []Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

func typeName(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Type().FriendlyName()
}
