// Package all registers every stage type f2b ships.
package all

import (
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/ticket"
	"github.com/f2bproject/f2b/stages/counter/window"
	"github.com/f2bproject/f2b/stages/matcher/regex"
	"github.com/f2bproject/f2b/stages/sink/command"
	"github.com/f2bproject/f2b/stages/sink/exec"
	"github.com/f2bproject/f2b/stages/sink/fwcmd"
	"github.com/f2bproject/f2b/stages/sink/hostsdeny"
	"github.com/f2bproject/f2b/stages/sink/iptables"
	logsink "github.com/f2bproject/f2b/stages/sink/log"
	"github.com/f2bproject/f2b/stages/sink/mail"
	"github.com/f2bproject/f2b/stages/sink/nftables"
	"github.com/f2bproject/f2b/stages/sink/route"
	"github.com/f2bproject/f2b/stages/sink/webhook"
	"github.com/f2bproject/f2b/stages/source/file"
	"github.com/f2bproject/f2b/stages/source/journal"
	"github.com/f2bproject/f2b/stages/source/stdin"
)

// Registry returns a new registry holding every stage type.
func Registry() *engine.Registry {
	r := engine.NewRegistry()
	file.Register(r)
	stdin.Register(r)
	journal.Register(r)
	regex.Register(r)
	window.Register(r)
	ticket.Register(r)
	logsink.Register(r)
	exec.Register(r)
	command.Register(r)
	nftables.Register(r)
	iptables.Register(r)
	hostsdeny.Register(r)
	route.Register(r)
	fwcmd.Register(r)
	mail.Register(r)
	webhook.Register(r)
	return r
}
