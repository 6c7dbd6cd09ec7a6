package offheap

import "encoding/binary"

// A block of strings holds their number and then each one's length and
// bytes, the numbers as uvarints: a log line of 100 bytes takes a block
// of 112.

// PutStrings stores a copy of ss in a new block and returns it; no
// strings give Ref 0, which holds none.
func (a *Arena) PutStrings(ss []string) Ref {
	if len(ss) == 0 {
		return 0
	}
	n := uvarintLen(uint64(len(ss)))
	for _, s := range ss {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	r, b := a.Alloc(n)
	b = binary.AppendUvarint(b[:0], uint64(len(ss)))
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return r
}

// StringsLen is the number of strings in block r (0 for Ref 0).
func (a *Arena) StringsLen(r Ref) int {
	if r == 0 {
		return 0
	}
	n, _ := binary.Uvarint(a.Bytes(r))
	return int(n)
}

// AppendStrings appends copies of the strings in block r to dst (nothing
// for Ref 0) and returns the extended slice.
func (a *Arena) AppendStrings(dst []string, r Ref) []string {
	if r == 0 {
		return dst
	}
	b := a.Bytes(r)
	n, k := binary.Uvarint(b)
	b = b[k:]
	for range n {
		l, k := binary.Uvarint(b)
		dst = append(dst, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	return dst
}

// uvarintLen is the length of v as a uvarint.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// AppendKeep stores in a new block the last keep strings of block r's
// followed by more (all of them when keep < 0), frees r and returns the
// new block, Ref 0 when no string is left. It copies bytes only: no Go
// string is made.
func (a *Arena) AppendKeep(r Ref, more []string, keep int) Ref {
	var old []byte // the encoded strings of r, without their number
	n := 0
	if r != 0 {
		b := a.Bytes(r)
		c, k := binary.Uvarint(b)
		n, b = int(c), b[k:]
		end := 0
		for range n {
			l, k := binary.Uvarint(b[end:])
			end += k + int(l)
		}
		old = b[:end]
	}
	total := n + len(more)
	drop := 0
	if keep >= 0 && total > keep {
		drop = total - keep
	}
	// Skip the dropped strings: first old ones, then new ones.
	for i := 0; i < drop && i < n; i++ {
		l, k := binary.Uvarint(old)
		old = old[k+int(l):]
	}
	more = more[max(drop-n, 0):]
	count := total - drop
	if count == 0 {
		a.Free(r)
		return 0
	}
	size := uvarintLen(uint64(count)) + len(old)
	for _, s := range more {
		size += uvarintLen(uint64(len(s))) + len(s)
	}
	nr, nb := a.Alloc(size)
	nb = binary.AppendUvarint(nb[:0], uint64(count))
	nb = append(nb, old...)
	for _, s := range more {
		nb = binary.AppendUvarint(nb, uint64(len(s)))
		nb = append(nb, s...)
	}
	// NOTE: after the copy: a freed block holds the arena's free list.
	a.Free(r)
	return nr
}
