//go:build !unix

package file

import "io/fs"

// idOf returns the zero ID: without inodes every file looks the same, so
// only truncation and a changed first line are found, not rotation.
func idOf(fs.FileInfo) fileID { return fileID{} }
