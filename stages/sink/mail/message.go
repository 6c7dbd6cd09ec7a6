package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/f2bproject/f2b/confval"
)

// maxSubject bounds a subject, in characters, so that its header line stays
// far below SMTP's 998-byte limit even when encoded.
const maxSubject = 200

// message is a mail ready for a transport.
type message struct {
	from *mail.Address
	to   []*mail.Address
	// data is the RFC 5322 message with LF line endings: sendmail wants
	// local line endings, and the SMTP DATA writer turns them into CRLF.
	data []byte
}

// execute runs t on data and returns its text.
func execute(t *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// envelope renders the sender and the recipients for data. An address whose
// text holds a control character is refused, never cleaned: it would be
// a header injection or a bug, and neither should reach anyone's mailbox.
func (s *Sink) envelope(data any) (*mail.Address, []*mail.Address, error) {
	text, err := execute(s.from, data)
	if err != nil {
		return nil, nil, confval.AttrErr(attrFrom, err)
	}
	from, err := parseAddresses(text)
	if err == nil && len(from) != 1 {
		err = fmt.Errorf("want one sender, got %d", len(from))
	}
	if err != nil {
		return nil, nil, confval.AttrErr(attrFrom, err)
	}
	var to []*mail.Address
	for i, t := range s.to {
		text, err := execute(t, data)
		if err != nil {
			return nil, nil, &confval.AttrError{Attr: attrTo, Index: i, Err: err}
		}
		list, err := parseAddresses(text)
		if err != nil {
			return nil, nil, &confval.AttrError{Attr: attrTo, Index: i, Err: err}
		}
		to = append(to, list...)
	}
	if len(to) == 0 {
		return nil, nil, confval.AttrErr(attrTo, errors.New("no recipient"))
	}
	return from[0], to, nil
}

// parseAddresses reads a comma-separated address list. Besides RFC 5322
// addresses it takes a bare local name ("root"), which local MTAs complete
// with their own domain, as fail2ban's dest = root relies on.
func parseAddresses(text string) ([]*mail.Address, error) {
	if i := strings.IndexFunc(text, isControl); i >= 0 {
		return nil, fmt.Errorf("address %q holds a control character", text)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("empty address")
	}
	list, err := mail.ParseAddressList(text)
	if err == nil {
		return list, nil
	}
	var out []*mail.Address
	for part := range strings.SplitSeq(text, ",") {
		part = strings.TrimSpace(part)
		if a, err := mail.ParseAddress(part); err == nil {
			out = append(out, a)
			continue
		}
		if !isLocalName(part) {
			return nil, fmt.Errorf("%q is not an address: %w", part, err)
		}
		out = append(out, &mail.Address{Address: part})
	}
	return out, nil
}

// isLocalName reports whether s is a dot-atom local part without a domain.
func isLocalName(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// cleanHeader makes text fit for a header value: invalid UTF-8 and control
// characters (CR and LF among them) become blanks, blank runs collapse,
// and the text is cut at maxSubject characters.
func cleanHeader(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool { return isControl(r) || r == ' ' }), " ")
	if utf8.RuneCountInString(text) > maxSubject {
		r := []rune(text)
		text = string(r[:maxSubject-1]) + "…"
	}
	return text
}

// compose writes the message.
func compose(from *mail.Address, to []*mail.Address, subject, body, hostname string, now time.Time) []byte {
	var b bytes.Buffer
	b.Grow(512 + len(body))
	header := func(name, value string) {
		b.WriteString(fold(name, value))
		b.WriteByte('\n')
	}
	header("Date", now.Format(time.RFC1123Z))
	header("From", formatAddress(from))
	// One recipient per line keeps long lists within the line limit.
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = formatAddress(a)
	}
	header("To", strings.Join(tos, ",\n "))
	header("Subject", mime.QEncoding.Encode("utf-8", cleanHeader(subject)))
	header("Message-ID", messageID(hostname, now))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	data, encoding := encodeBody(body)
	header("Content-Transfer-Encoding", encoding)
	header("Auto-Submitted", "auto-generated")
	b.WriteByte('\n')
	b.Write(data)
	return b.Bytes()
}

// formatAddress writes a for a header: as net/mail does, except that a
// bare local name ("root") stays bare for the MTA to complete.
func formatAddress(a *mail.Address) string {
	if a.Name == "" && !strings.Contains(a.Address, "@") {
		return a.Address
	}
	return a.String()
}

// foldAt is the line length headers are folded at (RFC 5322's "SHOULD").
const foldAt = 78

// fold returns the header line "name: value", broken before blanks of
// value where it is longer than foldAt, so continuation lines start with a
// blank. A run without blanks stays whole.
func fold(name, value string) string {
	line := name + ": " + value
	if strings.Contains(value, "\n") {
		return line // folded by the caller (To)
	}
	var b strings.Builder
	floor := len(name) + 2 // never break before the value starts
	for len(line) > foldAt {
		i := strings.LastIndexByte(line[:foldAt+1], ' ')
		if i <= floor {
			i = strings.IndexByte(line[floor+1:], ' ')
			if i < 0 {
				break
			}
			i += floor + 1
		}
		for i > floor && line[i-1] == ' ' {
			i-- // break before the whole blank run, never leave a blank line end
		}
		if i <= floor {
			break
		}
		b.WriteString(line[:i])
		b.WriteByte('\n')
		line = line[i:]
		floor = 1 // a continuation line keeps its leading blank
	}
	b.WriteString(line)
	return b.String()
}

// maxLine is SMTP's limit on a line, without its CRLF (RFC 5321 4.5.3.1.6).
const maxLine = 998

// encodeBody returns body with LF line endings and its transfer encoding:
// "7bit" (the text as it is, readable by any mail reader) when it is ASCII
// in lines of at most maxLine bytes, else quoted-printable, which keeps
// every line short and 7-bit so any server takes it and a log line of any
// length or content arrives intact.
func encodeBody(body string) ([]byte, string) {
	body = strings.ToValidUTF8(body, "\uFFFD")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	if plain(body) {
		return []byte(body), "7bit"
	}
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(body))
	w.Close()
	return bytes.ReplaceAll(qp.Bytes(), []byte("\r\n"), []byte("\n")), "quoted-printable"
}

// plain reports whether text is printable ASCII (and tabs) in lines of at
// most maxLine bytes.
func plain(text string) bool {
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			n = 0
			continue
		case c >= 0x7f || c < ' ' && c != '\t':
			return false
		}
		if n++; n > maxLine {
			return false
		}
	}
	return true
}

// messageID returns a unique Message-ID at the host's domain.
func messageID(hostname string, now time.Time) string {
	var r [12]byte
	rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "." + strconv.FormatInt(now.UnixNano(), 36) + "@" + domainOf(hostname) + ">"
}

// domainOf returns hostname when it is a plain DNS name, else "localhost".
func domainOf(hostname string) string {
	if hostname == "" || len(hostname) > 253 {
		return "localhost"
	}
	for _, c := range []byte(hostname) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return "localhost"
		}
	}
	return hostname
}

// hostname is this machine's name, or "localhost" when it has none.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
