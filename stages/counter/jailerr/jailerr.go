// Package jailerr holds the errors a counter's manual commands (engine.Jail)
// return, so the daemon's control server can tell them apart with
// errors.Is and answer as fail2ban-client does.
package jailerr

import (
	"errors"
	"fmt"
	"net/netip"
)

var (
	// ErrNotRunning is returned by a counter's Ban, Unban and UnbanAll when
	// its Run is not running (not started yet, or returned).
	ErrNotRunning = errors.New("is not running")
	// ErrAlreadyBanned is returned by a counter's Ban when the host is
	// banned already in that jail.
	ErrAlreadyBanned = errors.New("already banned")
)

// NotRunning is ErrNotRunning for jail: "jail sshd is not running".
func NotRunning(jail string) error {
	return fmt.Errorf("jail %s %w", jail, ErrNotRunning)
}

// AlreadyBanned is ErrAlreadyBanned for host in jail: "jail sshd:
// 192.0.2.1 already banned" (fail2ban logs "[sshd] 192.0.2.1 already
// banned").
func AlreadyBanned(jail string, host netip.Addr) error {
	return fmt.Errorf("jail %s: %s %w", jail, host, ErrAlreadyBanned)
}
