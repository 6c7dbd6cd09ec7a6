package unbanq

import (
	"container/heap"
	"slices"
	"sync"
	"testing"
)

type ban struct {
	Slot
	name string
}

func (b *ban) QueueSlot() *Slot { return &b.Slot }

func TestQueueOrder(t *testing.T) {
	var q Queue[*ban]
	add := func(name string, end int64, seq uint64) *ban {
		b := &ban{Slot: Slot{EndNanos: end, Seq: seq}, name: name}
		heap.Push(&q, b)
		return b
	}
	add("c", 30, 1)
	b := add("b", 20, 2)
	add("a", 20, 0)
	add("d", 40, 3)
	b.EndNanos = 50 // a prolong
	heap.Fix(&q, b.Index)
	var got string
	for q.Len() > 0 {
		x := heap.Pop(&q).(*ban)
		if x.Index != -1 {
			t.Fatalf("popped %s keeps index %d", x.name, x.Index)
		}
		got += x.name
	}
	if got != "acdb" {
		t.Fatalf("order = %s, want acdb", got)
	}
}

func TestActiveAddRemove(t *testing.T) {
	var a Active[*ban]
	bs := []*ban{{name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}}
	for _, b := range bs {
		a.Add(b)
	}
	a.Remove(bs[1]) // d moves into b's place
	a.Remove(bs[3])
	a.Remove(bs[0])
	if len(a) != 1 || a[0] != bs[2] || bs[2].Pos != 0 {
		t.Fatalf("active = %v, c.Pos = %d", a, bs[2].Pos)
	}
	for i, b := range a {
		if b.Pos != i {
			t.Fatalf("%s.Pos = %d, want %d", b.name, b.Pos, i)
		}
	}
}

func TestCollect(t *testing.T) {
	var mu sync.Mutex
	var a Active[*ban]
	for i, name := range []string{"c", "a", "b"} {
		a.Add(&ban{Slot: Slot{Seq: uint64([]int{2, 0, 1}[i])}, name: name})
	}
	got := Collect(&mu, &a, func(b *ban) string { return b.name })
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Collect = %v, want %v (ban order)", got, want)
	}
	a.Remove(a[1])
	if got := Collect(&mu, &a, func(b *ban) string { return b.name }); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("after Remove: %v", got)
	}
}
