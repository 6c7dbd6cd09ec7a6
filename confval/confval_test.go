package confval

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "600", want: 10 * time.Minute},
		{in: "10m", want: 10 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1d 2h", want: 26 * time.Hour},
		{in: "1d", want: 24 * time.Hour},
		{in: "1w", want: 7 * 24 * time.Hour},
		{in: "2.5h", want: 150 * time.Minute},
		{in: "1mo", want: 2629800 * time.Second},
		{in: "1y", want: 31557600 * time.Second},
		{in: "90 minutes", want: 90 * time.Minute},
		{in: "-1", want: Permanent},
		{in: "permanent", want: Permanent},
		{in: "10x", wantErr: true},
		{in: "", wantErr: true},
		{in: "0", wantErr: true},
		{in: "-5m", wantErr: true},
		{in: "m", wantErr: true},
		{in: "1e400", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in, false)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDuration(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLines(t *testing.T) {
	t.Parallel()
	heredoc := cty.StringVal("  ^a <HOST>$\n\n  # a comment\n  ^b <HOST>$\n")
	got, err := Lines(heredoc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (Line{Text: "^a <HOST>$", Row: 0}) || got[1] != (Line{Text: "^b <HOST>$", Row: 3}) {
		t.Fatalf("Lines(heredoc) = %#v", got)
	}
	list := cty.TupleVal([]cty.Value{cty.StringVal("x <HOST>"), cty.StringVal(" y <HOST>")})
	got, err = Lines(list)
	if err != nil || len(got) != 2 || got[1].Text != " y <HOST>" || got[1].Row != 1 {
		t.Fatalf("Lines(list) = %#v, %v", got, err)
	}
	if _, err := Lines(cty.NumberIntVal(3)); err == nil {
		t.Fatal("Lines(number): want error")
	}
	if _, err := Lines(cty.TupleVal([]cty.Value{cty.StringVal("")})); err == nil {
		t.Fatal("Lines([\"\"]): want error")
	}
}

func TestParsePrefixList(t *testing.T) {
	t.Parallel()
	l, err := ParsePrefixList("ignore", []string{"127.0.0.1/8", "::ffff:192.0.2.0/120", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.9.9.9", true}, {"192.0.2.77", true}, {"192.0.3.1", false}, {"2001:db8::1", true}, {"2001:db8::2", false},
	} {
		if got := l.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Contains(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	_, err = ParsePrefixList("ignore", []string{"10.0.0.0/8", "host.example", "fe80::1%eth0", "10.0.0.0/33"})
	var ae *AttrError
	if !errors.As(err, &ae) || ae.Index != 1 || !strings.Contains(err.Error(), "ignore[2]") || !strings.Contains(err.Error(), "ignore[3]") {
		t.Fatalf("err = %v", err)
	}
}
