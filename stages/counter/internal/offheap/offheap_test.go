package offheap

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestArenaBlocks allocates blocks of many sizes, writes each full of its
// own byte, frees some and allocates again: no two live blocks overlap,
// freed blocks are reused, and the byte counts add up.
func TestArenaBlocks(t *testing.T) {
	t.Parallel()
	var a Arena
	defer a.Release()
	rng := rand.New(rand.NewPCG(1, 2))
	type blk struct {
		r    Ref
		n    int
		fill byte
	}
	var live []blk
	check := func() {
		t.Helper()
		for _, b := range live {
			got := a.Bytes(b.r)
			if len(got) < b.n {
				t.Fatalf("block %x: %d bytes, asked %d", b.r, len(got), b.n)
			}
			for i, c := range got[:b.n] {
				if c != b.fill {
					t.Fatalf("block %x of %d bytes: byte %d is %d, want %d (blocks overlap)", b.r, b.n, i, c, b.fill)
				}
			}
		}
	}
	sizes := []int{1, 8, 15, 16, 17, 100, 256, 257, 1000, 4096, maxSmall, maxSmall + 1, 100_000}
	for round := range 2000 {
		n := sizes[rng.IntN(len(sizes))]
		r, b := a.Alloc(n)
		if r == 0 || len(b) < n || len(b)%16 != 0 {
			t.Fatalf("Alloc(%d) = %x with %d bytes", n, r, len(b))
		}
		fill := byte(round%250 + 1)
		for i := range b {
			b[i] = fill
		}
		live = append(live, blk{r, n, fill})
		if rng.IntN(3) == 0 {
			i := rng.IntN(len(live))
			a.Free(live[i].r)
			live = slices.Delete(live, i, i+1)
		}
	}
	check()
	want := 0
	for _, b := range live {
		want += len(a.Bytes(b.r))
	}
	if a.InUse() != want {
		t.Errorf("InUse = %d, want %d", a.InUse(), want)
	}
	if a.Mapped() < a.InUse() {
		t.Errorf("Mapped %d < InUse %d", a.Mapped(), a.InUse())
	}

	// A freed small block is the next one of its class.
	r1, _ := a.Alloc(100)
	a.Free(r1)
	if r2, _ := a.Alloc(97); r2 != r1 {
		t.Errorf("Alloc after Free = %x, want the freed %x", r2, r1)
	}

	// Move copies into another Arena.
	var b Arena
	defer b.Release()
	src := live[len(live)-1]
	moved := a.Move(&b, src.r)
	if !slices.Equal(b.Bytes(moved)[:src.n], a.Bytes(src.r)[:src.n]) {
		t.Error("Move did not copy the block")
	}

	a.Release()
	if a.InUse() != 0 || a.Mapped() != 0 {
		t.Errorf("after Release: InUse %d, Mapped %d", a.InUse(), a.Mapped())
	}
	if r, _ := a.Alloc(10); r == 0 {
		t.Error("the released Arena gives no block")
	}
}

// TestClassSizes checks the size classes: increasing, multiples of 16,
// the last one maxSmall, and classOf picks the smallest that fits.
func TestClassSizes(t *testing.T) {
	t.Parallel()
	if classSizes[len(classSizes)-1] != maxSmall {
		t.Fatalf("last class %d, want %d", classSizes[len(classSizes)-1], maxSmall)
	}
	for i, s := range classSizes {
		if s%16 != 0 || (i > 0 && s <= classSizes[i-1]) {
			t.Fatalf("classSizes = %v", classSizes)
		}
	}
	for n := 1; n <= maxSmall; n++ {
		c := classOf(n)
		if classSizes[c] < n || (c > 0 && classSizes[c-1] >= n) {
			t.Fatalf("classOf(%d) = %d (size %d)", n, c, classSizes[c])
		}
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	var a Arena
	defer a.Release()
	cases := [][]string{
		nil,
		{""},
		{"Mar  1 06:00:00 web1 sshd[1]: Failed password for root from 203.0.113.7 port 22 ssh2"},
		{"a", "", "multi\nline", strings.Repeat("x", 200)},
		{strings.Repeat("long ", 20000)},
	}
	refs := make([]Ref, len(cases))
	for i, ss := range cases {
		refs[i] = a.PutStrings(ss)
	}
	for i, ss := range cases {
		if got := a.StringsLen(refs[i]); got != len(ss) {
			t.Errorf("case %d: StringsLen = %d, want %d", i, got, len(ss))
		}
		got := a.AppendStrings([]string{"before"}, refs[i])
		if !slices.Equal(got, append([]string{"before"}, ss...)) {
			t.Errorf("case %d: AppendStrings = %q, want %q", i, got, ss)
		}
	}
	if refs[0] != 0 {
		t.Errorf("no strings stored in block %x, want Ref 0", refs[0])
	}
}

// TestAppendKeep checks AppendKeep against slices: every split of old and
// new strings, every limit.
func TestAppendKeep(t *testing.T) {
	t.Parallel()
	var a Arena
	defer a.Release()
	all := []string{"one", "", "three 3", strings.Repeat("four", 100), "five"}
	var results []Ref
	for split := 0; split <= len(all); split++ {
		for end := split; end <= len(all); end++ {
			for keep := -1; keep <= len(all)+1; keep++ {
				old, more := all[:split], all[split:end]
				r := a.PutStrings(old)
				nr := a.AppendKeep(r, more, keep)
				results = append(results, nr)
				got := a.AppendStrings(nil, nr)
				want := slices.Concat(old, more)
				if keep >= 0 && len(want) > keep {
					want = want[len(want)-keep:]
				}
				if !slices.Equal(got, want) {
					t.Fatalf("AppendKeep(%q, %q, %d) = %q, want %q", old, more, keep, got, want)
				}
			}
		}
	}
	// Every block but the results was freed.
	for _, r := range results {
		a.Free(r)
	}
	if a.InUse() != 0 {
		t.Fatalf("%d bytes still in use", a.InUse())
	}
}

type value struct {
	a, b int64
	c    int32
}

// TestTableMatchesMap runs random inserts, gets and deletes against a Go
// map, growing the table past several index sizes and shrinking it again.
func TestTableMatchesMap(t *testing.T) {
	t.Parallel()
	tb := NewTable[value]()
	defer tb.Release()
	want := map[Key]value{}
	rng := rand.New(rand.NewPCG(3, 4))
	key := func() Key {
		var k Key
		// Few distinct keys in the first half, so deletes hit.
		k[15], k[14], k[13] = byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(2))
		return k
	}
	for i := range 300_000 {
		k := key()
		switch op := rng.IntN(10); {
		case op < 5 || i < 50_000:
			v, added := tb.Insert(k)
			_, had := want[k]
			if added == had {
				t.Fatalf("Insert %x: added %v, but the map had it: %v", k, added, had)
			}
			if added && *v != (value{}) {
				t.Fatalf("Insert %x: new value %+v, want zero", k, *v)
			}
			v.a, v.b, v.c = int64(i), -int64(i), int32(i)
			want[k] = *v
		case op < 8:
			v := tb.Get(k)
			w, ok := want[k]
			if (v != nil) != ok || (ok && *v != w) {
				t.Fatalf("Get %x = %v, want %+v %v", k, v, w, ok)
			}
		default:
			_, ok := want[k]
			if got := tb.Delete(k); got != ok {
				t.Fatalf("Delete %x = %v, want %v", k, got, ok)
			}
			delete(want, k)
		}
		if tb.Len() != len(want) {
			t.Fatalf("Len = %d, want %d", tb.Len(), len(want))
		}
	}
	// All yields each key once, and the loop may delete them.
	seen, before := map[Key]bool{}, len(want)
	for k, v := range tb.All() {
		if seen[k] || *v != want[k] {
			t.Fatalf("All: %x seen %v, value %+v, want %+v", k, seen[k], *v, want[k])
		}
		seen[k] = true
		if k[15]%2 == 0 {
			tb.Delete(k)
			delete(want, k)
		}
	}
	if len(seen) != before || tb.Len() != len(want) {
		t.Fatalf("All saw %d keys; %d left, want %d", len(seen), tb.Len(), len(want))
	}
	for k, w := range want {
		if v := tb.Get(k); v == nil || *v != w {
			t.Fatalf("after the loop, Get %x = %v, want %+v", k, v, w)
		}
	}
}

// TestTableValuesStay checks that a value pointer stays valid while the
// table grows.
func TestTableValuesStay(t *testing.T) {
	t.Parallel()
	tb := NewTable[int64]()
	defer tb.Release()
	first, _ := tb.Insert(Key{1})
	*first = 42
	for i := range 100_000 {
		v, _ := tb.Insert(Key{2, byte(i), byte(i >> 8), byte(i >> 16)})
		*v = int64(i)
	}
	if *first != 42 || tb.Get(Key{1}) != first {
		t.Errorf("the first value moved or changed: %d", *first)
	}
	if tb.Mapped() == 0 {
		t.Error("Mapped = 0")
	}
	tb.Release()
	if tb.Len() != 0 || tb.Get(Key{1}) != nil || tb.Mapped() != 0 {
		t.Error("the released table is not empty")
	}
	if v, added := tb.Insert(Key{1}); !added || *v != 0 {
		t.Error("the released table takes no new key")
	}
}

func TestViewOfRefusesPointers(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"string":  func() { ViewOf[string]() },
		"pointer": func() { ViewOf[*int]() },
		"in struct": func() {
			ViewOf[struct {
				a int
				b []byte
			}]()
		},
		"in array": func() { ViewOf[[2]map[int]int]() },
		"table":    func() { NewTable[struct{ s string }]() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	ViewOf[struct {
		a [3]int64
		b bool
	}]() // no pointers: no panic
}
