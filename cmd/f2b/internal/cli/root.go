// Package cli is f2b's command line: one file per command, each writing
// only through the IOStreams it is handed so tests can read what it prints.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitInvalid = 78 // the configuration is invalid (EX_CONFIG)
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// exitError ends a command with a given exit code. When reported is set,
// the command already printed what went wrong.
type exitError struct {
	code     int
	err      error
	reported bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// flagError is a usage mistake; usage is printed with it.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

// Main runs the command line args and returns the exit code.
func Main(ctx context.Context, args []string, io IOStreams) int {
	root := newRootCmd(io)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.reported {
			fmt.Fprintf(io.ErrOut, "Error: %v\n", ee.err)
		}
		return ee.code
	}
	var fe *flagError
	fmt.Fprintf(io.ErrOut, "Error: %v\n", err)
	if errors.As(err, &fe) || isCobraUsageError(err) {
		fmt.Fprintf(io.ErrOut, "\n%s", cmd.UsageString())
		return ExitUsage
	}
	return ExitError
}

// isCobraUsageError recognises cobra's own argument and flag errors, which
// it returns as plain errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRootCmd(io IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "f2b",
		Short: "f2b bans the addresses that attack your server, like fail2ban, fast",
		Long: `f2b follows logs, finds authentication failures and abuse per client address,
counts them in time windows, and bans offenders in the firewall.

Its configuration is an HCL pipeline of sources, matchers, counters and sinks.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(
		newValidateCmd(io, nil),
		newReplayCmd(io, nil),
		newImportCmd(io, nil),
		newRegexCmd(io, nil),
		newRunCmd(io, nil),
		newVersionCmd(io),
		newPingCmd(io),
		newStatusCmd(io),
		newBannedCmd(io),
		newBanCmd(io),
		newUnbanCmd(io),
		newReloadCmd(io),
		newStopCmd(io),
	)
	return root
}
