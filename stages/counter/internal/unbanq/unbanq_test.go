package unbanq

import (
	"container/heap"
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
