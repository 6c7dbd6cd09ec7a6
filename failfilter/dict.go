package failfilter

import (
	"slices"
	"strings"
	"sync"
)

// dict is a failure's data as fail2ban's filter keeps it (a Python dict):
// group values (a string, or None for a group that did not take part),
// pyTuple for <F-TUPLE_*>, "matches"/"nofail-matches" ([]tuple), "users"
// (*userSet), "mlfpending" (int). It is a short list, not a map: a
// failure has a dozen keys, which a scan finds faster than a hash, and
// values are stored without boxing strings. Order means nothing (Python's
// order never shows in what fail2ban reports).
type dict struct {
	ents []dent
	// pos[k] is 1 + the index in ents of key k, for the first keys (the
	// fixed ones and the first group names: all of most processes'); 0
	// when absent. Other keys are searched, and all of them in a dict of
	// 255 entries or more (big).
	pos [maxPos]uint8
	big bool
}

const maxPos = 64

type dent struct {
	k fkey
	v value
}

// fkey is a dict key: a group name or one of fail2ban's own keys, as a
// number (a dict is searched by comparing numbers, not strings).
type fkey int32

// The keys the filter itself reads and writes.
const (
	kMlfid fkey = iota
	kNofail
	kMlfgained
	kMlfforget
	kMlfpending
	kMatches
	kNofailMatches
	kUsers
	kUser
	kFid
	kIP4
	kIP6
	kDNS
	kCidr
	kIP
	kContent
)

var fixedKeys = []string{
	kMlfid: "mlfid", kNofail: "nofail", kMlfgained: "mlfgained", kMlfforget: "mlfforget",
	kMlfpending: "mlfpending", kMatches: "matches", kNofailMatches: "nofail-matches", kUsers: "users",
	kUser: "user", kFid: "fid", kIP4: "ip4", kIP6: "ip6", kDNS: "dns", kCidr: "cidr", kIP: "ip", kContent: "content",
}

// keyTab numbers the keys: the fixed ones, then every group name of the
// regexes compiled so far (a few dozen in a process).
var keyTab = func() *keyTable {
	t := &keyTable{ids: map[string]fkey{}}
	for _, n := range fixedKeys {
		t.of(n)
	}
	return t
}()

type keyTable struct {
	sync.RWMutex
	ids   map[string]fkey
	names []string
}

// of returns the key of a name.
func (t *keyTable) of(name string) fkey {
	t.Lock()
	defer t.Unlock()
	if k, ok := t.ids[name]; ok {
		return k
	}
	k := fkey(len(t.names))
	t.ids[name] = k
	t.names = append(t.names, name)
	return k
}

// keyOf returns the key of a name.
func keyOf(name string) fkey { return keyTab.of(name) }

// name returns the name of a key.
func (k fkey) name() string {
	if int(k) < len(fixedKeys) {
		return fixedKeys[k]
	}
	keyTab.RLock()
	defer keyTab.RUnlock()
	return keyTab.names[k]
}

// vkind tells what a value holds.
type vkind uint8

const (
	vNone  vkind = iota // Python's None (also what a missing key reads as)
	vStr                // s
	vLines              // m: a list of tuple lines ("matches")
	vAny                // x: pyTuple, *userSet or int
)

// value is one value of a dict. A list of lines has a field of its own:
// in an interface it would cost an allocation each time it is set.
type value struct {
	s    string
	x    any
	m    []tuple
	kind vkind
}

func str(s string) value { return value{s: s, kind: vStr} }

// lines holds a list of tuple lines.
func linesOf(m []tuple) value { return value{m: m, kind: vLines} }

// box holds a pyTuple, *userSet or int.
func box(x any) value { return value{x: x, kind: vAny} }

// fromAny is the value of a pyTuple element (nil, string or pyTuple).
func fromAny(x any) value {
	switch x := x.(type) {
	case nil:
		return value{}
	case string:
		return str(x)
	}
	return box(x)
}

// any is the value as a pyTuple element.
func (v value) any() any {
	switch v.kind {
	case vStr:
		return v.s
	case vLines:
		return v.m
	case vAny:
		return v.x
	}
	return nil
}

func (v value) isNone() bool   { return v.kind == vNone }
func (v value) isString() bool { return v.kind == vStr }

// truthy is Python's truth value.
func (v value) truthy() bool {
	switch v.kind {
	case vStr:
		return v.s != ""
	case vLines:
		return len(v.m) > 0
	case vAny:
		switch x := v.x.(type) {
		case *userSet:
			return x.len() > 0
		case int:
			return x != 0
		case pyTuple:
			return len(x) > 0
		case nil:
			return false
		}
		return true
	}
	return false
}

func (v value) tuple() (pyTuple, bool) {
	t, ok := v.x.(pyTuple)
	return t, ok && v.kind == vAny
}

func (v value) lines() ([]tuple, bool) { return v.m, v.kind == vLines }

func (v value) users() (*userSet, bool) {
	u, ok := v.x.(*userSet)
	return u, ok && v.kind == vAny
}

func newDict(n int) *dict { return &dict{ents: make([]dent, 0, n)} }

func (d *dict) index(k fkey) int {
	if k < maxPos && !d.big {
		return int(d.pos[k]) - 1
	}
	for i := range d.ents {
		if d.ents[i].k == k {
			return i
		}
	}
	return -1
}

// reset empties d, keeping its room.
func (d *dict) reset() {
	if d.big {
		clear(d.pos[:])
		d.big = false
	}
	for i := range d.ents {
		if k := d.ents[i].k; k < maxPos {
			d.pos[k] = 0
		}
		d.ents[i] = dent{}
	}
	d.ents = d.ents[:0]
}

// lookup is Python's k in d and d[k].
func (d *dict) lookup(k fkey) (value, bool) {
	if i := d.index(k); i >= 0 {
		return d.ents[i].v, true
	}
	return value{}, false
}

// get is d.get(k): None when missing.
func (d *dict) get(k fkey) value {
	v, _ := d.lookup(k)
	return v
}

func (d *dict) set(k fkey, v value) {
	if i := d.index(k); i >= 0 {
		d.ents[i].v = v
		return
	}
	if len(d.ents) >= 255 {
		d.big = true
	} else if k < maxPos {
		d.pos[k] = uint8(len(d.ents) + 1)
	}
	d.ents = append(d.ents, dent{k: k, v: v})
}

// setNone sets k to None: it deletes k, which reads the same everywhere
// (get gives None, the merge into a connection's entry skips None, the
// fields hold strings and tuples only) and keeps dicts short: most groups
// of a regex take no part in a match.
func (d *dict) setNone(k fkey) { d.del(k) }

func (d *dict) del(k fkey) {
	if i := d.index(k); i >= 0 {
		last := len(d.ents) - 1
		d.ents[i] = d.ents[last]
		if m := d.ents[i].k; m < maxPos && !d.big {
			d.pos[m] = uint8(i + 1)
		}
		if k < maxPos && !d.big {
			d.pos[k] = 0
		}
		d.ents[last] = dent{}
		d.ents = d.ents[:last]
	}
}

func (d *dict) len() int { return len(d.ents) }

func (d *dict) copy() *dict {
	c := &dict{ents: make([]dent, len(d.ents), len(d.ents)+4), pos: d.pos, big: d.big}
	copy(c.ents, d.ents)
	return c
}

// pyTuple is a value of <F-TUPLE_*> groups; its elements are nil, string
// or pyTuple.
type pyTuple []any

// String prints the tuple as Python's str() does.
func (t pyTuple) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range t {
		if i > 0 {
			b.WriteString(", ")
		}
		switch v := v.(type) {
		case nil:
			b.WriteString("None")
		case string:
			b.WriteString(pyRepr(v))
		case pyTuple:
			b.WriteString(v.String())
		}
	}
	if len(t) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// pyRepr quotes a string as Python's repr does for printable text.
func pyRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	s = r.Replace(s)
	if q == "'" {
		s = strings.ReplaceAll(s, "'", `\'`)
	}
	return q + s + q
}

// userSet is the set of users of a connection, in insertion order.
type userSet struct {
	names []string
	one   [1]string // room for the first: most connections have one user
}

func newUserSet() *userSet {
	u := &userSet{}
	u.names = u.one[:0]
	return u
}

func (u *userSet) len() int { return len(u.names) }

func (u *userSet) add(n string) {
	if !slices.Contains(u.names, n) {
		u.names = append(u.names, n)
	}
}

func (u *userSet) sorted() []string {
	out := slices.Clone(u.names)
	slices.Sort(out)
	return out
}
