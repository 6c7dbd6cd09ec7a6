//go:build linux

package fwtest

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Flaky is a program in a directory of its own that fails, with
// "NAME: simulated failure" on its standard error, while failures are on,
// and else runs another command.
type Flaky struct {
	// Dir is the directory, Path the program.
	Dir, Path string
	flag      string
}

// NewFlaky writes program name, which runs the shell command run ("$@":
// its arguments) while it does not fail.
func NewFlaky(tb testing.TB, name, run string) *Flaky {
	tb.Helper()
	dir := tb.TempDir()
	f := &Flaky{Dir: dir, Path: filepath.Join(dir, name), flag: filepath.Join(dir, "fail")}
	script := fmt.Sprintf("#!/bin/sh\nif [ -e %s ]; then echo '%s: simulated failure' >&2; exit 1; fi\nexec %s\n", f.flag, name, run)
	if err := os.WriteFile(f.Path, []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	return f
}

// Fail turns the failures on or off.
func (f *Flaky) Fail(tb testing.TB, on bool) {
	tb.Helper()
	var err error
	if on {
		err = os.WriteFile(f.flag, nil, 0o644)
	} else {
		err = os.Remove(f.flag)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// CheckRetry checks a sink d of type typ that runs in p's server and
// whose program f is: while f fails, the sink logs its message, counts
// the failures (the batch, the resync, a retry; then more, with backoff)
// and new bans go on failing; once f works again, every ban is in place.
func CheckRetry(t *testing.T, p *Pair, d *Driver, typ string, f *Flaky) {
	t.Helper()
	p.Server.Listen(t, 2222)
	d.Send(Ban("sshd", netip.MustParseAddr("198.51.100.1"), time.Hour))
	d.Wait(map[string]int64{typ + "_elements_added": 1})
	f.Fail(t, true)
	d.Send(Ban("sshd", p.ClientV4, time.Hour))
	d.Wait(map[string]int64{typ + "_errors": 3})
	d.Send(Ban("sshd", p.ClientV6, time.Hour))
	d.Wait(map[string]int64{typ + "_errors": 5})
	p.ExpectOpen(t, p.ClientV4, p.ServerV4, 2222)
	f.Fail(t, false)
	d.Wait(map[string]int64{typ + "_elements_added": 3})
	p.ExpectBlocked(t, p.ClientV4, p.ServerV4, 2222)
	p.ExpectBlocked(t, p.ClientV6, p.ServerV6, 2222)
	if logs := d.Logs.String(); !strings.Contains(logs, "simulated failure") {
		t.Errorf("logs lack the program's message:\n%s", logs)
	}
}
