package jailrun

import (
	"context"
	"fmt"
	"sync"

	"github.com/f2bproject/f2b/stages/counter/jailerr"
)

// Control carries manual commands (ban, unban) from any goroutine into the
// Run loop, which alone may touch a counter's state. The zero value is
// ready to use.
type Control struct {
	mu   sync.Mutex
	cmds chan command  // unbuffered: a send succeeds only once Run took it
	stop chan struct{} // closed when Run returns; nil while Run is not running
}

// command is one call: fn runs in the Run loop, which then flushes what it
// made and replies.
type command struct {
	fn    func() (int, error)
	reply chan result // buffered, so Run never waits for the caller
}

type result struct {
	n   int
	err error
}

// Call runs fn in the Run loop of jail and returns its result once the
// actions it made are saved and sent. It returns jailerr.ErrNotRunning
// when Run is not running, and ctx's error when ctx ends first (fn may
// still run then, if Run had taken it).
func (c *Control) Call(ctx context.Context, jail string, fn func() (int, error)) (int, error) {
	c.mu.Lock()
	cmds, stop := c.cmds, c.stop
	c.mu.Unlock()
	if stop == nil {
		return 0, jailerr.NotRunning(jail)
	}
	cmd := command{fn: fn, reply: make(chan result, 1)}
	select {
	case cmds <- cmd:
	case <-stop:
		return 0, jailerr.NotRunning(jail)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// NOTE: Run handles a command it took before it looks at anything
	// else, and always replies, so there is no need to watch stop here.
	select {
	case r := <-cmd.reply:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// start marks Run as running and returns the command channel and the
// function that marks it stopped.
func (c *Control) start(jail string) (<-chan command, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return nil, nil, fmt.Errorf("counter of jail %s: Run is running already", jail)
	}
	if c.cmds == nil {
		c.cmds = make(chan command)
	}
	stop := make(chan struct{})
	c.stop = stop
	return c.cmds, func() {
		c.mu.Lock()
		c.stop = nil
		c.mu.Unlock()
		close(stop)
	}, nil
}
