package fail2ban_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/dsl/fail2ban"
)

// Expected results are fail2ban 1.0.2's helpers.extractOptions and
// splitWithOptions on the same input.
func TestExtractOptions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		opts map[string]string
	}{
		{`sshd`, "sshd", map[string]string{}},
		{`sshd[mode=aggressive]`, "sshd", map[string]string{"mode": "aggressive"}},
		{`a[p1="x, y", p2='z ]', p3=w]`, "a", map[string]string{"p1": "x, y", "p2": "z ]", "p3": "w"}},
		{`a[x=1][y=2]`, "a", map[string]string{"x": "1", "y": "2"}},
		{`a[x=1] [y=2]`, "a", map[string]string{"x": "1", "y": "2"}},
		{"a[x=\"multi\nline\"]", "a", map[string]string{"x": "multi\nline"}},
		{"a[x=1,\n  y=2]", "a", map[string]string{"x": "1", "y": "2"}},
		{`a [x=1]`, "a ", map[string]string{"x": "1"}},
		{`a[x=a=b]`, "a", map[string]string{"x": "a=b"}},
		{`a[x=]`, "a", map[string]string{"x": ""}},
		{`a[]`, "a", map[string]string{}},
		{`a[x=1,]`, "a", map[string]string{"x": "1"}},
		{`a[x='<known/x>|y']`, "a", map[string]string{"x": "<known/x>|y"}},
	} {
		name, opts, err := fail2ban.ExtractOptions(tc.in)
		if err != nil || name != tc.name || !reflect.DeepEqual(opts, tc.opts) {
			t.Errorf("ExtractOptions(%q) = %q, %v, %v; want %q, %v", tc.in, name, opts, err, tc.name, tc.opts)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{`a[x=1]b`, "unexpected option syntax"},
		{`[x=1]`, "unexpected option syntax"},
		{``, "unexpected option syntax"},
		{`a[x]`, "expected option, wrong syntax at 0: x"},
		{`a[x=1, y]`, "expected option, wrong syntax at 4:  y"},
		{`a[x="1"y]`, "unexpected syntax at 5 after option 'x': y"},
		{`a[x=a]b]`, "unexpected syntax at 3 after option 'x': ]b"},
		{`a[ x = 1 ]`, "expected option, wrong syntax at 0:  x = 1"},
	} {
		_, _, err := fail2ban.ExtractOptions(tc.in)
		if !errors.Is(err, fail2ban.ErrOptionSyntax) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ExtractOptions(%q): %v; want ErrOptionSyntax %q", tc.in, err, tc.msg)
		}
	}
}

func TestSplitWithOptions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"iptables-multiport[port=\"ssh\", protocol=\"tcp\"]\nsendmail-whois[sender=\"a@b\", dest=\"c\"]",
			[]string{"iptables-multiport[port=\"ssh\", protocol=\"tcp\"]", "sendmail-whois[sender=\"a@b\", dest=\"c\"]"}},
		// the lookahead wants a blank after each part, so trailing blanks
		// are shared out oddly; callers strip the parts
		{"a b  c", []string{"a", "b ", "c"}},
		{"a[x=\"1\n2\"]\n  b", []string{"a[x=\"1\n2\"]\n ", "b"}},
		{"a[x=1,\n   y=2]\nb[z=3][w=4]", []string{"a[x=1,\n   y=2]", "b[z=3][w=4]"}},
		{"a[x=1]b c", []string{"a[x=1]b", "c"}},
		{"a[x=foo bar] b", []string{"a[x=foo bar]", "b"}},
		{"a[x=1\n\n", []string{"a[x=1"}},
		{"", nil},
	} {
		if got := fail2ban.SplitWithOptions(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitWithOptions(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestShellSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`_SYSTEMD_UNIT=sshd.service + _COMM=sshd`, []string{"_SYSTEMD_UNIT=sshd.service", "+", "_COMM=sshd"}},
		{`_COMM="f2b test"`, []string{"_COMM=f2b test"}},
		{`a 'b c' "d\"e" f\ g`, []string{"a", "b c", `d"e`, "f g"}},
		{`"a\x"`, []string{`a\x`}},
		{`''`, []string{""}},
		{`a"b c"d`, []string{"ab cd"}},
	} {
		got, err := fail2ban.ShellSplit(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ShellSplit(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`'unterminated`, `a\`} {
		if _, err := fail2ban.ShellSplit(in); err == nil {
			t.Errorf("ShellSplit(%q): no error", in)
		}
	}
}
