//go:build !unix

package proc

import osexec "os/exec"

// KillGroupOnCancel leaves cmd as it is: without process groups a timeout
// kills the command itself only (os/exec's default).
func KillGroupOnCancel(*osexec.Cmd) {}
