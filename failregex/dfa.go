package failregex

import (
	"regexp/syntax"
)

// A lazy DFA that finds exactly the match and the capture groups Go's
// regexp finds, on ASCII text.
//
// Go's regexp (its Pike VM, and the backtracker and one-pass engines that
// give the same results) keeps, at each position, the list of threads in
// priority order: the closure of the previous step's threads, visited
// depth-first with one visit per instruction, then a fresh thread at the
// start instruction while no match was found. A thread reaching Match
// records the match and cuts every lower-priority thread; the last match
// recorded is the result. Which instructions are in the list, and in which
// order, depends only on the previous list, the context flags of the
// position and the byte consumed: so the lists are the states of a DFA,
// built lazily and cached. A transition also records, for each thread it
// makes, the thread of the previous list it comes from and the capture
// slots its path set at that position. The search runs the DFA forward,
// keeping the transition taken at each position, then walks the winning
// thread back from the last match to its start, reading its capture slots
// off the transitions: a table look-up per byte each way instead of an
// interpreter. The differential tests (dfa_test.go, FuzzDFA, the rewrite
// tests and failfilter's stock filters) hold it to Go's regexp.
//
// Only ASCII text runs on the DFA (an ASCII byte is a rune), and only
// programs without word-boundary assertions (their flags would depend on
// the byte before). Anything else, and a search whose cache grew too big,
// reports that it did not run, and the caller uses Go's regexp.

// dfaProg is a compiled program ready for DFAs; it is immutable.
type dfaProg struct {
	op    []syntax.InstOp
	out   []uint32
	arg   []uint32 // Alt: the other branch; Capture: slot; EmptyWidth: the condition
	match []uint16 // rune instructions: index into sets; others unused
	sets  [][2]uint64
	start uint32
	ncap  int // capture slots of a result, 2*(groups+1)

	anchored  bool // no fresh thread after position 0
	lineFlags bool // uses ^ or $ of multi-line mode: '\n' gets its own class
	cls       [256]uint8
	nclass    int
	rep       []byte // a byte of each class
	// keys per state: variants × classes for a byte, then one end key per
	// variant. Variants: 0 plain, 1 start of text, 2 after '\n'.
	nvar   int
	stride int
}

// newDFAProg prepares the program of Go regex expr (RE2 syntax, compiled
// as regexp.Compile does), or returns nil when it cannot run on a DFA.
func newDFAProg(expr string) *dfaProg {
	re, err := parseRE2(expr)
	if err != nil {
		return nil
	}
	ncap := 2 * (re.MaxCap() + 1)
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	return dfaFromProg(prog, ncap)
}

func dfaFromProg(prog *syntax.Prog, ncap int) *dfaProg {
	cond := prog.StartCond()
	if cond == ^syntax.EmptyOp(0) || len(prog.Inst) >= 1<<30 || ncap >= 1<<15 {
		return nil
	}
	n := len(prog.Inst)
	p := &dfaProg{
		op: make([]syntax.InstOp, n), out: make([]uint32, n), arg: make([]uint32, n), match: make([]uint16, n),
		start: uint32(prog.Start), ncap: ncap, anchored: cond&syntax.EmptyBeginText != 0,
	}
	setIndex := map[[2]uint64]uint16{}
	for pc := range prog.Inst {
		in := &prog.Inst[pc]
		p.op[pc], p.out[pc], p.arg[pc] = in.Op, in.Out, in.Arg
		var set [2]uint64
		switch in.Op {
		case syntax.InstEmptyWidth:
			e := syntax.EmptyOp(in.Arg)
			if e&(syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0 {
				return nil
			}
			if e&(syntax.EmptyBeginLine|syntax.EmptyEndLine) != 0 {
				p.lineFlags = true
			}
			continue
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			set = asciiSet(in)
		default:
			continue
		}
		k, ok := setIndex[set]
		if !ok {
			if len(p.sets) >= 1<<16 {
				return nil
			}
			k = uint16(len(p.sets))
			setIndex[set] = k
			p.sets = append(p.sets, set)
		}
		p.match[pc] = k
	}
	p.classes()
	p.nvar = 2
	if p.lineFlags {
		p.nvar = 3
	}
	p.stride = p.nvar*p.nclass + p.nvar
	return p
}

// asciiSet returns the ASCII runes a rune instruction matches.
func asciiSet(in *syntax.Inst) (set [2]uint64) {
	r := in.Rune
	// A long class is sorted pairs (MatchRune's binary search relies on
	// it): read the pairs instead of asking about each rune.
	sorted := in.Op == syntax.InstRune && len(r) > 8 && len(r)%2 == 0
	for j := 2; sorted && j < len(r); j += 2 {
		sorted = r[j-2] <= r[j-1] && r[j-1] < r[j]
	}
	if !sorted {
		for c := rune(0); c < 0x80; c++ {
			if in.MatchRune(c) {
				set[c>>6] |= 1 << (c & 63)
			}
		}
		return set
	}
	for j := 0; j < len(r) && r[j] < 0x80; j += 2 {
		for c := max(r[j], 0); c <= min(r[j+1], 0x7f); c++ {
			set[c>>6] |= 1 << (c & 63)
		}
	}
	return set
}

// classes splits the bytes into classes no rune instruction tells apart
// ('\n' alone in multi-line mode); the bytes from 0x80 form the last
// class, which the DFA refuses.
func (p *dfaProg) classes() {
	var id [128]int16 // class of each byte so far
	n := int16(1)
	refine := func(in func(b int) bool) {
		var to [128][2]int16 // (old class, in) → new class
		m := int16(0)
		for b := range 128 {
			k := 0
			if in(b) {
				k = 1
			}
			if to[id[b]][k] == 0 {
				m++
				to[id[b]][k] = m
			}
			id[b] = to[id[b]][k] - 1
		}
		n = m
	}
	for _, s := range p.sets {
		refine(func(b int) bool { return s[b>>6]&(1<<(b&63)) != 0 })
	}
	if p.lineFlags {
		refine(func(b int) bool { return b == '\n' })
	}
	p.rep = make([]byte, n)
	seen := make([]bool, n)
	for b := range 128 {
		c := id[b]
		if !seen[c] {
			seen[c] = true
			p.rep[c] = byte(b)
		}
		p.cls[b] = uint8(c)
	}
	p.nclass = int(n) + 1
	for b := 128; b < 256; b++ {
		p.cls[b] = uint8(n)
	}
}

func (p *dfaProg) matches(pc uint32, b byte) bool {
	s := &p.sets[p.match[pc]]
	return s[b>>6]&(1<<(b&63)) != 0
}

// Limits of one DFA's cache: past them the cache is dropped and the search
// that hit them is left to Go's regexp; a DFA that keeps hitting them is
// given up.
const (
	dfaMaxCells  = 1 << 18 // transition cells (8 bytes each)
	dfaMaxRecs   = 1 << 20 // int32s of transition records
	dfaMaxResets = 8
)

// dfa is the cache of one program: its states and transitions. It is not
// safe for concurrent use.
//
// The transitions are one table of cells, a row of stride cells per
// state: a key is the variant of the position's context times the number
// of classes plus the byte's class, then one end key per variant. The low
// half of a cell holds the next state's row (row 0 is the dead state), or
// unknown; the high half the offset in rdata of what the transition did
// (see compute), for the walk back, which also tells whether the position
// holds a match.
type dfa struct {
	p      *dfaProg
	states []dstate
	byKey  map[string]int32
	next   []uint64
	rdata  []int32
	resets int
	off    bool // given up

	// Scratch.
	recAt   []int32 // the record of the transition taken at each position of the last search
	visited []uint32
	dense   []uint32
	threads []dthread
	path    []uint16
	pathBuf []uint16
	kernel  []uint32
	parents []int32
	slotOff []int32
	slotBuf []uint16
	inKern  []uint32
	kdense  []uint32
	keyBuf  []byte
}

// unknown is the low half of a cell not computed yet.
const unknown = 1<<32 - 1

// Reserved states: the dead states (with no thread left: deadMatched
// after a match was recorded, deadState without), then the state at
// position 0. A row below liveRows is dead.
const (
	deadState   = 0
	deadMatched = 1
	startState  = 2
	liveRows    = startState // times the stride
)

type dstate struct {
	kernel []uint32 // instructions the previous step's threads continue at, in order
	// matched: a match was recorded before (no fresh thread, and forward
	// knows whether to look for the last match).
	matched bool
}

type dthread struct {
	pc       uint32
	origin   int32
	from, to uint32 // its path's slots in pathBuf
}

func newDFA(p *dfaProg) *dfa {
	d := &dfa{p: p}
	n := len(p.op)
	d.visited = make([]uint32, n)
	d.dense = make([]uint32, 0, n)
	d.inKern = make([]uint32, n)
	d.kdense = make([]uint32, 0, n)
	d.reset()
	return d
}

func (d *dfa) reset() {
	d.states = d.states[:0]
	d.next = d.next[:0]
	d.rdata = d.rdata[:0]
	d.byKey = map[string]int32{}
	d.addState(nil, false) // dead
	d.addState(nil, true)  // dead after a match
	d.addState(nil, false) // start
	if !d.p.anchored {
		d.byKey["\x00"] = startState // searching, no thread yet
	}
}

func (d *dfa) addState(kernel []uint32, matched bool) int32 {
	id := int32(len(d.states))
	d.states = append(d.states, dstate{kernel: kernel, matched: matched})
	for range d.p.stride {
		d.next = append(d.next, unknown)
	}
	return id
}

// intern returns the state of a kernel.
func (d *dfa) intern(kernel []uint32, matched bool) int32 {
	if len(kernel) == 0 && (matched || d.p.anchored) {
		if matched {
			return deadMatched
		}
		return deadState
	}
	b := d.keyBuf[:0]
	if matched {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, pc := range kernel {
		b = append(b, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	d.keyBuf = b
	if id, ok := d.byKey[string(b)]; ok {
		return id
	}
	id := d.addState(append([]uint32(nil), kernel...), matched)
	d.byKey[string(b)] = id
	return id
}

// flags returns the context flags of a key (a byte key's variant and
// class, or an end key's variant).
func (d *dfa) flags(key int) (f syntax.EmptyOp, v, class int, end bool) {
	p := d.p
	if key >= p.nvar*p.nclass {
		v, end = key-p.nvar*p.nclass, true
		f = syntax.EmptyEndText | syntax.EmptyEndLine
	} else {
		v, class = key/p.nclass, key%p.nclass
		if class < len(p.rep) && p.rep[class] == '\n' {
			f |= syntax.EmptyEndLine
		}
	}
	switch v {
	case 1:
		f |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	case 2:
		f |= syntax.EmptyBeginLine
	}
	return f, v, class, end
}

// compute builds the transition of the state at row on key and returns
// its cell, unknown for a non-ASCII byte.
//
// Its record in rdata, at offset o: rdata[o] is the origin index of the
// fresh thread (the kernel's length: the kernel entries come first),
// rdata[o+1] the origin of the thread that matched here (-1: none),
// rdata[o+2] the number n of kernel entries of the next state, then n
// offsets in rdata of their entries, then the match's slot count and
// slots. An entry is the origin of the thread it comes from, its slot
// count and the slots set on its path at this position; an entry without
// slots is not stored: ^origin stands in place of its offset.
func (d *dfa) compute(row, key int) uint64 {
	p := d.p
	f, v, class, end := d.flags(key)
	if !end && class == p.nclass-1 {
		return unknown
	}
	st := d.states[row/p.stride]
	d.dense = d.dense[:0]
	d.threads = d.threads[:0]
	d.pathBuf = d.pathBuf[:0]
	d.path = d.path[:0]
	for k, pc := range st.kernel {
		d.add(pc, int32(k), f)
	}
	// Go's machine adds a fresh thread while nothing matched, at position
	// 0 only when the program starts with \A.
	if !st.matched && (v == 1 || !p.anchored) {
		d.add(p.start, int32(len(st.kernel)), f)
	}
	var b byte
	if !end {
		b = p.rep[class]
	}
	d.kernel, d.kdense, d.parents = d.kernel[:0], d.kdense[:0], d.parents[:0]
	d.slotOff, d.slotBuf = append(d.slotOff[:0], 0), d.slotBuf[:0]
	match := -1
	for j, t := range d.threads {
		if p.op[t.pc] == syntax.InstMatch {
			match = j
			break // lower-priority threads are cut
		}
		if end || !p.matches(t.pc, b) {
			continue
		}
		o := p.out[t.pc]
		if j := d.inKern[o]; j < uint32(len(d.kdense)) && d.kdense[j] == o {
			continue
		}
		d.inKern[o] = uint32(len(d.kdense))
		d.kdense = append(d.kdense, o)
		d.kernel = append(d.kernel, o)
		d.parents = append(d.parents, t.origin)
		d.slotBuf = append(d.slotBuf, d.pathBuf[t.from:t.to]...)
		d.slotOff = append(d.slotOff, int32(len(d.slotBuf)))
	}
	next := int32(deadState)
	if !end {
		next = d.intern(d.kernel, st.matched || match >= 0)
	}
	nk := len(d.kernel)
	if packed, ok := pack(len(st.kernel), d.parents, d.slotOff, match); ok {
		cell := uint64(next)*uint64(p.stride) | uint64(uint32(packed))<<32
		d.next[row+key] = cell
		return cell
	}
	// The record.
	o := len(d.rdata)
	rd := append(d.rdata, int32(len(st.kernel)), -1, int32(nk))
	entries := len(rd)
	rd = append(rd, make([]int32, nk)...)
	if match >= 0 {
		t := d.threads[match]
		rd[o+1] = t.origin
		rd = append(rd, int32(t.to-t.from))
		for _, sl := range d.pathBuf[t.from:t.to] {
			rd = append(rd, int32(sl))
		}
	} else {
		rd = append(rd, 0)
	}
	for k := range nk {
		sl := d.slotBuf[d.slotOff[k]:d.slotOff[k+1]]
		if len(sl) == 0 {
			rd[entries+k] = ^d.parents[k] // no slots: the origin in place
			continue
		}
		rd[entries+k] = int32(len(rd))
		rd = append(rd, d.parents[k], int32(len(sl)))
		for _, x := range sl {
			rd = append(rd, int32(x))
		}
	}
	d.rdata = rd
	cell := uint64(next)*uint64(p.stride) | uint64(o)<<32
	d.next[row+key] = cell
	return cell
}

// A transition with no match, no slot set and a small kernel is packed in
// place of its record's offset (which is never negative): the sign bit,
// the origin index of the fresh thread in the low 4 bits, then the origin
// of each kernel entry of the next state in 4 bits: the walk back reads
// it without a load that depends on the thread it follows.
const (
	packBit     = -1 << 31
	packEntries = 6
)

// pack returns the packed form of a transition, if it has one.
func pack(fresh int, parents []int32, slotOff []int32, match int) (int32, bool) {
	if match >= 0 || fresh > 15 || len(parents) > packEntries || slotOff[len(parents)] != 0 {
		return 0, false
	}
	v := int32(packBit) | int32(fresh)
	for k, o := range parents {
		if o > 15 {
			return 0, false
		}
		v |= o << (4 + 4*k)
	}
	return v, true
}

// matchAt reports whether the transition of record r holds a match.
func matchAt(rd []int32, r int32) bool { return r >= 0 && rd[r+1] >= 0 }

// add follows Go's machine.add: the closure of pc at this position, in
// priority order, one visit per instruction.
func (d *dfa) add(pc uint32, origin int32, f syntax.EmptyOp) {
	p := d.p
	for {
		if pc == 0 {
			return
		}
		if j := d.visited[pc]; j < uint32(len(d.dense)) && d.dense[j] == pc {
			return
		}
		d.visited[pc] = uint32(len(d.dense))
		d.dense = append(d.dense, pc)
		switch p.op[pc] {
		case syntax.InstFail:
			return
		case syntax.InstAlt, syntax.InstAltMatch:
			d.add(p.out[pc], origin, f)
			pc = p.arg[pc]
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(p.arg[pc])&^f != 0 {
				return
			}
			pc = p.out[pc]
		case syntax.InstNop:
			pc = p.out[pc]
		case syntax.InstCapture:
			if int(p.arg[pc]) >= p.ncap {
				pc = p.out[pc]
				continue
			}
			d.path = append(d.path, uint16(p.arg[pc]))
			d.add(p.out[pc], origin, f)
			d.path = d.path[:len(d.path)-1]
			return
		default: // Match and rune instructions: a thread
			from := uint32(len(d.pathBuf))
			d.pathBuf = append(d.pathBuf, d.path...)
			d.threads = append(d.threads, dthread{pc: pc, origin: origin, from: from, to: uint32(len(d.pathBuf))})
			return
		}
	}
}

// submatch finds the leftmost-first match of s as
// regexp.FindStringSubmatchIndex does, storing the pairs in dst when it
// has room; nil when there is none. ok is false when the DFA could not run
// s (non-ASCII text, cache limits): the caller must use Go's regexp.
func (d *dfa) submatch(s string, dst []int) (loc []int, ok bool) {
	e, ok := d.forward(s)
	if !ok || e < 0 {
		return nil, ok
	}
	return d.back(e, dst), true
}

// matchEnd reports whether s has a match (ok as for submatch).
func (d *dfa) matchEnd(s string) (matched, ok bool) {
	e, ok := d.forward(s)
	return e >= 0, ok
}

// forward runs the DFA over s, keeping the record of the transition
// taken at each position in d.recAt, and returns where the last match was
// recorded (-1: none).
func (d *dfa) forward(s string) (last int, ok bool) {
	if d.off {
		return -1, false
	}
	p := d.p
	if len(d.next) > dfaMaxCells || len(d.rdata) > dfaMaxRecs {
		if d.resets++; d.resets > dfaMaxResets {
			d.off = true
			return -1, false
		}
		d.reset()
	}
	if cap(d.recAt) < len(s)+1 {
		d.recAt = make([]int32, len(s)+1, 2*len(s)+64)
	}
	recAt := d.recAt[:len(s)+1]
	d.recAt = recAt
	cls := &p.cls
	row := startState * p.stride
	live := liveRows * p.stride
	i := 0
	if len(s) > 0 {
		// Position 0 has its own variant.
		if row, ok = d.step(row+p.nclass+int(cls[s[0]]), 0); !ok {
			return -1, false
		}
		i = 1
	}
	if p.lineFlags {
		for ; i < len(s) && row >= live; i++ {
			cell := row + int(cls[s[i]])
			if s[i-1] == '\n' {
				cell += 2 * p.nclass
			}
			if row, ok = d.step(cell, i); !ok {
				return -1, false
			}
		}
	} else {
		for i < len(s) && row >= live {
			if i, row = run(d.next, cls, s, recAt[:len(s)], i, row, live); i < len(s) && row >= live {
				// A transition not computed yet.
				if row, ok = d.step(row+int(cls[s[i]]), i); !ok {
					return -1, false
				}
				i++
			}
		}
	}
	end := i // transitions were taken at positions [0, end)
	if row >= live {
		cell := row + d.endKey(s)
		v := d.next[cell]
		if uint32(v) == unknown {
			v = d.compute(row, cell-row)
		}
		recAt[len(s)] = int32(v >> 32)
		end = len(s) + 1
		if !d.states[row/p.stride].matched && !matchAt(d.rdata, recAt[len(s)]) {
			return -1, true
		}
	} else if row != deadMatched*p.stride {
		return -1, true // no match recorded
	}
	rd := d.rdata
	// The last match is at the last position whose transition records one.
	for last = end - 1; last >= 0; last-- {
		if matchAt(rd, recAt[last]) {
			break
		}
	}
	return last, true
}

// run takes the transitions already computed from position i in state
// row, and stops at the end of s, in the dead state, or before a
// transition not computed yet. It calls nothing, so that its loop keeps
// everything in registers.
func run(next []uint64, cls *[256]uint8, s string, recAt []int32, i, row, live int) (int, int) {
	for ; i < len(s); i++ {
		v := next[row+int(cls[s[i]])]
		if uint32(v) == unknown {
			return i, row
		}
		recAt[i] = int32(v >> 32)
		if row = int(uint32(v)); row < live {
			return i + 1, row
		}
	}
	return i, row
}

// over reports a cache grown far past its limits within one search.
func (d *dfa) over() bool { return len(d.next) > 2*dfaMaxCells || len(d.rdata) > 2*dfaMaxRecs }

// step takes one transition for forward's general loop.
func (d *dfa) step(cell, i int) (row int, ok bool) {
	v := d.next[cell]
	if uint32(v) == unknown {
		row := cell - cell%d.p.stride
		if v = d.compute(row, cell-row); uint32(v) == unknown || d.over() {
			return 0, false
		}
	}
	d.recAt[i] = int32(v >> 32)
	return int(uint32(v)), true
}

// endKey is the key of the end of s.
func (d *dfa) endKey(s string) int {
	p := d.p
	switch {
	case len(s) == 0:
		return p.nvar*p.nclass + 1
	case p.lineFlags && s[len(s)-1] == '\n':
		return p.nvar*p.nclass + 2
	}
	return p.nvar * p.nclass
}

// back walks the winning thread back from the match recorded at e and
// returns its capture slots.
func (d *dfa) back(e int, dst []int) []int {
	ncap := d.p.ncap
	if cap(dst) < ncap {
		dst = make([]int, ncap)
	}
	loc := dst[:ncap]
	for i := range loc {
		loc[i] = -1
	}
	// Walking back, the first position a slot is met at is where the
	// thread's path last set it: its value.
	rd, recAt := d.rdata, d.recAt
	o := int(recAt[e])
	fresh, k := rd[o], rd[o+1]
	ms := o + 3 + int(rd[o+2])
	for _, sl := range rd[ms+1 : ms+1+int(rd[ms])] {
		if loc[sl] < 0 {
			loc[sl] = e
		}
	}
	loc[1] = e
	i := e
	for k != fresh {
		i--
		if r := recAt[i]; r < 0 {
			// (& 31: k < packEntries; it spares the check of a shift
			// past the width.)
			fresh, k = r&15, r>>((4+4*uint32(k))&31)&15
			continue
		}
		o = int(recAt[i])
		fresh = rd[o]
		en := int(rd[o+3+int(k)])
		if en < 0 {
			k = int32(^en)
			continue
		}
		for _, sl := range rd[en+2 : en+2+int(rd[en+1])] {
			if loc[sl] < 0 {
				loc[sl] = i
			}
		}
		k = rd[en]
	}
	loc[0] = i // the thread started here
	return loc
}
