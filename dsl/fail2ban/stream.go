package fail2ban

import (
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// cmd is one command of the stream fail2ban-client sends the server
// ("set <jail> <key> <vals…>"), reduced to what resolution needs.
type cmd struct {
	key  string
	vals []Value
}

// fillStream is FilterReader._fillStream: filter options as commands, with
// usedns, prefregex and maxlines put first (so that when the jail gives
// them too, the filter's come later and win) and failregex/ignoreregex
// split into one regex per line.
func fillStream(stream []cmd, opts *ini.Options, split lineSplitter) ([]cmd, error) {
	prio := 0
	for _, opt := range opts.Keys() {
		v, _ := opts.Get(opt)
		switch {
		case opt == "failregex" || opt == "ignoreregex":
			var multi []Value
			for _, re := range split(v) {
				if re.Text != "" {
					multi = append(multi, re)
				}
			}
			if len(multi) > 0 {
				stream = append(stream, cmd{key: "add" + opt, vals: multi})
			}
		case opt == "usedns" || opt == "maxlines" || opt == "prefregex":
			at := prio
			if opt == "usedns" {
				at = 0
			}
			stream = append(stream[:at], append([]cmd{{key: opt, vals: []Value{v}}}, stream[at:]...)...)
			prio++
		case strings.Contains("datepattern", opt):
			// fail2ban tests `opt in ('datepattern')`, a substring test
			stream = append(stream, cmd{key: opt, vals: []Value{v}})
		case opt == "journalmatch":
			for _, m := range split(v) {
				if m.Text == "" {
					continue
				}
				if _, err := ShellSplit(m.Text); err != nil {
					return nil, errAt(m, ErrOptionSyntax, "journalmatch: %v", err)
				}
				stream = append(stream, cmd{key: "addjournalmatch", vals: []Value{m}})
			}
		}
	}
	return stream, nil
}

// lineSplitter splits a value into its lines, each with its own place.
type lineSplitter func(Value) []Value

// splitLines splits v into lines, each placed on its own physical line
// when the reader knows it, else on v's line.
func (c *Config) splitLines(v Value) []Value {
	lines := strings.Split(v.Text, "\n")
	pl := c.rd.Lines(v)
	out := make([]Value, len(lines))
	for i, l := range lines {
		out[i] = Value{Text: l, File: v.File, Line: v.Line}
		if pl != nil {
			out[i].Line = pl[i]
		}
	}
	return out
}

// foldFilter applies the filter commands of stream to f in order, as the
// server would: regexes and journal matches add up, the rest is set.
func foldFilter(f *Filter, stream []cmd, split lineSplitter) {
	for _, c := range stream {
		switch c.key {
		case "addfailregex":
			f.FailRegex = append(f.FailRegex, c.vals...)
		case "addignoreregex":
			f.IgnoreRegex = append(f.IgnoreRegex, c.vals...)
		case "prefregex":
			f.PrefRegex = c.vals[0]
		case "maxlines":
			if n, ok := pyInt(c.vals[0].Text); ok {
				f.MaxLines = int(n)
			}
		case "datepattern":
			// the server splits on newlines, strips, drops empty lines
			f.DatePattern = nil
			for _, p := range split(c.vals[0]) {
				if p.Text = py.Strip(p.Text); p.Text != "" {
					f.DatePattern = append(f.DatePattern, p)
				}
			}
		case "addjournalmatch":
			f.JournalMatch = append(f.JournalMatch, c.vals[0].Text)
		case "usedns":
			f.UseDNS = c.vals[0].Text
		case "logtimezone":
			f.LogTimeZone = c.vals[0].Text
		}
	}
}
