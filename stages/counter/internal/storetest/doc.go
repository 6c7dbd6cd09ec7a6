// Package storetest is the counters' shared test kit: a suite that runs
// a counter against an in-memory store (memstore) and checks restore,
// save-before-send, group commit and manual commands; a round trip through
// a real store; the Run-loop checks every counter must pass (HardStop,
// ConcurrentReaders) with a fake clock for timer tests; the decoding of a
// counter block; and the inputs and measurements of the counters'
// benchmarks. Each counter's tests call it with their own counter, so the
// shared checks run against both.
package storetest
