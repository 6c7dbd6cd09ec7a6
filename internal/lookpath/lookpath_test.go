package lookpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	if p, err := Find("sh"); err != nil || !strings.HasSuffix(p, "/sh") {
		t.Errorf("Find(sh) = %q, %v", p, err)
	}
	if _, err := Find("f2b-no-such-program"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("missing program: %v", err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("x"), 0o644)
	if _, err := Find(plain); err == nil {
		t.Error("a non-executable file was accepted")
	}
	if _, err := Find(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing path was accepted")
	}
}
