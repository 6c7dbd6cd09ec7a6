package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/notify"
)

// transport returns the configured transport, reading ca_file.
func (s *Sink) transport() (transport, error) {
	if s.smtp == nil {
		return &sendmailTransport{path: s.sendmail, timeout: s.timeout}, nil
	}
	c := s.smtp
	cfg := &tls.Config{ServerName: c.host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.insecure}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", attrCAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate", attrCAFile, c.caFile)
		}
		cfg.RootCAs = pool
	}
	return &smtpTransport{cfg: c, tls: cfg, timeout: s.timeout, helo: domainOf(hostname())}, nil
}

// smtpTransport submits mail to an SMTP server.
type smtpTransport struct {
	cfg     *smtpConfig
	tls     *tls.Config
	timeout time.Duration
	helo    string
}

func (t *smtpTransport) name() string { return "smtp " + t.cfg.addr }

// send runs one SMTP conversation, bounded by the timeout as a whole.
func (t *smtpTransport) send(ctx context.Context, m *message) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var (
		d    net.Dialer
		conn net.Conn
		err  error
	)
	if t.cfg.implicitTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: t.tls}).DialContext(ctx, "tcp", t.cfg.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", t.cfg.addr)
	}
	if err != nil {
		return classify("connect", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A stop closes the connection at once instead of waiting for the
	// deadline.
	defer context.AfterFunc(ctx, func() { conn.Close() })()

	c, err := smtp.NewClient(conn, t.cfg.host)
	if err != nil {
		conn.Close()
		return classify("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(t.helo); err != nil {
		return classify("EHLO", err)
	}
	secure := t.cfg.implicitTLS
	if !secure && t.cfg.startTLS != startTLSNever {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(t.tls); err != nil {
				return classify("STARTTLS", err)
			}
			secure = true
		} else if t.cfg.startTLS == startTLSAlways {
			return notify.Permanent(errors.New("the server does not offer STARTTLS (starttls = \"always\")"))
		}
	}
	if t.cfg.username != "" {
		if !authAllowed(secure, t.cfg.host) {
			return notify.Permanent(errors.New("refusing to log in over an unencrypted connection to a server that is not on this machine; use starttls or tls = true"))
		}
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return notify.Permanent(errors.New("username is set but the server offers no AUTH"))
		}
		a := pickAuth(mechs, t.cfg.username, t.cfg.password, t.cfg.host)
		if a == nil {
			return notify.Permanent(fmt.Errorf("the server offers AUTH %s; f2b speaks PLAIN and LOGIN", mechs))
		}
		if err := c.Auth(a); err != nil {
			return classify("AUTH", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return classify("MAIL FROM", err)
	}
	for _, to := range m.to {
		if err := c.Rcpt(to.Address); err != nil {
			return classify("RCPT TO <"+to.Address+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(m.data); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("DATA", err)
	}
	// The mail is accepted; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// classify wraps err with the step that failed and marks what retrying
// cannot fix: a 5xx reply and a refused certificate.
func classify(step string, err error) error {
	err = fmt.Errorf("%s: %w", step, err)
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code >= 500 {
			return notify.Permanent(err)
		}
		return err
	}
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return notify.Permanent(err)
	}
	return err
}

// authAllowed reports whether credentials may be sent: over an encrypted
// connection, or in clear only to this machine (localhost or a loopback
// address), where no network carries them.
func authAllowed(encrypted bool, host string) bool {
	if encrypted {
		return true
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// pickAuth returns PLAIN when the server offers it, else LOGIN, else nil.
func pickAuth(mechs, user, pass, host string) smtp.Auth {
	var login bool
	for _, m := range strings.Fields(strings.ToUpper(mechs)) {
		switch m {
		case "PLAIN":
			return &plainAuth{user: user, pass: pass, host: host}
		case "LOGIN":
			login = true
		}
	}
	if login {
		return &loginAuth{user: user, pass: pass, host: host}
	}
	return nil
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp has one, but it allows
// clear text only to the names "localhost", "127.0.0.1" and "::1"; this one
// follows authAllowed, as the check before it does.
type plainAuth struct{ user, pass, host string }

func (a *plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !authAllowed(server.TLS, a.host) {
		return "", nil, errors.New("unencrypted connection")
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}

// loginAuth is the old AUTH LOGIN: the user name, then the password, each
// in answer to a challenge.
type loginAuth struct {
	user, pass, host string
	step             int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !authAllowed(server.TLS, a.host) {
		return "", nil, errors.New("unencrypted connection")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected server challenge")
}
