package state

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

func TestCodecRoundTrip(t *testing.T) {
	recs := []engine.BanRecord{
		{},
		{HostText: "h", Start: time.Unix(0, 0), End: time.Unix(-5, 999999999), BanTime: engine.Permanent,
			BanCount: 1 << 40, Failures: -1, Matches: []string{"", "a"}, Ended: true},
		{Start: time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC), BanTime: 1<<63 - 1},
	}
	for _, want := range recs {
		var got engine.BanRecord
		if err := decodeRecord(encodeRecord(nil, &want), &got); err != nil {
			t.Fatalf("%+v: %v", want, err)
		}
		if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.Start.IsZero() != want.Start.IsZero() {
			t.Errorf("times %v/%v, want %v/%v", got.Start, got.End, want.Start, want.End)
		}
		got.Start, got.End, want.Start, want.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	}
}

func TestCodecSize(t *testing.T) {
	// A typical ban with three short matches stays near 200 bytes.
	r := engine.BanRecord{HostText: "192.0.2.1", Start: t0, End: t0.Add(time.Hour), BanTime: time.Hour, BanCount: 1, Failures: 3,
		Matches: []string{"Mar  1 12:00:00 host sshd[123]: Failed password for root from 192.0.2.1 port 22 ssh2"}}
	if n := len(encodeRecord(nil, &r)); n > 130 {
		t.Errorf("encoded record of %d bytes", n)
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	r := engine.BanRecord{HostText: "192.0.2.1", Start: t0, End: t0.Add(time.Hour), BanTime: time.Hour, BanCount: 2,
		Failures: 5, Matches: []string{"one", "two"}}
	v := encodeRecord(nil, &r)
	for i := range len(v) {
		var got engine.BanRecord
		if err := decodeRecord(v[:i], &got); err == nil {
			t.Errorf("a record cut to %d of %d bytes decoded", i, len(v))
		}
	}
	var got engine.BanRecord
	if err := decodeRecord(append(bytes.Clone(v), 0), &got); err == nil {
		t.Error("a record with a trailing byte decoded")
	}
	other := bytes.Clone(v)
	other[0] = recordVersion + 1
	if err := decodeRecord(other, &got); err == nil {
		t.Error("a record of an unknown version decoded")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	r := engine.BanRecord{HostText: "x", Start: t0, BanTime: engine.Permanent, Matches: []string{"m"}}
	f.Add(encodeRecord(nil, &r))
	f.Add([]byte{recordVersion, 0xff, 0x80})
	f.Add([]byte{recordVersion, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, v []byte) {
		var got engine.BanRecord
		if decodeRecord(v, &got) != nil {
			return
		}
		// What decodes re-encodes to a value that decodes the same (the
		// bytes may differ: a varint can be written longer than needed).
		var again engine.BanRecord
		if err := decodeRecord(encodeRecord(nil, &got), &again); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%x decoded as %+v, re-encoded as %+v, %v", v, got, again, err)
		}
	})
}

func TestHostKey(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "fe80::1%eth0", "0.0.0.0", "::"} {
		a := netip.MustParseAddr(s)
		got, err := parseHostKey(hostKey(a, s))
		if err != nil || got != a {
			t.Errorf("%s: key parses as %v, %v", s, got, err)
		}
	}
	if bytes.Equal(hostKey(netip.MustParseAddr("192.0.2.1"), ""), hostKey(netip.MustParseAddr("::ffff:192.0.2.1"), "")) {
		t.Error("v4 and v4-mapped v6 share a key")
	}
	if got, err := parseHostKey(hostKey(netip.Addr{}, "host.example")); err != nil || got.IsValid() {
		t.Errorf("text key parses as %v, %v", got, err)
	}
	for _, k := range [][]byte{nil, {4, 1, 2}, {4, 17: 0}, {9, 1}} {
		if _, err := parseHostKey(k); err == nil {
			t.Errorf("key %x parsed", k)
		}
	}
}
