package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// importConf is a small fail2ban configuration: an enabled jail, a
// disabled one, and what the import warns about (a file: entry in
// ignoreip, a Python action).
var importConf = map[string]string{
	"jail.conf": `[DEFAULT]
maxretry = 3
findtime = 10m
bantime = 1h
maxmatches = 3
backend = auto
ignoreself = false
ignoreip = 127.0.0.1/8 ::1 trusted.example.org file:/etc/fail2ban/ignore.list

[web]
enabled = true
filter = web
logpath = /var/log/web.log
action = fw[port=http]
         notify.py

[off]
enabled = false
filter = web
logpath = /var/log/off.log
action = fw
`,
	"filter.d/web.conf": `[Definition]
failregex = ^login failed from <HOST>$
`,
	"action.d/fw.conf": `[Definition]
actionstart = fw create f2b-<name>
actionstop = fw destroy f2b-<name>
actionban = fw add f2b-<name> <ip> <port>
actionunban = fw del f2b-<name> <ip> <port>

[Init]
port = ssh
`,
	"action.d/notify.py": "# not read\n",
}

func writeConf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fail2ban")
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// warningLine is the contract's warning format.
var warningLine = regexp.MustCompile(`^Warning: /\S+:\d+: \S`)

func TestImportStdout(t *testing.T) {
	dir := writeConf(t, importConf)
	code, stdout, stderr := run(t, "import", dir)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		`# ==== common.hcl ====`, `source "file" "web_log"`, `matcher "regex" "web"`,
		`counter "ticket" "web"`, `sink "command" "web_fw"`, `ban    = "fw add f2b-web <ip> http"`,
		`ignore = ["127.0.0.1/8", "::1", "trusted.example.org"]`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, `"off"`) {
		t.Errorf("a disabled jail was imported without --all:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 {
		t.Errorf("want 2 warnings (file: entry in ignoreip, Python action), got:\n%s", stderr)
	}
	for _, l := range lines {
		if !warningLine.MatchString(l) {
			t.Errorf("warning not as `Warning: FILE:LINE: message`: %q", l)
		}
	}
	for _, want := range []string{dir + "/jail.conf:8: jail web: ignoreip entry file:/etc/fail2ban/ignore.list", dir + "/jail.conf:14: jail web: action notify.py"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestImportAll(t *testing.T) {
	dir := writeConf(t, importConf)
	code, stdout, stderr := run(t, "import", "--all", dir)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `matcher "regex" "off" {`+"\n  enabled = false") {
		t.Errorf("the disabled jail is not imported disabled:\n%s", stdout)
	}
}

func TestImportOutDir(t *testing.T) {
	dir := writeConf(t, importConf)
	out := filepath.Join(t.TempDir(), "pipeline")
	code, stdout, stderr := run(t, "import", dir, "-o", out)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := filepath.Join(out, "common.hcl") + "\n" + filepath.Join(out, "web.hcl") + "\n"
	if stdout != want {
		t.Errorf("stdout = %q, want the files written, %q", stdout, want)
	}
	if strings.Contains(stderr, "does not validate") {
		t.Errorf("the import does not validate:\n%s", stderr)
	}
	// The result validates.
	if code, _, stderr := run(t, "validate", out); code != ExitOK {
		t.Fatalf("validate: exit %d:\n%s", code, stderr)
	}

	// A second import refuses to overwrite, and writes nothing.
	web := filepath.Join(out, "web.hcl")
	if err := os.WriteFile(web, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "common.hcl")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "import", dir, "-o", out)
	if code != ExitError || !strings.Contains(stderr, web+" exists") {
		t.Errorf("overwriting: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "common.hcl")); err == nil {
		t.Errorf("a refused import wrote common.hcl")
	}
	if data, _ := os.ReadFile(web); string(data) != "# mine\n" {
		t.Errorf("a refused import changed web.hcl")
	}

	// --force overwrites.
	code, _, stderr = run(t, "import", dir, "-o", out, "--force")
	if code != ExitOK {
		t.Fatalf("--force: exit %d:\n%s", code, stderr)
	}
	if data, _ := os.ReadFile(web); !strings.Contains(string(data), `counter "ticket" "web"`) {
		t.Errorf("--force did not overwrite web.hcl:\n%s", data)
	}
}

// TestImportCheck: what fail2ban would not run either (a regex that does
// not compile) is imported as written, and the check of the result says
// so.
func TestImportCheck(t *testing.T) {
	conf := map[string]string{}
	for k, v := range importConf {
		conf[k] = v
	}
	conf["filter.d/web.conf"] = "[Definition]\nfailregex = ^login (failed from <HOST>$\n"
	dir := writeConf(t, conf)
	code, _, stderr := run(t, "import", dir)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^Warning: <stdout>:\d+:\d+: the imported pipeline does not validate: `).MatchString(stderr) {
		t.Errorf("no validation warning:\n%s", stderr)
	}
}

func TestImportErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, ExitUsage, "accepts 1 arg"},
		{[]string{"import", "a", "b"}, ExitUsage, "accepts 1 arg"},
		{[]string{"import", "--bogus", "a"}, ExitUsage, "unknown flag"},
		{[]string{"import", filepath.Join(t.TempDir(), "missing")}, ExitError, "cannot read"},
	} {
		code, stdout, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", tc.args, code, stdout, stderr)
		}
	}
}
