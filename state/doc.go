// Package state is the daemon's state store: the bans of every jail (the
// running ones and the history of ended ones that escalation reads) and the
// positions of its sources, kept in one file, f2b.db, in the state
// directory. It implements engine.Store.
//
// # Why bbolt
//
// The store is go.etcd.io/bbolt: pure Go (no cgo, so f2b stays one static
// binary), ACID transactions that are fsync'ed before they return, one
// file, and a single writer at a time, which is all a daemon whose
// counters write a few bans at a time needs. SQLite would bring either cgo
// or a large pure-Go translation (modernc.org/sqlite) for a query language
// the store does not use: every read is "all records of a jail" or "one
// key".
//
// # Layout
//
// The file holds three top-level buckets:
//
//   - "meta": the schema version (key "schema"). A file written by a newer
//     f2b, with a version this one does not know, is refused rather than
//     misread.
//   - "bans": one bucket per jail, keyed by host (see hostKey: a family
//     byte, the 16-byte address, then any IPv6 zone), whose value is the
//     host's latest ban in a compact binary form with a version byte
//     (see encodeRecord). An ended ban stays as history until Purge.
//   - "positions": opaque source positions keyed by the source's key.
//
// # Durability and concurrency
//
// Every counter calls Record before it sends its bans on. Record returns
// only once its transaction is committed and synced. Concurrent calls are
// group-committed: one writer goroutine takes every request waiting when it
// starts a transaction and commits them together, so many counters share
// one fsync while a lone caller pays no batching delay.
//
// The file is locked (flock) while a Store has it open: a second f2b on the
// same state directory gets a clear error after a short wait instead of
// corrupting the first one's state.
package state
