package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// DefaultTimeout bounds a Call whose ctx has no deadline. It is generous
// because reload answers only once the new pipeline runs.
const DefaultTimeout = 30 * time.Second

// maxResponse bounds the answer a client reads: a banned list of a
// hundred thousand hosts fits many times over.
const maxResponse = 256 << 20

// ErrNotRunning is wrapped by Call's error when nothing listens on the
// socket.
var ErrNotRunning = errors.New("the f2b daemon does not seem to run")

// Call sends req to the daemon at sock and returns its answer. The error
// is about reaching the daemon; what the daemon refused is in
// Response.Error.
func Call(ctx context.Context, sock string, req Request) (Response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return Response{}, dialError(sock, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("encoding the request: %w", err)
	}
	// A write error is not final: the server may have answered (refused
	// the peer, say) and closed before reading, and its answer is still
	// waiting to be read.
	_, werr := conn.Write(append(b, '\n'))

	line, rerr := bufio.NewReader(io.LimitReader(conn, maxResponse)).ReadBytes('\n')
	if rerr != nil && !(errors.Is(rerr, io.EOF) && len(line) > 0) {
		switch {
		case ctx.Err() != nil:
			return Response{}, fmt.Errorf("no answer from the f2b daemon at %s: %w", sock, ctx.Err())
		case errors.Is(rerr, os.ErrDeadlineExceeded):
			// The connection's deadline is ctx's and may fire first.
			return Response{}, fmt.Errorf("no answer from the f2b daemon at %s: %w", sock, context.DeadlineExceeded)
		case werr != nil:
			return Response{}, fmt.Errorf("sending to the f2b daemon at %s: %w", sock, werr)
		case errors.Is(rerr, io.EOF):
			return Response{}, fmt.Errorf("the f2b daemon at %s closed the connection without answering", sock)
		default:
			return Response{}, fmt.Errorf("reading the answer of the f2b daemon at %s: %w", sock, rerr)
		}
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("the answer of the f2b daemon at %s is not valid: %w", sock, err)
	}
	return resp, nil
}

func dialError(sock string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w at %s (%v)", ErrNotRunning, sock, errnoOf(err))
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("cannot connect to the f2b daemon at %s: permission denied (the control socket is for root)", sock)
	default:
		return fmt.Errorf("cannot connect to the f2b daemon at %s: %w", sock, err)
	}
}

// errnoOf is the bare system error, without the "dial unix PATH:" prefix
// that repeats the path.
func errnoOf(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
