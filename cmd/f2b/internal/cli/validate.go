package cli

import (
	"errors"
	"fmt"

	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/all"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

type validateOptions struct {
	io       IOStreams
	paths    []string
	format   string
	checkEnv bool
}

func newValidateCmd(io IOStreams, runF func(*validateOptions) error) *cobra.Command {
	opts := &validateOptions{io: io}
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check pipelines without running them",
		Long: `Validate runs every static check on a pipeline: syntax, schema, references,
event types, cycles, regexes, durations and zones. A PATH is a file or a
directory whose *.hcl files form one pipeline.

With --check-env it also asks each stage whether what it needs at run time
is on this machine (nft, ipset, iptables, journalctl, sendmail, the
programs of sink "exec"…), so a missing tool shows up before the daemon
starts.

Exit status: 0 valid, 78 invalid, 2 usage error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.paths = args
			if opts.format != "text" && opts.format != "json" {
				return &flagError{fmt.Errorf("--format must be text or json, not %q", opts.format)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runValidate(opts)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&opts.checkEnv, "check-env", false, "also check that the tools the stages run are installed")
	return cmd
}

func runValidate(opts *validateOptions) error {
	reg := all.Registry()
	p, diags := dsl.Load(opts.paths, reg)
	files := p.Files
	if p.Decoded() {
		g, d := p.Compile(p.Spec, reg, engine.BuildOptions{})
		diags = append(diags, d...)
		if g != nil && opts.checkEnv {
			diags = append(diags, p.CheckEnv(g)...)
		}
	}
	dsl.SortDiagnostics(diags)
	if opts.format == "json" {
		if err := dsl.WriteJSON(opts.io.Out, diags); err != nil {
			return err
		}
	} else if len(diags) > 0 {
		if err := dsl.WriteDiagnostics(opts.io.ErrOut, files, diags); err != nil {
			return err
		}
	}
	if diags.HasErrors() {
		return &exitError{code: ExitInvalid, err: errors.New("invalid pipeline"), reported: true}
	}
	if opts.format == "text" {
		fmt.Fprintf(opts.io.Out, "%s: valid\n", joinPaths(opts.paths))
	}
	return nil
}

// loadAndCompile decodes the pipeline at paths and builds its graph. The
// pipeline is nil when decoding failed.
func loadAndCompile(paths []string, reg *engine.Registry, bo engine.BuildOptions) (*dsl.Pipeline, dsl.Files, hcl.Diagnostics) {
	p, diags := dsl.Load(paths, reg)
	if !p.Decoded() {
		return nil, p.Files, diags
	}
	_, d := p.Compile(p.Spec, reg, bo)
	return p, p.Files, append(diags, d...)
}

func joinPaths(paths []string) string {
	if len(paths) == 1 {
		return paths[0]
	}
	return fmt.Sprintf("%s (and %d more)", paths[0], len(paths)-1)
}
