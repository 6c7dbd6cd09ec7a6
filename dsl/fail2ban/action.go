package fail2ban

import (
	"strings"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
)

// Action is one action of a jail as fail2ban-client hands it to the server.
// Its commands have every static tag resolved the way fail2ban-client
// resolves them at configuration time; tags resolved per ban (<ip>,
// <F-USER>, <matches>, <bantime>, …) and tags that have a family-conditional
// variant (<blocktype> when [Init?family=inet6] sets blocktype) are left in
// place for run time, with their values in Init and Conditional.
type Action struct {
	// Name is the action's name option (defaults to the jail's name).
	Name string
	// ActName is the action's name within the jail: the file name, with
	// "-NAME" appended when Name differs from the jail's name.
	ActName string
	// File is the action's main file (action.d/X.conf, or the .py file).
	File string
	// Options are the options given in brackets in the jail's action line.
	Options map[string]string

	Start, Stop, Check, Ban, Unban, Flush, Repair, Reban string
	Prolong, Reload                                      string

	// Init holds the [Init] options with the jail's bracket options over
	// them, as the server receives them (their own tags not yet
	// substituted; the server does that per command).
	Init map[string]Value
	// Conditional holds the options of conditional sections by condition:
	// "family=inet6" -> {"blocktype": …}.
	Conditional map[string]map[string]Value
	// Raw holds every option sent to the server, under its own name
	// (actionban, actionstart_on_demand, norestored, blocktype?family=inet6,
	// port, …).
	Raw map[string]Value
	// Python is true for a *.py action (fail2ban's Python action API), which
	// f2b cannot carry; only Name, ActName, File and Options are set.
	Python bool
}

var actionSpec = []optSpec{
	{name: "actionstart"},
	{name: "actionstart_on_demand", typ: tBool},
	{name: "actionstop"},
	{name: "actionflush"},
	{name: "actionreload"},
	{name: "actioncheck"},
	{name: "actionrepair"},
	{name: "actionrepair_on_unban", typ: tBool},
	{name: "actionban"},
	{name: "actionprolong"},
	{name: "actionreban"},
	{name: "actionunban"},
	{name: "norestored", typ: tBool},
}

// escapedTags are CommandAction._escapedTags plus the options fail2ban-client
// leaves for the server (timeout, bantime).
var actionIgnore = map[string]bool{"matches": true, "ipmatches": true, "ipjailmatches": true, "timeout": true, "bantime": true}

func isActionOpt(name string) bool {
	for _, o := range actionSpec {
		if o.name == name {
			return true
		}
	}
	return false
}

type actionReader struct {
	defInit
	actName string
}

// newActionReader is ActionReader.__init__: name defaults to the jail's
// name and actname to the file name, suffixed so that one action file can
// serve a jail several times.
func (c *Config) newActionReader(file, jailName string, initOpts *ini.Options, at Value, w *warnings) *actionReader {
	given := initOpts.Map()
	n, ok := initOpts.Get("name")
	if !ok {
		n = Value{Text: jailName, File: at.File, Line: at.Line}
		initOpts.Set("name", n)
	}
	an, ok := initOpts.Get("actname")
	if !ok {
		an = Value{Text: file, File: at.File, Line: at.Line}
		if n.Text != jailName {
			if strings.HasPrefix(n.Text, jailName) {
				an.Text += n.Text[len(jailName):]
			} else {
				an.Text += "-" + n.Text
			}
		}
		initOpts.Set("actname", an)
	}
	return &actionReader{defInit: defInit{
		c: c, name: file, jailName: jailName, at: at, spec: actionSpec,
		initOpts: initOpts, defCache: map[string]*string{}, w: w, givenOpts: given,
	}, actName: an.Text}
}

func (r *actionReader) read(dir string) error {
	return r.readFrom(r.c.readNamed(dir, ini.JoinPath("action.d", r.name)))
}

// convert is ActionReader.convert, folded into an Action.
func (r *actionReader) convert() (*Action, error) {
	opts, err := r.combined(actionIgnore)
	if err != nil {
		return nil, err
	}
	a := &Action{
		Name: r.initOpts.Text("name"), ActName: r.actName, File: r.file(), Options: r.givenOpts,
		Init: map[string]Value{}, Conditional: map[string]map[string]Value{}, Raw: map[string]Value{},
	}
	for _, k := range opts.Keys() {
		if !isActionOpt(k) || strings.HasPrefix(k, knownPrefix) {
			continue
		}
		v, _ := opts.Get(k)
		a.Raw[k] = v
		switch k {
		case "actionstart":
			a.Start = v.Text
		case "actionstop":
			a.Stop = v.Text
		case "actioncheck":
			a.Check = v.Text
		case "actionban":
			a.Ban = v.Text
		case "actionunban":
			a.Unban = v.Text
		case "actionflush":
			a.Flush = v.Text
		case "actionrepair":
			a.Repair = v.Text
		case "actionreban":
			a.Reban = v.Text
		case "actionprolong":
			a.Prolong = v.Text
		case "actionreload":
			a.Reload = v.Text
		}
	}
	for _, k := range r.initOpts.Keys() {
		if isActionOpt(k) || strings.HasPrefix(k, knownPrefix) {
			continue
		}
		v, _ := r.initOpts.Get(k)
		a.Raw[k] = v
		if base, cond, ok := ini.SplitConditional(k); ok {
			cond = cond[1:]
			if a.Conditional[cond] == nil {
				a.Conditional[cond] = map[string]Value{}
			}
			a.Conditional[cond][base] = v
			continue
		}
		a.Init[k] = v
	}
	return a, nil
}
