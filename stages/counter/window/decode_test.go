package window

import (
	"slices"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/ignore"
	"github.com/f2bproject/f2b/stages/counter/internal/storetest"
)

// TestDecode decodes block bodies the way the front end does (NewArgs, then
// gohcl), so the hcl tags and the defaults are checked together.
func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want config
	}{
		{
			name: "defaults",
			body: ``,
			want: config{maxRetry: 5, findTime: 10 * time.Minute, banTime: 10 * time.Minute, factor: 1},
		},
		{
			name: "everything",
			body: `
max_retry       = 3
find_time       = "1h"
ban_time        = "1d"
ignore          = ["127.0.0.0/8", "::1"]
ban_time_factor = 2.5
ban_time_max    = "1w"
`,
			want: config{
				maxRetry: 3, findTime: time.Hour, banTime: 24 * time.Hour, factor: 2.5, banMax: 7 * 24 * time.Hour,
				ignore: mustIgnore(t, "127.0.0.0/8", "::1"),
			},
		},
		{
			name: "permanent",
			body: `ban_time = "permanent"`,
			want: config{maxRetry: 5, findTime: 10 * time.Minute, banTime: engine.Permanent, factor: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := storetest.Decode(t, Register, "window", tt.body)
			if got := st.(*Counter).cfg; !equalConfig(got, tt.want) {
				t.Errorf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func equalConfig(a, b config) bool {
	return a.maxRetry == b.maxRetry && a.findTime == b.findTime && a.banTime == b.banTime &&
		a.factor == b.factor && a.banMax == b.banMax && slices.Equal(a.ignore.Entries(), b.ignore.Entries())
}

func mustIgnore(t *testing.T, entries ...string) *ignore.List {
	t.Helper()
	l, err := ignore.Parse("ignore", entries)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
