package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/f2bproject/f2b/stages/sink/internal/fwrun"
	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// backend is the fwsync.Backend of one Run: the routes of one table
// marked with the sink's protocol number. All jails share one group: a
// route stands while any jail bans a host it covers.
type backend struct {
	cfg    *config
	logger *slog.Logger
	run    *fwrun.Runner
	ip     string
	// held are the routes of the configured type the sink last knew
	// the kernel held: those Sync read, with the changes Apply made
	// since. Check looks for them.
	held map[netip.Prefix]struct{}
}

// jsonRoute is one route of `ip -j route show`.
type jsonRoute struct {
	Type string `json:"type"`
	Dst  string `json:"dst"`
}

// routes reads the sink's routes of both families: those of its table
// with its protocol number.
func (b *backend) routes(ctx context.Context) ([]jsonRoute, error) {
	var all []jsonRoute
	for _, fam := range []string{"-4", "-6"} {
		out, err := b.run.Run(ctx, "", b.ip, "-j", fam, "route", "show", "table", b.cfg.table, "proto", b.cfg.proto)
		if err != nil {
			return nil, fmt.Errorf("reading the routes: %w", err)
		}
		var rs []jsonRoute
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &rs); err != nil {
				return nil, fmt.Errorf("reading the routes: ip's JSON output: %w", err)
			}
		}
		all = append(all, rs...)
	}
	return all, nil
}

// Sync implements fwsync.Backend: it returns the sink's routes of the
// configured type, and deletes its routes of another type (a restart
// with another type).
func (b *backend) Sync(ctx context.Context, _ []string) (map[string]map[netip.Prefix]fwsync.Elem, error) {
	rs, err := b.routes(ctx)
	if err != nil {
		return nil, err
	}
	held := map[netip.Prefix]fwsync.Elem{}
	var other []string
	for _, r := range rs {
		p, ok := fwsync.ParseNet(r.Dst)
		switch {
		case !ok:
			b.logger.Warn("route of the sink's protocol not understood; left alone", "dst", r.Dst, "type", r.Type)
		case r.Type != b.cfg.typ:
			other = append(other, b.line("del", r.Type, p))
		default:
			held[p] = fwsync.Elem{}
		}
	}
	if err := b.batch(ctx, other); err != nil {
		return nil, fmt.Errorf("deleting routes of another type: %w", err)
	}
	b.held = make(map[netip.Prefix]struct{}, len(held))
	for p := range held {
		b.held[p] = struct{}{}
	}
	return map[string]map[netip.Prefix]fwsync.Elem{"": held}, nil
}

// line is one command of an `ip -batch` script.
func (b *backend) line(verb, typ string, p netip.Prefix) string {
	return "route " + verb + " " + typ + " " + p.String() + " proto " + b.cfg.proto + " table " + b.cfg.table
}

// batch runs lines through one `ip -batch -`. With -force ip goes on
// after a failed line, so one refused route never holds back the others;
// the driver reads the routes again after a failure.
func (b *backend) batch(ctx context.Context, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	_, err := b.run.Run(ctx, strings.Join(lines, "\n")+"\n", b.ip, "-force", "-batch", "-")
	return err
}

// Apply implements fwsync.Backend: one `ip -batch -` per batch. ip goes
// on after a failed line and names it ("Command failed -:N" after the
// kernel's answer): those lines' changes are reported failed, the others
// were applied; a route to delete that is gone already is no failure.
func (b *backend) Apply(ctx context.Context, ops []fwsync.Op) error {
	lines := make([]string, 0, len(ops))
	for _, o := range ops {
		verb := "add"
		if o.Kind == fwsync.Delete {
			verb = "del"
		}
		lines = append(lines, b.line(verb, b.cfg.typ, o.Key.Net))
	}
	err := b.batch(ctx, lines)
	var fe *fwrun.Error
	if err == nil {
		b.track(ops, nil)
	}
	if err == nil || !errors.As(err, &fe) || len(fe.Stderr) >= fwrun.StderrLimit {
		// On a failure as a whole the driver reads the routes again.
		return err
	}
	failed := failedLines(fe.Stderr)
	if len(failed) == 0 {
		return err
	}
	var bad []fwsync.Op
	for i, msg := range failed {
		if i < 0 || i >= len(ops) {
			return err
		}
		if ops[i].Kind == fwsync.Delete && strings.Contains(msg, "No such process") {
			continue
		}
		bad = append(bad, ops[i])
	}
	b.track(ops, bad)
	if len(bad) == 0 {
		return nil
	}
	return &fwsync.PartialError{Failed: bad, Err: err}
}

// failedLines reads ip's standard error in batch mode: the index of each
// failed line and the message before it.
func failedLines(stderr string) map[int]string {
	out := map[int]string{}
	msg := ""
	for _, l := range strings.Split(stderr, "\n") {
		n, ok := strings.CutPrefix(strings.TrimSpace(l), "Command failed -:")
		if !ok {
			msg = l
			continue
		}
		if i, err := strconv.Atoi(n); err == nil {
			out[i-1] = msg
		}
	}
	return out
}

// Teardown implements fwsync.Backend: every route of the sink goes.
func (b *backend) Teardown(ctx context.Context, _ []string) error {
	rs, err := b.routes(ctx)
	if err != nil {
		return err
	}
	clear(b.held)
	var lines []string
	for _, r := range rs {
		if p, ok := fwsync.ParseNet(r.Dst); ok {
			lines = append(lines, b.line("del", r.Type, p))
		}
	}
	return b.batch(ctx, lines)
}
