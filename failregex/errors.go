package failregex

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors wrapped by Error.Err; test them with errors.Is.
var (
	// ErrEmpty reports an empty (or blank) regex.
	ErrEmpty = errors.New("empty regex")
	// ErrNoHost reports a failure regex without a host placeholder.
	ErrNoHost = errors.New("no <HOST> (or <ADDR>, <IP4>, <IP6>) in regex")
	// ErrMultipleHosts reports a failure regex with more than one host placeholder.
	ErrMultipleHosts = errors.New("more than one host placeholder (<HOST>, <ADDR>, <IP4>, <IP6>, <DNS>, <SUBNET>) in regex")
	// ErrSyntax is wrapped by the errors of regexes that are not valid
	// Python regular expressions.
	ErrSyntax = errors.New("invalid regex")
	// ErrUnsupported is wrapped by every *UnsupportedError: the regex uses a
	// construct a Set cannot run (the multi-line <SKIPLINES>, which needs
	// fail2ban's line buffer: see package failfilter).
	ErrUnsupported = errors.New("not supported by a single-line matcher")
)

// UnsupportedError reports a construct a Set cannot run, such as
// <SKIPLINES>. errors.Is(err, ErrUnsupported) is true for it.
type UnsupportedError struct {
	// Construct names the feature, e.g. "multi-line".
	Construct string
	// Token is the text that introduces it, e.g. "<SKIPLINES>".
	Token string
	// Offset is the byte offset of Token in the regex as written.
	Offset int
}

// Error returns e.g. "multi-line <SKIPLINES> is not supported by a single-line matcher".
func (e *UnsupportedError) Error() string {
	return e.Construct + " " + e.Token + " is " + ErrUnsupported.Error()
}

// Is reports whether target is ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Error describes one regex that did not compile.
type Error struct {
	// List is "fail" or "ignore": the argument of Compile the regex came from.
	List string
	// Index is the position of the regex in that list.
	Index int
	// Regex is the regex as given to Compile.
	Regex string
	// Err is the cause: one of the sentinel errors, an *UnsupportedError, a
	// *regexp/syntax.Error or a placeholder error.
	Err error
}

// Error returns e.g. `failregex[2] "^x <HOST> (y": invalid regex: missing closing )`.
func (e *Error) Error() string {
	return fmt.Sprintf("%sregex[%d] %q: %v", e.List, e.Index, e.Regex, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errors is the error Compile returns: one *Error per bad regex, in the
// order fail regexes then ignore regexes. errors.As(err, &e) with
// e *Error finds the first.
type Errors []*Error

// Error joins the messages of all errors, one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
