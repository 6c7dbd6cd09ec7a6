//go:build unix

package proc

import (
	"errors"
	"os"
	osexec "os/exec"
	"syscall"
)

// KillGroupOnCancel starts cmd in a process group of its own and makes its
// cancellation (a timeout or a hard stop of its context) kill that whole
// group with SIGKILL, so a shell script's children die with it. Call it
// before cmd.Start.
func KillGroupOnCancel(cmd *osexec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// NOTE: Cancel runs only after a successful Start, so Process is
		// set; with Setpgid the group ID is the child's PID.
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}
