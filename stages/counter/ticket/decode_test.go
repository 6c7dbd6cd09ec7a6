package ticket

import (
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/internal/storetest"
)

// TestDecode decodes block bodies the way the front end does (NewArgs, then
// gohcl), so the hcl tags and the defaults are checked together.
func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, c *Counter)
	}{
		{
			name: "defaults are jail.conf's",
			body: ``,
			check: func(t *testing.T, c *Counter) {
				cfg := c.cfg
				if cfg.maxRetry != 5 || cfg.findTime != 10*time.Minute || cfg.banTime != 10*time.Minute ||
					cfg.maxMatches != 5 || cfg.increment || cfg.factor != intNum(1) || cfg.formula == nil ||
					cfg.formula.src != DefaultFormula || cfg.multipliers != nil || cfg.maxTime != nil ||
					cfg.rndTime != nil || cfg.historyAge != 86400 || cfg.ignore.Entries() != nil {
					t.Errorf("config = %+v", cfg)
				}
			},
		},
		{
			name: "max_matches follows max_retry",
			body: `max_retry = 3`,
			check: func(t *testing.T, c *Counter) {
				if c.cfg.maxMatches != 3 {
					t.Errorf("maxMatches = %d, want 3", c.cfg.maxMatches)
				}
			},
		},
		{
			name: "everything, factor as an HCL number",
			body: `
max_retry              = 3
find_time              = "1h"
ban_time               = "1d"
max_matches            = 10
ignore                 = ["127.0.0.0/8", "::1"]
ban_time_increment     = true
ban_time_factor        = 2.5
ban_time_formula       = "ban.Time * (ban.Count + 1) * banFactor"
ban_time_max           = "1w"
ban_time_rnd           = "5m"
ban_time_rnd_seed      = 99
ban_time_overall_jails = false
ban_history_age        = "2d"
`,
			check: func(t *testing.T, c *Counter) {
				cfg := c.cfg
				if cfg.maxRetry != 3 || cfg.findSec != 3600 || cfg.banSec != 86400 || cfg.maxMatches != 10 ||
					!cfg.increment || cfg.factor != floatNum(2.5) || cfg.formula.src != "ban.Time * (ban.Count + 1) * banFactor" ||
					*cfg.maxTime != intNum(604800) || *cfg.rndTime != intNum(300) || cfg.seed != 99 ||
					cfg.historyAge != 172800 || len(cfg.ignore.Entries()) != 2 {
					t.Errorf("config = %+v", cfg)
				}
			},
		},
		{
			name: "multipliers",
			body: `
ban_time_increment   = true
ban_time_multipliers = "1 2 4 8 16 32 64"
`,
			check: func(t *testing.T, c *Counter) {
				if len(c.cfg.multipliers) != 7 || c.cfg.multipliers[6] != 64 || c.cfg.formula != nil {
					t.Errorf("config = %+v", c.cfg)
				}
			},
		},
		{
			name: "permanent",
			body: `ban_time = "permanent"`,
			check: func(t *testing.T, c *Counter) {
				if c.cfg.banTime != engine.Permanent || c.cfg.banSec != -1 {
					t.Errorf("config = %+v", c.cfg)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := storetest.Decode(t, Register, "ticket", tt.body)
			tt.check(t, st.(*Counter))
		})
	}
}
