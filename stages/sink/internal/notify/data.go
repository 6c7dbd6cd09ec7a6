package notify

import (
	"encoding/json"
	"net/netip"
	"strings"
	"text/template"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// Data is what a template of a notifying sink sees for one action.
type Data struct {
	// Action is "ban", "unban" or "prolong".
	Action string
	// Verb says what happened, for sentences: "banned", "unbanned" or
	// "extended the ban of".
	Verb string
	// Jail is the counter's name.
	Jail string
	// Host is the address as Go's netip prints it (IPv6 compressed).
	Host string
	// Addr is the address itself; invalid when the action had none.
	Addr netip.Addr `json:"-"`
	// Failures is the number of failures behind the ban.
	Failures int
	// BanCount is the host's ban number in the jail, 1 for the first.
	BanCount int
	// Matches are the log lines behind the ban.
	Matches []string
	// Fields are the captures of the last failure (<F-USER> is "user");
	// a missing one reads as "".
	Fields map[string]string
	// Time is when the action took effect.
	Time time.Time
	// BanTime is the ban's length; it prints as Go writes durations
	// ("1h0m0s") or "permanent".
	BanTime BanTime
	// End is when a ban or prolong ends; zero for a permanent ban and for
	// an unban.
	End time.Time
	// Hostname is the name of the machine f2b runs on.
	Hostname string
	// Whois is the output of `whois Host` (sink "mail" with whois = true).
	Whois string
}

// BanTime is a ban's length; engine.Permanent for a ban that never ends.
type BanTime time.Duration

// String writes the duration as Go does, or "permanent".
func (b BanTime) String() string {
	return string(sinkfmt.AppendDuration(nil, time.Duration(b)))
}

// MarshalText writes the duration as String does, so a JSON body holds
// "1h0m0s" or "permanent".
func (b BanTime) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// Seconds is the length in whole seconds, rounded up; -1 when permanent.
func (b BanTime) Seconds() int64 { return sinkfmt.Seconds(time.Duration(b)) }

// NewData returns the template data of an action event.
func NewData(ev engine.Event, hostname string) Data {
	a := ev.Action
	d := Data{
		Action:   a.Type.String(),
		Jail:     a.Jail,
		Host:     sinkfmt.Host(a),
		Addr:     a.Host,
		Failures: a.Failures,
		BanCount: a.BanCount,
		Matches:  a.Matches,
		Fields:   a.Fields,
		Time:     sinkfmt.EventTime(ev),
		BanTime:  BanTime(a.BanTime),
		Hostname: hostname,
	}
	switch a.Type {
	case engine.Ban:
		d.Verb = "banned"
	case engine.Unban:
		d.Verb = "unbanned"
	default:
		d.Verb = "extended the ban of"
	}
	if a.Type != engine.Unban && a.BanTime != engine.Permanent {
		d.End = a.End
	}
	if d.Fields == nil {
		d.Fields = map[string]string{}
	}
	return d
}

// SampleData is a made-up action for checking templates when a sink is
// built: a template that fails on it names a field that does not exist.
func SampleData() Data {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := engine.Event{Kind: engine.KindAction, Time: t, Action: &engine.Action{
		Type: engine.Ban, Jail: "sshd", Host: netip.MustParseAddr("192.0.2.1"), Failures: 5,
		BanTime: time.Hour, Start: t, End: t.Add(time.Hour), BanCount: 1,
		Matches: []string{"sample line"}, Fields: map[string]string{"user": "root"},
	}}
	d := NewData(ev, "localhost")
	d.Whois = "sample whois"
	return d
}

// Funcs are the functions templates may call besides text/template's own:
//
//	join LIST SEP   the strings of LIST joined by SEP
//	rfc3339 TIME    TIME in UTC as RFC 3339 ("" for the zero time)
//	json VALUE      VALUE as a JSON literal (a quoted, escaped string for
//	                a string), for building JSON bodies
func Funcs() template.FuncMap {
	return template.FuncMap{
		"join": func(list []string, sep string) string { return strings.Join(list, sep) },
		"rfc3339": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return string(sinkfmt.AppendTime(nil, t))
		},
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

// ParseTemplate parses text as a template named name with Funcs. A missing
// map key (an uncaptured field) reads as "".
func ParseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(Funcs()).Option("missingkey=zero").Parse(text)
}
