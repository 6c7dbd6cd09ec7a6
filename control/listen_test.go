package control

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestSocketModeAndDir(t *testing.T) {
	// With umask 0 a plain bind would make the socket 0777: the mode must
	// not depend on it. (Tests of this package do not run in parallel, so
	// changing the process umask here races with nothing.)
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	parent := filepath.Join(t.TempDir(), "run", "f2b")
	sock := filepath.Join(parent, "f2b.sock")
	ts := startServerAt(t, sock, fakeHandler, nil)
	syscall.Umask(old)

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a 0600 socket", fi.Mode())
	}
	di, err := os.Stat(parent)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o755 {
		t.Errorf("created directory mode %v, want 0755", di.Mode().Perm())
	}
	// The private directory the socket was made in is gone.
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "f2b.sock" {
		t.Errorf("directory holds %v, want only f2b.sock", entries)
	}
	wantPong(t, ts.sock)
}

func TestCloseRemovesSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	srv, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket still there after Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseLeavesAForeignFile(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	srv, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	// Someone replaced the socket: Close must not delete their file.
	os.Remove(sock)
	if err := os.WriteFile(sock, []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if b, err := os.ReadFile(sock); err != nil || string(b) != "theirs" {
		t.Errorf("foreign file touched: %q, %v", b, err)
	}
}

func TestStaleSocketRemoved(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	makeStaleSocket(t, sock)
	ts := startServerAt(t, sock, fakeHandler, nil)
	wantPong(t, ts.sock)
}

func TestLiveSocketRefused(t *testing.T) {
	ts := startServer(t, fakeHandler, nil)
	if _, err := Listen(ts.sock); err == nil || err.Error() != "another f2b is running on "+ts.sock {
		t.Fatalf("second Listen: %v", err)
	}
	// The first daemon is unaffected.
	wantPong(t, ts.sock)
}

func TestNonSocketInTheWay(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.sock")
	if err := os.WriteFile(file, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.sock")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.sock")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]string{file: "regular file", sub: "directory", link: "symbolic link"} {
		_, err := Listen(path)
		if want := fmt.Sprintf("control socket %s: a %s is in the way; not removing it", path, kind); err == nil || err.Error() != want {
			t.Errorf("Listen(%s): %v, want %q", path, err, want)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me" {
		t.Errorf("file touched: %q, %v", b, err)
	}
	if fi, err := os.Lstat(sub); err != nil || !fi.IsDir() {
		t.Errorf("directory touched: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode().Type() != os.ModeSymlink {
		t.Errorf("symlink touched: %v", err)
	}
}

func TestPathChecks(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 120)
	if _, err := Listen(long); err == nil || !strings.Contains(err.Error(), "path longer than 107 bytes") {
		t.Errorf("long path: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Listen(filepath.Join(file, "f2b.sock")); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("parent is a file: %v", err)
	}
}

// helperSockEnv names the socket TestHelperProcess calls when the test
// binary runs as a helper.
const helperSockEnv = "F2B_CONTROL_HELPER_SOCK"

// TestHelperProcess is not a test: TestPeerRejected runs the test binary
// as another user with this test selected, to be a client of that uid.
func TestHelperProcess(t *testing.T) {
	sock := os.Getenv(helperSockEnv)
	if sock == "" {
		return
	}
	resp, err := Call(t.Context(), sock, Request{Command: CmdPing})
	if err != nil {
		fmt.Fprintf(os.Stdout, "call error: %v\n", err)
		os.Exit(3)
	}
	json.NewEncoder(os.Stdout).Encode(resp)
	os.Exit(0)
}

func TestPeerRejected(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("F2B_REQUIRE_ALL") == "1" {
			t.Fatal("needs root to run a client as uid 65534 (F2B_REQUIRE_ALL=1)")
		}
		t.Skip("needs root to run a client as uid 65534")
	}
	// The helper binary and the socket must be reachable by uid 65534:
	// t.TempDir's directories are 0700 and so is go test's build dir.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "control.test")
	copyExecutable(t, bin)

	ts := startServerAt(t, filepath.Join(dir, "f2b.sock"), fakeHandler, nil)
	// Only in this test: open the socket's mode so that the connect
	// succeeds and SO_PEERCRED is what refuses the peer.
	if err := os.Chmod(ts.sock, 0o666); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperSockEnv+"="+ts.sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as uid 65534: %v\n%s", err, out)
	}
	var resp Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if resp.OK || resp.Error != "permission denied" || resp.Result != nil {
		t.Errorf("uid 65534 got %+v, want the error \"permission denied\"", resp)
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "refusing a peer") || !strings.Contains(logs, "uid=65534") {
		t.Errorf("refusal not logged:\n%s", logs)
	}
	// Root still gets through.
	wantPong(t, ts.sock)
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// Compile-time check that the listener type the server relies on is what
// net returns for "unix".
var _ net.Listener = (*net.UnixListener)(nil)
