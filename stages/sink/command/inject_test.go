package command

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// hostile returns values an attacker could put in a log line or a
// captured field, each of which would create marker if a shell ran it.
func hostile(marker string) []string {
	return []string{
		"a; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		`"; touch ` + marker + `; "`,
		`'; touch ` + marker + `; '`,
		"x\ntouch " + marker,
		"x\r\ntouch " + marker + "\r",
		"$IFS${IFS}touch${IFS}" + marker,
		"| touch " + marker,
		"& touch " + marker + " &",
		"&& touch " + marker,
		"> " + marker,
		">> " + marker,
		"<(touch " + marker + ")",
		"-c 'touch " + marker + "'",
		"--; touch " + marker,
		"\\\"; touch " + marker + " #",
		"*",
		"~",
		"{a,b} [ab] ?",
		"^ # \\ ~root",
		"$0 $1 $@ $* \"$f2bV_matches\"",
		"<ip> <F-USER> <br> <matches>",
		"f2bV_F_user=$(touch " + marker + ")",
		"\x00; touch " + marker,
	}
}

// inert checks that marker was never created.
func inert(t *testing.T, marker string) {
	t.Helper()
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (stat err %v): a value ran as a command", marker, err)
	}
}

// TestInjectionInert sends hostile text through <matches> and <F-USER>,
// quoted and unquoted, in ban, unban and prolong, to real /bin/sh: the
// marker file never appears, and a command that prints the value (with
// the tag quoted, as actions do) shows it byte for byte.
func TestInjectionInert(t *testing.T) {
	t.Parallel()
	needSh(t)
	for i, v := range hostile("MARK") {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			marker := filepath.Join(dir, "MARK")
			v = strings.ReplaceAll(v, "MARK", marker)
			s, log, logs := shSink(t, Arguments{
				Ban: `printf '%s' "<F-USER>" > <dir>/user; printf '%s' "<matches>" > <dir>/matches; ` +
					`echo <F-USER> <matches> >> <log>; echo '<F-USER>' "x<F-USER>y" >> <log>`,
				Unban:   `printf '%s' "<F-USER>" > <dir>/user-unban; echo <matches> >> <log>`,
				Prolong: `printf '%s' "<ipmatches>" > <dir>/prolong; echo <ipjailmatches> >> <log>`,
			})
			matches := []string{v, "second line " + v}
			ev := action(engine.Ban, "192.0.2.1", func(a *engine.Action) {
				a.Matches = matches
				a.Fields = map[string]string{"user": v}
			})
			if err := runAll(t, s, ev, action(engine.Prolong, "192.0.2.1"), action(engine.Unban, "192.0.2.1")); err != nil {
				t.Fatal(err)
			}
			inert(t, marker)
			// A NUL byte cannot reach a program: it becomes U+FFFD.
			want := strings.ReplaceAll(v, "\x00", "\uFFFD")
			wantMatches := strings.ReplaceAll(strings.Join(matches, "\n"), "\x00", "\uFFFD")
			for file, w := range map[string]string{"user": want, "matches": wantMatches, "user-unban": want, "prolong": wantMatches} {
				got, err := os.ReadFile(filepath.Join(filepath.Dir(log), file))
				if err != nil {
					t.Fatalf("value %d: %s: %v\nlog: %s\nsink log:\n%s", i, file, err, readLog(t, log), logs)
				}
				if string(got) != w {
					t.Errorf("value %d: %s holds %q, want %q", i, file, got, w)
				}
			}
			if st := s.Stats(); st["command_failures"] != 0 {
				t.Errorf("value %d: %d commands failed:\n%s", i, st["command_failures"], logs)
			}
		})
	}
}

// TestInjectionRandom sends random text made of shell syntax through
// <F-USER> and <matches> and checks that it arrives byte for byte.
func TestInjectionRandom(t *testing.T) {
	t.Parallel()
	needSh(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "MARK")
	pieces := []string{
		"a", "Z", "0", " ", "\t", "\n", "\r", ";", "&", "|", "`", "$", "(", ")", "{", "}", "[", "]",
		"<", ">", "'", `"`, "\\", "*", "?", "~", "^", "#", "!", "%", "=", "-", ",", ".", "é", "ユ",
		"touch " + marker, "$(touch " + marker + ")", "$IFS", "<ip>",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var evs []engine.Event
	var values []string
	for i := range 60 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		v := b.String()
		values = append(values, v)
		host := "192.0.2." + strconv.Itoa(i+1)
		evs = append(evs, action(engine.Ban, host, func(a *engine.Action) {
			a.Fields = map[string]string{"user": v}
			a.Matches = []string{v}
		}))
	}
	s, log, logs := shSink(t, Arguments{
		Ban: `printf '%s\0' "<F-USER>" >> <dir>/users; printf '%s\0' "<matches>" >> <dir>/matches`,
	})
	if err := runAll(t, s, evs...); err != nil {
		t.Fatal(err)
	}
	inert(t, marker)
	for _, file := range []string{"users", "matches"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(log), file))
		if err != nil {
			t.Fatalf("%v\n%s", err, logs)
		}
		got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		if !slices.Equal(got, values) {
			for i := range min(len(got), len(values)) {
				if got[i] != values[i] {
					t.Errorf("%s[%d] = %q, want %q", file, i, got[i], values[i])
					break
				}
			}
			t.Errorf("%s: %d values, want %d", file, len(got), len(values))
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestEscapingShape pins the exact script and arguments: hostile values
// become $f2bV_ variables assigned from positional parameters, in the
// order the tags first appear; plain values are pasted in.
func TestEscapingShape(t *testing.T) {
	t.Parallel()
	tk := &ticket{a: &engine.Action{
		Jail: "sshd", Host: mustAddr("2001:db8::1"), Failures: 3, BanTime: time.Hour,
		Matches: []string{"a; b", "c"},
		Fields:  map[string]string{"user": "root", "alt_name": "x$y", "fid": "ID"},
	}, family: familyInet6, at: time.Unix(1700000000, 0)}
	tk.r = &runner{s: &Sink{}, jails: map[string]*jailStat{}}
	tests := []struct {
		cmd  string
		want []string
	}{
		{"ban <ip> <F-USER>", []string{"ban 2001:db8::1 root"}},
		{`echo "<matches>" <ip> <matches> <F-ALT-NAME> <F-ALT_NAME> <F-NOPE> <F-ID>`, []string{
			"f2bV_matches=$0 f2bV_F_alt_name=$1 \necho \"$f2bV_matches\" 2001:db8::1 $f2bV_matches $f2bV_F_alt_name $f2bV_F_alt_name  ID",
			"a; b\nc", "x$y",
		}},
		{"<ip-rev>dnsbl <time> <bantime> <family> <jail.name> <unknown> <F-lower> <a b>", []string{
			"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl 1700000000.0 3600 inet6 sshd <unknown> <F-lower> <a b>",
		}},
		{"no tags", []string{"no tags"}},
	}
	for _, tt := range tests {
		sc := replaceDynamic(tt.cmd, tk.lookup, tk.field, nil)
		if got := append([]string{sc.text}, sc.args...); !slices.Equal(got, tt.want) {
			t.Errorf("replaceDynamic(%q) =\n%q\nwant\n%q", tt.cmd, got, tt.want)
		}
		if argv := sc.argv(); argv[0] != "/bin/sh" || argv[1] != "-c" || argv[2] != sc.text {
			t.Errorf("argv = %q", argv)
		}
	}
}

func TestPyTimeAndIPRev(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000.0"},
		{time.Unix(1700000000, 250_000_000), "1700000000.25"},
		{time.Unix(1700000000, 123_456_000), "1700000000.123456"},
		{time.Unix(0, 0), "0.0"},
	} {
		if got := pyTime(tt.t); got != tt.want {
			t.Errorf("pyTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	if got := ipRev(mustAddr("192.0.2.10")); got != "10.2.0.192." {
		t.Errorf("ipRev = %q", got)
	}
}
