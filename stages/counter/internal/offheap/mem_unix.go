//go:build unix

package offheap

import (
	"fmt"
	"syscall"
)

// mapMem returns n bytes of zeroed memory outside the Go heap: an
// anonymous private mapping, which costs resident memory only for the
// pages written.
func mapMem(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// NOTE: as the runtime does when the heap cannot grow: there is no
		// way on for a counter that cannot keep its state.
		panic(fmt.Sprintf("offheap: mmap of %d bytes: %v", n, err))
	}
	return b
}

// unmapMem gives b, made by mapMem, back to the system.
func unmapMem(b []byte) {
	if err := syscall.Munmap(b); err != nil {
		panic(fmt.Sprintf("offheap: munmap of %d bytes: %v", len(b), err))
	}
}
