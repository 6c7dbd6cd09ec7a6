package fwcmd

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/f2bproject/f2b/stages/sink/internal/fwsync"
)

// ufw: one rule per banned address and protocol, put first (prepend), as
// fail2ban's ufw action does; the comment marks the sink's rules:
//
//	ufw prepend deny from 192.0.2.1 to any port 22 proto tcp comment f2b
//	ufw delete deny from 192.0.2.1 to any port 22 proto tcp

// ufwComment is the comment that marks the sink's ufw rules.
const ufwComment = "f2b"

// ufwRules are the rule arguments (after the action) of a banned net.
func (b *backend) ufwRules(n netip.Prefix) [][]string {
	base := []string{"from", fwsync.NetText(n), "to", "any"}
	if len(b.cfg.Ports) > 0 {
		ps := make([]string, len(b.cfg.Ports))
		for i, p := range b.cfg.Ports {
			ps[i] = p.Text(":")
		}
		base = append(base, "port", strings.Join(ps, ","))
	}
	if len(b.cfg.Protocols) == 0 {
		return [][]string{base}
	}
	out := make([][]string, 0, len(b.cfg.Protocols))
	for _, proto := range b.cfg.Protocols {
		out = append(out, append(append([]string(nil), base...), "proto", proto))
	}
	return out
}

func (b *backend) ufwAction() string {
	if b.cfg.Reject {
		return "reject"
	}
	return "deny"
}

func (b *backend) ufwSteps(ops []fwsync.Op) []step {
	var steps []step
	for _, o := range ops {
		for _, r := range b.ufwRules(o.Key.Net) {
			switch o.Kind {
			case fwsync.Add:
				argv := append([]string{b.bins[0], "prepend", b.ufwAction()}, r...)
				steps = append(steps, step{argv: append(argv, "comment", ufwComment), ops: []fwsync.Op{o}})
			case fwsync.Delete:
				argv := append([]string{b.bins[0], "delete", b.ufwAction()}, r...)
				steps = append(steps, step{argv: argv, ops: []fwsync.Op{o}})
			}
		}
	}
	return steps
}

// parseUfw reads a line of `ufw show added` ("ufw deny from 192.0.2.1 to
// any port 22 proto tcp comment 'f2b'") and returns the net of a rule of
// the sink's.
func (b *backend) parseUfw(line string) (netip.Prefix, bool) {
	f := strings.Fields(line)
	var n netip.Prefix
	okNet, ours := false, false
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "from":
			n, okNet = fwsync.ParseNet(f[i+1])
		case "comment":
			ours = strings.Trim(strings.Join(f[i+1:], " "), `'"`) == ufwComment
		}
	}
	return n, okNet && ours && strings.Contains(line, " "+b.ufwAction()+" ")
}

// firewalld: runtime rich rules, one per port entry and protocol, with
// firewalld's own timeout for a ban that ends, as fail2ban's
// firewallcmd-rich-rules action writes them:
//
//	firewall-cmd --add-rich-rule=rule family="ipv4" source address="192.0.2.1" port port="22" protocol="tcp" drop --timeout=3600s

// richRules are the rich rules of a banned net.
func (b *backend) richRules(n netip.Prefix) []string {
	fam := "ipv4"
	if !n.Addr().Is4() {
		fam = "ipv6"
	}
	head := `rule family="` + fam + `" source address="` + fwsync.NetText(n) + `"`
	verdict := " drop"
	if b.cfg.Reject {
		verdict = " reject"
	}
	if len(b.cfg.Protocols) == 0 {
		return []string{head + verdict}
	}
	var out []string
	for _, proto := range b.cfg.Protocols {
		if len(b.cfg.Ports) == 0 {
			out = append(out, head+` protocol value="`+proto+`"`+verdict)
			continue
		}
		for _, p := range b.cfg.Ports {
			out = append(out, head+` port port="`+p.Text("-")+`" protocol="`+proto+`"`+verdict)
		}
	}
	return out
}

func (b *backend) firewalldSteps(ops []fwsync.Op, now time.Time) []step {
	var steps []step
	for _, o := range ops {
		rules := b.richRules(o.Key.Net)
		remove := []string{b.bins[0]}
		add := []string{b.bins[0]}
		for _, r := range rules {
			remove = append(remove, "--remove-rich-rule="+r)
			add = append(add, "--add-rich-rule="+r)
		}
		if !o.End.IsZero() {
			secs := max(int64((o.End.Sub(now)+time.Second-1)/time.Second), 1)
			add = append(add, "--timeout="+strconv.FormatInt(secs, 10)+"s")
		}
		switch o.Kind {
		case fwsync.Add:
			steps = append(steps, step{argv: add, ops: []fwsync.Op{o}})
		case fwsync.Update:
			// A new timeout: the rule is added again after its removal.
			steps = append(steps, step{argv: remove, ops: []fwsync.Op{o}}, step{argv: add, ops: []fwsync.Op{o}})
		case fwsync.Delete:
			steps = append(steps, step{argv: remove, ops: []fwsync.Op{o}})
		}
	}
	return steps
}

// pf: a table per jail in anchor f2b/JAIL, with the anchor's one rule, as
// fail2ban's pf action does; the main ruleset must hold `anchor "f2b/*"`.

func pfAnchor(g string) string { return "f2b/" + g }
func pfTable(g string) string  { return "f2b-" + g }

// pfRules is the anchor's ruleset.
func (b *backend) pfRules(g string) string {
	var sb strings.Builder
	sb.WriteString("table <" + pfTable(g) + "> persist counters\n")
	sb.WriteString("block ")
	if b.cfg.Reject {
		sb.WriteString("return ")
	}
	sb.WriteString("quick")
	switch len(b.cfg.Protocols) {
	case 0:
	case 1:
		sb.WriteString(" proto " + b.cfg.Protocols[0])
	default:
		sb.WriteString(" proto { " + strings.Join(b.cfg.Protocols, " ") + " }")
	}
	sb.WriteString(" from <" + pfTable(g) + "> to any")
	switch len(b.cfg.Ports) {
	case 0:
	case 1:
		sb.WriteString(" port " + b.cfg.Ports[0].Text(":"))
	default:
		ps := make([]string, len(b.cfg.Ports))
		for i, p := range b.cfg.Ports {
			ps[i] = p.Text(":")
		}
		sb.WriteString(" port { " + strings.Join(ps, " ") + " }")
	}
	sb.WriteString("\n")
	return sb.String()
}
