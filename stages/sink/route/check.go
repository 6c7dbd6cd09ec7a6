package route

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Check implements fwsync.Checker. A route is the sink's only structure
// and its element at once: there is no table or chain whose presence
// stands for the bans, so Check compares the sink's routes in the kernel
// (one `ip -j route show table T proto P` per family, the listing Sync
// reads) with those the backend last knew it held, and reports the
// missing ones as one description ("routes missing: N"); the driver's
// resync then reads the routes and adds them again. Unlike the firewall
// checks it lists the elements: nothing cheaper tells whether a route
// is there, and a listing of 20,000 routes costs a few tens of ms.
func (b *backend) Check(ctx context.Context, _ []string) ([]string, error) {
	if len(b.held) == 0 {
		return nil, nil
	}
	rs, err := b.routes(ctx)
	if err != nil {
		return nil, err
	}
	there := make(map[netip.Prefix]bool, len(rs))
	for _, r := range rs {
		if p, ok := fwsync.ParseNet(r.Dst); ok && r.Type == b.cfg.typ {
			there[p] = true
		}
	}
	n := 0
	for p := range b.held {
		if !there[p] {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("routes missing: %d of %d (%s, table %s, proto %s)", n, len(b.held), b.cfg.typ, b.cfg.table, b.cfg.proto)}, nil
}

// track records the routes ops put in or took out of the kernel; failed
// are those that failed (their state is unknown: left as it was). The
// driver calls Sync, Apply and Check one at a time, so held needs no
// lock.
func (b *backend) track(ops []fwsync.Op, failed []fwsync.Op) {
	if b.held == nil {
		b.held = map[netip.Prefix]struct{}{}
	}
	bad := make(map[netip.Prefix]bool, len(failed))
	for _, o := range failed {
		bad[o.Key.Net] = true
	}
	for _, o := range ops {
		switch {
		case bad[o.Key.Net]:
		case o.Kind == fwsync.Delete:
			delete(b.held, o.Key.Net)
		default:
			b.held[o.Key.Net] = struct{}{}
		}
	}
}

var _ fwsync.Checker = (*backend)(nil)
