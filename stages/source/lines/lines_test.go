package lines

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
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

// refScanner is the line splitting Scanner must match, written the plain
// way: bufio, a copy per line.
type refScanner struct {
	r       *bufio.Reader
	lineNo  int64
	skipped int64
}

func (s *refScanner) Next() (string, int64, error) {
	for {
		var line []byte
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = s.r.ReadSlice('\n')
			if !tooLong {
				if len(line)+len(chunk) > MaxLine+2 {
					tooLong, line = true, nil
				} else {
					line = append(line, chunk...)
				}
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", s.lineNo, err
		}
		if err != nil && len(line) == 0 && !tooLong {
			return "", s.lineNo, err
		}
		s.lineNo++
		if tooLong {
			s.skipped++
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		return string(bytes.TrimSuffix(line, []byte("\r"))), s.lineNo, nil
	}
}

type scanned struct {
	text string
	no   int64
}

func scanAll(t *testing.T, next func() (string, int64, error)) ([]scanned, error) {
	t.Helper()
	var out []scanned
	for range 1 << 20 {
		l, no, err := next()
		if err != nil {
			return out, err
		}
		out = append(out, scanned{l, no})
	}
	t.Fatal("no end")
	return nil, nil
}

// TestScannerMatchesReference splits random inputs, with lines around
// MaxLine and around the read buffer's size, read whole and in small
// pieces, and compares every line, number and skip count with refScanner.
func TestScannerMatchesReference(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	lengths := []int{0, 1, 2, 100, bufSize - 2, bufSize - 1, bufSize, bufSize + 1, 2*bufSize + 3,
		MaxLine - 1, MaxLine, MaxLine + 1, MaxLine + 2, MaxLine + 3, 2*MaxLine + 5, 4*MaxLine + 1}
	for i := range 40 {
		var b strings.Builder
		for range rnd.IntN(12) {
			n := rnd.IntN(200)
			if rnd.IntN(3) == 0 {
				n = lengths[rnd.IntN(len(lengths))]
			}
			b.WriteString(strings.Repeat(string(rune('a'+rnd.IntN(26))), n))
			switch rnd.IntN(4) {
			case 0:
				b.WriteString("\r\n")
			case 1:
				b.WriteString("\r")
			default:
				b.WriteString("\n")
			}
		}
		in := b.String()
		if rnd.IntN(2) == 0 {
			// No final line break.
			in = strings.TrimRight(in, "\r\n")
		}
		readers := map[string]func() io.Reader{
			"whole":   func() io.Reader { return strings.NewReader(in) },
			"half":    func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
			"dataeof": func() io.Reader { return iotest.DataErrReader(strings.NewReader(in)) },
			"pieces": func() io.Reader {
				return &piecesReader{r: strings.NewReader(in), rnd: rand.New(rand.NewPCG(uint64(i), 9))}
			},
		}
		ref := &refScanner{r: bufio.NewReaderSize(strings.NewReader(in), 64<<10)}
		want, werr := scanAll(t, ref.Next)
		for name, r := range readers {
			s := NewScanner(r())
			got, err := scanAll(t, s.Next)
			if !errors.Is(err, werr) {
				t.Fatalf("input %d, %s: error %v, want %v", i, name, err, werr)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("input %d, %s: %d lines differ from the reference's %d", i, name, len(got), len(want))
			}
			if s.Skipped() != ref.skipped {
				t.Fatalf("input %d, %s: skipped %d, want %d", i, name, s.Skipped(), ref.skipped)
			}
		}
	}
}

// piecesReader returns what r holds in pieces of random sizes, as a pipe
// does.
type piecesReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (p *piecesReader) Read(b []byte) (int, error) {
	n := 1 + p.rnd.IntN(5000)
	if p.rnd.IntN(10) == 0 {
		n = 1 + p.rnd.IntN(3*MaxLine)
	}
	return p.r.Read(b[:min(n, len(b))])
}

// TestScannerReadError returns the complete lines before a read error,
// then the error.
func TestScannerReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	s := NewScanner(io.MultiReader(strings.NewReader("a\nb\npartial"), iotest.ErrReader(boom)))
	got, err := scanAll(t, s.Next)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if want := []scanned{{"a", 1}, {"b", 2}}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// BenchmarkScanner reads a log of typical lines.
func BenchmarkScanner(b *testing.B) {
	line := "Jun  1 00:00:00 host sshd[1234]: Failed password for invalid user admin from 192.0.2.1 port 22 ssh2\n"
	in := strings.Repeat(line, 100_000)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		s := NewScanner(strings.NewReader(in))
		for {
			if _, _, err := s.Next(); err != nil {
				break
			}
		}
	}
}
