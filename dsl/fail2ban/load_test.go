package fail2ban_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"jail.conf":  "[sshd]\nenabled = true\n",
		"jail.local": "[sshd]\nport = 22\nnot an option\n",
	})
	_, err := fail2ban.Load(dir)
	if !errors.Is(err, ini.ErrParse) || !strings.Contains(err.Error(), "jail.local:3:") {
		t.Errorf("Load: %v; want a parse error at jail.local:3", err)
	}
	if _, err := fail2ban.Load(filepath.Join(dir, "nope")); !errors.Is(err, ini.ErrNoFiles) {
		t.Errorf("Load(missing dir): %v", err)
	}
	// An include with a syntax error is reported at its own line.
	dir = writeFiles(t, map[string]string{
		"jail.conf":  "[INCLUDES]\nbefore = paths.conf\n[sshd]\n",
		"paths.conf": "[DEFAULT]\n[x\n",
	})
	if _, err := fail2ban.Load(dir); err == nil || !strings.Contains(err.Error(), "paths.conf:2:") {
		t.Errorf("Load: %v; want an error at paths.conf:2", err)
	}
}

// Jails and Filter may be called concurrently and repeatedly with the same
// results.
func TestConcurrentUse(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"jail.conf":        "[DEFAULT]\nfilter = f[mode=%(mode)s]\nmode = normal\nlogpath = /x\naction = a\n[j1]\nenabled = true\n[j2]\nenabled = true\nmode = extra\n",
		"filter.d/f.conf":  "[Definition]\nfailregex = ^<mode> <HOST>\n",
		"action.d/a.conf":  "[Definition]\nactionban = ban <ip> for <name>\n",
		"filter.d/g.local": "[Definition]\nfailregex = ^g <HOST>\n",
	})
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jails, _ := cfg.Jails(false)
			if len(jails) != 2 || jails[1].Filter.FailRegex[0].Text != "^extra <HOST>" || jails[0].Actions[0].Ban != "ban <ip> for j1" {
				t.Errorf("jails: %+v", jails)
			}
			f, err := cfg.Filter("g", nil)
			if err != nil || f.FailRegex[0].Text != "^g <HOST>" {
				t.Errorf("filter g: %v %+v", err, f)
			}
		}()
	}
	wg.Wait()
}

// A directory holding only filters serves Filter (fail2ban-regex -c).
func TestFiltersOnlyDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{"filter.d/f.conf": "[Definition]\nfailregex = ^<HOST>\n"})
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Filter("f", nil); err != nil {
		t.Fatal(err)
	}
	jails, warns := cfg.Jails(false)
	if len(jails) != 0 || len(warns) != 1 {
		t.Errorf("jails %v, warnings %v", jails, warns)
	}
}
