package engine

import (
	"net/netip"
	"time"
	"unsafe"
)

// Kind is the type of events a node emits or accepts. The compiler checks
// that every edge joins an output kind to the same input kind.
type Kind uint8

// The event kinds that flow through a pipeline.
const (
	// KindNone marks a node with no input (sources) or no output (sinks).
	KindNone Kind = iota
	// KindLine is a raw log line read by a source.
	KindLine
	// KindFailure is one failure attributed to a host by a matcher.
	KindFailure
	// KindAction is a ban decision (ban, unban, prolong) made by a counter.
	KindAction
)

// String names the kind as diagnostics show it.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "nothing"
	case KindLine:
		return "lines"
	case KindFailure:
		return "failures"
	case KindAction:
		return "bans"
	}
	return "unknown"
}

// Event is what flows along an edge. Exactly one of the payload groups is set,
// chosen by Kind. Events are passed by value; the pointed-to payloads must not
// be changed by a receiver because fan-out hands the same pointer to every
// consumer.
type Event struct {
	Kind Kind
	// Time is the event time: for a failure, the time parsed from the line;
	// for an action, the time it takes effect. Line batches carry the read
	// time of each line in Line.Read instead.
	Time time.Time

	// Lines is a batch of log lines in the order they were read (KindLine).
	// Sources batch lines so that a busy log costs one channel hand-off per
	// batch, not per line; a source following a live log sends what it has
	// as soon as it has read everything available.
	Lines []Line

	// Watermark, when set on a KindFailure event with a nil Failure, only
	// advances the log's clock to Time: counters fire their expired timers
	// and forward nothing. Matchers emit one when the log time moves on, so
	// replays unban on the log's own clock even when no failure arrives.
	Watermark bool

	Failure *Failure // KindFailure
	Action  *Action  // KindAction

	// Events, when not nil, holds several events of Kind in the order
	// they were made, and stands in for them: a matcher sends the
	// failures (and watermarks) of a batch of lines in one event, one
	// channel hand-off instead of one per failure. The event's own
	// payload is then unset; its Time is the last one's. Receivers read
	// every event through Unpack.
	Events []Event
}

// Unpack returns the events ev stands for: Events when it holds a batch,
// else ev itself (a slice of one that aliases ev, no allocation).
func (ev *Event) Unpack() []Event {
	if ev.Events != nil {
		return ev.Events
	}
	return unsafe.Slice(ev, 1)
}

// Line is one log line. Its times are Unix nanoseconds rather than
// time.Time values: a Line is 64 bytes, one cache line, and a busy source
// makes millions a second.
type Line struct {
	Text   string // the line without its line ending
	Origin string // where the line came from: a file path, "-" for stdin, "journal"
	No     int64  // physical line number within Origin, counting from 1
	// ReadAt is when the source read the line (Unix nanoseconds); 0 in
	// replay. See Read.
	ReadAt int64
	// At is the line's time when the source knows it, the journal's own
	// timestamp (Unix nanoseconds); 0 when the matcher finds it in Text.
	// See Time.
	At int64
	// Recount marks a line before the source's saved position, read again
	// on start to rebuild failure windows (see Options.Rewind): counters
	// count it, statistics do not count it as a new line.
	Recount bool
}

// Read returns ReadAt as a time, the zero time when it is 0.
func (l *Line) Read() time.Time { return nanoTime(l.ReadAt) }

// Time returns At as a time, the zero time when it is 0.
func (l *Line) Time() time.Time { return nanoTime(l.At) }

// UnixNanos returns t in Unix nanoseconds for Line.ReadAt and Line.At:
// 0 for the zero time.
func UnixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Failure is one failure of one host, found by a matcher.
type Failure struct {
	Matcher  string     // node ID of the matcher, e.g. "matcher.sshd"
	Host     netip.Addr // the failing address (IPv4-mapped IPv6 unmapped)
	HostText string     // the host exactly as written in the log
	// Fields are the named captures (<F-USER> is "user"), nil when none.
	// A matcher may leave it nil and set Names and Values instead: read
	// the captures with Captures, which sees both.
	Fields map[string]string
	// Names and Values are the named captures without a map, which costs
	// more to build than anything else about a failure while only the
	// failure that completes a ban (or opens a ticket) is ever asked for
	// its captures: Values[i] is the capture named Names[i]. Names is
	// shared by many failures and must not be changed. Names nil means no
	// captures (Captures is nil); empty but not nil, none captured.
	Names, Values []string
	Lines         []string // the matched line(s)
}

// Captures returns the named captures of f as a map: Fields when set,
// else a new map of Names and Values (nil when Names is nil).
func (f *Failure) Captures() map[string]string {
	if f.Fields != nil || f.Names == nil {
		return f.Fields
	}
	m := make(map[string]string, len(f.Names))
	for i, k := range f.Names {
		m[k] = f.Values[i]
	}
	return m
}

// ActionType says what a counter decided.
type ActionType uint8

// Action types.
const (
	// Ban starts a ban of Host.
	Ban ActionType = iota + 1
	// Unban ends the ban of Host.
	Unban
	// Prolong extends a running ban of Host to a later end.
	Prolong
)

// String names the action as timelines print it.
func (a ActionType) String() string {
	switch a {
	case Ban:
		return "ban"
	case Unban:
		return "unban"
	case Prolong:
		return "prolong"
	}
	return "unknown"
}

// Permanent is the ban duration of a ban that never ends.
const Permanent time.Duration = -1

// Action is a ban decision of one counter (one jail).
type Action struct {
	Type     ActionType
	Jail     string     // the counter's name, e.g. "sshd"
	Host     netip.Addr // the banned address
	HostText string     // the host as the log wrote it
	// Failures is the number of failures behind the ban.
	Failures int
	// BanTime is the length of this ban; Permanent for one that never ends.
	BanTime time.Duration
	// Start is when the ban began; End when it ends (zero when permanent).
	Start, End time.Time
	// BanCount numbers this host's bans in this jail: 1 for the first.
	BanCount int
	Matches  []string          // the lines behind the ban
	Fields   map[string]string // captures of the last failure
	// Restored marks a ban that was not decided now but restored from
	// saved state when the pipeline started (fail2ban's restored tickets).
	// Sinks that report bans, such as mail, may skip these (fail2ban's
	// norestored).
	Restored bool
	// Forget, on an Unban, makes the store drop the host's ban history
	// in the jail along with the ban, as fail2ban's unbanip deletes the
	// host's rows from its database: the host's next ban is a first ban
	// again. The store keeps a forgotten record (BanRecord.Forgotten)
	// whose Start is the unban's Start, the moment a ban was lifted, or,
	// when the Unban has no Start (no ban was lifted), the Start of the
	// host's last ban, or none when it had none: a restart then counts
	// again exactly the failures the running counter still counts. Manual unbans set it; sinks treat it as any Unban. An Unban
	// with Forget and the zero Host, which only the store sees, forgets
	// every host of the jail (fail2ban's unban --all).
	Forget bool
}

// BanInfo describes one running ban, for status reports.
type BanInfo struct {
	Host     netip.Addr
	HostText string    // the host as the log wrote it
	Start    time.Time // when the ban began
	End      time.Time // when it ends (after any prolong); zero when permanent
	BanTime  time.Duration
	BanCount int // 1 for the host's first ban in this jail
	Failures int // failures behind the ban
}
