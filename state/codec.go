package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// recordVersion is the first byte of every stored ban. A decoder refuses a
// version it does not know instead of misreading it.
const recordVersion = 1

const (
	// maxMatches caps the stored matches of a ban at the last lines: they
	// are what a report on a restored ban shows, and a counter with a
	// large max_retry would otherwise store hundreds of lines per host.
	maxMatches = 50
	// maxMatchLen caps one stored line, so that a pathological log line
	// cannot make a record large.
	maxMatchLen = 4096
)

// Flags of a stored ban.
const (
	flagEnded    = 1 << iota // the ban was lifted
	flagHasStart             // Start is set (the zero time is not encoded)
	flagHasEnd               // End is set
)

// Key family bytes. A v4 address and its v4-mapped v6 form have the same
// 16 bytes; the family byte keeps them apart.
const (
	familyText = 0 // no address: the key is the host text
	family4    = 4
	family6    = 6
)

// hostKey returns the bucket key of a host: its family byte, then the
// address's 16-byte form, then its IPv6 zone if any. A host without a valid
// address is keyed by its text.
func hostKey(addr netip.Addr, text string) []byte {
	switch {
	case addr.Is4():
		b := addr.As16()
		return append([]byte{family4}, b[:]...)
	case addr.Is6():
		b := addr.As16()
		k := append(make([]byte, 0, 17+len(addr.Zone())), family6)
		k = append(k, b[:]...)
		return append(k, addr.Zone()...)
	}
	return append([]byte{familyText}, text...)
}

// parseHostKey is the inverse of hostKey. The address is invalid for a key
// made from the host text.
func parseHostKey(k []byte) (netip.Addr, error) {
	if len(k) == 0 {
		return netip.Addr{}, errors.New("empty host key")
	}
	switch k[0] {
	case familyText:
		return netip.Addr{}, nil
	case family4, family6:
		if len(k) < 17 || (k[0] == family4 && len(k) != 17) {
			return netip.Addr{}, fmt.Errorf("host key of %d bytes", len(k))
		}
		a := netip.AddrFrom16([16]byte(k[1:17]))
		if k[0] == family4 {
			return a.Unmap(), nil
		}
		return a.WithZone(string(k[17:])), nil
	}
	return netip.Addr{}, fmt.Errorf("host key of unknown family %d", k[0])
}

// encodeRecord appends the stored form of r (all but Jail and Host, which
// are the bucket and the key) to dst:
//
//	version byte, flags byte,
//	[start: varint seconds, uvarint nanoseconds], [end: same],
//	varint ban time, varint ban count, varint failures,
//	host text (uvarint length, bytes), uvarint match count, matches.
func encodeRecord(dst []byte, r *engine.BanRecord) []byte {
	var flags byte
	if r.Ended {
		flags |= flagEnded
	}
	if !r.Start.IsZero() {
		flags |= flagHasStart
	}
	if !r.End.IsZero() {
		flags |= flagHasEnd
	}
	matches := capMatches(r.Matches)
	need := 2 + 2*15 + 3*10 + 10 + len(r.HostText) + 10 // fixed fields at their longest
	for _, m := range matches {
		need += 10 + min(len(m), maxMatchLen)
	}
	dst = slices.Grow(dst, need)
	dst = append(dst, recordVersion, flags)
	if !r.Start.IsZero() {
		dst = appendTime(dst, r.Start)
	}
	if !r.End.IsZero() {
		dst = appendTime(dst, r.End)
	}
	dst = binary.AppendVarint(dst, int64(r.BanTime))
	dst = binary.AppendVarint(dst, int64(r.BanCount))
	dst = binary.AppendVarint(dst, int64(r.Failures))
	dst = appendString(dst, r.HostText)
	dst = binary.AppendUvarint(dst, uint64(len(matches)))
	for _, m := range matches {
		dst = appendString(dst, m[:min(len(m), maxMatchLen)])
	}
	return dst
}

// capMatches returns the last maxMatches lines of m.
func capMatches(m []string) []string {
	return m[max(0, len(m)-maxMatches):]
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// errTruncated reports a stored ban that ends before its last field.
var errTruncated = errors.New("truncated record")

// decoder reads the fields of a stored ban in order; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err == nil && nsec >= uint64(time.Second) {
		d.err = fmt.Errorf("nanoseconds %d out of range", nsec)
	}
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec))
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errTruncated
		return ""
	}
	s := string(d.b[:n]) // copies: bbolt's memory is valid only in its transaction
	d.b = d.b[n:]
	return s
}

// decodeRecord parses a value written by encodeRecord into r, leaving Jail
// and Host as they are.
func decodeRecord(v []byte, r *engine.BanRecord) error {
	if len(v) < 2 {
		return errTruncated
	}
	if v[0] != recordVersion {
		return fmt.Errorf("record version %d, this f2b knows %d", v[0], recordVersion)
	}
	flags := v[1]
	if flags&^(flagEnded|flagHasStart|flagHasEnd) != 0 {
		return fmt.Errorf("unknown flags %#x", flags)
	}
	d := decoder{b: v[2:]}
	r.Ended = flags&flagEnded != 0
	r.Start, r.End = time.Time{}, time.Time{}
	if flags&flagHasStart != 0 {
		r.Start = d.time()
	}
	if flags&flagHasEnd != 0 {
		r.End = d.time()
	}
	r.BanTime = time.Duration(d.varint())
	r.BanCount = int(d.varint())
	r.Failures = int(d.varint())
	r.HostText = d.string()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // every match takes at least a byte
		d.err = errTruncated
	}
	r.Matches = nil
	if d.err == nil && n > 0 {
		r.Matches = make([]string, n)
		for i := range r.Matches {
			r.Matches[i] = d.string()
		}
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%d bytes after the record", len(d.b))
	}
	return nil
}
