package confval

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Permanent is the duration of something that never ends ("-1" or
// "permanent" in configuration).
const Permanent time.Duration = -1

// units are the duration units fail2ban accepts (mytime.str2seconds), plus
// Go's own spellings. A month is 30.4375 days and a year 365.25 days, as in
// fail2ban.
var units = map[string]time.Duration{
	"ms": time.Millisecond,
	"s":  time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "mi": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "wk": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	"mo": 2629800 * time.Second, "mon": 2629800 * time.Second, "month": 2629800 * time.Second, "months": 2629800 * time.Second,
	"y": 31557600 * time.Second, "yr": 31557600 * time.Second, "year": 31557600 * time.Second, "years": 31557600 * time.Second,
}

// ParseDuration reads a duration the way fail2ban and Go write them: "600"
// (seconds), "10m", "1h30m", "1d 2h", "1w", "2.5h", "1mo", "1y". "-1" and
// "permanent" give Permanent. Zero and other negative values are errors
// unless allowZero is set (zero only).
func ParseDuration(s string, allowZero bool) (time.Duration, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	switch t {
	case "":
		return 0, fmt.Errorf("empty duration; write e.g. \"10m\", \"1h30m\", \"1d\" or \"permanent\"")
	case "-1", "permanent", "forever":
		return Permanent, nil
	}
	var total float64
	rest := t
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || (i == 0 && (rest[i] == '-' || rest[i] == '+'))) {
			i++
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if i == 0 || err != nil {
			return 0, fmt.Errorf("invalid duration %q: expected a number at %q", s, rest)
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		unit := time.Second
		if j > 0 {
			u, ok := units[rest[:j]]
			if !ok {
				return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use s, m, h, d, w, mo or y)", s, rest[:j])
			}
			unit = u
		}
		rest = rest[j:]
		total += num * float64(unit)
	}
	if total > math.MaxInt64 || total < math.MinInt64 {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	d := time.Duration(math.Round(total))
	switch {
	case d < 0:
		return 0, fmt.Errorf("duration %q is negative; only -1 (permanent) may be", s)
	case d == 0 && !allowZero:
		return 0, fmt.Errorf("duration %q is zero", s)
	}
	return d, nil
}

// FormatDuration writes d the way Go does, and Permanent as "permanent".
func FormatDuration(d time.Duration) string {
	if d == Permanent {
		return "permanent"
	}
	return d.String()
}
