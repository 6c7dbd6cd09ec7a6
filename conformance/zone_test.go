package conformance

import (
	"testing"
	"time"
)

func TestPosixLocation(t *testing.T) {
	loc, err := posixLocation("CET", testTZ, 3600, "CET")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		unix int64
		want string
	}{
		{1124013600, "2005-08-14T12:00:00+02:00"}, // fail2ban's TEST_NOW
		{1106513999, "2005-01-23T21:59:59+01:00"}, // winter
		{1130630399, "2005-10-30T01:59:59+02:00"}, // autumn: CEST until 00:00 UTC …
		{1130630400, "2005-10-30T01:00:00+01:00"}, // … (POSIX default 02:00 local), Zurich until 01:00 UTC
		{1111885200, "2005-03-27T03:00:00+02:00"}, // spring: 01:00 UTC
	}
	for _, c := range cases {
		got := time.Unix(c.unix, 0).In(loc).Format(time.RFC3339)
		if got != c.want {
			t.Errorf("%d: %s, want %s", c.unix, got, c.want)
		}
	}
}
