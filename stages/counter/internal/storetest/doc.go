// Package storetest is the counters' test kit for persistence: a suite
// that runs a counter against an in-memory store (memstore) and checks
// restore, save-before-send, group commit and manual commands, and a
// round trip through a real store.
package storetest
