package fail2ban

import (
	"errors"
	"fmt"

	"github.com/f2bproject/f2b/confval"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/stages/source/journal"
)

// importJournal is the source "journal" of a jail whose backend is
// systemd: fail2ban's FilterSystemd reading the journal with the filter's
// journalmatch and the backend's options.
type importJournal struct {
	id        string
	match     []string // journalctl terms, "+" between the journalmatch lines
	directory string   // journalpath
	files     []string // journalfiles
}

// journal plans the journal source of ij. off says why the jail cannot
// run ("" when it can); what the source cannot carry gets a warning.
func (im *importer) journal(ij *importJail, backendAt Value) (js *importJournal, off string) {
	j := ij.j
	js = &importJournal{id: im.sourceIDs.take(ij.id)}
	// Jail._setBackend hands the backend's options to FilterSystemd.
	_, opts, err := extractOptions(j.Backend, backendAt)
	if err != nil {
		im.warn(j, backendAt, "backend %s: %v: fail2ban cannot start this jail either", j.Backend, err)
		opts = ini.NewOptions()
		off = fmt.Sprintf("its backend options cannot be read (backend = %s, %s)", j.Backend, im.place(backendAt))
	}
	for _, k := range opts.Keys() {
		v, _ := opts.Get(k)
		switch k {
		case "journalpath":
			js.directory = v.Text
		case "journalfiles":
			// FilterSystemd._getJournalArgs: splitwords, then each a glob.
			js.files = splitWords(v.Text)
		case "journalflags":
			im.warn(j, backendAt, "backend option journalflags=%s cannot be carried: the journal source reads the journals journalctl reads (the system's and, run as root, the users')", v.Text)
		case "namespace":
			im.warn(j, backendAt, "backend option namespace=%s cannot be carried: the journal source reads the default namespace", v.Text)
		default:
			im.warn(j, backendAt, "backend option %s=%s cannot be carried: the journal source has no such option", k, v.Text)
		}
	}
	if js.directory != "" && len(js.files) > 0 {
		// python-systemd's Reader refuses a path and files together.
		im.warn(j, backendAt, "backend %s gives both journalpath and journalfiles, which fail2ban cannot open together: the journal source reads journalfiles", j.Backend)
		js.directory = ""
	}

	// FilterReader: one addjournalmatch per line, each split as shlex
	// does; the server ORs the lines.
	var f Filter
	if j.Filter != nil {
		f = *j.Filter
	}
	at := im.rawValue(j, "journalmatch")
	for _, line := range f.JournalMatch {
		words, err := ShellSplit(line)
		if err != nil {
			im.warn(j, at, "journalmatch %s: %v: left out", line, err)
			continue
		}
		if len(words) == 0 {
			continue
		}
		if len(js.match) > 0 {
			js.match = append(js.match, "+")
		}
		js.match = append(js.match, words...)
	}
	if errs := journal.CheckMatches(js.match); len(errs) > 0 {
		for _, e := range errs {
			var ae *confval.AttrError
			if errors.As(e, &ae) && ae.Index >= 0 {
				e = fmt.Errorf("%s: %w", js.match[ae.Index], ae.Err)
			}
			im.warn(j, at, "journalmatch %v: the journal refuses it, and fail2ban cannot start the jail either", e)
		}
		if off == "" {
			off = "its journalmatch is refused by the journal (" + im.place(at) + ")"
		}
	}
	if len(js.match) == 0 {
		im.warn(j, backendAt, "backend %s without journalmatch: the journal source reads every journal entry, as fail2ban does", j.Backend)
	}
	return js, off
}

// journalBlock writes the jail's source "journal".
func (im *importer) journalBlock(t *hclText, ij *importJail) {
	j, js := ij.j, ij.journal
	bk, _ := opt(j, "backend")
	t.comment(0, fmt.Sprintf("backend = %s (%s): fail2ban reads this jail from the systemd journal.", j.Backend, im.place(bk)))
	t.open(0, "source "+label("journal")+" "+label(js.id))
	disabled(t, ij)
	if len(js.match) > 0 {
		t.attr(1, "match", stringList(js.match, 1), "journalmatch, "+im.place(im.rawValue(j, "journalmatch")))
	}
	if js.directory != "" {
		t.attr(1, "directory", quoted(js.directory), "journalpath, "+im.place(bk))
	}
	if len(js.files) > 0 {
		t.attr(1, "files", stringList(js.files, 1), "journalfiles, "+im.place(bk))
	}
	t.close(0)
}
