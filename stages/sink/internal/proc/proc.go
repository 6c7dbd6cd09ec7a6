// Package proc holds what the sinks that run commands share: starting a
// command in a process group of its own that a timeout kills as a whole,
// and keeping a bounded part of its output for log records.
package proc

import "strings"

// OutputLimit bounds how much of a command's standard output, and of its
// standard error, a Capped writer keeps.
const OutputLimit = 64 << 10

// Capped keeps the first OutputLimit bytes written to it and drops the
// rest, always reporting success so the command is never blocked or sent
// SIGPIPE. The zero value is ready to use.
type Capped struct {
	Buf []byte
}

// Write implements io.Writer.
func (c *Capped) Write(p []byte) (int, error) {
	if room := OutputLimit - len(c.Buf); room > 0 {
		c.Buf = append(c.Buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// FirstLine returns the first non-blank line of out, trimmed and cut at
// limit bytes (with "…" appended when cut).
func FirstLine(out []byte, limit int) string {
	for line := range strings.SplitSeq(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(line) > limit {
			line = line[:limit] + "…"
		}
		return line
	}
	return ""
}
