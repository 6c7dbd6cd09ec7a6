package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkEnvFails writes the pipeline src, checks that `f2b validate` takes
// it and `f2b validate --check-env` does not, and returns its path and
// what --check-env printed on standard error.
func checkEnvFails(t *testing.T, src string) (path, stderr string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "validate", path); code != ExitOK {
		t.Fatalf("validate: exit %d\n%s", code, stderr)
	}
	code, _, stderr := run(t, "validate", "--check-env", path)
	if code != ExitInvalid {
		t.Fatalf("validate --check-env: exit %d, want %d\n%s", code, ExitInvalid, stderr)
	}
	return path, stderr
}

// TestValidateCheckEnv: --check-env reports a program a sink runs that is
// not installed, at the element naming it; without the flag the pipeline
// is valid.
func TestValidateCheckEnv(t *testing.T) {
	p, stderr := checkEnvFails(t, `source "file" "a" {
  paths = ["/var/log/auth.log"]
}
matcher "regex" "m" {
  inputs = [source.a]
  fail   = ["^x <HOST>$"]
}
counter "window" "c" {
  inputs = [matcher.m]
}
sink "exec" "fw" {
  inputs = [counter.c]
  ban    = ["f2b-no-such-tool", "add", "{ip}"]
  unban  = ["sh", "-c", "true"]
}
`)
	for _, want := range []string{p + ":13:13: Missing on this machine", "Program f2b-no-such-tool is not installed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Count(stderr, "Missing on this machine") != 1 {
		t.Errorf("want exactly one problem (sh is installed):\n%s", stderr)
	}
}

// TestValidateCheckEnvIgnoreName: --check-env reports a host name in a
// counter's ignore list that does not resolve, at that element; "self"
// and addresses need nothing.
func TestValidateCheckEnvIgnoreName(t *testing.T) {
	p, stderr := checkEnvFails(t, `source "file" "a" {
  paths = ["/var/log/auth.log"]
}
matcher "regex" "m" {
  inputs = [source.a]
  fail   = ["^x <HOST>$"]
}
counter "window" "c" {
  inputs = [matcher.m]
  ignore = ["self", "10.0.0.0/8", "no-such-host.invalid"]
}
`)
	for _, want := range []string{p + ":10:35: Missing on this machine", `Host name "no-such-host.invalid" does not resolve here`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
