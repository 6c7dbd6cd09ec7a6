package ini

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; every error this package returns wraps one of them.
var (
	// ErrParse: a file breaks the INI syntax (a line that is neither a
	// section, an option nor a continuation; a missing section header; a
	// section or option given twice in one file).
	ErrParse = errors.New("syntax error")
	// ErrNoSection: the section does not exist.
	ErrNoSection = errors.New("no such section")
	// ErrNoOption: the option is set neither in the section nor in [DEFAULT].
	ErrNoOption = errors.New("no such option")
	// ErrInterpolation: a %(name)s reference cannot be resolved (unknown
	// name, bad syntax, or nesting deeper than 10).
	ErrInterpolation = errors.New("interpolation error")
	// ErrNoFiles: none of the files of a configuration name exists.
	ErrNoFiles = errors.New("no configuration files")
)

// Error is an error at a place in a file. Line is 0 when the place is the
// whole file.
type Error struct {
	File string
	Line int
	Msg  string
	Err  error // the sentinel
}

// Error returns "file:line: message".
func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every syntax error of one file, in line order.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors of the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func errAt(v Value, sentinel error, format string, args ...any) *Error {
	return &Error{File: v.File, Line: v.Line, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}
