package control

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Handler answers the commands of the control socket; the daemon implements
// it. The result is sent JSON-encoded; an error is sent as
// Response{OK: false, Error: err.Error()}. Handle is called concurrently,
// once per connection, only with a command from KnownCommands.
type Handler interface {
	Handle(ctx context.Context, req Request) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req Request) (any, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req Request) (any, error) { return f(ctx, req) }

// Defaults of the Server's limits.
const (
	DefaultReadTimeout = 5 * time.Second
	DefaultMaxRequest  = 64 << 10
	DefaultMaxConns    = 64
)

// writeTimeout bounds sending the answer, so a client that never reads
// cannot hold a connection slot.
const writeTimeout = 5 * time.Second

// Server serves the control socket. Set its fields before Serve.
type Server struct {
	// ReadTimeout bounds the wait for the request once connected.
	ReadTimeout time.Duration
	// MaxRequest is the largest request accepted, in bytes.
	MaxRequest int
	// MaxConns bounds the connections handled at once; more are answered
	// with an error and closed, so a flood cannot exhaust the daemon.
	MaxConns int
	// Logger receives rejected peers, handler panics and protocol errors.
	Logger *slog.Logger

	path string
	ln   *net.UnixListener
	fi   fs.FileInfo // the socket file, to remove only our own in Close
	euid uint32

	closeOnce sync.Once
	closeErr  error
}

func newServer(path string, ln *net.UnixListener, fi fs.FileInfo) *Server {
	return &Server{
		ReadTimeout: DefaultReadTimeout,
		MaxRequest:  DefaultMaxRequest,
		MaxConns:    DefaultMaxConns,
		Logger:      slog.Default(),
		path:        path,
		ln:          ln,
		fi:          fi,
		euid:        uint32(os.Geteuid()),
	}
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting connections and removes the socket file, unless
// it is no longer ours. Connections being handled finish on their own;
// Serve waits for them.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.ln.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil // Serve closed it when its ctx ended
		}
		if fi, statErr := os.Lstat(s.path); statErr == nil && os.SameFile(fi, s.fi) {
			if rmErr := os.Remove(s.path); rmErr != nil && err == nil {
				err = rmErr
			}
		}
		if err != nil {
			s.closeErr = fmt.Errorf("closing control socket %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Serve accepts connections until ctx is done or the Server is closed,
// handling each in its own goroutine, then waits for those in flight and
// returns nil. It returns an error only when accepting fails for good.
func (s *Server) Serve(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()

	slots := make(chan struct{}, max(s.MaxConns, 1))
	var backoff time.Duration
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if temporaryAcceptError(err) {
				// Out of descriptors or memory: wait and retry, as
				// net/http does, instead of giving up the socket.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.Logger.Warn("control: accept failed; retrying", "socket", s.path, "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				continue
			}
			return fmt.Errorf("control socket %s: %w", s.path, err)
		}
		backoff = 0
		if ctx.Err() != nil {
			// Accepted in the moment between ctx ending and the listener
			// closing: the handler must not see it.
			writeResponse(conn, errorResponse("the daemon is stopping"))
			conn.Close()
			return nil
		}
		select {
		case slots <- struct{}{}:
		default:
			s.Logger.Warn("control: too many connections; refusing one", "socket", s.path, "max", cap(slots))
			writeResponse(conn, errorResponse("busy: too many connections to the control socket"))
			conn.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.serveConn(ctx, conn, h)
		})
	}
}

func temporaryAcceptError(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// serveConn answers the one request of conn and closes it.
func (s *Server) serveConn(ctx context.Context, conn *net.UnixConn, h Handler) {
	defer conn.Close()
	// The deadline is set before ctx is watched: the other order could
	// overwrite the shutdown's past deadline with a future one.
	conn.SetReadDeadline(time.Now().Add(cmp.Or(max(s.ReadTimeout, 0), DefaultReadTimeout)))
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	writeResponse(conn, s.respond(ctx, conn, h))
}

func (s *Server) respond(ctx context.Context, conn *net.UnixConn, h Handler) Response {
	cred, err := peerCred(conn)
	if err != nil {
		s.Logger.Warn("control: cannot read the peer's credentials; refusing", "socket", s.path, "err", err)
		return errorResponse("permission denied")
	}
	if cred.Uid != 0 && cred.Uid != s.euid {
		s.Logger.Warn("control: refusing a peer", "socket", s.path, "uid", cred.Uid, "pid", cred.Pid)
		return errorResponse("permission denied")
	}

	line, err := readRequest(conn, cmp.Or(max(s.MaxRequest, 0), DefaultMaxRequest))
	if err != nil && ctx.Err() != nil {
		return errorResponse("the daemon is stopping")
	}
	if err != nil {
		s.Logger.Debug("control: bad request", "socket", s.path, "pid", cred.Pid, "err", err)
		return errorResponse(err.Error())
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return errorResponse(fmt.Sprintf("malformed request: %v", err))
	}
	if req.Command == "" {
		return errorResponse("malformed request: no command (known commands: " + strings.Join(KnownCommands, ", ") + ")")
	}
	if !slices.Contains(KnownCommands, req.Command) {
		return errorResponse(fmt.Sprintf("unknown command %q (known commands: %s)", req.Command, strings.Join(KnownCommands, ", ")))
	}

	start := time.Now()
	result, err := s.call(ctx, h, req)
	s.Logger.Debug("control: request", "command", req.Command, "args", req.Args, "uid", cred.Uid, "pid", cred.Pid, "err", err, "took", time.Since(start))
	if err != nil {
		return errorResponse(err.Error())
	}
	if result == nil {
		return Response{OK: true}
	}
	raw, err := json.Marshal(result)
	if err != nil {
		s.Logger.Error("control: cannot encode a result", "command", req.Command, "err", err)
		return errorResponse(fmt.Sprintf("internal error: encoding the result: %v", err))
	}
	return Response{OK: true, Result: raw}
}

// call runs the handler, turning a panic into an error so one bad command
// cannot take the daemon down.
func (s *Server) call(ctx context.Context, h Handler, req Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("control: handler panicked", "command", req.Command, "args", req.Args, "panic", p, "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("internal error: %s panicked: %v", req.Command, p)
		}
	}()
	return h.Handle(ctx, req)
}

// readRequest reads one newline-terminated request (or one ended by the
// client closing its side) of at most limit bytes.
func readRequest(r io.Reader, limit int) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, int64(limit)+1))
	line, err := br.ReadBytes('\n')
	switch {
	case err == nil:
		return line, nil
	case errors.Is(err, io.EOF):
		if len(line) > limit {
			return nil, fmt.Errorf("request too large (limit %d bytes)", limit)
		}
		if len(strings.TrimSpace(string(line))) == 0 {
			return nil, errors.New("empty request")
		}
		return line, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, errors.New("timed out waiting for the request")
	default:
		return nil, fmt.Errorf("reading the request: %w", err)
	}
}

func errorResponse(msg string) Response { return Response{Error: msg} }

// writeResponse sends resp as one line; a client gone away is not the
// daemon's problem, so errors are dropped.
func writeResponse(conn net.Conn, resp Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(errorResponse("internal error: " + err.Error()))
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	conn.Write(append(b, '\n'))
}
