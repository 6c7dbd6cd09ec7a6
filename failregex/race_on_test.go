//go:build race

package failregex

// raceEnabled is true under -race, where sync.Pool (used by regexp) drops
// items at random, so allocation counts of the match path are meaningless.
const raceEnabled = true
