// Package offheap keeps the per-host state of counters outside the Go
// heap: an Arena of variable-size blocks (matched lines, rings of kept
// failures) and a Table from 16-byte host keys to fixed-size records.
//
// Why: a counter tracking a million addresses holds a few hundred bytes
// per address that live for find_time. On the Go heap that memory is
// doubled by the collector's pacing (the heap grows to twice the live data
// before the next collection, GOGC=100), scanned at every cycle, and a Go
// map of a million entries adds its own slack. Off the heap it costs its
// size once, the collector never looks at it, and freed blocks are reused
// at once.
//
// The memory comes from anonymous mappings (mmap) on Unix and from plain
// byte slices elsewhere. Values kept there must hold no Go pointers:
// strings are stored as bytes and copied out, and types given to Table
// and View are checked. A Table or Arena releases its memory in Release,
// or when it becomes unreachable.
//
// Neither type is safe for concurrent use: a counter's Run goroutine owns
// them.
package offheap
