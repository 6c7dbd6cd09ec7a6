// Package jailrun is what both counters need to run as a daemon's jail,
// kept here once: the Run loop (input, unban timer, manual commands), the
// group commit of their actions to the engine.Store (Batch), the restore
// of saved bans on start (Batch.Restore, Floors), the first checks of
// every failure (Intake) and the engine.Jail commands (Manual).
//
// A counter keeps its own state and decisions; it hands this package
// callbacks and adds the actions it makes to a Batch. With a nil store
// (replay, validate) nothing is saved or restored and the actions go out
// in the same order as they are made.
package jailrun
