//go:build !unix

package offheap

// mapMem returns n zeroed bytes. Without mmap they come from the Go heap,
// as a pointer-free object the collector does not scan.
func mapMem(n int) []byte { return make([]byte, n) }

// unmapMem drops b; the collector frees it.
func unmapMem([]byte) {}
