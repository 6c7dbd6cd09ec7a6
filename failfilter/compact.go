package failfilter

import "slices"

// nameSet is one Failure.Names slice and the keys it names.
type nameSet struct {
	keys  []fkey
	names []string
}

// maxNameSets bounds the Names slices a Filter remembers; past it the
// oldest is forgotten (a new failure with its keys gets a new slice).
const maxNameSets = 16

// compactFields sets out.Names and out.Values from the failure dict, as
// snapshot sets out.Fields: the same fields, in the dict's order, with
// one allocation (the values) when the keys are those of an earlier
// failure.
func (f *Filter) compactFields(out *Failure, fail *dict) {
	var (
		keyBuf [16]fkey
		valBuf [16]string
	)
	keys, vals := keyBuf[:0], valBuf[:0]
	for i := range fail.ents {
		e := &fail.ents[i]
		switch e.v.kind {
		case vStr:
			keys, vals = append(keys, e.k), append(vals, e.v.s)
		case vAny:
			if t, ok := e.v.x.(pyTuple); ok {
				keys, vals = append(keys, e.k), append(vals, t.String())
			}
		}
	}
	out.Names = f.namesOf(keys)
	if len(keys) > 0 {
		out.Values = f.strings(len(vals))
		copy(out.Values, vals)
	}
}

// namesOf returns the names of keys, the same slice for the same keys.
func (f *Filter) namesOf(keys []fkey) []string {
	for i, s := range f.names {
		if slices.Equal(s.keys, keys) {
			if i > 0 { // keep the most used in front
				f.names[0], f.names[i] = f.names[i], f.names[0]
			}
			return s.names
		}
	}
	s := nameSet{keys: slices.Clone(keys), names: make([]string, len(keys))}
	for i, k := range keys {
		s.names[i] = k.name()
	}
	if len(f.names) == maxNameSets {
		f.names = f.names[:maxNameSets-1]
	}
	f.names = append([]nameSet{s}, f.names...)
	return s.names
}

// slabLen is the length of a block of strings.
const slabLen = 512

// strings returns a slice of n empty strings: with CompactFields, cut
// from f.slab (its capacity n, so that appending to it moves it away).
func (f *Filter) strings(n int) []string {
	if !f.opts.CompactFields || n > slabLen/8 {
		return make([]string, n)
	}
	if n > len(f.slab) {
		f.slab = make([]string, slabLen)
	}
	s := f.slab[:n:n]
	f.slab = f.slab[n:]
	return s
}
