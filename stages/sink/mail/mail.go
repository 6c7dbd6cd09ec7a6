package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/lookpath"
	"github.com/f2bproject/f2b/stages/sink/internal/notify"
)

// Block labels and attribute names.
const (
	typeName          = "mail"
	attrTo            = "to"
	attrFrom          = "from"
	attrSubject       = "subject"
	attrBody          = "body"
	attrOn            = "on"
	attrSMTP          = "smtp"
	attrStartTLS      = "starttls"
	attrTLS           = "tls"
	attrUsername      = "username"
	attrPassword      = "password"
	attrCAFile        = "ca_file"
	attrInsecure      = "insecure_skip_verify"
	attrSendmail      = "sendmail"
	attrWhois         = "whois"
	attrDigest        = "digest"
	attrDigestMax     = "digest_max"
	attrDigestSubject = "digest_subject"
	attrDigestBody    = "digest_body"
	attrMaxPerHour    = "max_per_hour"
	attrTimeout       = "timeout"
	attrRetryFor      = "retry_for"
	attrQueueSize     = "queue_size"
)

// Defaults.
const (
	defaultSendmail   = "/usr/sbin/sendmail"
	defaultFrom       = "f2b <f2b@{{.Hostname}}>"
	defaultTimeout    = "30s"
	defaultRetryFor   = "10m"
	defaultDigestMax  = 100
	defaultMaxPerHour = 60
	defaultQueueSize  = 1000

	defaultSubject = "[f2b] {{.Jail}}: {{.Verb}} {{.Host}}"
	defaultBody    = `f2b on {{.Hostname}} {{.Verb}} {{.Host}} in jail {{.Jail}} at {{rfc3339 .Time}}.

Failures:  {{.Failures}}
{{- if ne .Action "unban"}}
Ban time:  {{.BanTime}}{{if not .End.IsZero}} (until {{rfc3339 .End}}){{end}}
{{- end}}
{{- if gt .BanCount 1}}
Ban count: {{.BanCount}}
{{- end}}
{{if .Matches}}
Lines behind the ban:
{{range .Matches}}  {{.}}
{{end}}{{end}}{{if .Whois}}
whois {{.Host}}:

{{.Whois}}
{{end}}`

	defaultDigestSubject = "[f2b] {{.Count}} {{if eq .Count 1}}action{{else}}actions{{end}} on {{.Hostname}}"
	defaultDigestBody    = `f2b on {{.Hostname}}: {{.Count}} {{if eq .Count 1}}action{{else}}actions{{end}} from {{rfc3339 .Since}} to {{rfc3339 .Until}}.

{{range .Entries}}{{rfc3339 .Time}}  {{printf "%-7s" .Action}}  {{.Jail}}  {{.Host}}  failures={{.Failures}}{{if ne .Action "unban"}} ban_time={{.BanTime}}{{end}}
{{end}}{{if .More}}… and {{.More}} more
{{end}}`
)

// STARTTLS modes.
const (
	startTLSAuto   = "auto"
	startTLSAlways = "always"
	startTLSNever  = "never"
)

// whoisTimeout bounds one whois run.
const whoisTimeout = 15 * time.Second

// Arguments are the attributes of a sink "mail" block.
type Arguments struct {
	// To are the recipients: a list of templates, or one string (which
	// may hold several addresses separated by commas).
	To cty.Value `hcl:"to"`
	// From is the sender, a template ("f2b <f2b@{{.Hostname}}>" by default).
	From string `hcl:"from,optional"`
	// Subject and Body are the templates of a mail about one action.
	Subject string `hcl:"subject,optional"`
	Body    string `hcl:"body,optional"`
	// On lists the actions that send mail: "ban" (the default), "unban",
	// "prolong".
	On []string `hcl:"on,optional"`

	// SMTP is the server as "host:port"; empty to use sendmail.
	SMTP string `hcl:"smtp,optional"`
	// StartTLS is "auto" (the default), "always" or "never".
	StartTLS string `hcl:"starttls,optional"`
	// TLS connects with implicit TLS (port 465).
	TLS bool `hcl:"tls,optional"`
	// Username and Password log in to the SMTP server.
	Username string `hcl:"username,optional"`
	Password string `hcl:"password,optional"`
	// CAFile is a PEM file of the certificates that may sign the server's.
	CAFile string `hcl:"ca_file,optional"`
	// InsecureSkipVerify accepts any server certificate (tests only).
	InsecureSkipVerify bool `hcl:"insecure_skip_verify,optional"`
	// Sendmail is the sendmail binary used when SMTP is empty.
	Sendmail string `hcl:"sendmail,optional"`

	// Whois adds the output of `whois HOST` to each mail (.Whois).
	Whois bool `hcl:"whois,optional"`
	// Digest, when set, collects actions into one mail per interval.
	Digest string `hcl:"digest,optional"`
	// DigestMax is how many actions a digest lists (default 100).
	DigestMax int `hcl:"digest_max,optional"`
	// DigestSubject and DigestBody are the templates of a digest.
	DigestSubject string `hcl:"digest_subject,optional"`
	DigestBody    string `hcl:"digest_body,optional"`
	// MaxPerHour caps the mails per hour (default 60) before the rest of
	// the hour goes into one digest.
	MaxPerHour int `hcl:"max_per_hour,optional"`

	// Timeout bounds one delivery (default "30s").
	Timeout string `hcl:"timeout,optional"`
	// RetryFor is how long a failed delivery is retried (default "10m").
	RetryFor string `hcl:"retry_for,optional"`
	// QueueSize bounds the actions waiting for delivery (default 1000).
	QueueSize int `hcl:"queue_size,optional"`
}

// Register adds sink "mail" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "mails bans (SMTP or sendmail), one per action or a digest",
		NewArgs: func() any {
			return &Arguments{
				StartTLS: startTLSAuto, Timeout: defaultTimeout, RetryFor: defaultRetryFor,
				DigestMax: defaultDigestMax, MaxPerHour: defaultMaxPerHour, QueueSize: defaultQueueSize,
			}
		},
		Build: engine.Build(New),
	})
}

// smtpConfig is the SMTP transport as configured.
type smtpConfig struct {
	addr, host         string
	startTLS           string
	implicitTLS        bool
	username, password string
	caFile             string
	insecure           bool
}

// Sink is a running sink "mail".
type Sink struct {
	on                        notify.Actions
	from                      *template.Template
	to                        []*template.Template
	subject, body             *template.Template
	digestSubject, digestBody *template.Template
	digestEvery               time.Duration // 0: a mail per action
	digestMax, maxPerHour     int
	whois                     bool

	smtp     *smtpConfig // nil: sendmail
	sendmail string
	timeout  time.Duration
	retry    notify.Retry
	queue    *notify.Queue[engine.Event]
	drain    time.Duration // 0: notify.DrainTimeout
	logger   *slog.Logger

	whoisCmd     string // "whois"; tests point it elsewhere
	whoisTimeout time.Duration

	sent, failed, retried atomic.Int64
	lost                  atomic.Int64 // actions dropped outside the queue
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O: ca_file is read and
// the host name looked up when the sink runs. Errors are *confval.AttrError
// values naming the attribute; all problems are reported, joined.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	s := &Sink{logger: opts.Logger, whoisCmd: "whois", whoisTimeout: whoisTimeout}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	addErr := func(attr string, index int, err error) {
		errs = append(errs, &confval.AttrError{Attr: attr, Index: index, Err: err})
	}

	on, err := notify.ParseOn(args.On)
	if err != nil {
		addErr(attrOn, -1, err)
	}
	s.on = on

	parse := func(attr, text, def string) *template.Template {
		if text == "" {
			text = def
		}
		t, err := notify.ParseTemplate(attr, text)
		if err != nil {
			addErr(attr, -1, err)
			return nil
		}
		return t
	}
	s.from = parse(attrFrom, args.From, defaultFrom)
	s.subject = parse(attrSubject, args.Subject, defaultSubject)
	s.body = parse(attrBody, args.Body, defaultBody)
	s.digestSubject = parse(attrDigestSubject, args.DigestSubject, defaultDigestSubject)
	s.digestBody = parse(attrDigestBody, args.DigestBody, defaultDigestBody)

	to, err := recipients(args.To)
	if err != nil {
		addErr(attrTo, -1, err)
	}
	for i, text := range to {
		t, err := notify.ParseTemplate(fmt.Sprintf("%s[%d]", attrTo, i), text)
		if err != nil {
			addErr(attrTo, i, err)
			continue
		}
		s.to = append(s.to, t)
	}

	s.timeout = duration(attrTimeout, args.Timeout, defaultTimeout, false, addErr)
	s.retry.For = duration(attrRetryFor, args.RetryFor, defaultRetryFor, true, addErr)
	if args.Digest != "" {
		s.digestEvery = duration(attrDigest, args.Digest, "", false, addErr)
	}
	s.digestMax = positive(attrDigestMax, args.DigestMax, defaultDigestMax, addErr)
	s.maxPerHour = positive(attrMaxPerHour, args.MaxPerHour, defaultMaxPerHour, addErr)
	s.queue = notify.NewQueue[engine.Event](positive(attrQueueSize, args.QueueSize, defaultQueueSize, addErr))
	s.whois = args.Whois

	s.transportArgs(args, addErr)

	// Try the templates on a made-up action, so a misspelled field or an
	// impossible address fails now and not at the first ban.
	sample := notify.SampleData()
	if s.from != nil && len(s.to) > 0 && len(s.to) == len(to) {
		if _, _, err := s.envelope(sample); err != nil {
			errs = append(errs, err)
		}
	}
	dg := newDigest(sample)
	dg.add(sample, 1)
	for _, c := range []struct {
		t    *template.Template
		data any
	}{{s.subject, sample}, {s.body, sample}, {s.digestSubject, dg.view("localhost")}, {s.digestBody, dg.view("localhost")}} {
		if c.t == nil {
			continue
		}
		if _, err := execute(c.t, c.data); err != nil {
			addErr(c.t.Name(), -1, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// transportArgs checks the SMTP or sendmail attributes.
func (s *Sink) transportArgs(args *Arguments, addErr func(string, int, error)) {
	smtpOnly := func(attr string, set bool) {
		if set && args.SMTP == "" {
			addErr(attr, -1, errors.New("only applies with smtp = \"host:port\""))
		}
	}
	smtpOnly(attrStartTLS, args.StartTLS != "" && args.StartTLS != startTLSAuto)
	smtpOnly(attrTLS, args.TLS)
	smtpOnly(attrUsername, args.Username != "")
	smtpOnly(attrPassword, args.Password != "")
	smtpOnly(attrCAFile, args.CAFile != "")
	smtpOnly(attrInsecure, args.InsecureSkipVerify)

	if args.SMTP == "" {
		s.sendmail = args.Sendmail
		if s.sendmail == "" {
			s.sendmail = defaultSendmail
		}
		if strings.IndexByte(s.sendmail, 0) >= 0 {
			addErr(attrSendmail, -1, errors.New("the path holds a NUL byte"))
		}
		return
	}
	if args.Sendmail != "" {
		addErr(attrSendmail, -1, errors.New("give smtp or sendmail, not both"))
	}
	c := &smtpConfig{
		addr: args.SMTP, startTLS: args.StartTLS, implicitTLS: args.TLS,
		username: args.Username, password: args.Password,
		caFile: args.CAFile, insecure: args.InsecureSkipVerify,
	}
	host, port, err := net.SplitHostPort(args.SMTP)
	if err != nil || host == "" || port == "" || strings.ContainsAny(args.SMTP, "\x00\r\n /") {
		addErr(attrSMTP, -1, fmt.Errorf("want \"host:port\", e.g. \"mail.example.org:587\" or \"[2001:db8::25]:25\", got %q", args.SMTP))
	}
	c.host = host
	switch c.startTLS {
	case "":
		c.startTLS = startTLSAuto
	case startTLSAuto, startTLSAlways, startTLSNever:
	default:
		addErr(attrStartTLS, -1, fmt.Errorf("unknown mode %q; use %q, %q or %q", c.startTLS, startTLSAuto, startTLSAlways, startTLSNever))
	}
	if c.implicitTLS && c.startTLS == startTLSAlways {
		addErr(attrStartTLS, -1, errors.New("tls = true already encrypts the connection; drop starttls"))
	}
	if (c.username == "") != (c.password == "") {
		attr := attrPassword
		if c.username == "" {
			attr = attrUsername
		}
		addErr(attr, -1, errors.New("username and password go together"))
	}
	if strings.ContainsAny(c.username+c.password, "\x00\r\n") {
		addErr(attrUsername, -1, errors.New("username and password must not hold NUL, CR or LF"))
	}
	s.smtp = c
}

// recipients reads the to attribute: a string or a list of strings.
func recipients(v cty.Value) ([]string, error) {
	if v.IsNull() {
		return nil, errors.New("name at least one recipient")
	}
	if !v.IsKnown() {
		return nil, errors.New("value is not known")
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		if strings.TrimSpace(v.AsString()) == "" {
			return nil, errors.New("name at least one recipient")
		}
		return []string{v.AsString()}, nil
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var out []string
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			if ev.IsNull() || ev.Type() != cty.String || strings.TrimSpace(ev.AsString()) == "" {
				return nil, fmt.Errorf("element %d is not an address", i)
			}
			out = append(out, ev.AsString())
		}
		if len(out) == 0 {
			return nil, errors.New("name at least one recipient")
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of addresses or a string, got %s", ty.FriendlyName())
}

// duration parses a duration attribute; an empty value takes def.
func duration(attr, text, def string, allowZero bool, addErr func(string, int, error)) time.Duration {
	if text == "" {
		text = def
	}
	d, err := confval.ParseDuration(text, allowZero)
	switch {
	case err != nil:
		addErr(attr, -1, err)
	case d == confval.Permanent:
		addErr(attr, -1, errors.New("give a finite duration"))
	}
	return d
}

// positive reads a count attribute; 0 takes def.
func positive(attr string, n, def int, addErr func(string, int, error)) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		addErr(attr, -1, fmt.Errorf("must be positive, got %d", n))
		return def
	}
	return n
}

// Run implements engine.Stage. It reads the selected actions into the
// delivery queue while a worker mails them; see the package doc for how a
// stop drains the queue.
//
// NOTE: Run never writes to out.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	tr, err := s.transport()
	if err != nil {
		return err
	}
	w := &worker{s: s, tr: tr, hostname: hostname()}
	p := notify.Pump{Queue: s.queue, Want: s.on.Want, Work: w.run, Drain: s.drain, Logger: s.logger}
	return p.Run(ctx, in)
}

// Stats returns the mails sent and failed, the retries, and the actions
// dropped without a mail (queue overflow or stop).
func (s *Sink) Stats() map[string]int64 {
	return map[string]int64{
		"mail_sent":    s.sent.Load(),
		"mail_failed":  s.failed.Load(),
		"mail_retried": s.retried.Load(),
		"mail_dropped": s.lost.Load() + s.queue.Dropped(),
	}
}

// CheckEnv implements engine.EnvChecker: the sendmail binary must be
// installed when mail goes through it, and whois when whois is asked for.
func (s *Sink) CheckEnv() error {
	var errs []error
	if s.smtp == nil {
		if _, err := lookpath.Find(s.sendmail); err != nil {
			errs = append(errs, confval.AttrErr(attrSendmail, err))
		}
	}
	if s.whois {
		if _, err := lookpath.Find(s.whoisCmd); err != nil {
			errs = append(errs, confval.AttrErr(attrWhois, err))
		}
	}
	return errors.Join(errs...)
}
