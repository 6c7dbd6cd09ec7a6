package fail2ban

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// evalAttr parses `x = expr` inside a block at depth 1, as the importer
// writes attributes, formats nothing, and returns x's value.
func evalAttr(t *testing.T, expr string) cty.Value {
	t.Helper()
	src := "b {\n  x = " + expr + "\n}\n"
	f, diags := hclsyntax.ParseConfig([]byte(src), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, src)
	}
	v, diags := f.Body.(*hclsyntax.Body).Blocks[0].Body.Attributes["x"].Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, src)
	}
	return v
}

func TestShellScript(t *testing.T) {
	for _, tc := range []struct {
		cmd     string
		heredoc bool
	}{
		{"echo one line", false},
		{`echo "${HOME}" '%{x}' \\n $${y}`, false},
		{"a\nb", true},
		{"for x in 1 2; do\n  echo \"${x}\" %{y} \\\ndone", true},
		{"echo\nSH\necho", false},       // a line that would close the heredoc
		{" indented\n also", false},     // the flush heredoc would strip the indentation
		{"\tx\n\ty", false},             // tabs too
		{"a\n\nb\n", true},              // empty lines are kept
		{"trailing  \nblanks\t", true},  // trailing blanks are kept
		{"a\r\nb", false},               // control characters are written escaped
		{"  SH\nx", false},              // an indented closing marker
		{"x\n  SH  ", false},            // with blanks around it
		{"ok\n  indented second", true}, // one line at the margin is enough
	} {
		got := shellScript(tc.cmd, 1)
		if isHeredoc := strings.HasPrefix(got, "<<-SH"); isHeredoc != tc.heredoc {
			t.Errorf("%q: heredoc %v, want %v:\n%s", tc.cmd, isHeredoc, tc.heredoc, got)
		}
		want := tc.cmd
		if tc.heredoc {
			want += "\n"
		}
		if v := evalAttr(t, got); v.AsString() != want {
			t.Errorf("%q reads back as %q:\n%s", tc.cmd, v.AsString(), got)
		}
	}
}

func TestRegexList(t *testing.T) {
	for _, tc := range []struct {
		res     []string
		heredoc bool
	}{
		{[]string{`^fail from <HOST>$`, `^x ${y} %{z} \d+ "q"`}, true},
		{[]string{`^a <HOST>`, ` leading blank`}, false},
		{[]string{`trailing blank <HOST> `}, false},
		{[]string{`#comment-like <HOST>`}, false},
		{[]string{``}, false},
		{[]string{`RE`}, false},
	} {
		got := regexList(tc.res, 1)
		if isHeredoc := strings.HasPrefix(got, "<<-RE"); isHeredoc != tc.heredoc {
			t.Errorf("%q: heredoc %v, want %v:\n%s", tc.res, isHeredoc, tc.heredoc, got)
		}
		v := evalAttr(t, got)
		var back []string
		if v.Type() == cty.String {
			for _, l := range strings.Split(strings.TrimSuffix(v.AsString(), "\n"), "\n") {
				back = append(back, strings.TrimSpace(l))
			}
		} else {
			for _, e := range v.AsValueSlice() {
				back = append(back, e.AsString())
			}
		}
		if strings.Join(back, "\x00") != strings.Join(tc.res, "\x00") {
			t.Errorf("%q reads back as %q:\n%s", tc.res, back, got)
		}
	}
}

// FuzzShellScript: whatever a command holds, what the importer writes
// reads back as the command (plus the newline a heredoc ends with).
func FuzzShellScript(f *testing.F) {
	for _, s := range []string{"a\nb", "${x}\n%{y}", "$${\n%%{", " a\nb", "SH\nSH", "a\\\n\"b\"", "\t\n\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || s != cty.StringVal(s).AsString() {
			t.Skip() // HCL text is UTF-8, and HCL normalises strings to NFC
		}
		got := shellScript(s, 1)
		want := s
		if strings.HasPrefix(got, "<<-") {
			want += "\n"
		}
		if v := evalAttr(t, got); v.AsString() != want {
			t.Fatalf("%q reads back as %q:\n%s", s, v.AsString(), got)
		}
	})
}

func TestIdentifier(t *testing.T) {
	n := names{}
	for _, tc := range [][2]string{
		{"sshd", "sshd"}, {"nginx-http-auth", "nginx-http-auth"}, {"3proxy", "_3proxy"}, {"web.api", "web_api"},
		{"web_api", "web_api_2"}, {"-x", "_-x"}, {"", "_"}, {"é", "__2"}, {"é", "__3"},
	} {
		if got := n.take(tc[0]); got != tc[1] {
			t.Errorf("take(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

func TestDurationText(t *testing.T) {
	for secs, want := range map[float64]string{
		600: "10m", 3600: "1h", 86400: "1d", 604800: "1w", 2629800: "1mo", 31557600: "1y", 45: "45s",
		5400: "90m", 90061: "90061s", 1.5: "1.5s", 1209600: "2w", 42076800: "487d",
	} {
		if got := durationText(secs); got != want {
			t.Errorf("durationText(%v) = %q, want %q", secs, got, want)
		}
	}
}

func TestIgnoreAddress(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "127.0.0.1/8": "127.0.0.1/8", "::1": "::1", "2001:db8::/32": "2001:db8::/32",
		"10.0.0.0/255.0.0.0": "10.0.0.0/8", "192.168.1.0/255.255.255.0": "192.168.1.0/24",
		"10.0.0.0/255.0.255.0": "", "host.example.org": "", "fe80::1%eth0": "", "file:/etc/x": "", "10.0.0.0/33": "",
	} {
		got, ok := ignoreAddress(in)
		if ok != (want != "") || got != want {
			t.Errorf("ignoreAddress(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestReplaceTag: fail2ban-server's replaceTag on an action's properties:
// family-conditional values first, recursion, <br> and <sp>, dynamic and
// unknown tags left, self-reference refused.
func TestReplaceTag(t *testing.T) {
	props := ini.NewOptions()
	for _, kv := range [][2]string{
		{"actionban", "<cmd> add <set> <ip><br>echo<sp><unknown>"},
		{"cmd", "tool <opt>"},
		{"cmd?family=inet6", "tool6 <opt>"},
		{"opt", "-w"},
		{"set", "f2b-<name>"},
		{"name", "sshd"},
		{"loop", "<loop2>"},
		{"loop2", "x"},
	} {
		props.Set(kv[0], Value{Text: kv[1]})
	}
	for cond, want := range map[string]string{
		"":             "tool -w add f2b-sshd <ip>\necho <unknown>",
		"family=inet4": "tool -w add f2b-sshd <ip>\necho <unknown>",
		"family=inet6": "tool6 -w add f2b-sshd <ip>\necho <unknown>",
	} {
		got, err := replaceTag("<actionban>", props, cond)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", cond, got, err, want)
		}
	}
	props.Set("loop2", Value{Text: "<loop>"})
	if _, err := replaceTag("<actionban>", props, ""); err == nil {
		t.Errorf("self-referencing tags resolved")
	}
}
