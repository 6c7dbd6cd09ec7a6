package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/netip"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/fwtest"
	"github.com/f2bproject/f2b/stages/sink/internal/notify/notifytest"
)

var t0 = notifytest.T0

// ban returns a ban event of host (an address, or any text for HostText).
func ban(host string, mod ...func(*engine.Action)) engine.Event {
	return notifytest.Ban(host, "Jan  2 03:04:01 h sshd[1]: Failed password for root from ", mod...)
}

// newSink builds a sink with fast retries and a log in logs (may be nil).
func newSink(t *testing.T, args *Arguments, logs io.Writer) *Sink {
	t.Helper()
	logger := notifytest.Logger(logs)
	s, err := New(engine.Options{ID: "sink.admin", Logger: logger}, args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.retry.First, s.retry.Max = 10*time.Millisecond, 50*time.Millisecond
	return s
}

// smtpArgs returns arguments that send to srv, trusting its certificate.
func smtpArgs(srv *smtpServer) *Arguments {
	return &Arguments{To: cty.StringVal("admin@example.org"), SMTP: srv.addr, CAFile: srv.caFile}
}

// parse reads a received message and decodes its body.
func parse(t *testing.T, data string) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	var r io.Reader = msg.Body
	switch cte := msg.Header.Get("Content-Transfer-Encoding"); cte {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "7bit":
	default:
		t.Fatalf("Content-Transfer-Encoding = %q", cte)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("body is not quoted-printable: %v", err)
	}
	return msg, string(body)
}

func subject(t *testing.T, msg *mail.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	return s
}

func TestSMTPStartTLSAuthAndHeaders(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, withStartTLS, withAuth)
	args := smtpArgs(srv)
	args.Username, args.Password = "f2b", "s3cret"
	args.Subject = "[f2b] {{.Jail}}: {{.Verb}} {{.Host}} user {{.Fields.user}}"
	var logs notifytest.Logs
	s := newSink(t, args, &logs)

	// The log's text lands in the host and a captured user name: neither
	// may open a header of its own.
	ev := ban("203.0.113.9\r\nBcc: evil@example.net", func(a *engine.Action) {
		a.Fields = map[string]string{"user": "root\r\nBcc: evil2@example.net"}
		a.Matches = []string{"line one", ".line starting with a dot", "ünïcödé " + strings.Repeat("x", 1200)}
	})
	notifytest.Run(t, s, ev)

	m := srv.next()
	if !m.TLS || !m.AuthTLS {
		t.Errorf("STARTTLS not used: TLS %v, AUTH over TLS %v", m.TLS, m.AuthTLS)
	}
	if m.AuthUser != "f2b" || m.AuthPass != "s3cret" || m.AuthMech != "PLAIN" {
		t.Errorf("AUTH = %s %q %q", m.AuthMech, m.AuthUser, m.AuthPass)
	}
	if !strings.HasPrefix(m.From, "f2b@") || len(m.To) != 1 || m.To[0] != "admin@example.org" {
		t.Errorf("envelope = from %q to %q", m.From, m.To)
	}
	msg, body := parse(t, m.Data)
	for _, h := range []string{"Bcc", "Cc"} {
		if v, ok := msg.Header[h]; ok {
			t.Errorf("header %s injected: %q", h, v)
		}
	}
	head, _, _ := strings.Cut(m.Data, "\n\n")
	if strings.Contains(head, "\nBcc:") {
		t.Errorf("a header line starts with Bcc:\n%s", head)
	}
	subj := subject(t, msg)
	if want := "[f2b] sshd: banned 203.0.113.9 Bcc: evil@example.net user root Bcc: evil2@example.net"; subj != want {
		t.Errorf("subject = %q, want %q", subj, want)
	}
	if got := msg.Header.Get("To"); got != "<admin@example.org>" {
		t.Errorf("To = %q", got)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := msg.Header.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{24}\.[0-9a-z]+@[A-Za-z0-9.-]+>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	for h, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
	} {
		if got := msg.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	for _, want := range []string{
		"in jail sshd at 2026-01-02T03:04:05Z",
		"Failures:  5",
		"Ban time:  1h0m0s (until 2026-01-02T04:04:05Z)",
		"  line one\n  .line starting with a dot\n  ünïcödé " + strings.Repeat("x", 1200) + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	for line := range strings.SplitSeq(m.Data, "\n") {
		if len(line) > 78 {
			t.Errorf("line of %d bytes in the message: %.80q…", len(line), line)
		}
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Error("the password was logged")
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 1, "mail_failed": 0, "mail_retried": 0, "mail_dropped": 0})
}

func TestSMTPRecipientInjectionRefused(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	args := smtpArgs(srv)
	args.To = cty.ListVal([]cty.Value{cty.StringVal("{{.Fields.user}}@example.org")})
	var logs notifytest.Logs
	s := newSink(t, args, &logs)
	notifytest.Run(t, s, ban("203.0.113.9", func(a *engine.Action) {
		a.Fields = map[string]string{"user": "root\r\nBcc: evil@example.net"}
	}))
	if got := srv.all(); len(got) != 0 {
		t.Errorf("a mail went out to %q", got[0].To)
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 0, "mail_failed": 1})
	if !strings.Contains(logs.String(), "control character") {
		t.Errorf("log does not say why:\n%s", logs.String())
	}
}

func TestSMTPLoginInClearToLoopback(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, withStartTLS, withAuth)
	args := smtpArgs(srv)
	args.StartTLS, args.Username, args.Password = "never", "u", "p"
	s := newSink(t, args, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	m := srv.next()
	if m.TLS || m.AuthUser != "u" || m.AuthTLS {
		t.Errorf("got TLS %v, AUTH %q over TLS %v; want a clear login to 127.0.0.1", m.TLS, m.AuthUser, m.AuthTLS)
	}
}

func TestAuthAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host      string
		encrypted bool
		want      bool
	}{
		{"mail.example.org", true, true},
		{"mail.example.org", false, false},
		{"192.0.2.25", false, false},
		{"10.0.0.1", false, false},
		{"localhost", false, true},
		{"LOCALHOST.", false, true},
		{"mx.localhost", false, true},
		{"127.0.0.1", false, true},
		{"127.0.0.53", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"fe80::1%lo", false, false},
		{"localhost.example.org", false, false},
	}
	for _, tt := range tests {
		if got := authAllowed(tt.encrypted, tt.host); got != tt.want {
			t.Errorf("authAllowed(%v, %q) = %v, want %v", tt.encrypted, tt.host, got, tt.want)
		}
	}
	// The mechanisms check again on their own.
	if _, _, err := (&plainAuth{user: "u", pass: "p", host: "mail.example.org"}).Start(&smtp.ServerInfo{Name: "mail.example.org"}); err == nil {
		t.Error("PLAIN started in clear to a remote server")
	}
	if _, _, err := (&loginAuth{user: "u", pass: "p", host: "mail.example.org"}).Start(&smtp.ServerInfo{Name: "mail.example.org"}); err == nil {
		t.Error("LOGIN started in clear to a remote server")
	}
}

func TestSMTPLoginMechanism(t *testing.T) {
	t.Parallel()
	a := pickAuth("LOGIN CRAM-MD5", "user", "pass", "localhost")
	if a == nil {
		t.Fatal("no mechanism picked from LOGIN")
	}
	mech, resp, err := a.Start(&smtp.ServerInfo{Name: "localhost"})
	if mech != "LOGIN" || resp != nil || err != nil {
		t.Fatalf("Start = %q %q %v", mech, resp, err)
	}
	u, _ := a.Next([]byte("Username:"), true)
	p, _ := a.Next([]byte("Password:"), true)
	if string(u) != "user" || string(p) != "pass" {
		t.Errorf("LOGIN answers %q, %q", u, p)
	}
	if _, err := a.Next([]byte("What?"), true); err == nil {
		t.Error("a third challenge was answered")
	}
	if pickAuth("CRAM-MD5 XOAUTH2", "u", "p", "localhost") != nil {
		t.Error("picked a mechanism the sink does not speak")
	}
}

func TestSMTPLoginOverStartTLS(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, withStartTLS, withLoginOnly)
	args := smtpArgs(srv)
	args.StartTLS, args.Username, args.Password = "always", "user@example.org", "pa ss"
	s := newSink(t, args, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	m := srv.next()
	if m.AuthMech != "LOGIN" || m.AuthUser != "user@example.org" || m.AuthPass != "pa ss" || !m.AuthTLS {
		t.Errorf("AUTH = %s %q %q over TLS %v", m.AuthMech, m.AuthUser, m.AuthPass, m.AuthTLS)
	}
}

func TestSMTPStartTLSAlwaysNotOffered(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	args := smtpArgs(srv)
	args.StartTLS = "always"
	s := newSink(t, args, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	if got := srv.all(); len(got) != 0 {
		t.Errorf("mail sent in clear with starttls = always")
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 0, "mail_failed": 1, "mail_retried": 0})
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, withStartTLS)
	args := smtpArgs(srv)
	args.CAFile = "" // the system roots do not know the test's certificate
	s := newSink(t, args, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	if got := srv.all(); len(got) != 0 {
		t.Error("mail sent to a server with an untrusted certificate")
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 0, "mail_failed": 1, "mail_retried": 0})
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, withImplicitTLS, withAuth)
	args := smtpArgs(srv)
	args.TLS, args.CAFile, args.InsecureSkipVerify = true, "", true
	args.Username, args.Password = "u", "p"
	s := newSink(t, args, nil)
	notifytest.Run(t, s, ban("2001:db8::7"))
	m := srv.next()
	if !m.TLS || !m.AuthTLS {
		t.Errorf("implicit TLS not used: %+v", m)
	}
	msg, _ := parse(t, m.Data)
	if got := subject(t, msg); got != "[f2b] sshd: banned 2001:db8::7" {
		t.Errorf("subject = %q", got)
	}
}

func TestSMTPTemporaryFailureRetried(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	srv.failMail.Store(2)
	s := newSink(t, smtpArgs(srv), nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	if m := srv.next(); m.From == "" {
		t.Errorf("mail = %+v", m)
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 1, "mail_failed": 0, "mail_retried": 2})
}

func TestSMTPNoRetryWhenRetryForIsZero(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	srv.failMail.Store(1)
	args := smtpArgs(srv)
	args.RetryFor = "0s"
	s := newSink(t, args, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 0, "mail_failed": 1, "mail_retried": 0})
}

func TestDigestCollectsManyBansIntoOneMail(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	args := smtpArgs(srv)
	args.Digest = "10m"
	s := newSink(t, args, nil)
	var events []engine.Event
	for i := range 50 {
		events = append(events, ban(fmt.Sprintf("198.51.100.%d", i+1), func(a *engine.Action) {
			if i%2 == 1 {
				a.Jail = "nginx"
			}
		}))
	}
	// The input ends long before 10 minutes: the stop sends the digest.
	notifytest.Run(t, s, events...)
	mails := srv.all()
	if len(mails) != 1 {
		t.Fatalf("got %d mails, want one digest", len(mails))
	}
	msg, body := parse(t, mails[0].Data)
	if got := subject(t, msg); !strings.HasPrefix(got, "[f2b] 50 actions on ") {
		t.Errorf("subject = %q", got)
	}
	for i := range 50 {
		if !strings.Contains(body, fmt.Sprintf("198.51.100.%d  failures=5", i+1)) {
			t.Errorf("digest lacks host %d:\n%s", i+1, body)
			break
		}
	}
	if strings.Contains(body, "more") {
		t.Errorf("digest cut although 50 < digest_max:\n%s", body)
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 1, "mail_dropped": 0})
}

func TestDigestTimerAndCap(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	args := smtpArgs(srv)
	args.Digest, args.DigestMax = "1s", 10
	s := newSink(t, args, nil)
	in := make(chan engine.Event, 25)
	for i := range 25 {
		in <- ban(fmt.Sprintf("198.51.100.%d", i+1))
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background(), in, nil) }()

	// The digest goes out when its interval is over, input still open.
	m := srv.next()
	_, body := parse(t, m.Data)
	if n := strings.Count(body, "  ban      sshd  "); n != 10 {
		t.Errorf("digest lists %d actions, want digest_max = 10:\n%s", n, body)
	}
	if !strings.Contains(body, "… and 15 more\n") {
		t.Errorf("digest does not count the rest:\n%s", body)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rest := srv.all(); len(rest) != 0 {
		t.Errorf("%d more mails after the digest", len(rest))
	}
}

func TestRateLimitSwitchesToDigest(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	args := smtpArgs(srv)
	args.MaxPerHour = 2
	var logs notifytest.Logs
	s := newSink(t, args, &logs)
	var events []engine.Event
	for i := range 5 {
		events = append(events, ban(fmt.Sprintf("198.51.100.%d", i+1)))
	}
	notifytest.Run(t, s, events...)
	mails := srv.all()
	if len(mails) != 3 {
		t.Fatalf("got %d mails, want 2 single ones and a digest", len(mails))
	}
	for i, want := range []string{"[f2b] sshd: banned 198.51.100.1", "[f2b] sshd: banned 198.51.100.2", "[f2b] 3 actions on "} {
		msg, _ := parse(t, mails[i].Data)
		if got := subject(t, msg); !strings.HasPrefix(got, want) {
			t.Errorf("mail %d subject = %q, want %q…", i, got, want)
		}
	}
	_, body := parse(t, mails[2].Data)
	for _, h := range []string{"198.51.100.3", "198.51.100.4", "198.51.100.5"} {
		if !strings.Contains(body, h) {
			t.Errorf("digest lacks %s:\n%s", h, body)
		}
	}
	if n := strings.Count(logs.String(), "mail rate limit reached"); n != 1 {
		t.Errorf("rate limit logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestOnAndRestored(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	args := smtpArgs(srv)
	args.On = []string{"unban", "prolong"}
	s := newSink(t, args, nil)
	restored := ban("192.0.2.1", func(a *engine.Action) { a.Restored = true })
	unban := ban("192.0.2.2", func(a *engine.Action) { a.Type = engine.Unban })
	prolong := ban("192.0.2.3", func(a *engine.Action) { a.Type = engine.Prolong; a.BanCount = 2 })
	restoredUnban := ban("192.0.2.4", func(a *engine.Action) { a.Type = engine.Unban; a.Restored = true })
	notifytest.Run(t, s, ban("192.0.2.9"), restored, unban, restoredUnban, prolong, engine.Event{Kind: engine.KindAction})
	mails := srv.all()
	if len(mails) != 2 {
		t.Fatalf("got %d mails, want the unban and the prolong", len(mails))
	}
	msg, body := parse(t, mails[0].Data)
	if got := subject(t, msg); got != "[f2b] sshd: unbanned 192.0.2.2" {
		t.Errorf("subject = %q", got)
	}
	if strings.Contains(body, "Ban time") {
		t.Errorf("an unban mail tells a ban time:\n%s", body)
	}
	msg, body = parse(t, mails[1].Data)
	if got := subject(t, msg); got != "[f2b] sshd: extended the ban of 192.0.2.3" {
		t.Errorf("subject = %q", got)
	}
	if !strings.Contains(body, "Ban count: 2") {
		t.Errorf("prolong body lacks the ban count:\n%s", body)
	}
}

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendmail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sendmail := writeScript(t, dir, "sendmail", `for a in "$@"; do printf '%s\n' "$a"; done > "$0.argv"
cat > "$0.stdin"
`)
	s := newSink(t, &Arguments{
		To:       cty.TupleVal([]cty.Value{cty.StringVal("root"), cty.StringVal("Ops Team <ops@example.org>, sec@example.org")}),
		From:     "f2b@host.example",
		Sendmail: sendmail,
		Subject:  "ban {{.Host}}\nBcc: evil@example.net",
	}, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	argv, err := os.ReadFile(sendmail + ".argv")
	if err != nil {
		t.Fatal(err)
	}
	if string(argv) != "-t\n-i\n" {
		t.Errorf("argv = %q, want -t -i", argv)
	}
	stdin, err := os.ReadFile(sendmail + ".stdin")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stdin, []byte("\r")) {
		t.Error("sendmail got CR line endings")
	}
	msg, body := parse(t, string(stdin))
	if got := msg.Header.Get("To"); got != `root, "Ops Team" <ops@example.org>, <sec@example.org>` {
		t.Errorf("To = %q", got)
	}
	if _, ok := msg.Header["Bcc"]; ok {
		t.Error("Bcc header injected through the subject template")
	}
	if got := subject(t, msg); got != "ban 192.0.2.1 Bcc: evil@example.net" {
		t.Errorf("subject = %q", got)
	}
	if !strings.Contains(body, "192.0.2.1") {
		t.Errorf("body = %q", body)
	}
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 1, "mail_failed": 0})
}

func TestSendmailFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	permanent := writeScript(t, dir, "sendmail-bad", "cat >/dev/null; echo 'no such user' >&2; exit 67\n")
	var logs notifytest.Logs
	s := newSink(t, &Arguments{To: cty.StringVal("root"), Sendmail: permanent}, &logs)
	notifytest.Run(t, s, ban("192.0.2.1"))
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 0, "mail_failed": 1, "mail_retried": 0})
	if !strings.Contains(logs.String(), "no such user") {
		t.Errorf("log lacks sendmail's message:\n%s", logs.String())
	}

	// EX_TEMPFAIL is retried: the script fails once, then accepts.
	flag := filepath.Join(dir, "failed-once")
	temp := writeScript(t, dir, "sendmail-temp", fmt.Sprintf("cat >/dev/null; if [ ! -e %q ]; then : > %q; exit 75; fi\n", flag, flag))
	s = newSink(t, &Arguments{To: cty.StringVal("root"), Sendmail: temp}, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 1, "mail_failed": 0, "mail_retried": 1})

	s = newSink(t, &Arguments{To: cty.StringVal("root"), Sendmail: filepath.Join(dir, "missing")}, nil)
	notifytest.Run(t, s, ban("192.0.2.1"))
	notifytest.WantStats(t, s, map[string]int64{"mail_sent": 0, "mail_failed": 1, "mail_retried": 0})
}

func TestWhois(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	whois := writeScript(t, dir, "whois", `echo "whois of $1 ($#)"; i=0; while [ $i -lt 400 ]; do echo "filler line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done
`)
	sendmail := writeScript(t, dir, "sendmail", `cat > "$0.stdin"`+"\n")
	s := newSink(t, &Arguments{To: cty.StringVal("root"), Sendmail: sendmail, Whois: true}, nil)
	s.whoisCmd = whois
	notifytest.Run(t, s, ban("203.0.113.7"))
	stdin, err := os.ReadFile(sendmail + ".stdin")
	if err != nil {
		t.Fatal(err)
	}
	_, body := parse(t, string(stdin))
	if !strings.Contains(body, "whois 203.0.113.7:\n\nwhois of 203.0.113.7 (1)\n") {
		t.Errorf("body lacks the whois output:\n%.600s", body)
	}
	if !strings.Contains(body, "(whois output cut at 8 KiB)") || strings.Contains(body, "filler line 399") {
		t.Errorf("whois output not cut at 8 KiB")
	}
	_, whoisPart, _ := strings.Cut(body, "whois 203.0.113.7:\n\n")
	if len(whoisPart) > whoisLimit+100 {
		t.Errorf("whois part is %d bytes", len(whoisPart))
	}

	// Without the binary the mail still goes out, and says so.
	s.whoisCmd = filepath.Join(dir, "no-whois-here")
	if got := s.lookupWhois(context.Background(), netip.MustParseAddr("192.0.2.1")); got != "(whois not installed)" {
		t.Errorf("missing whois = %q", got)
	}
	slow := writeScript(t, dir, "slow-whois", "echo partial; exec sleep 30\n")
	s.whoisCmd, s.whoisTimeout = slow, 200*time.Millisecond
	if got := s.lookupWhois(context.Background(), netip.MustParseAddr("192.0.2.1")); got != "partial\n(whois timed out after 200ms)" {
		t.Errorf("slow whois = %q", got)
	}
}

func TestSlowServerDoesNotBlockRun(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	srv.hang = make(chan struct{})
	args := smtpArgs(srv)
	args.QueueSize = 10
	var logs notifytest.Logs
	s := newSink(t, args, &logs)
	s.drain = 300 * time.Millisecond
	notifytest.Flood(t, s, 200, func(i int) engine.Event { return ban(fmt.Sprintf("198.51.100.%d", i%250+1)) })
	close(srv.hang)
	st := s.Stats()
	// One mail was in flight when the drain ran out; every action is
	// either dropped or sent, none lost silently.
	if st["mail_sent"]+st["mail_dropped"]+st["mail_failed"] != 200 || st["mail_dropped"] < 190 {
		t.Errorf("stats = %v, want 200 actions accounted for, most dropped", st)
	}
	if !strings.Contains(logs.String(), "delivery queue full") || !strings.Contains(logs.String(), "did not finish in time") {
		t.Errorf("log lacks the drop warnings:\n%s", logs.String())
	}
}

func TestHardStop(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	srv.hang = make(chan struct{})
	s := newSink(t, smtpArgs(srv), nil)
	notifytest.HardStop(t, s, ban("192.0.2.1"), ban("192.0.2.2"))
	if got := s.Stats()["mail_dropped"]; got != 2 {
		t.Errorf("dropped = %d, want 2", got)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	to := cty.StringVal("root")
	tests := []struct {
		name string
		args Arguments
		attr string
		want string
	}{
		{"no recipient", Arguments{}, attrTo, "at least one recipient"},
		{"bad recipient", Arguments{To: cty.StringVal("not an address@")}, attrTo, "not an address"},
		{"unknown field", Arguments{To: to, Subject: "{{.Hots}}"}, attrSubject, "Hots"},
		{"bad template", Arguments{To: to, Body: "{{if}}"}, attrBody, "missing value for if"},
		{"bad digest field", Arguments{To: to, DigestBody: "{{.Total}}"}, attrDigestBody, "Total"},
		{"bad on", Arguments{To: to, On: []string{"bann"}}, attrOn, `did you mean "ban"`},
		{"empty on", Arguments{To: to, On: []string{}}, attrOn, "empty"},
		{"bad smtp", Arguments{To: to, SMTP: "mail.example.org"}, attrSMTP, "host:port"},
		{"bad starttls", Arguments{To: to, SMTP: "m:25", StartTLS: "maybe"}, attrStartTLS, "unknown mode"},
		{"tls and starttls", Arguments{To: to, SMTP: "m:465", TLS: true, StartTLS: "always"}, attrStartTLS, "drop starttls"},
		{"password alone", Arguments{To: to, SMTP: "m:25", Password: "x"}, attrUsername, "go together"},
		{"tls without smtp", Arguments{To: to, TLS: true}, attrTLS, "only applies with smtp"},
		{"both transports", Arguments{To: to, SMTP: "m:25", Sendmail: "/usr/sbin/sendmail"}, attrSendmail, "not both"},
		{"bad digest", Arguments{To: to, Digest: "soon"}, attrDigest, "invalid duration"},
		{"permanent timeout", Arguments{To: to, Timeout: "permanent"}, attrTimeout, "finite"},
		{"negative cap", Arguments{To: to, DigestMax: -1}, attrDigestMax, "positive"},
		{"bad from", Arguments{To: to, From: "{{.Jail}} <>"}, attrFrom, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(engine.Options{}, &tt.args)
			if err == nil {
				t.Fatal("New accepted it")
			}
			var ae *confval.AttrError
			if !errors.As(err, &ae) || ae.Attr != tt.attr {
				t.Fatalf("error %v does not point at %s", err, tt.attr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestRegisterDecodesHCL(t *testing.T) {
	t.Parallel()
	src := `
to     = "root@localhost"
smtp   = "127.0.0.1:25"
on     = ["ban", "prolong"]
digest = "10m"
`
	s := fwtest.Build(t, Register, "mail", src, engine.Options{ID: "sink.admin"}).(*Sink)
	if s.digestEvery != 10*time.Minute || s.maxPerHour != 60 || s.digestMax != 100 || s.timeout != 30*time.Second ||
		s.smtp == nil || s.smtp.startTLS != "auto" || s.queue.Limit() != 1000 || len(s.to) != 1 {
		t.Errorf("decoded sink = %+v", s)
	}
}

func TestCheckEnvSendmail(t *testing.T) {
	dir := t.TempDir()
	s, err := New(engine.Options{}, &Arguments{To: cty.StringVal("root"), Sendmail: dir + "/no-sendmail"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckEnv(); err == nil || !strings.Contains(err.Error(), "no-sendmail") {
		t.Errorf("CheckEnv = %v, want the missing sendmail named", err)
	}
	s, err = New(engine.Options{}, &Arguments{To: cty.StringVal("root"), SMTP: "127.0.0.1:25"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckEnv(); err != nil {
		t.Errorf("SMTP needs no binary: %v", err)
	}
}
