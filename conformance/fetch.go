package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Fetch runs scripts/fetch-fail2ban.sh, which downloads Debian's fail2ban
// package into a cache outside the repository on first use, and returns
// the unpacked root it prints. repo is the repository root; empty means
// the directory holding go.mod above the working directory.
func Fetch(repo string) (string, error) {
	if repo == "" {
		dir, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return "", fmt.Errorf("conformance: no go.mod above the working directory")
			}
			dir = parent
		}
		repo = dir
	}
	cmd := exec.Command(filepath.Join(repo, "scripts", "fetch-fail2ban.sh"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("conformance: fetching fail2ban: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	root := strings.TrimSpace(out.String())
	if i := strings.LastIndexByte(root, '\n'); i >= 0 {
		root = root[i+1:]
	}
	return root, nil
}
