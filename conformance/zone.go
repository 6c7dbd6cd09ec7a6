package conformance

import (
	"encoding/binary"
	"time"
)

// fail2ban's tests run with TZ=CET-01CEST-02,M3.5.0,M10.5.0: Central
// European time with the POSIX default switch times (02:00 local both
// ways), which differ from Europe/Zurich's tzdata in the autumn hour.
const testTZ = "CET-01CEST-02,M3.5.0,M10.5.0"

// posixLocation builds a time.Location that follows the POSIX TZ rule tz
// at all times: a TZif v2 blob with one zone type and no transitions, whose
// footer holds the rule, which Go applies after the (absent) last
// transition.
func posixLocation(name, tz string, stdOffset int, stdAbbr string) (*time.Location, error) {
	var b []byte
	header := func(ver byte, typecnt, charcnt uint32) {
		b = append(b, "TZif"...)
		b = append(b, ver)
		b = append(b, make([]byte, 15)...)
		for _, n := range []uint32{0, 0, 0, 0, typecnt, charcnt} { // isut, isstd, leap, time, type, char
			b = binary.BigEndian.AppendUint32(b, n)
		}
	}
	chars := append([]byte(stdAbbr), 0)
	ttinfo := func() {
		b = binary.BigEndian.AppendUint32(b, uint32(int32(stdOffset)))
		b = append(b, 0, 0) // isdst, abbreviation index
	}
	header('2', 1, uint32(len(chars))) // version 1 data block
	ttinfo()
	b = append(b, chars...)
	header('2', 1, uint32(len(chars))) // version 2 data block
	ttinfo()
	b = append(b, chars...)
	b = append(b, '\n')
	b = append(b, tz...)
	b = append(b, '\n')
	return time.LoadLocationFromTZData(name, b)
}
