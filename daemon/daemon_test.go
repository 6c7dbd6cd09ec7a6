package daemon

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/f2bproject/f2b/control"
	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/counter/jailerr"
)

// idleSource emits nothing and stops when told to.
type idleSource struct{ files []string }

func (s *idleSource) Run(ctx context.Context, _ <-chan engine.Event, _ chan<- engine.Event) error {
	<-ctx.Done()
	return nil
}
func (s *idleSource) Files() []string { return s.files }

// journalSource is an idle source that reads "the journal".
type journalSource struct{}

func (journalSource) Run(ctx context.Context, _ <-chan engine.Event, _ chan<- engine.Event) error {
	<-ctx.Done()
	return nil
}
func (journalSource) JournalMatches() string { return "_COMM=sshd" }

// fakeJail is a counter that keeps a set of banned hosts.
type fakeJail struct {
	name    string
	mu      sync.Mutex
	banned  map[netip.Addr]bool
	running atomic.Bool
	opts    engine.Options
}

func (j *fakeJail) Run(ctx context.Context, in <-chan engine.Event, _ chan<- engine.Event) error {
	j.running.Store(true)
	defer j.running.Store(false)
	for range in {
	}
	return nil
}
func (j *fakeJail) FindTime() time.Duration { return 10 * time.Minute }
func (j *fakeJail) Status() engine.JailStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := engine.JailStatus{Name: j.name, CurrentlyBanned: len(j.banned)}
	for h := range j.banned {
		st.Banned = append(st.Banned, engine.BanInfo{Host: h, BanTime: time.Hour})
	}
	return st
}
func (j *fakeJail) Ban(_ context.Context, h netip.Addr) error {
	if !j.running.Load() {
		return jailerr.NotRunning(j.name)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.banned[h] {
		return jailerr.AlreadyBanned(j.name, h)
	}
	j.banned[h] = true
	return nil
}
func (j *fakeJail) Unban(_ context.Context, h netip.Addr) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	ok := j.banned[h]
	delete(j.banned, h)
	return ok, nil
}
func (j *fakeJail) UnbanAll(context.Context) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := len(j.banned)
	clear(j.banned)
	return n, nil
}

// world compiles a pipeline of one idle source feeding the jails named in
// *jails; setting *broken makes the next compile fail.
type world struct {
	mu     sync.Mutex
	jails  []string
	broken bool
	built  []*fakeJail
	opts   []engine.BuildOptions
}

func (w *world) compile(bo engine.BuildOptions) (*engine.Graph, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opts = append(w.opts, bo)
	if w.broken {
		return nil, errors.New("counter.x: bad things")
	}
	reg := engine.NewRegistry()
	reg.Register(engine.Registration{Kind: "source", Type: "idle", Out: engine.KindLine,
		NewArgs: func() any { return &struct{}{} },
		Build: func(engine.Options, any) (engine.Stage, error) {
			return &idleSource{files: []string{"/var/log/x.log"}}, nil
		}})
	reg.Register(engine.Registration{Kind: "source", Type: "journal", Out: engine.KindLine,
		NewArgs: func() any { return &struct{}{} },
		Build:   func(engine.Options, any) (engine.Stage, error) { return &journalSource{}, nil }})
	reg.Register(engine.Registration{Kind: "counter", Type: "fake", In: engine.KindLine, Out: engine.KindNone,
		NewArgs: func() any { return &struct{}{} },
		Build: func(o engine.Options, _ any) (engine.Stage, error) {
			j := &fakeJail{name: o.Name, banned: map[netip.Addr]bool{}, opts: o}
			w.built = append(w.built, j)
			return j, nil
		}})
	spec := engine.Spec{Nodes: []engine.NodeSpec{
		{Kind: "source", Type: "idle", Name: "log", Args: &struct{}{}},
		{Kind: "source", Type: "journal", Name: "j", Args: &struct{}{}},
	}}
	for _, name := range w.jails {
		spec.Nodes = append(spec.Nodes, engine.NodeSpec{Kind: "counter", Type: "fake", Name: name, Inputs: []string{"source.log", "source.j"}, Args: &struct{}{}})
	}
	g, problems := engine.Compile(spec, reg, bo)
	if engine.HasErrors(problems) {
		return nil, errors.Join(problems[0])
	}
	return g, nil
}

type nopStore struct{}

func (nopStore) Bans(string) ([]engine.BanRecord, error) { return nil, nil }
func (nopStore) Record([]*engine.Action) error           { return nil }
func (nopStore) Position(string) ([]byte, bool, error)   { return nil, false, nil }
func (nopStore) SavePositions(map[string][]byte) error   { return nil }
func (nopStore) Purge(before time.Time) (int, error)     { return 0, nil }

func startDaemon(t *testing.T, w *world) (*Daemon, chan error) {
	t.Helper()
	var notes []string
	var mu sync.Mutex
	d := New(Config{Compile: w.compile, Store: nopStore{}, Grace: time.Second, Notify: func(s string) {
		mu.Lock()
		notes = append(notes, s)
		mu.Unlock()
	}})
	done := make(chan error, 1)
	go func() { done <- d.Run(t.Context()) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := d.Handle(t.Context(), control.Request{Command: control.CmdStatus}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon did not start")
		}
		time.Sleep(time.Millisecond)
	}
	// The jails' Run must have started before manual commands work.
	for !w.allRunning() {
		time.Sleep(time.Millisecond)
	}
	return d, done
}

func (w *world) allRunning() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, j := range w.built {
		if j.running.Load() {
			n++
		}
	}
	return n >= len(w.jails)
}

func TestRewindIsLongestFindTime(t *testing.T) {
	w := &world{jails: []string{"sshd"}}
	d, done := startDaemon(t, w)
	d.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(w.opts) != 2 || w.opts[0].Rewind != 0 || w.opts[1].Rewind != 10*time.Minute || w.opts[1].Store == nil {
		t.Errorf("build options: %+v", w.opts)
	}
}

func TestHandleCommands(t *testing.T) {
	w := &world{jails: []string{"sshd", "nginx"}}
	d, done := startDaemon(t, w)
	ctx := t.Context()
	call := func(req control.Request) (any, error) { return d.Handle(ctx, req) }

	res, err := call(control.Request{Command: control.CmdStatus})
	if err != nil || strings.Join(res.(control.Overview).Jails, ",") != "nginx,sshd" {
		t.Fatalf("status: %v %v", res, err)
	}
	res, err = call(control.Request{Command: control.CmdBan, Args: []string{"sshd", "192.0.2.1", "::ffff:192.0.2.2"}})
	if err != nil || len(res.(control.BanResult).Banned) != 2 {
		t.Fatalf("ban: %v %v", res, err)
	}
	res, err = call(control.Request{Command: control.CmdBan, Args: []string{"sshd", "192.0.2.1"}})
	if err != nil || len(res.(control.BanResult).Already) != 1 {
		t.Fatalf("ban again: %v %v", res, err)
	}
	if _, err := call(control.Request{Command: control.CmdBan, Args: []string{"sshd", "not-an-ip"}}); err == nil {
		t.Error("ban of a bad address accepted")
	}
	if _, err := call(control.Request{Command: control.CmdBan, Args: []string{"nope", "192.0.2.1"}}); err == nil || !strings.Contains(err.Error(), "jails: nginx, sshd") {
		t.Errorf("ban in an unknown jail: %v", err)
	}
	res, err = call(control.Request{Command: control.CmdStatus, Args: []string{"sshd"}})
	st := res.(control.JailStatus)
	if err != nil || st.CurrentlyBanned != 2 || len(st.Banned) != 2 || !slices.Equal(st.Files, []string{"/var/log/x.log"}) ||
		!slices.Equal(st.JournalMatches, []string{"_COMM=sshd"}) {
		t.Fatalf("status sshd: %+v %v", st, err)
	}
	if st.Banned[0] == "::ffff:192.0.2.2" || st.Banned[1] == "::ffff:192.0.2.2" {
		t.Errorf("mapped address kept: %v", st.Banned)
	}
	res, _ = call(control.Request{Command: control.CmdBanned})
	if len(res.([]control.BannedEntry)) != 2 {
		t.Errorf("banned: %v", res)
	}
	res, err = call(control.Request{Command: control.CmdUnban, Args: []string{"192.0.2.1", "192.0.2.9"}})
	if ur := res.(control.UnbanResult); err != nil || ur.Unbanned != 1 || len(ur.NotFound) != 1 {
		t.Errorf("unban: %+v %v", res, err)
	}
	if _, err := call(control.Request{Command: control.CmdUnban, Args: []string{"192.0.2.1"}, All: true}); err == nil {
		t.Error("unban with addresses and all accepted")
	}
	res, _ = call(control.Request{Command: control.CmdUnban, All: true})
	if res.(control.UnbanResult).Unbanned != 1 {
		t.Errorf("unban all: %+v", res)
	}
	if res, _ := call(control.Request{Command: control.CmdPing}); res != "pong" {
		t.Errorf("ping: %v", res)
	}
	if _, err := call(control.Request{Command: "dance"}); err == nil {
		t.Error("unknown command accepted")
	}
	if res, _ := call(control.Request{Command: control.CmdStop}); res != "stopping" {
		t.Errorf("stop: %v", res)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReloadSwapsOnlyValidPipelines(t *testing.T) {
	w := &world{jails: []string{"sshd"}}
	d, done := startDaemon(t, w)
	ctx := t.Context()

	w.mu.Lock()
	w.broken = true
	w.mu.Unlock()
	if _, err := d.Handle(ctx, control.Request{Command: control.CmdReload}); err == nil || !strings.Contains(err.Error(), "bad things") {
		t.Fatalf("invalid reload: %v", err)
	}
	// The old pipeline still answers.
	if _, err := d.Handle(ctx, control.Request{Command: control.CmdBan, Args: []string{"sshd", "192.0.2.1"}}); err != nil {
		t.Fatalf("after a refused reload: %v", err)
	}

	w.mu.Lock()
	w.broken = false
	w.jails = []string{"sshd", "web"}
	w.mu.Unlock()
	res, err := d.Handle(ctx, control.Request{Command: control.CmdReload})
	if err != nil || strings.Join(res.(control.ReloadResult).Jails, ",") != "sshd,web" {
		t.Fatalf("reload: %v %v", res, err)
	}
	d.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunEndsWithItsPipeline(t *testing.T) {
	w := &world{jails: []string{"sshd"}}
	d := New(Config{Compile: w.compile})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestStartErrorReturned(t *testing.T) {
	w := &world{jails: []string{"sshd"}, broken: true}
	d := New(Config{Compile: w.compile})
	if err := d.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "bad things") {
		t.Fatalf("Run = %v", err)
	}
}
