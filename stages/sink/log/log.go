package logsink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f2bproject/f2b/confval"
	"github.com/f2bproject/f2b/engine"
)

// Block labels and attribute names.
const (
	typeName   = "log"
	attrPath   = "path"
	attrFormat = "format"
)

// fileMode is the mode of a log file the sink creates (before the umask).
const fileMode = 0o640

// Arguments are the attributes of a sink "log" block.
type Arguments struct {
	// Path is the file the lines are appended to; "" or "-" is the
	// process's standard output.
	Path string `hcl:"path,optional"`
	// Format is "text" (the default), "json" or "fail2ban" (fail2ban's
	// own log lines, for its recidive filter and log watchers).
	Format Format `hcl:"format,optional"`
}

// Register adds sink "log" to r.
func Register(r *engine.Registry) {
	r.Register(engine.Registration{
		Kind:    "sink",
		Type:    typeName,
		In:      engine.KindAction,
		Out:     engine.KindNone,
		Summary: "writes one text or JSON line per ban, unban and prolong",
		NewArgs: func() any { return &Arguments{Format: Text} },
		Build:   engine.Build(New),
	})
}

// Sink is a running sink "log": it writes one line per action it reads.
type Sink struct {
	path   string    // file to append to; "" for standard output
	w      io.Writer // fixed writer (NewWriter); nil to open path in Run
	format Format
	logger *slog.Logger

	lines     atomic.Int64
	writeErrs atomic.Int64
}

var _ engine.Stage = (*Sink)(nil)

// New checks args and returns the sink. It does no I/O: the file is opened
// when the sink runs. Errors are *confval.AttrError values naming the
// attribute.
func New(opts engine.Options, args *Arguments) (*Sink, error) {
	if args == nil {
		args = &Arguments{}
	}
	var errs []error
	format, err := parseFormat(args.Format)
	if err != nil {
		errs = append(errs, confval.AttrErr(attrFormat, err))
	}
	path := args.Path
	if path == "-" {
		path = ""
	}
	if strings.IndexByte(path, 0) >= 0 {
		errs = append(errs, confval.AttrErr(attrPath, errors.New("the path holds a NUL byte")))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sink{path: path, format: format, logger: logger}, nil
}

// NewWriter returns a sink that writes to w in format, for tests and for
// commands that print a timeline (replay --dry-run). Any format other than
// JSON writes text. Run does not close w. Each line reaches w in one Write
// call (lines are batched while more input is waiting), so sinks that share
// w need w to be safe for concurrent use, as an *os.File is.
func NewWriter(w io.Writer, format Format) *Sink {
	if format != JSON {
		format = Text
	}
	return &Sink{w: w, format: format, logger: slog.New(slog.DiscardHandler)}
}

func parseFormat(f Format) (Format, error) {
	switch f {
	case "", Text:
		return Text, nil
	case JSON:
		return JSON, nil
	case Fail2ban:
		return Fail2ban, nil
	}
	return "", fmt.Errorf("unknown format %q; use %q, %q or %q", string(f), string(Text), string(JSON), string(Fail2ban))
}

// Run implements engine.Stage. It opens the file (or takes standard
// output), writes one line per action event until in is closed, and closes
// the file. Events that carry no action are skipped. A failed write is
// logged and counted, and the sink goes on with the next line.
//
// NOTE: Run never writes to out. Output is buffered only while more input
// is already waiting, so every line is flushed before Run waits for the
// next event.
func (s *Sink) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	w, closeW, err := s.open()
	if err != nil {
		return err
	}
	lw := &lineWriter{s: s, w: w}
	lw.bw = bufio.NewWriterSize(w, 32<<10)
	var buf []byte
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				lw.flush()
				return closeW()
			}
			if ev.Kind != engine.KindAction || ev.Action == nil {
				continue
			}
			buf = s.appendLine(buf[:0], ev)
			lw.write(buf)
			if len(in) == 0 {
				lw.flush()
			}
		case <-ctx.Done():
			lw.flush()
			return errors.Join(fmt.Errorf("stopped before its input ended: %w", context.Cause(ctx)), closeW())
		}
	}
}

// Stats returns the number of lines written ("log_lines") and of failed
// writes ("log_write_errors").
func (s *Sink) Stats() map[string]int64 {
	return map[string]int64{
		"log_lines":        s.lines.Load(),
		"log_write_errors": s.writeErrs.Load(),
	}
}

// appendLine appends ev's line in the sink's format and a newline.
func (s *Sink) appendLine(dst []byte, ev engine.Event) []byte {
	switch s.format {
	case JSON:
		dst = AppendJSON(dst, ev)
	case Fail2ban:
		dst = AppendFail2ban(dst, ev, os.Getpid())
	default:
		dst = AppendText(dst, ev)
	}
	return append(dst, '\n')
}

// open returns the writer Run writes to and the function that releases it.
func (s *Sink) open() (io.Writer, func() error, error) {
	noClose := func() error { return nil }
	if s.w != nil {
		return s.w, noClose, nil
	}
	if s.path == "" {
		return os.Stdout, noClose, nil
	}
	f, err := openFile(s.path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// reopenEvery is how often a log file's path is checked for rotation.
const reopenEvery = time.Second

// file is a log file that follows its path: when logrotate (or anyone)
// moves or deletes it, the next write after a check goes to a new file at
// the path, so no signal is needed.
type file struct {
	path    string
	f       *os.File
	checked time.Time
}

func openFile(path string) (*file, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &file{path: path, f: f, checked: time.Now()}, nil
}

// Write implements io.Writer; at most once per reopenEvery it first checks
// whether the path still names the open file and reopens it if not.
func (l *file) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(l.checked) >= reopenEvery {
		l.checked = now
		l.reopenIfMoved()
	}
	return l.f.Write(p)
}

func (l *file) reopenIfMoved() {
	cur, err := l.f.Stat()
	if err != nil {
		return
	}
	at, err := os.Stat(l.path)
	if err == nil && os.SameFile(cur, at) {
		return
	}
	nf, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return // keep writing to the old file rather than lose lines
	}
	l.f.Close()
	l.f = nf
}

// Close closes the file.
func (l *file) Close() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}

// lineWriter buffers whole lines and survives write errors: after a failed
// write the buffered lines are dropped and writing starts afresh.
type lineWriter struct {
	s       *Sink
	w       io.Writer
	bw      *bufio.Writer
	pending int64 // lines in bw not yet flushed
	failing bool  // the last write failed; log again only after a success
}

func (lw *lineWriter) write(line []byte) {
	if _, err := lw.bw.Write(line); err != nil {
		lw.fail(err)
		return
	}
	lw.pending++
}

func (lw *lineWriter) flush() {
	if err := lw.bw.Flush(); err != nil {
		lw.fail(err)
		return
	}
	lw.s.lines.Add(lw.pending)
	lw.pending = 0
	lw.failing = false
}

func (lw *lineWriter) fail(err error) {
	lw.s.writeErrs.Add(1)
	if !lw.failing {
		lw.s.logger.Warn("cannot write log line", "path", lw.s.path, "lost_lines", lw.pending+1, "err", err)
	}
	lw.failing = true
	lw.pending = 0
	lw.bw.Reset(lw.w)
}

// ReadsMatches implements engine.MatchesReader: this sink never shows the
// lines behind a ban, so counters need not keep them for it.
func (s *Sink) ReadsMatches() bool { return false }
