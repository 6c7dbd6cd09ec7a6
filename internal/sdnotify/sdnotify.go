// Package sdnotify tells systemd about the daemon's state through the
// datagram socket named by $NOTIFY_SOCKET (sd_notify(3)), without cgo or
// libsystemd: READY=1 once the pipeline runs, RELOADING=1 and READY=1 around
// a reload, STOPPING=1 on the way out.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// Notify sends state (e.g. "READY=1") to the socket in $NOTIFY_SOCKET. It
// does nothing and returns nil when the variable is unset, i.e. when the
// service manager did not ask for notifications.
func Notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	return Send(addr, state)
}

// Send sends state to the notification socket addr. An address starting
// with '@' is in Linux's abstract namespace.
func Send(addr, state string) error {
	if strings.HasPrefix(addr, "@") {
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %q: %w", strings.TrimPrefix(addr, "\x00"), err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}
