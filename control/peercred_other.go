//go:build !linux

package control

import (
	"errors"
	"net"
)

// ucred mirrors the fields of Linux's syscall.Ucred the server reads.
type ucred struct{ Pid, Uid, Gid uint32 }

// peerCred fails where SO_PEERCRED does not exist, so every peer is
// refused rather than trusted.
func peerCred(*net.UnixConn) (*ucred, error) {
	return nil, errors.New("peer credentials are only checked on linux")
}
