package offheap

import (
	"encoding/binary"
	"hash/maphash"
	"iter"
	"math/bits"
	"runtime"
)

// Key is a host as a Table key: its 16-byte address.
type Key = [16]byte

// record is one entry of a Table.
type record[V any] struct {
	key Key
	val V
}

const (
	// minSlots is the smallest index: one page of slots.
	minSlots = pageSize / 8
	// recordChunk bounds the bytes of one chunk of records.
	recordChunk = chunkSize
)

// Table maps keys to values of V, a type without Go pointers, all kept
// outside the Go heap. The values are records that never move: the
// pointer Insert or Get returns stays valid until its key is deleted or
// the Table released, however many keys are added meanwhile.
//
// Inside, an open-addressing index (linear probing, at most 3/4 full)
// holds for each key 32 bits of its hash and the number of its record;
// the records lie in chunks of a fixed number of them, and a deleted
// record is handed out again first. So a key costs its record plus 8 to
// 21 bytes of index, and the index alone is moved when it grows. The hash
// is seeded per Table (hash/maphash), so addresses an attacker picks
// cannot be made to collide.
//
// The zero Table is not ready: use NewTable. A Table must not be copied.
type Table[V any] struct {
	_     noCopy
	view  Of[record[V]]
	seed  maphash.Seed
	mem   *tableMem
	slots []uint64 // 0: empty; else hash>>32 in the high half, record number + 1 in the low one
	mask  uint64   // len(slots) - 1
	recs  [][]record[V]
	shift uint     // a chunk holds 1<<shift records
	used  []uint64 // bit i: record i holds a key
	nrec  uint32   // records handed out so far
	free  uint32   // first record of the free list, + 1; 0 when empty
	n     int
}

// tableMem are the mappings of a Table, apart from it so that a cleanup
// can release them once the Table is unreachable.
type tableMem struct {
	slots  []byte
	chunks [][]byte
}

func (m *tableMem) release() {
	if m.slots != nil {
		unmapMem(m.slots)
		m.slots = nil
	}
	for _, c := range m.chunks {
		unmapMem(c)
	}
	m.chunks = nil
}

// NewTable returns an empty Table. It maps no memory until the first
// Insert. It panics when V holds Go pointers.
func NewTable[V any]() *Table[V] {
	t := &Table[V]{view: ViewOf[record[V]](), seed: maphash.MakeSeed(), mem: &tableMem{}}
	per := max(recordChunk/t.view.Size(1), 1)
	t.shift = uint(bits.Len(uint(per)) - 1)
	runtime.AddCleanup(t, (*tableMem).release, t.mem)
	return t
}

// Len is the number of keys.
func (t *Table[V]) Len() int { return t.n }

// Mapped is the number of bytes the Table holds from the system.
func (t *Table[V]) Mapped() int {
	n := len(t.mem.slots)
	for _, c := range t.mem.chunks {
		n += len(c)
	}
	return n
}

func (t *Table[V]) hash(k Key) uint32 { return uint32(maphash.Comparable(t.seed, k) >> 32) }

func (t *Table[V]) rec(i uint32) *record[V] { return &t.recs[i>>t.shift][i&(1<<t.shift-1)] }

// find returns the slot of k, or the empty slot where it would go.
func (t *Table[V]) find(k Key, h uint32) (uint64, bool) {
	for i := uint64(h) & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return i, false
		}
		if uint32(s>>32) == h && t.rec(uint32(s)-1).key == k {
			return i, true
		}
	}
}

// Get returns the value of k, or nil when k has none.
func (t *Table[V]) Get(k Key) *V {
	if t.n == 0 {
		return nil
	}
	if i, ok := t.find(k, t.hash(k)); ok {
		return &t.rec(uint32(t.slots[i]) - 1).val
	}
	return nil
}

// Insert returns the value of k, adding k with the zero value (added
// true) when it has none.
func (t *Table[V]) Insert(k Key) (v *V, added bool) {
	// NOTE: grown first, even when k is there already, so that one
	// probe finds k or its slot: at worst the index grows one key early.
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	h := t.hash(k)
	i, ok := t.find(k, h)
	if ok {
		return &t.rec(uint32(t.slots[i]) - 1).val, false
	}
	r := t.alloc()
	t.slots[i] = uint64(h)<<32 | uint64(r+1)
	t.n++
	p := t.rec(r)
	*p = record[V]{key: k}
	return &p.val, true
}

// Delete removes k; it reports whether k was there. The pointer to its
// value becomes invalid.
func (t *Table[V]) Delete(k Key) bool {
	if t.n == 0 {
		return false
	}
	i, ok := t.find(k, t.hash(k))
	if !ok {
		return false
	}
	r := uint32(t.slots[i]) - 1
	// Shift back the entries after i whose home slot is not between i
	// and themselves, so every probe still finds them (no tombstones).
	m := t.mask
	for j := (i + 1) & m; t.slots[j] != 0; j = (j + 1) & m {
		home := (t.slots[j] >> 32) & m
		if (j-home)&m >= (j-i)&m {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
	t.n--
	p := t.rec(r)
	binary.LittleEndian.PutUint32(p.key[:], t.free)
	t.free = r + 1
	t.used[r/64] &^= 1 << (r % 64)
	return true
}

// alloc returns a record number for a new key.
func (t *Table[V]) alloc() uint32 {
	var r uint32
	if t.free != 0 {
		r = t.free - 1
		t.free = binary.LittleEndian.Uint32(t.rec(r).key[:])
	} else {
		if t.nrec == 1<<32-1 {
			panic("offheap: too many records")
		}
		r = t.nrec
		t.nrec++
		if int(r>>t.shift) == len(t.recs) {
			mem := mapMem(t.view.Size(1 << t.shift))
			t.mem.chunks = append(t.mem.chunks, mem)
			t.recs = append(t.recs, t.view.Slice(mem))
		}
		if int(r/64) == len(t.used) {
			t.used = append(t.used, 0)
		}
	}
	t.used[r/64] |= 1 << (r % 64)
	return r
}

// grow doubles the index (or makes the first one) and puts every entry
// back in it.
func (t *Table[V]) grow() {
	n := max(2*len(t.slots), minSlots)
	mem := mapMem(8 * n)
	slots := ViewOf[uint64]().Slice(mem)
	m := uint64(n - 1)
	for _, s := range t.slots {
		if s == 0 {
			continue
		}
		i := (s >> 32) & m
		for slots[i] != 0 {
			i = (i + 1) & m
		}
		slots[i] = s
	}
	if t.mem.slots != nil {
		unmapMem(t.mem.slots)
	}
	t.mem.slots, t.slots, t.mask = mem, slots, m
}

// All yields every key and its value, in no particular order. The loop
// may delete the key it is given, but must not insert.
func (t *Table[V]) All() iter.Seq2[Key, *V] {
	return func(yield func(Key, *V) bool) {
		for w := range t.used {
			for word := t.used[w]; word != 0; word &= word - 1 {
				p := t.rec(uint32(w*64 + bits.TrailingZeros64(word)))
				if !yield(p.key, &p.val) {
					return
				}
			}
		}
	}
}

// Release returns the Table's memory to the system and empties it; every
// value pointer it handed out becomes invalid.
func (t *Table[V]) Release() {
	t.mem.release()
	t.slots, t.mask, t.recs, t.used = nil, 0, nil, nil
	t.nrec, t.free, t.n = 0, 0, 0
}
