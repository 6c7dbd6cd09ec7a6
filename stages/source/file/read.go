package file

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/logtime"
	"github.com/f2bproject/f2b/stages/source/lines"
)

// Expand resolves paths and globs into existing file names, sorted per
// pattern, without duplicates. A plain path that does not exist is kept so
// that reading it reports the error.
func Expand(paths []string, logger *slog.Logger) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			matches, _ = filepath.Glob(p)
			sort.Strings(matches)
			if len(matches) == 0 {
				logger.Warn("no file matches the pattern yet", "pattern", p)
			}
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// BatchSize is the most lines one event carries.
const BatchSize = 256

// input is one open file with its next line read ahead.
type input struct {
	name    string
	closer  io.Closer
	scanner *lines.Scanner
	line    string
	lineNo  int64
	key     time.Time // the line's time, for merging
	done    bool
}

// ReadMerged reads files (or stdin for "-") once and sends their lines to
// out, merged in time order when there are several.
func ReadMerged(ctx context.Context, files []string, stdin io.Reader, logger *slog.Logger, stats *Counts, out chan<- engine.Event) error {
	var ins []*input
	defer func() {
		for _, in := range ins {
			in.closer.Close()
		}
	}()
	for _, name := range files {
		in, err := open(name, stdin)
		if err != nil {
			logger.Error("cannot read log", "path", name, "err", err)
			stats.Errors.Add(1)
			continue
		}
		ins = append(ins, in)
	}
	var det *logtime.Detector
	if len(ins) > 1 {
		var err error
		if det, err = logtime.New(logtime.Options{}); err != nil {
			return err
		}
	}
	advance := func(in *input) {
		line, no, err := in.scanner.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				logger.Error("cannot read log", "path", in.name, "err", err)
				stats.Errors.Add(1)
			}
			in.done = true
			return
		}
		in.line, in.lineNo = line, no
		if det != nil {
			if t, _, _, ok := det.Match(line); ok {
				in.key = t
			}
		}
	}
	for _, in := range ins {
		advance(in)
	}
	batch := make([]engine.Line, 0, BatchSize)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		if !engine.Send(ctx, out, engine.Event{Kind: engine.KindLine, Lines: batch}) {
			return false
		}
		stats.Lines.Add(int64(len(batch)))
		// NOTE: the receiver owns the sent slice; start a new one.
		batch = make([]engine.Line, 0, BatchSize)
		return true
	}
	for {
		var next *input
		for _, in := range ins {
			if !in.done && (next == nil || in.key.Before(next.key)) {
				next = in
			}
		}
		if next == nil {
			break
		}
		batch = append(batch, engine.Line{Text: next.line, Origin: next.name, No: next.lineNo})
		if len(batch) == BatchSize && !flush() {
			return nil
		}
		advance(next)
	}
	if !flush() {
		return nil
	}
	for _, in := range ins {
		stats.Skipped.Add(in.scanner.Skipped())
	}
	return nil
}

func open(name string, stdin io.Reader) (*input, error) {
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("no standard input")
		}
		return &input{name: name, closer: nopCloser{}, scanner: lines.NewScanner(stdin)}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	var r io.Reader = f
	var closer io.Closer = f
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
		closer = multiCloser{zr, f}
	}
	return &input{name: name, closer: closer, scanner: lines.NewScanner(r)}, nil
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
