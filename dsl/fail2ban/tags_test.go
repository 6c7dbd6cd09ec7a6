package fail2ban

import (
	"errors"
	"strings"
	"testing"
)

func TestSubstituteTags(t *testing.T) {
	for _, tc := range []struct {
		in     [][2]string
		ignore []string
		want   string // k=v;k=v
		err    string
	}{
		{in: [][2]string{{"a", "3"}, {"b", "<a>_3"}}, want: "a=3;b=3_3"},
		{in: [][2]string{{"mode", "extra"}, {"failregex", "<mdre-<mode>>"}, {"mdre-extra", "E <HOST>"}},
			want: "mode=extra;failregex=E <HOST>;mdre-extra=E <HOST>"},
		{in: [][2]string{{"x", "<HOST> <ip> <y>"}, {"y", "Y"}}, want: "x=<HOST> <ip> Y;y=Y"},
		{in: [][2]string{{"a", "<b>"}, {"b", "<c>"}, {"c", "x"}}, ignore: []string{"b"}, want: "a=<b>;b=<c>;c=x"},
		{in: [][2]string{{"a", "<l<m>>"}, {"m", "<n>"}, {"n", "z"}, {"lz", "ok"}}, want: "a=ok;m=z;n=z;lz=ok"},
		{in: [][2]string{{"a", "<a>"}}, err: "refers to itself"},
		{in: [][2]string{{"a", "<b>"}, {"b", "<a>"}}, err: "refers to itself"},
		{in: [][2]string{{"a", "<b>"}, {"b", "x<c>"}, {"c", "<b>"}}, err: "replaced more than 25 times"},
	} {
		got, err := SubstituteTagsForTest(tc.in, tc.ignore)
		if tc.err != "" {
			if !errors.Is(err, ErrTagRecursion) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		var parts []string
		for _, kv := range got {
			parts = append(parts, kv[0]+"="+kv[1])
		}
		if s := strings.Join(parts, ";"); err != nil || s != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}
