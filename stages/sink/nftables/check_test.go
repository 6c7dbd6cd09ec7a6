//go:build linux

package nftables

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
)

// checkEvery is the sink's check interval in the tests.
const checkEvery = 200 * time.Millisecond

// TestCheckRestores: with no new ban, the periodic check finds what was
// removed behind the sink's back and puts back its table, chains, rules
// and bans within a few intervals: the table deleted (as `nft flush
// ruleset` does), the chain of one hook deleted, the other's rules
// flushed. Each is one warning naming what was missing; no batch failed.
func TestCheckRestores(t *testing.T) {
	t.Parallel()
	needKernel(t)
	p := fwtest.NewPair(t)
	p.Server.Listen(t, 2222)
	d := startSink(t, p.Server, "drop", Arguments{Hook: bothHooks}, func(s *Sink) { s.fw.CheckInterval = checkEvery })
	d.Send(fwtest.Ban("sshd", p.ClientV4, time.Hour), fwtest.Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{"nft_elements_added": 2})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)

	held := func() bool {
		snap := table(t, p.Server, "f2b", "input_drop", "forward_drop")
		_, v4 := snap.sets["sshd_v4"].elemsOrNil()[netip.PrefixFrom(p.ClientV4, 32)]
		_, v6 := snap.sets["sshd_v6"].elemsOrNil()[netip.PrefixFrom(p.ClientV6, 128)]
		return v4 && v6 && snap.chains["input_drop"].hook == "input" && snap.chains["forward_drop"].hook == "forward"
	}
	within := 10 * checkEvery

	p.Server.Run(t, "nft", "delete", "table", "inet", "f2b")
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	fwtest.Eventually(t, within, "the table and both bans back", held)
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)

	nftScript(t, p.Server, "flush chain inet f2b forward_drop\ndelete chain inet f2b forward_drop\n")
	fwtest.Eventually(t, within, "the forward chain back", held)

	nftScript(t, p.Server, "flush chain inet f2b input_drop\n")
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	fwtest.Eventually(t, within, "the input chain's rules back", func() bool {
		return strings.Contains(p.Server.Run(t, "nft", "list", "chain", "inet", "f2b", "input_drop"), "@sshd_v4")
	})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)

	logs := d.Logs.String()
	for _, want := range []string{
		`missing="table inet f2b" restored=2`,
		`missing="chain inet f2b forward_drop" restored=0`,
		`missing="rule for @sshd_v4 in chain input_drop, rule for @sshd_v6 in chain input_drop" restored=0`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, "level=WARN"); n != 3 {
		t.Errorf("%d warnings, want 3:\n%s", n, logs)
	}
	if st := d.S.Stats(); st["nft_errors"] != 0 || st["nft_elements_added"] != 4 {
		t.Errorf("stats = %v, want no error and the 2 bans added twice", st)
	}
}

// elemsOrNil is si's elements, none for a set that is not there.
func (si *setInfo) elemsOrNil() map[netip.Prefix]fwsync.Elem {
	if si == nil {
		return nil
	}
	return si.elems
}
