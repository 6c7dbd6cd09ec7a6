package journal

import (
	"strings"
	"testing"
	"time"
)

func TestFormatLine(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		json string
		want string
	}{
		"syslog identifier and pid": {
			`{"_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","SYSLOG_PID":"12","_PID":"99","_COMM":"sshd-session","MESSAGE":"Failed password"}`,
			"web1 sshd[12]: Failed password",
		},
		"comm and _PID when the syslog fields are missing": {
			`{"_HOSTNAME":"web1","_COMM":"sshd","_PID":"99","MESSAGE":"m"}`,
			"web1 sshd[99]: m",
		},
		// python-systemd converts the PID with int(): 0 is false and
		// fail2ban falls back to _PID; a PID that is no number is written
		// as the bytes it stayed.
		"zero syslog pid":           {`{"SYSLOG_IDENTIFIER":"x","SYSLOG_PID":"0","_PID":"7","MESSAGE":"m"}`, "x[7]: m"},
		"pid with blanks and zeros": {`{"SYSLOG_IDENTIFIER":"x","SYSLOG_PID":" 0012 ","MESSAGE":"m"}`, "x[12]: m"},
		"hex pid":                   {`{"SYSLOG_IDENTIFIER":"x","SYSLOG_PID":"0x1f","MESSAGE":"m"}`, "x[31]: m"},
		"pid that is no number":     {`{"SYSLOG_IDENTIFIER":"x","SYSLOG_PID":"abc","MESSAGE":"m"}`, "x[b'abc']: m"},
		"no pid":                    {`{"_HOSTNAME":"h","SYSLOG_IDENTIFIER":"x","MESSAGE":"m"}`, "h x: m"},
		"empty identifier falls back to comm": {
			`{"SYSLOG_IDENTIFIER":"","_COMM":"c","MESSAGE":"m"}`, "c: m",
		},
		"no host, no identifier": {`{"MESSAGE":"bare"}`, "bare"},
		"empty message keeps the blank": {
			`{"_HOSTNAME":"h","SYSLOG_IDENTIFIER":"x","_PID":"1","MESSAGE":""}`, "h x[1]: ",
		},
		"no message": {`{"_HOSTNAME":"h","SYSLOG_IDENTIFIER":"x","_PID":"1"}`, "h x[1]: "},
		"newlines written as \\n": {
			`{"_HOSTNAME":"h\nx","SYSLOG_IDENTIFIER":"x","MESSAGE":"a\nb\r\nc"}`, `h\nx x: a\nb` + "\r" + `\nc`,
		},
		"message as bytes, not UTF-8": {
			`{"_HOSTNAME":"h","SYSLOG_IDENTIFIER":"x","MESSAGE":[98,97,100,32,255,254,32,226,130,10,111,107]}`,
			"h x: bad \uFFFD\uFFFD \uFFFD\\nok",
		},
		"repeated message joined by blanks": {
			`{"SYSLOG_IDENTIFIER":"x","MESSAGE":["one",[116,119,111],"three"]}`, "x: one two three",
		},
		"kernel with its monotonic time": {
			`{"_HOSTNAME":"h","SYSLOG_IDENTIFIER":"kernel","_SOURCE_MONOTONIC_TIMESTAMP":"12500000","__MONOTONIC_TIMESTAMP":"99","MESSAGE":"oops"}`,
			"h kernel: [   12.500000] oops",
		},
		"kernel without source monotonic time": {
			`{"SYSLOG_IDENTIFIER":"kernel","__MONOTONIC_TIMESTAMP":"123456000001","MESSAGE":"oops"}`,
			"kernel: [123456.000001] oops",
		},
		"kernel with a pid is no kernel line": {
			`{"SYSLOG_IDENTIFIER":"kernel","_PID":"3","__MONOTONIC_TIMESTAMP":"1","MESSAGE":"m"}`, "kernel[3]: m",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := parseEntry([]byte(withAddress(tt.json)))
			if err != nil {
				t.Fatal(err)
			}
			if e.line != tt.want {
				t.Errorf("line = %q, want %q", e.line, tt.want)
			}
		})
	}
}

// withAddress adds the fields journalctl always prints.
func withAddress(j string) string {
	return `{"__CURSOR":"s=1;i=1;b=1;m=1;t=1;x=1","__REALTIME_TIMESTAMP":"1700000000000001",` + strings.TrimPrefix(j, "{")
}

func TestEntryTime(t *testing.T) {
	t.Parallel()
	e, err := parseEntry([]byte(`{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1700000000123456","MESSAGE":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1700000000, 123456000); !e.time.Equal(want) || e.realtime != 1700000000123456 || e.cursor != "c" {
		t.Errorf("entry = %+v, want time %v", e, want)
	}
	// fail2ban takes the sender's time when there is one.
	e, err = parseEntry([]byte(`{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1700000000123456","_SOURCE_REALTIME_TIMESTAMP":"1690000000000007","MESSAGE":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.UnixMicro(1690000000000007); !e.time.Equal(want) || e.realtime != 1700000000123456 {
		t.Errorf("time = %v (realtime %d), want %v", e.time, e.realtime, want)
	}
}

func TestBadEntries(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`not json`,
		`{"MESSAGE":"no cursor","__REALTIME_TIMESTAMP":"1"}`,
		`{"__CURSOR":"c","MESSAGE":"no time"}`,
		`{"__CURSOR":"c","__REALTIME_TIMESTAMP":"x"}`,
		`{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","MESSAGE":[300]}`,
		`{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","MESSAGE":{}}`,
	} {
		if _, err := parseEntry([]byte(in)); err == nil {
			t.Errorf("parseEntry(%s) gave no error", in)
		}
	}
}

// TestPyDecode compares with Python 3's bytes.decode("utf-8", "replace").
func TestPyDecode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"bad \xff\xfe utf8":      "bad \uFFFD\uFFFD utf8",
		"\xe2\x82":               "\uFFFD",
		"\xe2\x82x":              "\uFFFDx",
		"\xed\xa0\x80":           "\uFFFD\uFFFD\uFFFD",
		"\xf0\x9f\x98":           "\uFFFD",
		"\xf4\x90\x80\x80":       "\uFFFD\uFFFD\uFFFD\uFFFD",
		"\xc0\xaf":               "\uFFFD\uFFFD",
		"a\xe0\x80b":             "a\uFFFD\uFFFDb",
		"\xf0\x9f\x98\x80ok\x80": "😀ok\uFFFD",
		"plain":                  "plain",
	} {
		if got := pyDecode([]byte(in)); got != want {
			t.Errorf("pyDecode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPIDText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"12": "12", " 12 ": "12", "0012": "12", "1_2": "12", "0x1f": "31", "0o17": "15", "0b11": "3",
		"-5": "-5", "abc": "b'abc'", "a'b": `b"a'b"`, "\xff": `b'\xff'`, "1__2": "b'1__2'",
		"99999999999999999999999": "99999999999999999999999",
	} {
		got, ok := pidText([]byte(in))
		if !ok || got != want {
			t.Errorf("pidText(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"0", "", "-0", "00"} {
		if got, ok := pidText([]byte(in)); ok {
			t.Errorf("pidText(%q) = %q, want none (false in Python)", in, got)
		}
	}
}

func BenchmarkParseEntry(b *testing.B) {
	line := []byte(`{"__CURSOR":"s=bd0cbe39a46045e5aee7b55ef2edb72d;i=1;b=0123456789abcdef0123456789abcdef;m=60a24181e4000;t=60a24181e4000;x=5f5e152d130ba904",` +
		`"__REALTIME_TIMESTAMP":"1700000000000000","__MONOTONIC_TIMESTAMP":"1700000000000000","_BOOT_ID":"0123456789abcdef0123456789abcdef",` +
		`"_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","_PID":"12","_COMM":"sshd","MESSAGE":"Failed password for root from 192.0.2.1 port 22 ssh2"}`)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := parseEntry(line); err != nil {
			b.Fatal(err)
		}
	}
}
