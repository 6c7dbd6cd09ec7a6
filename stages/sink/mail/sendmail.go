package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	osexec "os/exec"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/notify"
	"github.com/f2bproject/f2b/stages/sink/internal/proc"
)

// exTempFail is sendmail's exit status for "try again later" (sysexits.h).
const exTempFail = 75

// sendmailTransport pipes messages into the local sendmail binary.
type sendmailTransport struct {
	path    string
	timeout time.Duration
}

func (t *sendmailTransport) name() string { return "sendmail " + t.path }

// send runs `sendmail -t -i` (recipients from the headers; a line with a
// lone dot is not the end) with the message on standard input. No shell.
func (t *sendmailTransport) send(ctx context.Context, m *message) error {
	cctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	cmd := osexec.CommandContext(cctx, t.path, "-t", "-i")
	cmd.Stdin = bytes.NewReader(m.data)
	var out proc.Capped
	cmd.Stdout, cmd.Stderr = &out, &out
	proc.KillGroupOnCancel(cmd)
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var ee *osexec.ExitError
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("sendmail timed out after %s; killed it", t.timeout)
	case errors.As(err, &ee):
		err = fmt.Errorf("sendmail exited with status %d: %s", ee.ExitCode(), proc.FirstLine(out.Buf, 512))
		if ee.ExitCode() == exTempFail {
			return err
		}
		return notify.Permanent(err)
	}
	// It did not start (missing, not executable).
	return notify.Permanent(fmt.Errorf("sendmail: %w", err))
}
