package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/f2bproject/f2b/dsl"
	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/all"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

type importOptions struct {
	io      IOStreams
	confDir string
	outDir  string
	all     bool
	force   bool
}

func newImportCmd(io IOStreams, runF func(*importOptions) error) *cobra.Command {
	opts := &importOptions{io: io}
	cmd := &cobra.Command{
		Use:   "import CONFDIR [-o OUTDIR]",
		Short: "Translate a fail2ban configuration into a pipeline",
		Long: `Import reads a fail2ban configuration directory (jail.conf, jail.d, jail.local,
filter.d, action.d, as fail2ban-client reads them) and writes its enabled
jails as an f2b pipeline: for each jail a matcher (its filter), a counter
named after the jail (its ban logic, counted as fail2ban-server does) and a
sink "command" per action, with the log files as sources.

Without -o the pipeline is printed as one file; with -o it is written into
OUTDIR as common.hcl and one file per jail, refusing to overwrite a file
unless --force is given. What cannot be carried is reported on standard
error as "Warning: FILE:LINE: message", naming the fail2ban file and line.

Exit status: 0 imported (with or without warnings), 1 CONFDIR cannot be read
or OUTDIR cannot be written, 2 usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.confDir = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runImport(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.outDir, "output", "o", "", "write the pipeline's files into this directory (created if missing)")
	f.BoolVar(&opts.all, "all", false, "import disabled jails too (their blocks written with enabled = false)")
	f.BoolVar(&opts.force, "force", false, "overwrite files that exist in OUTDIR")
	return cmd
}

func runImport(opts *importOptions) error {
	cfg, err := fail2ban.Load(opts.confDir)
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("cannot read %s: %w", opts.confDir, err)}
	}
	res, err := fail2ban.Import(cfg, fail2ban.ImportOptions{All: opts.all})
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(opts.io.ErrOut, "Warning: %s\n", w)
	}
	if opts.outDir == "" {
		joined := res.Joined()
		if _, err := opts.io.Out.Write(joined); err != nil {
			return err
		}
		reg := all.Registry()
		p, diags := dsl.LoadSource("<stdout>", joined, reg)
		checkImport(opts, reg, p, diags)
		return nil
	}
	paths, err := writeImport(opts, res)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	for _, p := range paths {
		fmt.Fprintln(opts.io.Out, p)
	}
	reg := all.Registry()
	p, diags := dsl.Load(paths, reg)
	checkImport(opts, reg, p, diags)
	return nil
}

// writeImport writes the files of res into the output directory, after
// making sure none of them exists (unless --force): either every file is
// written or none.
func writeImport(opts *importOptions, res *fail2ban.Result) ([]string, error) {
	if err := os.MkdirAll(opts.outDir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range res.Files {
		p := filepath.Join(opts.outDir, f.Name)
		paths = append(paths, p)
		if opts.force {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s exists; remove it or use --force to overwrite", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for i, f := range res.Files {
		if err := os.WriteFile(paths[i], f.Data, 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// checkImport validates the imported pipeline as `f2b validate` does and
// reports each error as a warning: the importer means to write only valid
// pipelines, and a user should learn at once if it did not.
func checkImport(opts *importOptions, reg *engine.Registry, p *dsl.Pipeline, diags hcl.Diagnostics) {
	if p.Decoded() {
		_, d := p.Compile(p.Spec, reg, engine.BuildOptions{})
		diags = append(diags, d...)
	}
	dsl.SortDiagnostics(diags)
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		where := ""
		if d.Subject != nil {
			where = fmt.Sprintf("%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		fmt.Fprintf(opts.io.ErrOut, "Warning: %sthe imported pipeline does not validate: %s\n", where, msg)
	}
}
