//go:build unix

package file

import (
	"io/fs"
	"syscall"
)

// idOf returns the device and inode of fi.
func idOf(fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)} // the field types differ between systems
}
