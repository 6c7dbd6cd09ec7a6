package mail

import (
	"slices"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/notify"
)

// digest collects actions for one mail.
type digest struct {
	entries      []notify.Data // the first digest_max actions
	count        int           // all actions collected
	since, until time.Time
	jails        map[string]bool
}

func newDigest(first notify.Data) *digest {
	return &digest{since: first.Time, until: first.Time, jails: map[string]bool{}}
}

// add collects d, listing it only while fewer than limit are listed.
func (g *digest) add(d notify.Data, limit int) {
	g.count++
	if len(g.entries) < limit {
		g.entries = append(g.entries, d)
	}
	if d.Time.Before(g.since) {
		g.since = d.Time
	}
	if d.Time.After(g.until) {
		g.until = d.Time
	}
	g.jails[d.Jail] = true
}

// digestView is what digest_subject and digest_body see.
type digestView struct {
	// Count is the number of actions collected; More those not listed.
	Count, More int
	// Entries are the listed actions, in the order they came.
	Entries []notify.Data
	// Since and Until are the times of the earliest and latest action.
	Since, Until time.Time
	// Jails are the jails of the actions, sorted.
	Jails []string
	// Hostname is this machine's name.
	Hostname string
}

func (g *digest) view(hostname string) digestView {
	v := digestView{
		Count: g.count, More: g.count - len(g.entries), Entries: g.entries,
		Since: g.since, Until: g.until, Hostname: hostname,
	}
	for j := range g.jails {
		v.Jails = append(v.Jails, j)
	}
	slices.Sort(v.Jails)
	return v
}
