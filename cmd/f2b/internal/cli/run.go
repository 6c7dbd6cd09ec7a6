package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/f2bproject/f2b/control"
	"github.com/f2bproject/f2b/daemon"
	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/internal/logfile"
	"github.com/f2bproject/f2b/internal/sdnotify"
	"github.com/f2bproject/f2b/stages/all"
	"github.com/f2bproject/f2b/state"
	"github.com/spf13/cobra"
)

// Defaults of `f2b run` and the client commands.
const (
	defaultSocket   = "/run/f2b/f2b.sock"
	defaultStateDir = "/var/lib/f2b"
)

type runOptions struct {
	io        IOStreams
	paths     []string
	socket    string
	stateDir  string
	logFile   string
	logLevel  string
	logFormat string
	noState   bool
}

func newRunCmd(io IOStreams, runF func(*runOptions) error) *cobra.Command {
	opts := &runOptions{io: io}
	cmd := &cobra.Command{
		Use:   "run PATH...",
		Short: "Run the pipeline as a daemon: follow the logs, ban and unban",
		Long: `Run starts the daemon: it follows the pipeline's sources live, bans and
unbans through its sinks, keeps bans and log positions in the state
directory across restarts, and answers the control socket (f2b status,
ban, unban, reload, stop).

Signals: SIGHUP reloads the pipeline (the new one replaces the running one
only if it is valid), SIGTERM and SIGINT stop cleanly, SIGUSR1 reopens the
--log-file after logrotate moved it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.paths = args
			if runF != nil {
				return runF(opts)
			}
			return runDaemon(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.socket, "socket", defaultSocket, "control socket path (\"\" for none)")
	f.StringVar(&opts.stateDir, "state-dir", defaultStateDir, "directory for the ban store and log positions")
	f.BoolVar(&opts.noState, "no-state", false, "keep nothing across restarts (no ban store, logs read from their end)")
	f.StringVar(&opts.logFile, "log-file", "", "write logs to this file instead of standard error (reopened on SIGUSR1)")
	f.StringVar(&opts.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&opts.logFormat, "log-format", "text", "text or json")
	return cmd
}

func runDaemon(ctx context.Context, opts *runOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.logLevel)); err != nil {
		return &flagError{fmt.Errorf("--log-level: %v", err)}
	}
	if opts.logFormat != "text" && opts.logFormat != "json" {
		return &flagError{fmt.Errorf("--log-format: %q is neither text nor json", opts.logFormat)}
	}
	var (
		out     io.Writer = opts.io.ErrOut
		logFile *logfile.File
	)
	if opts.logFile != "" {
		f, err := logfile.Open(opts.logFile)
		if err != nil {
			return &exitError{code: ExitError, err: err}
		}
		defer f.Close()
		out, logFile = f, f
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(out, hopts)
	if opts.logFormat == "json" {
		handler = slog.NewJSONHandler(out, hopts)
	}
	logger := slog.New(handler)

	// The pipeline must be valid before anything else happens.
	reg := all.Registry()
	compile := func(bo engine.BuildOptions) (*engine.Graph, error) {
		p, diags := dsl.Load(opts.paths, reg)
		if p.Decoded() {
			var g *engine.Graph
			var d2 = diags
			g, d2 = p.Compile(p.Spec, reg, bo)
			diags = append(diags, d2...)
			if !diags.HasErrors() {
				return g, nil
			}
		}
		dsl.SortDiagnostics(diags)
		var buf bytes.Buffer
		dsl.WriteDiagnostics(&buf, p.Files, diags)
		return nil, &invalidPipeline{text: buf.String()}
	}

	var store engine.Store
	if !opts.noState {
		st, err := state.Open(opts.stateDir, state.Options{Logger: logger})
		if err != nil {
			// NOTE: bans still work without the store; losing them on a
			// restart is bad, refusing to protect the server is worse.
			logger.Error("ban store unavailable: bans will NOT survive a restart", "state_dir", opts.stateDir, "err", err)
		} else {
			defer st.Close()
			store = st
		}
	}

	d := daemon.New(daemon.Config{
		Compile: compile,
		Store:   store,
		Logger:  logger,
		Notify: func(s string) {
			if err := sdnotify.Notify(s); err != nil {
				logger.Warn("service manager notification failed", "err", err)
			}
		},
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if opts.socket != "" {
		srv, err := control.Listen(opts.socket)
		if err != nil {
			return &exitError{code: ExitError, err: fmt.Errorf("control socket: %w", err)}
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			if err := srv.Serve(ctx, d); err != nil && ctx.Err() == nil {
				logger.Error("control socket stopped", "err", err)
			}
		}()
		// NOTE: deferred calls run last first: the daemon has stopped,
		// then ctx is cancelled, Serve answers the requests in flight
		// (`f2b stop` gets its reply) and returns, then the socket goes.
		defer srv.Close()
		defer func() { <-served }()
		defer cancel()
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigs:
				switch s {
				case syscall.SIGHUP:
					if err := d.Reload(ctx); err != nil {
						logger.Error("reload on SIGHUP failed", "err", err)
					}
				case syscall.SIGUSR1:
					if logFile != nil {
						if err := logFile.Reopen(); err != nil {
							logger.Error("reopening the log file failed", "err", err)
						}
					}
				}
			}
		}
	}()

	err := d.Run(ctx)
	var inv *invalidPipeline
	if errors.As(err, &inv) {
		io.WriteString(opts.io.ErrOut, inv.text)
		return &exitError{code: ExitInvalid, err: errors.New("invalid pipeline"), reported: true}
	}
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	return nil
}

// invalidPipeline carries the rendered diagnostics of a pipeline that did
// not compile.
type invalidPipeline struct{ text string }

func (e *invalidPipeline) Error() string {
	return "invalid pipeline:\n" + strings.TrimRight(e.text, "\n")
}
