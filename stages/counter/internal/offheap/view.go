package offheap

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Of reads and writes blocks as slices of T. Make one with ViewOf, which
// checks that T can live off the heap.
type Of[T any] struct{ size int }

// ViewOf returns the view of blocks as T values. It panics when T holds a
// Go pointer (a pointer, string, slice, map, channel, func or interface):
// the collector does not see memory off the heap, so a pointer kept there
// would not keep its object alive.
func ViewOf[T any]() Of[T] {
	t := reflect.TypeFor[T]()
	if hasPointers(t) {
		panic(fmt.Sprintf("offheap: %v holds Go pointers", t))
	}
	if t.Size() == 0 {
		panic(fmt.Sprintf("offheap: %v has size 0", t))
	}
	return Of[T]{size: int(t.Size())}
}

// Size is the number of bytes n values take.
func (o Of[T]) Size(n int) int { return n * o.size }

// Slice returns b as values of T: len(b)/size of them. b must come from
// an Arena or a mapping (both are aligned to 16 bytes).
func (o Of[T]) Slice(b []byte) []T {
	n := len(b) / o.size
	if n == 0 {
		return nil
	}
	// NOTE: T holds no pointers (checked by ViewOf) and b is 16-byte
	// aligned, so this is the same memory read as T values, which is all
	// that an allocator written in Go does.
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// hasPointers reports whether values of t hold Go pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
