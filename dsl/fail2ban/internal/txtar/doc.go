// Package txtar reads and writes the txtar archive format (a comment, then
// files each introduced by a "-- name --" line) for the tests of the
// fail2ban reader, without a dependency outside the standard library.
package txtar
