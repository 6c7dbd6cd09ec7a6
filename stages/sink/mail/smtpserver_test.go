package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// received is one mail as the test SMTP server got it.
type received struct {
	TLS      bool   // the DATA came over TLS
	AuthUser string // "" when the client did not log in
	AuthPass string
	AuthMech string
	AuthTLS  bool // the login happened over TLS
	Helo     string
	From     string
	To       []string
	Data     string // the message, dot-unstuffed, LF line endings
}

// smtpServer is a minimal SMTP server for the tests: EHLO, STARTTLS, AUTH
// PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It records every
// mail it accepts.
type smtpServer struct {
	t         *testing.T
	addr      string
	tlsConfig *tls.Config
	caFile    string // PEM of the self-signed certificate

	offerStartTLS bool
	offerAuth     bool
	authMechs     string // offered after AUTH; "PLAIN LOGIN" by default
	implicitTLS   bool
	// failMail answers 451 to that many MAIL commands before accepting.
	failMail atomic.Int32
	// hang, when set, holds every MAIL command until it is closed.
	hang chan struct{}

	mails chan received
	wg    sync.WaitGroup
}

type serverOption func(*smtpServer)

func withStartTLS(s *smtpServer) { s.offerStartTLS = true }
func withAuth(s *smtpServer)     { s.offerAuth = true }
func withLoginOnly(s *smtpServer) {
	s.offerAuth, s.authMechs = true, "LOGIN"
}
func withImplicitTLS(s *smtpServer) {
	s.implicitTLS = true
}

func newSMTPServer(t *testing.T, opts ...serverOption) *smtpServer {
	t.Helper()
	s := &smtpServer{t: t, mails: make(chan received, 100)}
	for _, o := range opts {
		o(s)
	}
	cert, caPEM := selfSigned(t)
	s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicitTLS {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	s.addr = ln.Addr().String()
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(conn) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		if s.hang != nil {
			select {
			case <-s.hang:
			default:
				close(s.hang)
			}
		}
		s.wg.Wait()
	})
	return s
}

// selfSigned makes a certificate for 127.0.0.1 and localhost that is its
// own CA.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "f2b test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (s *smtpServer) serve(conn net.Conn) {
	defer func() { conn.Close() }()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	var m received
	m.TLS = s.implicitTLS
	reply := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	if !reply("220 test.invalid ESMTP") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			m.Helo = arg
			ext := []string{"test.invalid", "8BITMIME"}
			if s.offerStartTLS && !m.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.offerAuth {
				mechs := s.authMechs
				if mechs == "" {
					mechs = "PLAIN LOGIN"
				}
				ext = append(ext, "AUTH "+mechs)
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				if !reply("250%s%s", sep, e) {
					return
				}
			}
		case "STARTTLS":
			if !s.offerStartTLS || m.TLS {
				reply("502 not now")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.tlsConfig)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			tp = textproto.NewConn(tc)
			m = received{TLS: true}
		case "AUTH":
			if !s.offerAuth {
				reply("502 no auth")
				continue
			}
			mech, initial, _ := strings.Cut(arg, " ")
			switch strings.ToUpper(mech) {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					if initial, err = tp.ReadLine(); err != nil {
						return
					}
				}
				raw, _ := base64.StdEncoding.DecodeString(initial)
				parts := strings.Split(string(raw), "\x00")
				if len(parts) != 3 {
					reply("501 bad PLAIN")
					continue
				}
				m.AuthUser, m.AuthPass = parts[1], parts[2]
			case "LOGIN":
				reply("334 %s", base64.StdEncoding.EncodeToString([]byte("Username:")))
				u, err := tp.ReadLine()
				if err != nil {
					return
				}
				reply("334 %s", base64.StdEncoding.EncodeToString([]byte("Password:")))
				p, err := tp.ReadLine()
				if err != nil {
					return
				}
				ub, _ := base64.StdEncoding.DecodeString(u)
				pb, _ := base64.StdEncoding.DecodeString(p)
				m.AuthUser, m.AuthPass = string(ub), string(pb)
			default:
				reply("504 unknown mechanism")
				continue
			}
			m.AuthMech, m.AuthTLS = strings.ToUpper(mech), m.TLS
			reply("235 ok")
		case "MAIL":
			if s.hang != nil {
				<-s.hang
			}
			if s.failMail.Load() > 0 {
				s.failMail.Add(-1)
				reply("451 try again later")
				continue
			}
			m.From = between(arg)
			reply("250 ok")
		case "RCPT":
			m.To = append(m.To, between(arg))
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = string(data)
			s.mails <- m
			m = received{TLS: m.TLS, AuthUser: m.AuthUser, AuthPass: m.AuthPass, AuthMech: m.AuthMech, AuthTLS: m.AuthTLS, Helo: m.Helo}
			reply("250 queued")
		case "RSET":
			m.From, m.To = "", nil
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// between returns the text between '<' and '>' in an SMTP argument.
func between(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// all returns the mails received so far.
func (s *smtpServer) all() []received {
	var out []received
	for {
		select {
		case m := <-s.mails:
			out = append(out, m)
		default:
			return out
		}
	}
}

// next waits for the next mail.
func (s *smtpServer) next() received {
	s.t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(10 * time.Second):
		s.t.Fatal("no mail arrived in 10 s")
	}
	return received{}
}
