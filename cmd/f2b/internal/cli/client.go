package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/f2bproject/f2b/control"
	"github.com/spf13/cobra"
)

// The client commands talk to a running daemon (`f2b run`) through its
// control socket. Each sends one control.Request and prints the answer:
// for people in fail2ban-client's layout where it has one, as the raw
// result object with --json.

// clientOptions are what every client command shares.
type clientOptions struct {
	io     IOStreams
	socket string
	json   bool
}

func (o *clientOptions) addFlags(cmd *cobra.Command, withJSON bool) {
	cmd.Flags().StringVar(&o.socket, "socket", control.DefaultSocket, "the daemon's control socket")
	if withJSON {
		cmd.Flags().BoolVar(&o.json, "json", false, "print the daemon's answer as JSON")
	}
}

// call sends req and returns the result. An unreachable daemon and a
// refused command both end the command with exit status 1.
func (o *clientOptions) call(ctx context.Context, req control.Request) (json.RawMessage, error) {
	resp, err := control.Call(ctx, o.socket, req)
	if err != nil {
		return nil, &exitError{code: ExitError, err: err}
	}
	if !resp.OK {
		return nil, &exitError{code: ExitError, err: errors.New(resp.Error)}
	}
	if len(resp.Result) == 0 {
		return json.RawMessage("null"), nil // a handler's nil result
	}
	return resp.Result, nil
}

// callInto sends req and decodes the result into v; with --json it prints
// the result instead and reports printed.
func (o *clientOptions) callInto(ctx context.Context, req control.Request, v any) (printed bool, err error) {
	raw, err := o.call(ctx, req)
	if err != nil {
		return false, err
	}
	if o.json {
		return true, writeJSON(o.io.Out, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, &exitError{code: ExitError, err: fmt.Errorf("the daemon's answer to %s is not what this f2b expects: %w", req.Command, err)}
	}
	return false, nil
}

// writeJSON prints a result indented.
func writeJSON(w io.Writer, raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("the daemon's answer is not JSON: %w", err)}
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

func newPingCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	cmd := &cobra.Command{
		Use:   "ping",
		Short: "Check that the daemon answers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := opts.call(cmd.Context(), control.Request{Command: control.CmdPing})
			if err != nil {
				return err
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw)
			}
			fmt.Fprintln(io.Out, s)
			return nil
		},
	}
	opts.addFlags(cmd, false)
	return cmd
}

func newStatusCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	cmd := &cobra.Command{
		Use:   "status [JAIL]",
		Short: "Show the jails, or one jail's failures and bans",
		Long: `Status lists the running jails or, given a JAIL, its current and total
failures and bans and the addresses it bans, in fail2ban-client's layout.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := control.Request{Command: control.CmdStatus, Args: args}
			if len(args) == 0 {
				var ov control.Overview
				if printed, err := opts.callInto(cmd.Context(), req, &ov); printed || err != nil {
					return err
				}
				writeOverview(io.Out, ov)
				return nil
			}
			var st control.JailStatus
			if printed, err := opts.callInto(cmd.Context(), req, &st); printed || err != nil {
				return err
			}
			if st.Jail == "" {
				st.Jail = args[0]
			}
			writeJailStatus(io.Out, st)
			return nil
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

// writeOverview prints status as fail2ban-client does (its beautifier and
// Server.status): the jails sorted and comma-separated, a tab after each
// colon.
func writeOverview(w io.Writer, ov control.Overview) {
	jails := slices.Sorted(slices.Values(ov.Jails))
	fmt.Fprintf(w, "Status\n|- Number of jail:\t%d\n`- Jail list:\t%s\n", len(jails), strings.Join(jails, ", "))
}

// writeJailStatus prints status JAIL as fail2ban-client does: lists (files,
// banned addresses) are space-separated there, unlike the jail list.
func writeJailStatus(w io.Writer, st control.JailStatus) {
	fmt.Fprintf(w, "Status for the jail: %s\n", st.Jail)
	fmt.Fprintf(w, "|- Filter\n")
	fmt.Fprintf(w, "|  |- Currently failed:\t%d\n", st.CurrentlyFailed)
	fmt.Fprintf(w, "|  |- Total failed:\t%d\n", st.TotalFailed)
	// A jail reads files ("File list"), the journal ("Journal matches",
	// the matches of its journal sources joined as alternatives), or in
	// f2b both; the last line of the subtree is drawn with "`-".
	journal := st.JournalMatches != nil
	if len(st.Files) > 0 || !journal {
		branch := "`-"
		if journal {
			branch = "|-"
		}
		fmt.Fprintf(w, "|  %s File list:\t%s\n", branch, strings.Join(st.Files, " "))
	}
	if journal {
		fmt.Fprintf(w, "|  `- Journal matches:\t%s\n", strings.Join(st.JournalMatches, " + "))
	}
	fmt.Fprintf(w, "`- Actions\n")
	fmt.Fprintf(w, "   |- Currently banned:\t%d\n", st.CurrentlyBanned)
	fmt.Fprintf(w, "   |- Total banned:\t%d\n", st.TotalBanned)
	fmt.Fprintf(w, "   `- Banned IP list:\t%s\n", strings.Join(st.Banned, " "))
}

func newBannedCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	cmd := &cobra.Command{
		Use:   "banned [JAIL]",
		Short: "List the running bans",
		Long: `Banned lists the running bans of every jail, or of JAIL: the address, when
the ban started and ends (as the daemon reports them), its length and the
failures that caused it. With --json it prints a list of objects.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := opts.call(cmd.Context(), control.Request{Command: control.CmdBanned, Args: args})
			if err != nil {
				return err
			}
			var bans []control.BannedEntry
			if err := json.Unmarshal(raw, &bans); err != nil {
				return &exitError{code: ExitError, err: fmt.Errorf("the daemon's answer to banned is not what this f2b expects: %w", err)}
			}
			if opts.json {
				if bans == nil {
					raw = json.RawMessage("[]") // a list, even an empty one
				}
				return writeJSON(io.Out, raw)
			}
			return writeBanned(io.Out, bans)
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func writeBanned(w io.Writer, bans []control.BannedEntry) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "JAIL\tHOST\tSTART\tEND\tBAN_TIME\tFAILURES")
	for _, b := range bans {
		end := "never"
		if !b.End.IsZero() {
			end = b.End.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", b.Jail, b.Host, b.Start.Format(time.RFC3339), end, b.BanTime, b.Failures)
	}
	return tw.Flush()
}

// parseHosts checks the addresses given on the command line and returns
// them in canonical form; bad ones are a usage error.
func parseHosts(args []string) ([]string, error) {
	var hosts, bad []string
	for _, a := range args {
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Zone() != "" {
			bad = append(bad, fmt.Sprintf("%q", a))
			continue
		}
		hosts = append(hosts, ip.Unmap().String())
	}
	switch len(bad) {
	case 0:
		return hosts, nil
	case 1:
		return nil, &flagError{fmt.Errorf("invalid IP address %s", bad[0])}
	default:
		return nil, &flagError{fmt.Errorf("invalid IP addresses %s", strings.Join(bad, ", "))}
	}
}

func newBanCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	cmd := &cobra.Command{
		Use:   "ban JAIL IP...",
		Short: "Ban addresses in a jail now",
		Long: `Ban bans each IP in JAIL now, as if it had reached the jail's limit: the ban
is recorded and sent to the jail's sinks, and lifted after the jail's ban
time.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			hosts, err := parseHosts(args[1:])
			if err != nil {
				return err
			}
			jail := args[0]
			var res control.BanResult
			req := control.Request{Command: control.CmdBan, Args: append([]string{jail}, hosts...)}
			if printed, err := opts.callInto(cmd.Context(), req, &res); printed || err != nil {
				return err
			}
			for _, h := range res.Banned {
				fmt.Fprintf(io.Out, "banned %s in %s\n", h, jail)
			}
			for _, h := range res.Already {
				fmt.Fprintf(io.Out, "%s was already banned in %s\n", h, jail)
			}
			return nil
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func newUnbanCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	var all bool
	cmd := &cobra.Command{
		Use:   "unban IP... | --all",
		Short: "Lift the bans of addresses, or all bans",
		Long: `Unban lifts the running bans of each IP in every jail, or with --all every
ban of every jail. As fail2ban-client's unban does, it also forgets the ban
history of those addresses (of every address with --all), so that a later
ban of one is a first ban again, not an escalated one. Addresses no jail had
banned are reported on standard error; they do not make the command fail.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return &flagError{errors.New("give IP addresses or --all, not both")}
			case !all && len(args) == 0:
				return &flagError{errors.New("give the IP addresses to unban, or --all")}
			}
			hosts, err := parseHosts(args)
			if err != nil {
				return err
			}
			var res control.UnbanResult
			req := control.Request{Command: control.CmdUnban, Args: hosts, All: all}
			if printed, err := opts.callInto(cmd.Context(), req, &res); printed || err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "unbanned %d %s\n", res.Unbanned, plural(res.Unbanned, "ban", "bans"))
			for _, h := range res.NotFound {
				fmt.Fprintf(io.ErrOut, "%s was not banned\n", h)
			}
			return nil
		},
	}
	opts.addFlags(cmd, true)
	cmd.Flags().BoolVar(&all, "all", false, "lift every ban of every jail")
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func newReloadCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Make the daemon reread its pipeline",
		Long: `Reload makes the daemon read its pipeline again and swap it in; it answers
once the new pipeline runs. An invalid pipeline is refused and the running
one kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res control.ReloadResult
			if printed, err := opts.callInto(cmd.Context(), control.Request{Command: control.CmdReload}, &res); printed || err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "reloaded; jails: %s\n", strings.Join(slices.Sorted(slices.Values(res.Jails)), ", "))
			return nil
		},
	}
	opts.addFlags(cmd, true)
	return cmd
}

func newStopCmd(io IOStreams) *cobra.Command {
	opts := &clientOptions{io: io}
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := opts.call(cmd.Context(), control.Request{Command: control.CmdStop})
			if err != nil {
				return err
			}
			s := "stopping"
			json.Unmarshal(raw, &s) // the daemon's own word, when it sends one
			fmt.Fprintln(io.Out, s)
			return nil
		},
	}
	opts.addFlags(cmd, false)
	return cmd
}
