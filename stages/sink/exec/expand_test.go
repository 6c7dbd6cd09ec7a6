package exec

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func banEvent(host string, a engine.Action) engine.Event {
	if a.Type == 0 {
		a.Type = engine.Ban
	}
	if a.Jail == "" {
		a.Jail = "sshd"
	}
	a.Host = netip.MustParseAddr(host)
	return engine.Event{Kind: engine.KindAction, Time: t0, Action: &a}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	ev := banEvent("203.0.113.7", engine.Action{
		Failures: 5, BanTime: time.Hour, BanCount: 2,
		Matches: []string{"line one", "line two"},
		Fields:  map[string]string{"user": "root", "alt_user": "admin"},
	})
	tests := []struct {
		name string
		elem string
		ev   engine.Event
		want string
	}{
		{name: "literal", elem: "/usr/sbin/nft", want: "/usr/sbin/nft"},
		{name: "ip", elem: "{ip}", want: "203.0.113.7"},
		{name: "ipv6", elem: "{ip}", ev: banEvent("2001:0db8::0001", engine.Action{}), want: "2001:db8::1"},
		{name: "family 4", elem: "{family}", want: "inet4"},
		{name: "family 6", elem: "{family}", ev: banEvent("2001:db8::1", engine.Action{}), want: "inet6"},
		{name: "jail", elem: "f2b-{jail}", want: "f2b-sshd"},
		{name: "failures", elem: "{failures}", want: "5"},
		{name: "time", elem: "{time}", want: "2026-01-02T03:04:05Z"},
		{name: "time in UTC with fraction", elem: "{time}",
			ev:   engine.Event{Kind: engine.KindAction, Time: time.Date(2026, 1, 2, 5, 4, 5, 250e6, time.FixedZone("", 7200)), Action: &engine.Action{Type: engine.Ban}},
			want: "2026-01-02T03:04:05.25Z"},
		{name: "ban_time", elem: "timeout={ban_time}", want: "timeout=3600"},
		{name: "ban_time rounds up", elem: "{ban_time}", ev: banEvent("192.0.2.1", engine.Action{BanTime: 1500 * time.Millisecond}), want: "2"},
		{name: "ban_time permanent", elem: "{ban_time}", ev: banEvent("192.0.2.1", engine.Action{BanTime: engine.Permanent}), want: "-1"},
		{name: "ban_count", elem: "{ban_count}", want: "2"},
		{name: "matches", elem: "{matches}", want: "line one\nline two"},
		{name: "field", elem: "user={F-USER}", want: "user=root"},
		{name: "field case", elem: "{F-user}/{F-Alt_User}", want: "root/admin"},
		{name: "missing field", elem: "[{F-NOPE}]", want: "[]"},
		{name: "nil fields", elem: "[{F-USER}]", ev: banEvent("192.0.2.1", engine.Action{}), want: "[]"},
		{name: "doubled braces", elem: "{{ip}}", want: "{ip}"},
		{name: "doubled braces around", elem: "{{{ip}}}", want: "{203.0.113.7}"},
		{name: "nft set syntax", elem: "{ {ip} }", want: "{ 203.0.113.7 }"},
		{name: "json body", elem: `{"ip":"{ip}","jail":"{jail}"}`, want: `{"ip":"203.0.113.7","jail":"sshd"}`},
		{name: "regex quantifier", elem: `a{1,3}`, want: `a{1,3}`},
		{name: "lone braces", elem: "} { }", want: "} { }"},
		{name: "several", elem: "{jail}:{ip}:{failures}:{ban_count}", want: "sshd:203.0.113.7:5:2"},
		{name: "value is not expanded again", elem: "{F-USER}",
			ev: banEvent("192.0.2.1", engine.Action{Fields: map[string]string{"user": "{ip}{{"}}), want: "{ip}{{"},
		{name: "NUL in value", elem: "{F-USER}",
			ev: banEvent("192.0.2.1", engine.Action{Fields: map[string]string{"user": "a\x00b"}}), want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, errs := parseArgv(attrBan, []string{"/bin/true", tt.elem}, true)
			if len(errs) > 0 {
				t.Fatalf("parse %q: %v", tt.elem, errs)
			}
			e := ev
			if tt.ev.Action != nil {
				e = tt.ev
			}
			got := a.expand(&e)
			if len(got) != 2 || got[1] != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.elem, got, tt.want)
			}
		})
	}
}

func TestParseArgvErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		attr        string
		elems       []string
		allowAction bool
		wantIndex   []int // of each error, in order
		wantMsg     string
	}{
		{name: "unknown", elems: []string{"/usr/sbin/nft", "add", "element", "inet", "f2b", "v4", "{ {ipp} }"}, wantIndex: []int{6}, wantMsg: `unknown placeholder "{ipp}"; did you mean "{ip}"?`},
		{name: "case", elems: []string{"x", "{IP}"}, wantIndex: []int{1}, wantMsg: `did you mean "{ip}"?`},
		{name: "fail2ban tag name", elems: []string{"x", "{bantime}"}, wantIndex: []int{1}, wantMsg: `did you mean "{ban_time}"?`},
		{name: "alias", elems: []string{"x", "{host}"}, wantIndex: []int{1}, wantMsg: `did you mean "{ip}"?`},
		{name: "field spelling", elems: []string{"x", "{f-user}"}, wantIndex: []int{1}, wantMsg: `did you mean "{F-USER}"?`},
		{name: "empty field name", elems: []string{"x", "{F-}"}, wantIndex: []int{1}, wantMsg: `unknown placeholder "{F-}"`},
		{name: "no hint", elems: []string{"x", "${HOME}"}, wantIndex: []int{1}, wantMsg: `unknown placeholder "{HOME}". The placeholders are {ip}`},
		{name: "unterminated", elems: []string{"x", "{ip"}, wantIndex: []int{1}, wantMsg: `unterminated placeholder "{ip"`},
		{name: "unterminated by other", elems: []string{"x", "y", "{ip: 1}"}, wantIndex: []int{2}, wantMsg: `unterminated placeholder "{ip"`},
		{name: "every bad element", elems: []string{"x", "{a}", "ok", "{b}"}, wantIndex: []int{1, 3}, wantMsg: "unknown placeholder"},
		{name: "empty program", elems: []string{"", "{ip}"}, wantIndex: []int{0}, wantMsg: "program name (first element) is empty"},
		{name: "placeholder program", elems: []string{"/usr/bin/{jail}", "x"}, wantIndex: []int{0}, wantMsg: "must be literal text"},
		{name: "empty list", elems: []string{}, wantIndex: []int{-1}, wantMsg: "the command is empty"},
		{name: "NUL", elems: []string{"x", "a\x00"}, wantIndex: []int{1}, wantMsg: "NUL byte"},
		{name: "action placeholder in start", attr: attrStart, elems: []string{"nft", "add", "table", "{jail}"}, wantIndex: []int{3}, wantMsg: "{jail} is not available in start"},
		{name: "field in stop", attr: attrStop, elems: []string{"nft", "x{F-USER}"}, wantIndex: []int{1}, wantMsg: "{F-USER} is not available in stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			attr := tt.attr
			if attr == "" {
				attr = attrBan
			}
			allow := attr != attrStart && attr != attrStop
			_, errs := parseArgv(attr, tt.elems, allow)
			var idx []int
			for _, err := range errs {
				var ae *confval.AttrError
				if !errors.As(err, &ae) || ae.Attr != attr {
					t.Fatalf("error %v is not an AttrError for %s", err, attr)
				}
				idx = append(idx, ae.Index)
				if !strings.Contains(ae.Err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not contain %q", ae.Err, tt.wantMsg)
				}
			}
			if !slices.Equal(idx, tt.wantIndex) {
				t.Errorf("error indexes %v, want %v (errors %v)", idx, tt.wantIndex, errs)
			}
		})
	}
}

func TestStartStopTakeBraces(t *testing.T) {
	t.Parallel()
	a, errs := parseArgv(attrStart, []string{"nft", "add", "set", "inet", "f2b", "v4", "{ type ipv4_addr; }", "{{x}}"}, false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := a.expand(&engine.Event{})
	if got[6] != "{ type ipv4_addr; }" || got[7] != "{x}" {
		t.Errorf("expand = %q", got)
	}
}

// TestPlaceholderNames keeps the names list in step with the constants.
func TestPlaceholderNames(t *testing.T) {
	t.Parallel()
	for i, name := range placeholderNames {
		p := placeholderByName[name]
		if p != ip+placeholder(i) {
			t.Errorf("%s is %d, want %d", name, p, ip+placeholder(i))
		}
		if got := (template{segs: []segment{{kind: p}}}).firstPlaceholder(); got != "{"+name+"}" {
			t.Errorf("firstPlaceholder = %s, want {%s}", got, name)
		}
		if !strings.Contains(placeholderHelp, "{"+name+"},") && !strings.Contains(placeholderHelp, "{"+name+"} and") {
			t.Errorf("placeholderHelp misses {%s}", name)
		}
	}
	if len(placeholderByName) != len(placeholderNames) {
		t.Errorf("%d names, %d placeholders", len(placeholderNames), len(placeholderByName))
	}
}
