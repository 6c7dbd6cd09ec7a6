package webhook

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/notify"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

const jsonType = "application/json"

// jsonEvent is the body of format "json"; the field order is the key order.
type jsonEvent struct {
	Event    string   `json:"event"`
	Jail     string   `json:"jail"`
	Host     string   `json:"host"`
	Failures int      `json:"failures"`
	Time     string   `json:"time"`
	BanTime  string   `json:"ban_time"`
	End      *string  `json:"end"`
	Matches  []string `json:"matches"`
	Hostname string   `json:"hostname"`
}

// payload returns the body of ev and its content type.
func (s *Sink) payload(ev engine.Event) ([]byte, string, error) {
	d := notify.NewData(ev, s.hostname)
	switch s.format {
	case "":
		var b bytes.Buffer
		if err := s.body.Execute(&b, d); err != nil {
			return nil, "", err
		}
		return b.Bytes(), s.contentType, nil
	case formatSlack:
		return marshal(map[string]string{"text": slackEscape(chatText(d))})
	case formatMattermost:
		return marshal(map[string]string{"text": chatText(d)})
	case formatDiscord:
		return marshal(struct {
			Content string `json:"content"`
			Allowed struct {
				Parse []string `json:"parse"`
			} `json:"allowed_mentions"`
		}{Content: chatText(d), Allowed: struct {
			Parse []string `json:"parse"`
		}{Parse: []string{}}})
	}
	j := jsonEvent{
		Event: d.Action, Jail: d.Jail, Host: d.Host, Failures: d.Failures,
		Time: string(sinkfmt.AppendTime(nil, d.Time)), BanTime: d.BanTime.String(),
		Matches: d.Matches, Hostname: d.Hostname,
	}
	if !d.End.IsZero() {
		end := string(sinkfmt.AppendTime(nil, d.End))
		j.End = &end
	}
	if j.Matches == nil {
		j.Matches = []string{}
	}
	return marshal(j)
}

func marshal(v any) ([]byte, string, error) {
	b, err := json.Marshal(v)
	return b, jsonType, err
}

// chatText is the one-line message of the chat formats.
func chatText(d notify.Data) string {
	var b strings.Builder
	b.WriteString("[f2b] ")
	b.WriteString(d.Jail)
	b.WriteString(" on ")
	b.WriteString(d.Hostname)
	b.WriteString(": ")
	b.WriteString(d.Verb)
	b.WriteByte(' ')
	b.WriteString(d.Host)
	switch d.Action {
	case "ban":
		b.WriteString(" after ")
		b.WriteString(plural(d.Failures, "failure"))
		b.WriteString(", for ")
		b.WriteString(d.BanTime.String())
	case "prolong":
		b.WriteString(" to ")
		b.WriteString(d.BanTime.String())
	}
	if !d.End.IsZero() {
		b.WriteString(" (until ")
		b.Write(sinkfmt.AppendTime(nil, d.End))
		b.WriteByte(')')
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// slackEscape escapes the characters Slack reads as markup, so that no
// text in a message can become a link or an @channel mention.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
