package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/f2bproject/f2b/control"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/jailerr"
)

// Handle answers one control request (it implements control.Handler).
func (d *Daemon) Handle(ctx context.Context, req control.Request) (any, error) {
	select {
	case <-d.ready:
	case <-d.stopReq:
	case <-ctx.Done():
		return nil, fmt.Errorf("f2b is still starting: %w", ctx.Err())
	}
	switch req.Command {
	case control.CmdPing:
		return "pong", nil
	case control.CmdReload:
		if err := d.Reload(ctx); err != nil {
			return nil, err
		}
		inst, err := d.running()
		if err != nil {
			return nil, err
		}
		return control.ReloadResult{Jails: inst.names}, nil
	case control.CmdStop:
		d.Stop()
		return "stopping", nil
	}
	inst, err := d.running()
	if err != nil {
		return nil, err
	}
	switch req.Command {
	case control.CmdStatus:
		return inst.status(req.Args)
	case control.CmdBanned:
		return inst.banned(req.Args)
	case control.CmdBan:
		return inst.ban(ctx, req.Args)
	case control.CmdUnban:
		return inst.unban(ctx, req.Args, req.All)
	}
	return nil, fmt.Errorf("unknown command %q", req.Command)
}

func (d *Daemon) running() (*instance, error) {
	inst := d.current()
	if inst == nil {
		return nil, errors.New("no pipeline is running (f2b is starting, reloading or stopping)")
	}
	return inst, nil
}

// jail returns the jail called name, or an error listing the jails.
func (inst *instance) jail(name string) (engine.Jail, error) {
	if j, ok := inst.jails[name]; ok {
		return j, nil
	}
	return nil, fmt.Errorf("no jail %q; jails: %s", name, strings.Join(inst.names, ", "))
}

func (inst *instance) status(args []string) (any, error) {
	switch len(args) {
	case 0:
		return control.Overview{Jails: slices.Clone(inst.names)}, nil
	case 1:
	default:
		return nil, errors.New("status takes at most one jail")
	}
	j, err := inst.jail(args[0])
	if err != nil {
		return nil, err
	}
	st := j.Status()
	banned := make([]string, 0, len(st.Banned))
	sortBans(st.Banned)
	for _, b := range st.Banned {
		banned = append(banned, hostText(b))
	}
	src := inst.sources[args[0]]
	files := src.files
	if files == nil {
		files = []string{}
	}
	return control.JailStatus{
		Jail:            args[0],
		CurrentlyFailed: st.CurrentlyFailed,
		TotalFailed:     st.TotalFailed,
		Files:           files,
		JournalMatches:  src.journal,
		CurrentlyBanned: st.CurrentlyBanned,
		TotalBanned:     st.TotalBanned,
		Banned:          banned,
	}, nil
}

func (inst *instance) banned(args []string) (any, error) {
	names := inst.names
	switch len(args) {
	case 0:
	case 1:
		if _, err := inst.jail(args[0]); err != nil {
			return nil, err
		}
		names = args
	default:
		return nil, errors.New("banned takes at most one jail")
	}
	out := []control.BannedEntry{}
	for _, name := range names {
		bans := inst.jails[name].Status().Banned
		sortBans(bans)
		for _, b := range bans {
			bt := b.BanTime.String()
			if b.BanTime == engine.Permanent {
				bt = "permanent"
			}
			out = append(out, control.BannedEntry{
				Jail: name, Host: hostText(b), Start: b.Start, End: b.End,
				BanTime: bt, BanCount: b.BanCount, Failures: b.Failures,
			})
		}
	}
	return out, nil
}

func (inst *instance) ban(ctx context.Context, args []string) (any, error) {
	if len(args) < 2 {
		return nil, errors.New("ban needs a jail and at least one address")
	}
	j, err := inst.jail(args[0])
	if err != nil {
		return nil, err
	}
	hosts, err := parseHosts(args[1:])
	if err != nil {
		return nil, err
	}
	res := control.BanResult{Banned: []string{}}
	for i, h := range hosts {
		err := j.Ban(ctx, h)
		switch {
		case err == nil:
			res.Banned = append(res.Banned, args[1+i])
		case isAlreadyBanned(err):
			res.Already = append(res.Already, args[1+i])
		default:
			return res, fmt.Errorf("ban %s in %s: %w", args[1+i], args[0], err)
		}
	}
	return res, nil
}

func (inst *instance) unban(ctx context.Context, args []string, all bool) (any, error) {
	var res control.UnbanResult
	if all {
		if len(args) > 0 {
			return nil, errors.New("unban takes addresses or --all, not both")
		}
		for _, name := range inst.names {
			n, err := inst.jails[name].UnbanAll(ctx)
			res.Unbanned += n
			if err != nil {
				return res, fmt.Errorf("unban all in %s: %w", name, err)
			}
		}
		return res, nil
	}
	if len(args) == 0 {
		return nil, errors.New("unban needs addresses or --all")
	}
	hosts, err := parseHosts(args)
	if err != nil {
		return nil, err
	}
	for i, h := range hosts {
		found := false
		for _, name := range inst.names {
			ok, err := inst.jails[name].Unban(ctx, h)
			if err != nil {
				return res, fmt.Errorf("unban %s in %s: %w", args[i], name, err)
			}
			if ok {
				res.Unbanned++
				found = true
			}
		}
		if !found {
			res.NotFound = append(res.NotFound, args[i])
		}
	}
	return res, nil
}

// parseHosts reads addresses, unmapping IPv4-mapped IPv6 as the counters
// key them.
func parseHosts(args []string) ([]netip.Addr, error) {
	out := make([]netip.Addr, len(args))
	for i, a := range args {
		h, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address", a)
		}
		out[i] = h.Unmap().WithZone("")
	}
	return out, nil
}

func hostText(b engine.BanInfo) string {
	if b.HostText != "" {
		return b.HostText
	}
	return b.Host.String()
}

// sortBans orders bans by start, then address, as status lists them.
func sortBans(bans []engine.BanInfo) {
	slices.SortFunc(bans, func(a, b engine.BanInfo) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return a.Host.Compare(b.Host)
	})
}

// isAlreadyBanned tells a ban of a host the jail has banned already.
func isAlreadyBanned(err error) bool { return errors.Is(err, jailerr.ErrAlreadyBanned) }
