package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxSocketPath is the longest path a unix socket can be bound to on
// Linux (sun_path is 108 bytes with the terminating NUL).
const maxSocketPath = 107

// Listen creates the control socket at path and returns a Server ready to
// Serve. The parent directory is created (0755) when missing. A stale
// socket left by a crashed daemon is removed; a socket something answers on
// and any file that is not a socket are left alone and reported.
//
// The socket is created with mode 0600 without touching the process umask
// (which is process-wide, so changing it would race with every other
// goroutine creating files): it is bound inside a private 0700 directory,
// chmodded, then hard-linked to path. The link fails if path appeared in
// the meantime, so two daemons starting together cannot steal each other's
// socket, and nobody can connect before the mode is right.
func Listen(path string) (*Server, error) {
	if path == "" {
		return nil, errors.New("control socket: empty path")
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: path longer than %d bytes", path, maxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp(dir, ".f2b")
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	tmpSock := filepath.Join(tmp, "s")
	if len(tmpSock) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: path too long (the socket is first created as %s)", path, tmpSock)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpSock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	// The file is ours to remove, under its final name, in Close.
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*Server, error) {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(tmpSock, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Link(tmpSock, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			ln.Close()
			return nil, fmt.Errorf("another f2b is running on %s (it appeared while this one started)", path)
		}
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return newServer(path, ln, fi), nil
}

// ensureDir creates dir with mode 0755 when it is missing.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("control socket directory %s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control socket directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	// MkdirAll honours the umask; the directory must be traversable so that
	// the socket's own mode decides who may connect.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	return nil
}

// clearStale makes sure nothing is at path: a socket nobody answers on is
// removed, anything else is an error.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: a %s is in the way; not removing it", path, describeType(fi.Mode()))
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("another f2b is running on %s", path)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		// Left by a daemon that did not close cleanly.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the stale control socket %s: %w", path, err)
		}
		return nil
	case errors.Is(err, syscall.ENOENT):
		return nil // removed between Lstat and dial
	default:
		return fmt.Errorf("control socket %s exists and cannot be probed: %w", path, err)
	}
}

func describeType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	default:
		return "file that is not a socket"
	}
}
