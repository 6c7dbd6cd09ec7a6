package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestBatchGC: the collector is off during a batch run and back on after;
// a live heap over half the limit brings the default settings back early.
func TestBatchGC(t *testing.T) {
	before := gcPercent()
	restore := batchGC(256 << 20)
	if p := gcPercent(); p != -1 {
		t.Errorf("during the run GC percent = %d, want -1 (off)", p)
	}
	restore()
	if p := gcPercent(); p != before {
		t.Errorf("after the run GC percent = %d, want %d", p, before)
	}

	restore = batchGC(8 << 20)
	defer restore()
	keep := make([][]byte, 0, 16)
	for range 12 {
		keep = append(keep, make([]byte, 1<<20)) // 12 MiB live > half of 8 MiB
	}
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent() == -1 {
		if time.Now().After(deadline) {
			t.Fatal("a large live heap did not bring the collector back")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(keep)
}
