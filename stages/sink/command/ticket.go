package command

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// ticket is what the dynamic tags of one command are taken from: a ban
// (fail2ban's ActionInfo of a ticket) or, for start, stop and flush, no
// ban at all (fail2ban's empty ticket).
type ticket struct {
	r      *runner
	a      *engine.Action // nil without a ban
	family string         // inet4, inet6, or the operation's family
	at     time.Time      // <time>
}

// familyOf returns fail2ban's <family> of addr.
func familyOf(addr netip.Addr) string {
	switch {
	case addr.Is4():
		return familyInet4
	case addr.Is6():
		return familyInet6
	}
	return ""
}

// ipRev is fail2ban's <ip-rev> (IPAddr.getPTR("")): the address's octets,
// or for IPv6 its 32 hex digits, in reverse order, each followed by a dot.
func ipRev(addr netip.Addr) string {
	var parts []string
	switch {
	case addr.Is4():
		for _, b := range addr.As4() {
			parts = append(parts, strconv.Itoa(int(b)))
		}
	case addr.Is6():
		const hex = "0123456789abcdef"
		for _, b := range addr.As16() {
			parts = append(parts, string(hex[b>>4]), string(hex[b&0xf]))
		}
	default:
		return ""
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		b.WriteByte('.')
	}
	return b.String()
}

// seconds is d in whole seconds as fail2ban's int(bantime) gives it
// (truncated); -1 for a permanent ban.
func seconds(d time.Duration) string {
	if d == engine.Permanent {
		return "-1"
	}
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// lookup returns the value of dynamic tag tag.
func (t *ticket) lookup(tag string) (string, bool) {
	if tag == tagFamily {
		return t.family, true
	}
	if !slices.Contains(dynamicTags, tag) {
		return "", false
	}
	if t.a == nil {
		return t.noBan(tag), true
	}
	a := t.a
	switch tag {
	case tagIP, tagFID:
		return sinkfmt.Host(a), true
	case tagIPRev:
		return ipRev(a.Host), true
	case tagIPHost:
		return "", true
	case tagFailures, tagIPFailures, tagIPJailFailures:
		return strconv.Itoa(a.Failures), true
	case tagTime:
		return pyTime(t.at), true
	case tagBanTime:
		return seconds(a.BanTime), true
	case tagBanCount:
		return strconv.Itoa(a.BanCount), true
	case tagMatches, tagIPMatches, tagIPJailMatches:
		return strings.Join(a.Matches, "\n"), true
	case tagRestored:
		if a.Restored {
			return "1", true
		}
		return "0", true
	case tagJailName:
		return a.Jail, true
	}
	return t.r.jailTag(a.Jail, tag)
}

// noBan returns the value of dynamic tag tag in a command that runs
// without a ban: the tags attribute's value when it sets one, else that of
// fail2ban's empty ticket.
func (t *ticket) noBan(tag string) string {
	if v, ok := t.r.s.noBan[tag]; ok {
		return v
	}
	switch tag {
	case tagFailures, tagIPFailures, tagIPJailFailures, tagBanCount, tagRestored:
		return "0"
	case tagTime:
		return pyTime(t.at)
	case tagJailBanned, tagJailBannedTot, tagJailFound, tagJailFoundTotal:
		v, _ := t.r.jailTag("", tag)
		return v
	}
	return ""
}

// field returns the captured field key (see fieldKey) of the ban: the
// engine keeps <F-NAME> as the lower-case name with '-' as '_', and
// <F-ID>/<F-PORT> may be kept as id/port.
func (t *ticket) field(key string) (string, bool) {
	if t.a == nil || t.a.Fields == nil {
		return "", false
	}
	f := t.a.Fields
	if v, ok := f[key]; ok {
		return v, true
	}
	if v, ok := f[strings.ReplaceAll(key, "-", "_")]; ok {
		return v, true
	}
	switch key {
	case "fid":
		v, ok := f["id"]
		return v, ok
	case "fport":
		v, ok := f["port"]
		return v, ok
	}
	return "", false
}
