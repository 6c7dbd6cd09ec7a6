// Package sinkfmt holds the value formatting that the log and exec sinks
// share, so that a ban's time, host and duration read the same in a log
// line, a JSON timeline and a command's arguments.
package sinkfmt

import (
	"strings"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// EventTime is the time of an action event: ev.Time, or when that is zero
// the action's own start (ban, prolong) or end (unban).
func EventTime(ev engine.Event) time.Time {
	if !ev.Time.IsZero() || ev.Action == nil {
		return ev.Time
	}
	if ev.Action.Type == engine.Unban && !ev.Action.End.IsZero() {
		return ev.Action.End
	}
	return ev.Action.Start
}

// AppendTime appends t in UTC as RFC 3339, with a fraction of a second only
// when it is not zero (2026-01-02T03:04:05Z, 2026-01-02T03:04:05.25Z).
func AppendTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, time.RFC3339Nano)
}

// Host returns the banned address as netip.Addr.String writes it, or the
// host as the log wrote it when the address is not set.
func Host(a *engine.Action) string {
	if a.Host.IsValid() {
		return a.Host.String()
	}
	return a.HostText
}

// AppendDuration appends d as Go writes durations ("1h0m0s"), and
// engine.Permanent as "permanent".
func AppendDuration(dst []byte, d time.Duration) []byte {
	if d == engine.Permanent {
		return append(dst, "permanent"...)
	}
	// NOTE: Duration.String is inlinable and its result does not escape
	// here, so this does not allocate.
	return append(dst, d.String()...)
}

// Seconds is d in whole seconds, rounded up so that a positive duration
// never becomes 0 (which tools such as ipset read as "forever"); -1 for
// engine.Permanent.
func Seconds(d time.Duration) int64 {
	if d == engine.Permanent {
		return -1
	}
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// Suggest returns the candidate closest to name when it is close enough to
// be a likely misspelling, or "". Case is ignored, a swap of two adjacent
// characters counts as one edit, and at most one edit is allowed in names of
// up to four characters, two in longer ones.
func Suggest(name string, candidates []string) string {
	maxDist := 2
	if len(name) <= 4 {
		maxDist = 1
	}
	best, bestDist := "", maxDist+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and adjacent swaps each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance of ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
