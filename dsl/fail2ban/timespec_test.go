package fail2ban_test

import (
	"errors"
	"testing"

	"github.com/f2bproject/f2b/dsl/fail2ban"
)

// The expected values are what fail2ban 1.0.2's MyTime.str2seconds gives
// (TestPrimitivesAgainstPython checks more against it when it can run).
func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"600", 600}, {"10m", 600}, {"1h30m", 5400}, {"1d 2h", 93600}, {"1w", 604800},
		{"1mo", 2629800}, {"1y", 31557600}, {"-1", -1}, {"2.5h", 9000}, {"1year-6mo", 15778800},
		{"6 months", 15778800}, {"3 hours", 10800}, {"1 minute", 60}, {"2*(1h+5m)", 7800},
		{"1d12h", 129600}, {"1H", 3600}, {"10 M", 600}, {"0", 0}, {"1d-1h", 82800}, {"5w", 3024000},
		{"2 days 4 hours", 187200}, {"48h", 172800}, {"1_000", 1000}, {"1/4", 0.25}, {"1mon", 2629800},
		{"1da", 86400}, {"1ho", 3600}, {"5m5s", 305}, {"-5m", -300}, {"(1h)", 3600}, {"1h 30", 3630},
	} {
		got, err := fail2ban.Seconds(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Seconds(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"1.5e3", "1e2m", "1 2 3", "01", "abc", "", "1x", "1/0", "__import__('os')"} {
		if got, err := fail2ban.Seconds(in); !errors.Is(err, fail2ban.ErrTimeValue) {
			t.Errorf("Seconds(%q) = %v, %v; want ErrTimeValue", in, got, err)
		}
	}
}
