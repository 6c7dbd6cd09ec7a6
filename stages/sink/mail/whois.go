package mail

import (
	"context"
	"errors"
	"net/netip"
	osexec "os/exec"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/proc"
)

// whoisLimit bounds the whois output put into a mail.
const whoisLimit = 8 << 10

// lookupWhois runs `whois ADDR` and returns its output, at most whoisLimit
// bytes, or a note saying why there is none. The address comes from
// netip, so it never starts with '-' and cannot pass for an option.
func (s *Sink) lookupWhois(ctx context.Context, addr netip.Addr) string {
	if !addr.IsValid() {
		return "(no address to look up)"
	}
	path, err := osexec.LookPath(s.whoisCmd)
	if err != nil {
		return "(whois not installed)"
	}
	cctx, cancel := context.WithTimeout(ctx, s.whoisTimeout)
	defer cancel()
	cmd := osexec.CommandContext(cctx, path, addr.String())
	var out capped
	cmd.Stdout = &out
	proc.KillGroupOnCancel(cmd)
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	text := strings.TrimRight(strings.ToValidUTF8(string(out.buf), "\uFFFD"), "\n")
	if out.cut {
		text += "\n(whois output cut at 8 KiB)"
	}
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		text += "\n(whois timed out after " + s.whoisTimeout.String() + ")"
	case err != nil && text == "":
		text = "(whois failed: " + err.Error() + ")"
	}
	return strings.TrimLeft(text, "\n")
}

// capped keeps the first whoisLimit bytes written to it.
type capped struct {
	buf []byte
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p) // report all taken, so the command never sees a short write
	room := whoisLimit - len(c.buf)
	if len(p) > room {
		c.cut = true
		p = p[:max(room, 0)]
	}
	c.buf = append(c.buf, p...)
	return n, nil
}
