package mail

import (
	"strings"
	"testing"
)

func TestCleanHeader(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nBcc: x", "a Bcc: x"},
		{"a\nb\rc\td\x00e\x7ff\u0085g", "a b c d e f g"},
		{"  lots   of\r\n\r\n blanks ", "lots of blanks"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		{strings.Repeat("é", 300), strings.Repeat("é", maxSubject-1) + "…"},
	}
	for _, tt := range tests {
		if got := cleanHeader(tt.in); got != tt.want {
			t.Errorf("cleanHeader(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"root":                                 "root",
		"root@example.org":                     "<root@example.org>",
		"Admin <a@example.org>, b@example.org": `"Admin" <a@example.org>|<b@example.org>`,
		"root, ops@example.org":                "root|<ops@example.org>",
		"Jörg <j@example.org>":                 "=?utf-8?q?J=C3=B6rg?= <j@example.org>",
	}
	for in, want := range good {
		list, err := parseAddresses(in)
		if err != nil {
			t.Errorf("parseAddresses(%q): %v", in, err)
			continue
		}
		var got []string
		for _, a := range list {
			got = append(got, formatAddress(a))
		}
		if strings.Join(got, "|") != want {
			t.Errorf("parseAddresses(%q) = %q, want %q", in, strings.Join(got, "|"), want)
		}
	}
	for _, in := range []string{"", "a@example.org\r\nBcc: b@example.org", "a@example.org\nb", "two words", "root@", "<>", "a..b"} {
		if list, err := parseAddresses(in); err == nil {
			t.Errorf("parseAddresses(%q) = %v, want an error", in, list)
		}
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	if got := fold("Subject", "short"); got != "Subject: short" {
		t.Errorf("fold changed a short line: %q", got)
	}
	long := "Subject: " + strings.Repeat("word ", 40)
	got := fold("Subject", strings.Repeat("word ", 40))
	for line := range strings.SplitSeq(got, "\n") {
		if len(line) > foldAt {
			t.Errorf("folded line of %d bytes: %q", len(line), line)
		}
	}
	// Unfolding (dropping each LF before a blank) gives the line back.
	if strings.ReplaceAll(got, "\n ", " ") != long {
		t.Errorf("fold lost text: %q", got)
	}
	for i, line := range strings.Split(got, "\n") {
		if i > 0 && !strings.HasPrefix(line, " ") {
			t.Errorf("continuation line %d does not start with a blank: %q", i, line)
		}
	}
	unbreakable := strings.Repeat("x", 100)
	if got := fold("Subject", unbreakable); got != "Subject: "+unbreakable {
		t.Errorf("fold broke a value without blanks: %q", got)
	}
	if got := fold("Subject", unbreakable+" tail"); got != "Subject: "+unbreakable+"\n tail" {
		t.Errorf("fold after a long word = %q", got)
	}
}

func TestEncodeBody(t *testing.T) {
	t.Parallel()
	data, enc := encodeBody("line one\r\n.dot\rlast")
	if enc != "7bit" || string(data) != "line one\n.dot\nlast\n" {
		t.Errorf("ASCII body = %s %q", enc, data)
	}
	data, enc = encodeBody("grüße\n" + strings.Repeat("y", 2000))
	if enc != "quoted-printable" || strings.Contains(string(data), "\r") {
		t.Errorf("non-ASCII body = %s %q", enc, data)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if len(line) > 76 {
			t.Errorf("QP line of %d bytes", len(line))
		}
	}
	if _, enc := encodeBody(strings.Repeat("z", maxLine+1)); enc != "quoted-printable" {
		t.Errorf("a line over 998 bytes went out as %s", enc)
	}
	if _, enc := encodeBody("nul\x00byte"); enc != "quoted-printable" {
		t.Errorf("a NUL byte went out as %s", enc)
	}
}
