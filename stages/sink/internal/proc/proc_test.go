package proc

import (
	"bytes"
	"testing"
)

func TestCapped(t *testing.T) {
	t.Parallel()
	var c Capped
	big := bytes.Repeat([]byte("x"), OutputLimit-1)
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := c.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if len(c.Buf) != OutputLimit || c.Buf[len(c.Buf)-1] != 'a' {
		t.Errorf("kept %d bytes ending %q", len(c.Buf), c.Buf[len(c.Buf)-1:])
	}
}

func TestFirstLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"", 10, ""},
		{"\n  \n  nft: error \nsecond", 100, "nft: error"},
		{"abcdef", 3, "abc…"},
	}
	for _, tt := range tests {
		if got := FirstLine([]byte(tt.in), tt.limit); got != tt.want {
			t.Errorf("FirstLine(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}
