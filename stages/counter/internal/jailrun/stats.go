package jailrun

import "sync/atomic"

// Counts are the actions a counter made, as its Stats and Status report
// them. They are safe to read from any goroutine.
type Counts struct {
	Bans     atomic.Int64 // bans made, manual ones included, restored ones not
	Unbans   atomic.Int64 // bans lifted, on time or by hand
	Restored atomic.Int64 // bans put back from the store on start
}

// Stats returns the engine.Stats keys every counter reports, from what it
// took in (in), made (n) and saved (b): "failures" (every failure
// received, ignored ones included), "ignored", "bans", "unbans",
// "restored", "failures_behind_restored" (failures at or before the start
// of a saved ban of their host: lines read again on start) and
// "store_errors" (failed saves). A counter adds its own keys.
func Stats(in *Intake, n *Counts, b *Batch) map[string]int64 {
	return map[string]int64{
		"failures":                 in.Failures.Load(),
		"ignored":                  in.Ignored.Load(),
		"bans":                     n.Bans.Load(),
		"unbans":                   n.Unbans.Load(),
		"restored":                 n.Restored.Load(),
		"failures_behind_restored": in.Behind.Load(),
		"store_errors":             b.Errors(),
	}
}
