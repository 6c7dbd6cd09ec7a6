package offheap

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
)

// Ref names a block of an Arena: its chunk in the high 32 bits, its offset
// in the low ones. The zero Ref names no block.
type Ref uint64

const (
	// chunkSize is the size of the mappings small blocks are cut from.
	// Only the pages written cost resident memory, so a chunk begun for
	// one block costs a page.
	chunkSize = 1 << 20
	// maxSmall is the largest block cut from a chunk; larger ones get a
	// mapping of their own.
	maxSmall = 32 << 10
	// pageSize rounds the mappings of large blocks.
	pageSize = 4096
)

// classSizes are the block sizes: steps of 16 bytes up to 256, where most
// blocks are (a log line, a ring of a few failures), then four steps per
// power of two, so a block wastes at most a fifth of its size. All are
// multiples of 16, so every block is aligned to 16 bytes.
var classSizes = func() []int {
	var s []int
	for n := 16; n <= 256; n += 16 {
		s = append(s, n)
	}
	for p := 256; p < maxSmall; p *= 2 {
		for i := 1; i <= 4; i++ {
			s = append(s, p+i*p/4)
		}
	}
	return s
}()

// classOf is the index in classSizes of the smallest class that holds n
// bytes (0 < n <= maxSmall).
func classOf(n int) int {
	if n <= 256 {
		return (n+15)/16 - 1
	}
	i, _ := slices.BinarySearch(classSizes, n)
	return i
}

// large marks a chunk that is one large block.
const large = -1

// chunk is one mapping.
type chunk struct {
	mem   []byte
	class int // index in classSizes, or large
}

// class is the state of one block size: the chunk being cut and the list
// of freed blocks, linked through their first 8 bytes.
type class struct {
	cur  uint32 // chunk being cut; 0 when none
	off  int    // where its next block starts
	free Ref    // the last freed block; 0 when none
}

// Arena hands out blocks of bytes outside the Go heap. Blocks of up to
// 32 KiB are cut from 1 MiB chunks, one size class per chunk, and a freed
// block goes to a free list of its class, to be handed out again first.
// Chunks are only returned to the system by Release: a long-lived owner
// that shrinks copies what it keeps into a new Arena (see Move) and
// releases the old one.
//
// The zero Arena is ready to use. An Arena must not be copied: hold it
// by pointer.
type Arena struct {
	_       noCopy
	mem     *mappings
	classes []class  // by index in classSizes
	unused  []uint32 // chunk numbers of released large blocks, for reuse
	inUse   int      // bytes in blocks handed out
	cut     int      // bytes of the blocks ever cut from chunks, and of large blocks
}

// noCopy makes go vet's copylocks check report copies of the types that
// hold it: a copy would share the mappings that the original's cleanup
// releases.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// mappings are the chunks of an Arena, apart from it so that a cleanup can
// release them once the Arena is unreachable. Chunk 0 is never used, so
// that Ref 0 names no block.
type mappings struct {
	chunks []chunk
	size   int // bytes mapped
}

func (m *mappings) release() {
	for i := range m.chunks {
		if c := &m.chunks[i]; c.mem != nil {
			unmapMem(c.mem)
			c.mem = nil
		}
	}
	m.chunks, m.size = nil, 0
}

func (a *Arena) init() {
	if a.mem == nil {
		a.mem = &mappings{chunks: make([]chunk, 1, 16)}
		a.classes = make([]class, len(classSizes))
		runtime.AddCleanup(a, (*mappings).release, a.mem)
	}
}

// Alloc returns a block of at least n bytes (n > 0) and its bytes, which
// are the whole block (len may exceed n). The bytes are not cleared: a
// block handed out again holds what its last user wrote.
func (a *Arena) Alloc(n int) (Ref, []byte) {
	if n <= 0 {
		panic(fmt.Sprintf("offheap: Alloc(%d)", n))
	}
	a.init()
	if n > maxSmall {
		mem := mapMem((n + pageSize - 1) &^ (pageSize - 1))
		c := a.newChunk(mem, large)
		a.inUse += len(mem)
		a.cut += len(mem)
		return Ref(c) << 32, mem
	}
	ci := classOf(n)
	size := classSizes[ci]
	cl := &a.classes[ci]
	a.inUse += size
	if r := cl.free; r != 0 {
		b := a.block(r, size)
		cl.free = Ref(binary.LittleEndian.Uint64(b))
		return r, b
	}
	if cl.cur == 0 || cl.off+size > chunkSize {
		cl.cur, cl.off = a.newChunk(mapMem(chunkSize), ci), 0
	}
	r := Ref(cl.cur)<<32 | Ref(cl.off)
	cl.off += size
	a.cut += size
	return r, a.block(r, size)
}

// newChunk adds mem as a chunk of class ci and returns its number.
func (a *Arena) newChunk(mem []byte, ci int) uint32 {
	m := a.mem
	m.size += len(mem)
	if n := len(a.unused); n > 0 {
		c := a.unused[n-1]
		a.unused = a.unused[:n-1]
		m.chunks[c] = chunk{mem: mem, class: ci}
		return c
	}
	if uint64(len(m.chunks)) >= 1<<32-1 {
		panic("offheap: too many chunks")
	}
	m.chunks = append(m.chunks, chunk{mem: mem, class: ci})
	return uint32(len(m.chunks) - 1)
}

func (a *Arena) block(r Ref, size int) []byte {
	off := int(uint32(r))
	return a.mem.chunks[r>>32].mem[off : off+size : off+size]
}

// Bytes returns the bytes of block r: all of the block, which may be
// longer than asked for. They stay valid until r is freed or the Arena
// released.
func (a *Arena) Bytes(r Ref) []byte {
	c := &a.mem.chunks[r>>32]
	if c.class == large {
		return c.mem
	}
	return a.block(r, classSizes[c.class])
}

// Free gives block r back; r must not be used again. Free(0) does
// nothing.
func (a *Arena) Free(r Ref) {
	if r == 0 {
		return
	}
	c := &a.mem.chunks[r>>32]
	if c.class == large {
		a.inUse -= len(c.mem)
		a.cut -= len(c.mem)
		a.mem.size -= len(c.mem)
		unmapMem(c.mem)
		*c = chunk{}
		a.unused = append(a.unused, uint32(r>>32))
		return
	}
	size := classSizes[c.class]
	cl := &a.classes[c.class]
	binary.LittleEndian.PutUint64(a.block(r, size), uint64(cl.free))
	cl.free = r
	a.inUse -= size
}

// Move copies block r of a into a new block of dst and returns it; r
// stays as it is in a.
func (a *Arena) Move(dst *Arena, r Ref) Ref {
	b := a.Bytes(r)
	nr, nb := dst.Alloc(len(b))
	copy(nb, b)
	return nr
}

// InUse is the number of bytes in blocks handed out and not freed.
func (a *Arena) InUse() int { return a.inUse }

// Footprint is the number of bytes of the blocks cut so far, in use or
// free: about the resident memory the Arena costs, since only the pages
// written are resident.
func (a *Arena) Footprint() int { return a.cut }

// Mapped is the number of bytes the Arena holds from the system.
func (a *Arena) Mapped() int {
	if a.mem == nil {
		return 0
	}
	return a.mem.size
}

// Release returns all the Arena's memory to the system. Every Ref and
// every byte slice it handed out become invalid; the Arena is empty and
// can be used again.
func (a *Arena) Release() {
	if a.mem != nil {
		a.mem.release()
		a.mem.chunks = make([]chunk, 1, 16)
	}
	clear(a.classes)
	a.unused = nil
	a.inUse, a.cut = 0, 0
}

// Thresholds of Shrink: below them a counter never rebuilds.
// ShrinkMinHosts is the least peak number of hosts, ShrinkMinBytes the
// least arena footprint.
const (
	ShrinkMinHosts = 4096
	ShrinkMinBytes = 8 << 20
)

// Shrink reports whether a counter should copy its live hosts into a fresh
// Table and Arena: freed memory is reused at once but given back to the
// system only by such a rebuild. It is due once the table holds a quarter
// of its peak hosts (peak at least 4096), or the arena uses a quarter of
// what it has mapped (at least 8 MiB).
func Shrink(peak, hosts int, mem *Arena) bool {
	return peak >= ShrinkMinHosts && hosts <= peak/4 ||
		mem.Footprint() >= ShrinkMinBytes && mem.InUse() <= mem.Footprint()/4
}
