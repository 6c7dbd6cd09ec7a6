package fail2ban_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/stages/counter/ticket"
	"github.com/f2bproject/f2b/stages/matcher/regex"
	"github.com/f2bproject/f2b/stages/sink/command"
	"github.com/f2bproject/f2b/stages/source/journal"
)

// stockJailLocal enables common jails of Debian's stock configuration in
// the ways users do: jails as shipped, a jail with a filter mode, mail
// actions (action_mwl), a Python action, banaction parameters, jails with
// two actions of one file, a journal jail, ignoreip with what the counter
// can and cannot hold (a host name it looks up, a file it cannot read),
// ignoreself on by default, and the bantime.increment family.
const stockJailLocal = `[DEFAULT]
bantime.increment = true
bantime.maxtime = 1w
bantime.overalljails = false
ignoreip = 127.0.0.1/8 ::1 192.0.2.0/24 Trusted.Example.org file:/etc/fail2ban/ignore.list

[sshd]
enabled = true

[sshd-aggressive]
enabled = true
filter = sshd[mode=aggressive]
port = ssh
logpath = %(sshd_log)s
backend = %(sshd_backend)s
maxretry = 3
bantime = -1

[sshd-journal]
enabled = true
filter = sshd
port = ssh
backend = systemd

[nginx-http-auth]
enabled = true

[apache-auth]
enabled = true

[postfix]
enabled = true
action = %(action_mwl)s

[dovecot]
enabled = true
action = %(action_)s
         smtp.py[host="localhost:25", user=f2b]

[recidive]
enabled = true

[pam-generic]
enabled = true

[nginx-botsearch]
enabled = true
banaction = nftables[blocktype=drop]
bantime = 2h

[named-refused]
enabled = true
banaction = iptables-multiport[blocktype=DROP]

[asterisk]
enabled = true
`

// stockJails are the jails stockJailLocal enables, with the Debian
// default sshd.
var stockJails = []string{"sshd", "sshd-aggressive", "sshd-journal", "nginx-http-auth", "apache-auth", "postfix",
	"dovecot", "recidive", "pam-generic", "nginx-botsearch", "named-refused", "asterisk"}

// TestImportStock imports Debian's stock /etc/fail2ban with jails enabled
// by a jail.local, and checks that the pipeline validates with the real
// language and stages, that every warning names a file and line, and that
// each sink runs exactly the commands fail2ban-server would run for the
// action (fail2ban's own CommandAction.replaceTag, per family).
func TestImportStock(t *testing.T) {
	root := fail2banRoot(t)
	dir := filepath.Join(t.TempDir(), "fail2ban")
	copyTree(t, filepath.Join(root, "etc", "fail2ban"), dir)
	if err := os.WriteFile(filepath.Join(dir, "jail.local"), []byte(stockJailLocal), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fail2ban.Import(cfg, fail2ban.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Every enabled jail has its file.
	files := map[string]fail2ban.HCLFile{}
	for _, f := range res.Files {
		files[f.Jail] = f
	}
	for _, j := range stockJails {
		if _, ok := files[j]; !ok {
			t.Errorf("no file for jail %s", j)
		}
	}
	for _, w := range res.Warnings {
		t.Logf("warning: %v", w)
		if w.File == "" || w.Line <= 0 {
			t.Errorf("warning without file and line: %v", w)
		}
	}
	for _, want := range []string{"smtp.py", "file:/etc/fail2ban/ignore.list"} {
		found := false
		for _, w := range res.Warnings {
			found = found || strings.Contains(w.Msg, want)
		}
		if !found {
			t.Errorf("no warning mentions %s", want)
		}
	}
	// The counter carries ignoreself and host names: no warning about them.
	for _, w := range res.Warnings {
		if strings.Contains(w.Msg, "ignoreself") || strings.Contains(strings.ToLower(w.Msg), "trusted.example.org") {
			t.Errorf("warning about what the counter carries: %v", w)
		}
	}
	if c := string(files[""].Data); strings.Contains(c, "variable") {
		t.Errorf("%s declares a variable:\n%s", fail2ban.CommonFile, c)
	}

	p, _ := validateImport(t, res)
	if t.Failed() || p == nil {
		return
	}
	nodes := map[string]any{}
	for _, n := range p.Spec.Nodes {
		nodes[n.Kind+"."+n.Name] = n.Args
	}

	// The journal jail reads a source "journal" with the filter's
	// journalmatch, as journalctl takes it.
	if f := files["sshd-journal"]; strings.Contains(string(f.Data), "enabled = false") {
		t.Errorf("sshd-journal.hcl is disabled:\n%s", f.Data)
	}
	jails, _ := cfg.Jails(false)
	for _, j := range jails {
		if j.Name != "sshd-journal" {
			continue
		}
		var want []string
		for _, m := range j.Filter.JournalMatch {
			words, err := fail2ban.ShellSplit(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) > 0 {
				want = append(want, "+")
			}
			want = append(want, words...)
		}
		src, ok := nodes["source.sshd-journal"].(*journal.Arguments)
		switch {
		case !ok:
			t.Errorf("sshd-journal: no source \"journal\" in %v", nodes)
		case len(want) < 3 || !equalStrings(src.Match, want):
			t.Errorf("sshd-journal: match %q, want %q", src.Match, want)
		}
	}
	for _, j := range jails {
		// The matcher holds the filter's regexes as written.
		if m, ok := nodes["matcher."+j.Name].(*regex.Arguments); !ok {
			t.Errorf("jail %s: no matcher", j.Name)
		} else if got, err := confval.Lines(m.Fail); err != nil {
			t.Errorf("jail %s: fail: %v", j.Name, err)
		} else if !equalStrings(confval.Texts(got), texts(j.Filter.FailRegex)) {
			t.Errorf("jail %s: fail regexes differ:\n got %q\nwant %q", j.Name, confval.Texts(got), texts(j.Filter.FailRegex))
		}
		c, ok := nodes["counter."+j.Name].(*ticket.Arguments)
		if !ok {
			t.Errorf("jail %s: no counter", j.Name)
			continue
		}
		if c.MaxRetry != j.MaxRetry || !c.BanTimeIncrement || c.BanTimeMax != "1w" {
			t.Errorf("jail %s: counter %+v", j.Name, c)
		}
		if want := []string{"self", "127.0.0.1/8", "::1", "192.0.2.0/24", "trusted.example.org"}; !equalStrings(c.Ignore, want) {
			t.Errorf("jail %s: ignore %q, want %q", j.Name, c.Ignore, want)
		}
	}

	// The sinks run what fail2ban-server runs.
	want := fail2banActions(t, root, dir)
	checked := 0
	for _, jail := range stockJails {
		for actName, w := range want[jail] {
			id := "sink." + strings.NewReplacer(".", "_").Replace(jail+"_"+actName)
			a, ok := nodes[id].(*command.Arguments)
			if !ok {
				t.Errorf("jail %s: action %s: no %s", jail, actName, id)
				continue
			}
			checked++
			compareSink(t, jail+"/"+actName, a, w)
		}
	}
	if checked < 12 {
		t.Errorf("only %d actions compared with fail2ban", checked)
	}
	t.Logf("%d actions run the commands fail2ban-server runs", checked)
}

// serverAction is an action as fail2ban-server holds it: each command
// with its static tags resolved, per family ("" for none), and the flags.
type serverAction struct {
	Static        map[string]map[string]string `json:"static"`
	StartOnDemand bool                         `json:"start_on_demand"`
	Conditional   bool                         `json:"conditional"`
	NoRestored    bool                         `json:"norestored"`
}

// serverActionsShim runs fail2ban-client's configuration reading (log path
// globs reported as written) and builds the server's CommandAction of each
// action from the resulting command stream, then prints every command as
// CommandAction.replaceTag resolves it per family, as fail2ban-server does
// before it fills in the dynamic tags. <fq-hostname> and <sh-hostname> are
// kept as tags: f2b's sink fills them in when it runs.
const serverActionsShim = `
import sys, json
from fail2ban.client.jailreader import JailReader
JailReader._glob = staticmethod(lambda p: [p] if p else [])
from fail2ban.client.configurator import Configurator
from fail2ban.server import action as actionmod
from fail2ban.server.action import CommandAction
actionmod.ADD_REPL_TAGS['fq-hostname'] = '<fq-hostname>'
actionmod.ADD_REPL_TAGS['sh-hostname'] = '<sh-hostname>'

class Jail:
    def __init__(self, name):
        self.name = name
        self.database = None

c = Configurator()
c.setBaseDir(sys.argv[1])
c.readAll()
c.getOptions()
c.convertToProtocol()
acts = {}
for cmd in c.getConfigStream():
    if cmd[0] == 'set' and cmd[2] == 'addaction':
        if len(cmd) == 4:
            acts[(cmd[1], cmd[3])] = CommandAction(Jail(cmd[1]), cmd[3])
    elif cmd[0] == 'multi-set' and cmd[2] == 'action' and (cmd[1], cmd[3]) in acts:
        for k, v in cmd[4]:
            setattr(acts[(cmd[1], cmd[3])], k, v)
    elif cmd[0] == 'set' and len(cmd) > 2 and cmd[2] == 'action' and (cmd[1], cmd[3]) in acts:
        setattr(acts[(cmd[1], cmd[3])], cmd[4], cmd[5])
out = {}
for (jail, name), act in acts.items():
    static = {}
    for hook in ['start', 'stop', 'check', 'ban', 'unban', 'flush', 'repair', 'reban', 'prolong']:
        per = {}
        for fam in ['', 'inet4', 'inet6']:
            q = '<action%s>' % hook
            v = CommandAction.replaceTag(q, act._properties, conditional=('family=' + fam if fam else ''))
            per[fam] = '' if v == q else v
        static[hook] = per
    out.setdefault(jail, {})[name] = {
        'static': static,
        'start_on_demand': bool(act._startOnDemand),
        'conditional': bool(act._hasCondSection),
        'norestored': bool(getattr(act, 'norestored', False)),
    }
json.dump(out, sys.stdout)
`

// fail2banActions returns, per jail and action name, the actions of the
// configuration in dir as fail2ban-server would hold them.
func fail2banActions(t *testing.T, root, dir string) map[string]map[string]serverAction {
	t.Helper()
	python(t)
	out := runPython(t, root, serverActionsShim, nil, dir)
	var res map[string]map[string]serverAction
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("shim output: %v\n%s", err, out)
	}
	return res
}

// compareSink checks that a sink runs, for each family, the commands
// fail2ban-server runs. A command that spans lines may end with one more
// newline (it is written as a heredoc), which changes nothing for
// /bin/sh.
func compareSink(t *testing.T, what string, a *command.Arguments, want serverAction) {
	t.Helper()
	base := map[string]string{"start": a.Start, "stop": a.Stop, "check": a.Check, "ban": a.Ban, "unban": a.Unban,
		"flush": a.Flush, "repair": a.Repair, "reban": a.Reban, "prolong": a.Prolong}
	fams := map[string]command.FamilyArguments{}
	for _, f := range a.Family {
		fams[f.Name] = f
	}
	for hook, per := range want.Static {
		for fam, w := range per {
			got := base[hook]
			if f, ok := fams[fam]; ok {
				ptr := map[string]*string{"start": f.Start, "stop": f.Stop, "check": f.Check, "ban": f.Ban, "unban": f.Unban,
					"flush": f.Flush, "repair": f.Repair, "reban": f.Reban, "prolong": f.Prolong}[hook]
				if ptr != nil {
					got = *ptr
				}
			}
			if got != w && !(strings.Contains(w, "\n") && got == w+"\n") {
				t.Errorf("%s: %s (family %q):\n got %q\nwant %q", what, hook, fam, got, w)
			}
		}
	}
	onDemand := len(a.Family) > 0
	if a.StartOnDemand != nil {
		onDemand = *a.StartOnDemand
	}
	if onDemand != want.StartOnDemand {
		t.Errorf("%s: start on demand %v, fail2ban %v", what, onDemand, want.StartOnDemand)
	}
	if (len(a.Family) > 0) != want.Conditional {
		t.Errorf("%s: family blocks %d, fail2ban conditional %v", what, len(a.Family), want.Conditional)
	}
	if a.NoRestored != want.NoRestored {
		t.Errorf("%s: no_restored %v, fail2ban %v", what, a.NoRestored, want.NoRestored)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestImportStockEveryAction imports one jail per stock action.d file and
// every stock jail (enabled through [DEFAULT]), and checks that the
// pipeline validates and that every sink runs the commands fail2ban-server
// would run.
func TestImportStockEveryAction(t *testing.T) {
	root := fail2banRoot(t)
	dir := filepath.Join(t.TempDir(), "fail2ban")
	copyTree(t, filepath.Join(root, "etc", "fail2ban"), dir)
	acts, err := filepath.Glob(filepath.Join(dir, "action.d", "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("[DEFAULT]\nenabled = true\n")
	n := 0
	for _, a := range acts {
		name := strings.TrimSuffix(filepath.Base(a), ".conf")
		if strings.HasSuffix(name, "-common") {
			continue
		}
		n++
		b.WriteString("\n[act-" + name + "]\nfilter = sshd\nlogpath = /var/log/auth.log\nport = ssh,2222\naction = " + name + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "jail.local"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fail2ban.Import(cfg, fail2ban.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		if w.File == "" || w.Line <= 0 {
			t.Errorf("warning without file and line: %v", w)
		}
	}
	p, _ := validateImport(t, res)
	if p == nil || !p.Decoded() {
		return
	}
	nodes := map[string]any{}
	for _, nd := range p.Spec.Nodes {
		nodes[nd.Kind+"."+nd.Name] = nd.Args
	}
	want := fail2banActions(t, root, dir)
	checked := 0
	for jail, byAct := range want {
		for actName, w := range byAct {
			id := "sink." + strings.NewReplacer(".", "_").Replace(jail+"_"+actName)
			a, ok := nodes[id].(*command.Arguments)
			if !ok {
				// a jail written disabled is not in the spec
				continue
			}
			checked++
			compareSink(t, jail+"/"+actName, a, w)
		}
	}
	t.Logf("%d jails, %d action files, %d actions compared with fail2ban-server", len(res.Files)-1, n, checked)
	if checked < n {
		t.Errorf("only %d actions compared", checked)
	}
}

// TestImportStockJournal imports every stock jail with backend = systemd:
// each enabled one reads a source "journal" with its filter's
// journalmatch, and the pipeline validates.
func TestImportStockJournal(t *testing.T) {
	root := fail2banRoot(t)
	dir := filepath.Join(t.TempDir(), "fail2ban")
	copyTree(t, filepath.Join(root, "etc", "fail2ban"), dir)
	local := "[DEFAULT]\nenabled = true\nbackend = systemd[journalflags=4]\n"
	if err := os.WriteFile(filepath.Join(dir, "jail.local"), []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fail2ban.Import(cfg, fail2ban.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	flags := 0
	for _, w := range res.Warnings {
		if w.File == "" || w.Line <= 0 {
			t.Errorf("warning without file and line: %v", w)
		}
		if strings.Contains(w.Msg, "journalflags=4 cannot be carried") {
			flags++
		}
	}
	if flags == 0 {
		t.Error("no warning about journalflags")
	}
	p, _ := validateImport(t, res)
	if p == nil || !p.Decoded() {
		return
	}
	sources, matched := 0, 0
	for _, n := range p.Spec.Nodes {
		if a, ok := n.Args.(*journal.Arguments); ok {
			sources++
			if len(a.Match) > 0 {
				matched++
			}
		}
	}
	jails, _ := cfg.Jails(false)
	runnable, withMatch := 0, 0
	for _, j := range jails {
		if j.Filter != nil && len(j.Filter.FailRegex) > 0 {
			runnable++
			if len(j.Filter.JournalMatch) > 0 {
				withMatch++
			}
		}
	}
	t.Logf("%d jails, %d journal sources, %d with matches", len(jails), sources, matched)
	if sources != runnable || sources < 50 || matched != withMatch || matched < 15 {
		t.Errorf("%d journal sources, %d with matches; want one per runnable jail (%d), %d with matches", sources, matched, runnable, withMatch)
	}
}
