package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log destination the server's goroutines and the test can
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fakeHandler answers like a daemon with two jails; "status boom" panics
// and "status nope" fails.
var fakeHandler = HandlerFunc(func(ctx context.Context, req Request) (any, error) {
	switch req.Command {
	case CmdPing:
		return "pong", nil
	case CmdStatus:
		if len(req.Args) == 0 {
			return Overview{Jails: []string{"nginx", "sshd"}}, nil
		}
		switch req.Args[0] {
		case "boom":
			panic("kaboom")
		case "nope":
			return nil, fmt.Errorf("no jail %q", req.Args[0])
		}
		return JailStatus{Jail: req.Args[0], TotalFailed: 5}, nil
	case CmdStop:
		return nil, nil
	}
	return req, nil // echo, so tests see what arrived
})

type testServer struct {
	*Server
	sock string
	logs *syncBuffer
}

// startServer serves h on a socket in a temp dir until the test ends.
// configure, if not nil, sets the Server's limits before Serve.
func startServer(t *testing.T, h Handler, configure func(*Server)) *testServer {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	return startServerAt(t, sock, h, configure)
}

func startServerAt(t *testing.T, sock string, h Handler, configure func(*Server)) *testServer {
	t.Helper()
	srv, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if configure != nil {
		configure(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testServer{Server: srv, sock: sock, logs: logs}
}

func call(t *testing.T, sock string, req Request) Response {
	t.Helper()
	resp, err := Call(t.Context(), sock, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// rawCall writes payload as is and returns the server's answer.
func rawCall(t *testing.T, sock string, payload []byte) Response {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// The server may stop reading (and close) before all of a big payload
	// is written: the write may fail, the answer must still come.
	go conn.Write(payload)
	return readResponse(t, conn)
}

func readResponse(t *testing.T, conn net.Conn) Response {
	t.Helper()
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading the answer: %v (got %q)", err, line)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		t.Fatalf("answer %q: %v", line, err)
	}
	return resp
}

func wantError(t *testing.T, resp Response, substr string) {
	t.Helper()
	if resp.OK || !strings.Contains(resp.Error, substr) {
		t.Fatalf("got %+v, want an error containing %q", resp, substr)
	}
}

func wantPong(t *testing.T, sock string) {
	t.Helper()
	var s string
	if err := call(t, sock, Request{Command: CmdPing}).Decode(&s); err != nil || s != "pong" {
		t.Fatalf("ping: %q, %v", s, err)
	}
}

func TestRoundTrip(t *testing.T) {
	ts := startServer(t, fakeHandler, nil)
	wantPong(t, ts.sock)

	var ov Overview
	if err := call(t, ts.sock, Request{Command: CmdStatus}).Decode(&ov); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ov.Jails, ",") != "nginx,sshd" {
		t.Errorf("overview: %+v", ov)
	}

	var echoed Request
	sent := Request{Command: CmdUnban, Args: []string{"192.0.2.1", "2001:db8::1"}, All: false}
	if err := call(t, ts.sock, sent).Decode(&echoed); err != nil {
		t.Fatal(err)
	}
	if echoed.Command != sent.Command || strings.Join(echoed.Args, " ") != "192.0.2.1 2001:db8::1" {
		t.Errorf("handler got %+v, want %+v", echoed, sent)
	}

	resp := call(t, ts.sock, Request{Command: CmdStatus, Args: []string{"nope"}})
	if resp.OK || resp.Error != `no jail "nope"` || resp.Result != nil {
		t.Errorf("handler error: got %+v", resp)
	}

	resp = call(t, ts.sock, Request{Command: CmdStop})
	if !resp.OK || resp.Result != nil {
		t.Errorf("nil result: got %+v", resp)
	}
}

func TestMalformedRequests(t *testing.T) {
	ts := startServer(t, fakeHandler, nil)
	for name, tc := range map[string]struct {
		payload, want string
	}{
		"not json":         {"{not json\n", "malformed request"},
		"trailing garbage": {`{"command":"ping"} x` + "\n", "malformed request"},
		"wrong type":       {`{"command":["ping"]}` + "\n", "malformed request"},
		"no command":       {`{"args":["x"]}` + "\n", "no command (known commands: ping, status"},
		"empty line":       {"\n", "malformed request"},
		"unknown command":  {`{"command":"frobnicate"}` + "\n", `unknown command "frobnicate" (known commands: ping, status, banned, ban, unban, reload, stop)`},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, rawCall(t, ts.sock, []byte(tc.payload)), tc.want)
		})
	}
	wantPong(t, ts.sock)
}

func TestRequestWithoutNewline(t *testing.T) {
	ts := startServer(t, fakeHandler, nil)
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: ts.sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte(`{"command":"ping"}`))
	conn.CloseWrite()
	if resp := readResponse(t, conn); !resp.OK || string(resp.Result) != `"pong"` {
		t.Errorf("got %+v", resp)
	}
}

func TestRequestSizeLimit(t *testing.T) {
	ts := startServer(t, fakeHandler, nil)
	request := func(size int) []byte {
		head, tail := `{"command":"ping","args":["`, `"]}`
		return []byte(head + strings.Repeat("a", size-len(head)-len(tail)) + tail + "\n")
	}
	// The limit is on the request, its newline aside.
	if resp := rawCall(t, ts.sock, request(DefaultMaxRequest)); !resp.OK {
		t.Errorf("request of exactly %d bytes: %+v", DefaultMaxRequest, resp)
	}
	wantError(t, rawCall(t, ts.sock, request(DefaultMaxRequest+1)), "request too large (limit 65536 bytes)")
	wantError(t, rawCall(t, ts.sock, request(4<<20)), "request too large")
	wantPong(t, ts.sock)
}

func TestSlowClient(t *testing.T) {
	ts := startServer(t, fakeHandler, func(s *Server) { s.ReadTimeout = 200 * time.Millisecond })
	slow, err := net.Dial("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.SetDeadline(time.Now().Add(10 * time.Second))
	slow.Write([]byte(`{"command":`)) // and nothing more
	// A stalled client holds only its own connection.
	wantPong(t, ts.sock)
	wantError(t, readResponse(t, slow), "timed out waiting for the request")
	if n, err := slow.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("connection still open after the timeout: %d, %v", n, err)
	}
}

func TestConnectionLimit(t *testing.T) {
	ts := startServer(t, fakeHandler, func(s *Server) { s.MaxConns = 1 })
	hog, err := net.Dial("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	// Connections are accepted in order, so the hog holds the one slot
	// before the next is accepted.
	wantError(t, call(t, ts.sock, Request{Command: CmdPing}), "busy: too many connections")
	hog.Close()
	// The slot comes back once the server has seen the hog go.
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp := call(t, ts.sock, Request{Command: CmdPing})
		if resp.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %+v", resp)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHandlerPanic(t *testing.T) {
	ts := startServer(t, fakeHandler, nil)
	wantError(t, call(t, ts.sock, Request{Command: CmdStatus, Args: []string{"boom"}}), "internal error: status panicked: kaboom")
	wantPong(t, ts.sock)
	if logs := ts.logs.String(); !strings.Contains(logs, "handler panicked") || !strings.Contains(logs, "kaboom") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

func TestUnencodableResult(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(context.Context, Request) (any, error) {
		return func() {}, nil
	}), nil)
	wantError(t, call(t, ts.sock, Request{Command: CmdPing}), "internal error: encoding the result")
}

func TestServeStopsOnCancel(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "f2b.sock")
	srv, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(ctx, HandlerFunc(func(context.Context, Request) (any, error) {
			close(entered)
			<-release
			return "stopping", nil
		}))
	}()
	answer := make(chan Response, 1)
	go func() {
		resp, err := Call(context.Background(), sock, Request{Command: CmdStop})
		if err != nil {
			t.Error(err)
		}
		answer <- resp
	}()
	<-entered
	cancel()
	// No new connection is taken once ctx is done (the listener closes
	// right after cancel, not during it)…
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := Call(t.Context(), sock, Request{Command: CmdPing})
		if errors.Is(err, ErrNotRunning) {
			break
		}
		if (err == nil && resp.Error != "the daemon is stopping") || time.Now().After(deadline) {
			t.Fatalf("call after cancel: %+v, %v; want ErrNotRunning", resp, err)
		}
	}
	// …but the request in flight is answered before Serve returns.
	close(release)
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if resp := <-answer; !resp.OK || string(resp.Result) != `"stopping"` {
		t.Errorf("in-flight answer: %+v", resp)
	}
}

func TestCallNotRunning(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.sock")
	_, err := Call(t.Context(), missing, Request{Command: CmdPing})
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "does not seem to run at "+missing) {
		t.Errorf("missing socket: %v", err)
	}

	// A socket left behind by a dead daemon refuses connections.
	stale := filepath.Join(dir, "stale.sock")
	makeStaleSocket(t, stale)
	if _, err := Call(t.Context(), stale, Request{Command: CmdPing}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stale socket: %v", err)
	}
}

func TestCallTimeout(t *testing.T) {
	// A listener that never accepts: the connection sits in the backlog
	// and no answer comes.
	sock := filepath.Join(t.TempDir(), "mute.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = Call(ctx, sock, Request{Command: CmdPing})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer from the f2b daemon at "+sock) {
		t.Errorf("got %v", err)
	}
}

// makeStaleSocket leaves a socket file at path that nothing listens on, as
// a crashed daemon does.
func makeStaleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("stale socket not left: %v", err)
	}
}
