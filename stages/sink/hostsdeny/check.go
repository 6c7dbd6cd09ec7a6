package hostsdeny

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"

	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// Check implements fwsync.Checker. The sink's lines are its only
// structure and its elements at once (there is no marker block): an
// admin or a configuration-management tool that rewrites the file drops
// them. Check reads the file, small even with thousands of lines, and
// reports the lines the sink last knew it held that are gone, as one
// description ("lines missing from PATH: N of M"); the driver's resync
// then reads the file and writes them again. It takes no lock: a rewrite
// replaces the file at once, and a read that meets another program's
// half-written file only costs a resync, which reads under the lock.
func (b *backend) Check(_ context.Context, _ []string) ([]string, error) {
	if len(b.held) == 0 {
		return nil, nil
	}
	path := b.target()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{fmt.Sprintf("file %s, with the sink's %d lines", path, len(b.held))}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	there := make(map[netip.Addr]bool, len(b.held))
	for _, line := range strings.Split(string(data), "\n") {
		if a, ok := b.parseLine(strings.TrimRight(line, "\r")); ok {
			there[a] = true
		}
	}
	n := 0
	for a := range b.held {
		if !there[a] {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("lines missing from %s: %d of %d", path, n, len(b.held))}, nil
}

// track records the lines a rewrite added and deleted. The driver calls
// Sync, Apply and Check one at a time, so held needs no lock.
func (b *backend) track(add, del []netip.Addr) {
	if b.held == nil {
		b.held = map[netip.Addr]struct{}{}
	}
	for _, a := range add {
		b.held[a] = struct{}{}
	}
	for _, a := range del {
		delete(b.held, a)
	}
}

var _ fwsync.Checker = (*backend)(nil)
