package failfilter

import (
	"strconv"
	"strings"
)

// This file expands fail2ban's tags (<HOST>, <F-USER>…</F-USER>, …) into
// Python regex syntax the way fail2ban's Regex._resolveHostTag does, with
// the same capture group names (ip4, ip6, dns, fid, fport, cidr, the
// lower-cased F- names), so that a failure's fields are fail2ban's.

// Address patterns. Digits are ASCII ([0-9]) where Python's \d would also
// take other Unicode digits: no address is written with those, and a host
// made of them could never be banned anyway. fail2ban's IPv6 pattern ends
// in (?:[0-9a-fA-F]{1,4}|(?<=:):); every repeated unit before it ends with
// ':', so the lookbehind always holds and plain ':' is equivalent, which
// keeps <HOST> regexes on the linear engine.
const (
	tagIP4  = `(?:::f{4,6}:)?(?P<ip4>(?:[0-9]{1,3}\.){3}[0-9]{1,3})`
	tagIP6  = `(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|:))`
	tagDNS  = `(?P<dns>[\w\-.^_]*\w)`
	tagCIDR = `(?P<cidr>[0-9]+)`
	tagAddr = `\[?(?:` + tagIP4 + `|` + tagIP6 + `)\]?`
	tagHost = `(?:` + tagAddr + `|` + tagDNS + `)`
	tagSub  = `\[?(?:` + tagIP4 + `|` + tagIP6 + `)(?:/` + tagCIDR + `)?\]?`
)

// staticTags are the tags replaced by a fixed pattern.
var staticTags = map[string]string{
	"IP4": tagIP4, "F-IP4/": tagIP4,
	"IP6": tagIP6, "F-IP6/": tagIP6,
	"ADDR": tagAddr, "F-ADDR/": tagAddr,
	"CIDR": tagCIDR, "F-CIDR/": tagCIDR,
	"SUBNET": tagSub, "F-SUBNET/": tagSub,
	"DNS": tagDNS, "F-DNS/": tagDNS,
	"F-ID/":   `(?P<fid>\S+)`,
	"F-PORT/": `(?P<fport>\w+)`,
}

// fieldName maps an F- tag name to its group name: lower case, with "id"
// and "port" renamed as fail2ban does ("fid", "fport").
func fieldName(tag string) string {
	n := strings.ToLower(tag)
	switch n {
	case "id":
		return "fid"
	case "port":
		return "fport"
	}
	return n
}

// ExpandTags replaces fail2ban's tags in a regex the way fail2ban does
// before compiling it: <HOST> (with useDNS "no" the same as <ADDR>),
// <ADDR>, <IP4>, <IP6>, <DNS>, <CIDR>, <SUBNET> and their <F-…/> forms,
// <F-ID/>, <F-PORT/>, <SKIPLINES>, and <F-NAME>…</F-NAME> as the group
// "name" (lower case; ID and PORT become "fid" and "fport"). Tags are found
// anywhere, as fail2ban's plain text substitution finds them (also inside
// character classes or after a backslash); unknown tags stay as written.
// The result is in Python's regex syntax.
func ExpandTags(regex string, useDNS string) string {
	if strings.IndexByte(regex, '<') < 0 {
		return regex
	}
	var (
		b    strings.Builder
		open = map[string]bool{}
		nl   = 0
	)
	for i := 0; i < len(regex); {
		n := tagLen(regex[i:])
		if n == 0 {
			b.WriteByte(regex[i])
			i++
			continue
		}
		tag := regex[i : i+n]
		name := tag[1 : len(tag)-1]
		i += n
		switch {
		case name == "HOST":
			if useDNS == "no" {
				b.WriteString(tagAddr)
			} else {
				b.WriteString(tagHost)
			}
			continue
		case name == "SKIPLINES":
			b.WriteString(`\n(?P<skiplines` + strconv.Itoa(nl) + `>(?:(?:.*\n)*?))`)
			nl++
			continue
		}
		if p, ok := staticTags[name]; ok {
			b.WriteString(p)
			continue
		}
		closing := strings.HasPrefix(name, "/")
		fname, ok := strings.CutPrefix(strings.TrimPrefix(name, "/"), "F-")
		if !ok || !isFieldTag(fname) {
			b.WriteString(tag)
			continue
		}
		if closing {
			if open[fname] {
				b.WriteByte(')')
			} else {
				b.WriteString(tag) // not opened: kept as written
			}
			continue
		}
		open[fname] = true
		b.WriteString(`(?P<` + fieldName(fname) + `>`)
	}
	return b.String()
}

// tagLen returns the length of the tag </?[\w\-]+/?> at the start of s, or
// 0. \w is ASCII here, which is all a tag name can hold.
func tagLen(s string) int {
	if len(s) < 3 || s[0] != '<' {
		return 0
	}
	i := 1
	if s[i] == '/' {
		i++
	}
	start := i
	for i < len(s) && (isWordByte(s[i]) || s[i] == '-') {
		i++
	}
	if i == start {
		return 0
	}
	if i < len(s) && s[i] == '/' {
		i++
	}
	if i < len(s) && s[i] == '>' {
		return i + 1
	}
	return 0
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isFieldTag reports a name fail2ban accepts after "F-": upper-case
// letters, digits, '_' and '-'.
func isFieldTag(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
