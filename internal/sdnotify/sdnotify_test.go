package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
)

func TestNotifyReachesSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	if err := Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _, err := l.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
}

func TestNotifyUnsetIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Notify("READY=1"); err != nil {
		t.Fatalf("unset NOTIFY_SOCKET: %v", err)
	}
}

func TestNotifyAbstractSocket(t *testing.T) {
	name := "@f2b-test-" + filepath.Base(t.TempDir())
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "\x00" + name[1:], Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := Send(name, "STOPPING=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _, err := l.ReadFromUnix(buf)
	if err != nil || string(buf[:n]) != "STOPPING=1" {
		t.Fatalf("got %q, %v", buf[:n], err)
	}
}

func TestNotifyMissingSocketErrors(t *testing.T) {
	if err := Send(filepath.Join(t.TempDir(), "none.sock"), "READY=1"); err == nil {
		t.Fatal("want an error for a socket nobody listens on")
	}
}
