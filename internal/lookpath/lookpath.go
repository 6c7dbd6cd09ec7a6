// Package lookpath finds the programs that stages run, for `f2b validate
// --check-env`: in PATH, and in the sbin directories a service's PATH
// has but a user's shell may lack.
package lookpath

import (
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
)

// sbinDirs are searched after PATH.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// Find returns the path of program name (a name or a path), or an error
// that says it is not installed.
func Find(name string) (string, error) {
	if strings.Contains(name, "/") {
		st, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s is not an executable file", name)
		}
		return name, nil
	}
	if p, err := osexec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range sbinDirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %s is not installed (not found in PATH or %s)", name, strings.Join(sbinDirs, ", "))
}
