// Command f2b protects servers from brute force and abuse: it follows logs,
// counts failures per address and bans offenders. See `f2b --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/f2bproject/f2b/cmd/f2b/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
