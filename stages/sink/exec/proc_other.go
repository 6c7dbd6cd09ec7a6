//go:build !unix

package exec

import osexec "os/exec"

// killProcessGroup leaves cmd as it is: without process groups a timeout
// kills the command itself only (os/exec's default).
func killProcessGroup(*osexec.Cmd) {}
