package lines

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestScanner(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxLine+10)
	oneMB := strings.Repeat("y", 1_000_000)
	tests := []struct {
		name        string
		in          string
		want        []string
		wantNos     []int64
		wantSkipped int64
	}{
		{name: "plain", in: "a\nb\n", want: []string{"a", "b"}, wantNos: []int64{1, 2}},
		{name: "no final newline", in: "a\nb", want: []string{"a", "b"}, wantNos: []int64{1, 2}},
		{name: "crlf and empty", in: "a\r\n\r\nc\n", want: []string{"a", "", "c"}, wantNos: []int64{1, 2, 3}},
		{name: "empty input", in: "", want: nil},
		{name: "overlong skipped", in: "a\n" + long + "\nb\n", want: []string{"a", "b"}, wantNos: []int64{1, 3}, wantSkipped: 1},
		{name: "overlong last", in: "a\n" + long, want: []string{"a"}, wantNos: []int64{1}, wantSkipped: 1},
		{name: "one megabyte kept", in: oneMB + "\nz", want: []string{oneMB, "z"}, wantNos: []int64{1, 2}},
		{name: "not utf8", in: "\xff\xfe bad\n", want: []string{"\xff\xfe bad"}, wantNos: []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewScanner(strings.NewReader(tt.in))
			var got []string
			var nos []int64
			for {
				l, no, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, l)
				nos = append(nos, no)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] || nos[i] != tt.wantNos[i] {
					t.Errorf("line %d = (%.20q, %d), want (%.20q, %d)", i, got[i], nos[i], tt.want[i], tt.wantNos[i])
				}
			}
			if s.Skipped() != tt.wantSkipped {
				t.Errorf("skipped = %d, want %d", s.Skipped(), tt.wantSkipped)
			}
		})
	}
}
