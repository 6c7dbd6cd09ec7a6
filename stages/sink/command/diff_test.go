package command

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/engine"
)

// This file compares sink "command" with fail2ban's own CommandAction: the
// driver testdata/fail2ban_driver.py runs the same cases through fail2ban
// 1.0.2's code (the Debian package that scripts/fetch-fail2ban.sh unpacks)
// and records every command fail2ban would execute; the sink, given the
// commands as fail2ban resolved their static tags, must run the very same
// scripts with the very same positional values, in the same order.

// diffNow is the wall time both sides see (start, stop and flush <time>).
const diffNow = 1700000100.5

// diffHost is the host name both sides see.
const diffHost = "host.example.org"

// diffOp is one step of a case: start and stop open and close the run; the
// others are actions.
type diffOp struct {
	Op       string            `json:"op"`
	IP       string            `json:"ip,omitempty"`
	Time     float64           `json:"time,omitempty"`
	Failures int               `json:"failures,omitempty"`
	BanTime  *int              `json:"bantime,omitempty"`
	BanCount int               `json:"bancount,omitempty"`
	Matches  []string          `json:"matches,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
	Restored bool              `json:"restored,omitempty"`
}

// failRule makes the first Times commands whose script contains Contains
// fail, on both sides.
type failRule struct {
	Contains string `json:"contains"`
	Times    int    `json:"times"`
}

// diffCase is an action (a stock action.d file, or commands written here)
// and the steps run through it.
type diffCase struct {
	Name string `json:"name"`
	// File is the action.d file; its Init options are those of
	// `action = file[k=v, …]` in jail.conf.
	File string            `json:"file,omitempty"`
	Init map[string]string `json:"init,omitempty"`
	// Commands, Family and Tags write a custom action (hook names as the
	// sink's attributes).
	Commands      map[string]string            `json:"commands,omitempty"`
	Family        map[string]map[string]string `json:"family,omitempty"`
	Tags          map[string]string            `json:"tags,omitempty"`
	StartOnDemand *bool                        `json:"start_on_demand,omitempty"`
	NoRestored    bool                         `json:"no_restored,omitempty"`
	RepairOnUnban bool                         `json:"repair_on_unban,omitempty"`
	Jail          string                       `json:"jail"`
	BanTime       int                          `json:"bantime"`
	Fail          []failRule                   `json:"fail,omitempty"`
	Ops           []diffOp                     `json:"ops"`
}

// diffResult is what the driver prints for a case.
type diffResult struct {
	Name          string                       `json:"name"`
	Static        map[string]map[string]string `json:"static"`
	StartOnDemand bool                         `json:"start_on_demand"`
	Conditional   bool                         `json:"conditional"`
	Execs         [][]string                   `json:"execs"`
}

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// Values an attacker controls: matched lines and a captured user name.
var (
	hostileMatches = []string{
		"Failed password for invalid user a; touch /tmp/f2b-pwned from 2001:db8::1",
		"user $(touch /tmp/f2b-pwned) `id` \"; touch /tmp/f2b-pwned; \" '; id; '",
		"x\ny\r\n$IFS${IFS}<ip> | & > < ~ * ? [a] {b} ^ # \\",
	}
	hostileUser = "root'\"; touch /tmp/f2b-pwned #"
)

// stockOps bans an IPv4 host with plain values, an IPv6 host with hostile
// ones and another IPv4 host with blanks and non-ASCII text, unbans the
// first and stops (flush, or one unban per ban still in force).
func stockOps() []diffOp {
	return []diffOp{
		{Op: "start"},
		{Op: "ban", IP: "192.0.2.1", Time: 1700000000.5, Failures: 3, BanCount: 1,
			Matches: []string{"Failed password for root from 192.0.2.1 port 22 ssh2"},
			Fields:  map[string]string{"user": "root"}},
		{Op: "ban", IP: "2001:db8::1", Time: 1700000001, Failures: 5, BanTime: intp(-1), BanCount: 2,
			Matches: hostileMatches, Fields: map[string]string{"user": hostileUser}},
		{Op: "ban", IP: "198.51.100.7", Time: 1700000002.25, Failures: 4, BanTime: intp(3600), BanCount: 1,
			Matches: []string{"a b\tc", "utilisateur: ユーザー é"}, Fields: map[string]string{"user": "a b"}},
		{Op: "unban", IP: "192.0.2.1"},
		{Op: "stop"},
	}
}

// allTags uses every dynamic and built-in tag (and a few unknown ones).
const allTags = `printf '%s|' <ip> <family> <ip-rev> <ip-host> <fid> <failures> <time> <bantime> <bancount> <restored> ` +
	`<F-USER> <F-ID> <F-PORT> <F-MISSING> <F-ALT-USER> <ipfailures> <ipjailfailures> <jail.name> <jail.banned> <jail.banned_total> ` +
	`<jail.found> <jail.found_total> <fq-hostname> <sh-hostname> <unknown> <port> <x y> a<sp>b <ip><br>` +
	`echo "<matches>" "<ipmatches>" "<ipjailmatches>" '<matches>' <matches><matches> "<F-USER>"`

func diffCases() []diffCase {
	stock := func(file string, init map[string]string, fail ...failRule) diffCase {
		if init == nil {
			init = map[string]string{}
		}
		if init["name"] == "" {
			init["name"] = "sshd"
		}
		return diffCase{Name: file, File: file, Init: init, Jail: "sshd", BanTime: 600, Fail: fail, Ops: stockOps()}
	}
	named := func(name string, c diffCase) diffCase {
		c.Name = name
		return c
	}
	cases := []diffCase{
		stock("nftables", map[string]string{"port": "ssh,http"}),
		stock("nftables-allports", nil),
		stock("iptables-multiport", map[string]string{"port": "ssh"}),
		// A failing ban whose check fails once: stop and start the
		// family, check again, retry the ban.
		stock("iptables", map[string]string{"port": "ssh"},
			failRule{Contains: "-s 192.0.2.1 -j", Times: 1}, failRule{Contains: "do\niptables -w -C INPUT", Times: 1}),
		// A failing start on demand: the ban does not run; the next ban
		// of the family starts it again.
		named("iptables-start-fails", stock("iptables", map[string]string{"port": "ssh"},
			failRule{Contains: "{ iptables -w -C INPUT", Times: 1})),
		stock("iptables-ipset-proto6", nil),
		stock("firewallcmd-ipset", nil),
		stock("pf", nil),
		stock("hostsdeny", nil),
		stock("route", nil),
		stock("dummy", nil),
		stock("ufw", nil),
		stock("apprise", nil),
		stock("abuseipdb", map[string]string{"abuseipdb_apikey": "k", "abuseipdb_category": "18,22"}),
		stock("blocklist_de", map[string]string{"email": "a@example.org", "apikey": "k", "service": "ssh"}),
		stock("nginx-block-map", nil),
		stock("xarf-login-attack", nil),
		stock("dshield", nil),
		stock("mail-buffered", nil),
		stock("sendmail-whois-matches", nil),
		stock("sendmail-whois-ipjailmatches", nil),
		stock("mynetwatchman", nil),
	}

	custom := func(name string, c diffCase) diffCase {
		c.Name = name
		if c.Jail == "" {
			c.Jail = "sshd"
		}
		if c.BanTime == 0 {
			c.BanTime = 600
		}
		return c
	}
	cases = append(cases,
		custom("custom-all-tags", diffCase{
			Commands: map[string]string{
				"start":   "echo start <family> <time> <bantime> <ip> <failures> <F-USER> <jail.banned> <matches> <sh-hostname>",
				"ban":     allTags,
				"prolong": "echo prolong <ip> <bantime> <bancount> <matches>",
				"unban":   allTags,
				"stop":    "echo stop <family> <time> <jail.banned> <jail.banned_total> <jail.found_total><br>echo done",
			},
			Tags: map[string]string{"port": "22"},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.1", Time: 1700000000.5, Failures: 3, BanCount: 1, Matches: []string{"plain line"},
					Fields: map[string]string{"user": "root", "fid": "id-1", "fport": "22", "alt-user": "alt"}},
				{Op: "ban", IP: "2001:db8::1", Time: 1700000001, Failures: 5, BanTime: intp(-1), BanCount: 2,
					Matches: hostileMatches, Fields: map[string]string{"user": hostileUser, "fid": "$(id)"}},
				{Op: "prolong", IP: "192.0.2.1", BanTime: intp(1200)},
				{Op: "prolong", IP: "2001:db8::1", BanTime: intp(-1)},
				{Op: "unban", IP: "2001:db8::1"},
				{Op: "stop"},
			},
		}),
		custom("custom-family-on-demand", diffCase{
			Commands: map[string]string{
				"start": "echo start <family> <set> <chain>",
				"stop":  "echo stop <family> <set>",
				"ban":   "echo add <set> <ip> <F-USER>",
				"unban": "echo del <set> <ip>",
				"flush": "echo flush <family> <set>",
			},
			Family: map[string]map[string]string{"inet6": {"ban": "echo add6 <set> <ip> '<F-USER>'"}},
			Tags: map[string]string{"set": "set-<name>", "set?family=inet6": "set6-<name>", "name": "sshd",
				"chain": "<<table>-<name>>", "table": "f2b"},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "2001:db8::2", Time: 1700000000, Failures: 2, Fields: map[string]string{"user": "r;m"}},
				{Op: "ban", IP: "192.0.2.2", Time: 1700000001, Failures: 2, Fields: map[string]string{"user": "bob"}},
				{Op: "ban", IP: "192.0.2.3", Time: 1700000002, Failures: 2},
				{Op: "unban", IP: "192.0.2.2"},
				{Op: "stop"},
			},
		}),
		custom("custom-family-at-start", diffCase{
			Commands: map[string]string{
				"start": "echo start <family>",
				"stop":  "echo stop",
				"ban":   "echo ban <ip>",
				"unban": "echo unban <ip>",
			},
			Family:        map[string]map[string]string{"inet6": {"unban": "echo unban6 <ip>"}},
			StartOnDemand: boolp(false),
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.4", Time: 1700000000},
				{Op: "unban", IP: "192.0.2.4"},
				{Op: "unban", IP: "2001:db8::4"}, // never banned: its family holds nothing
				{Op: "ban", IP: "2001:db8::5", Time: 1700000000},
				{Op: "stop"},
			},
		}),
		custom("custom-check-repair", diffCase{
			Commands: map[string]string{
				"start":  "echo start",
				"stop":   "echo stop",
				"check":  "echo check",
				"repair": "echo repair",
				"ban":    "echo ban <ip>",
				"unban":  "echo unban <ip>",
			},
			Fail: []failRule{{Contains: "ban 192.0.2.5", Times: 1}, {Contains: "check", Times: 1}},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.5", Time: 1700000000},
				{Op: "stop"},
			},
		}),
		custom("custom-restart-on-demand", diffCase{
			Commands: map[string]string{
				"start": "echo start <family>",
				"stop":  "echo stop <family>",
				"check": "echo check <family>",
				"ban":   "echo ban <ip>",
				"unban": "echo unban <ip>",
			},
			Family: map[string]map[string]string{"inet6": {}},
			Fail:   []failRule{{Contains: "ban 192.0.2.6", Times: 1}, {Contains: "check inet4", Times: 1}},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "2001:db8::6", Time: 1700000000},
				{Op: "ban", IP: "192.0.2.6", Time: 1700000001},
				{Op: "stop"},
			},
		}),
		custom("custom-unban-fails", diffCase{
			Commands: map[string]string{
				"check": "echo check",
				"ban":   "echo ban <ip>",
				"unban": "echo unban <ip>",
			},
			Fail: []failRule{{Contains: "unban 192.0.2.7", Times: 5}, {Contains: "check", Times: 1}},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.7", Time: 1700000000},
				{Op: "ban", IP: "192.0.2.8", Time: 1700000000},
				{Op: "unban", IP: "192.0.2.7"},
				{Op: "unban", IP: "192.0.2.8"},
				{Op: "stop"},
			},
		}),
		custom("custom-retry-without-check", diffCase{
			Commands: map[string]string{"ban": "echo ban <ip>", "unban": "echo unban <ip>"},
			Fail:     []failRule{{Contains: "ban 192.0.2.9", Times: 2}},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.9", Time: 1700000000},
				{Op: "ban", IP: "192.0.2.10", Time: 1700000000},
				{Op: "stop"},
			},
		}),
		custom("custom-flush-fails", diffCase{
			Commands: map[string]string{
				"start": "echo start",
				"stop":  "echo stop",
				"check": "echo check",
				"ban":   "echo ban <ip>",
				"unban": "echo unban <ip>",
				"flush": "echo flush",
			},
			Fail: []failRule{{Contains: "flush", Times: 1}, {Contains: "check", Times: 1}},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.11", Time: 1700000000},
				{Op: "stop"},
			},
		}),
		custom("custom-no-restored", diffCase{
			Commands: map[string]string{
				"ban":     "echo ban <ip> <restored>",
				"unban":   "echo unban <ip> <restored>",
				"prolong": "echo prolong <ip>",
			},
			NoRestored: true,
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.12", Time: 1700000000},
				{Op: "ban", IP: "192.0.2.13", Time: 1700000000, Restored: true},
				{Op: "prolong", IP: "192.0.2.13", BanTime: intp(1200)},
				{Op: "prolong", IP: "192.0.2.12", BanTime: intp(1200)},
				{Op: "unban", IP: "192.0.2.13"},
				{Op: "stop"},
			},
		}),
		custom("custom-reban-restored-flag", diffCase{
			Commands: map[string]string{
				"ban":   "if [ '<restored>' = '1' ]; then exit 0; fi; echo ban <ip>",
				"unban": "echo unban <ip>",
				"reban": "echo reban <ip>",
			},
			Ops: []diffOp{
				{Op: "start"},
				{Op: "ban", IP: "192.0.2.14", Time: 1700000000, Restored: true},
				{Op: "stop"},
			},
		}),
	)
	return cases
}

// fail2banRoot returns the unpacked fail2ban package, or skips the test.
func fail2banRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("F2B_FAIL2BAN_ROOT")
	if root == "" {
		cache := os.Getenv("F2B_CACHE")
		if cache == "" {
			base := os.Getenv("XDG_CACHE_HOME")
			if base == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					t.Skip("no home directory for the fail2ban cache")
				}
				base = filepath.Join(home, ".cache")
			}
			cache = filepath.Join(base, "f2b")
		}
		root = filepath.Join(cache, "fail2ban", "root")
		if _, err := os.Stat(filepath.Join(root, ".complete")); err != nil {
			t.Skipf("fail2ban is not unpacked at %s: run scripts/fetch-fail2ban.sh (or set F2B_FAIL2BAN_ROOT)", root)
		}
	}
	return root
}

// runDriver runs the cases through fail2ban.
func runDriver(t *testing.T, cases []diffCase) []diffResult {
	t.Helper()
	root := fail2banRoot(t)
	py, err := osexec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(py, filepath.Join("testdata", "fail2ban_driver.py"), filepath.Join(root, "etc", "fail2ban"))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "usr", "lib", "python3", "dist-packages"), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("driver: %v\n%s", err, stderr.String())
	}
	var res []diffResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("driver output: %v", err)
	}
	if len(res) != len(cases) {
		t.Fatalf("driver returned %d results for %d cases", len(res), len(cases))
	}
	return res
}

// argsFor builds the sink's arguments for a case: for a stock action, the
// commands as fail2ban resolved their static tags (what `f2b import`
// writes), a family block where a family's command differs, and
// start_on_demand as fail2ban decided it.
func argsFor(c diffCase, r diffResult) *Arguments {
	a := &Arguments{Timeout: "5s", Tags: map[string]string{"bantime": strconv.Itoa(c.BanTime)}}
	set := func(cmds map[string]string, h hook, v string) { cmds[hookNames[h]] = v }
	base := map[string]string{}
	fams := map[string]map[string]string{}
	if c.File != "" {
		for h := range numHooks {
			per := r.Static[hookNames[h]]
			set(base, h, per[""])
			for _, fam := range []string{familyInet4, familyInet6} {
				if per[fam] != per[""] {
					if fams[fam] == nil {
						fams[fam] = map[string]string{}
					}
					fams[fam][hookNames[h]] = per[fam]
				}
			}
		}
		if r.Conditional {
			for _, fam := range []string{familyInet4, familyInet6} {
				if fams[fam] == nil {
					fams[fam] = map[string]string{}
				}
			}
		}
		a.StartOnDemand = boolp(r.StartOnDemand)
	} else {
		base = c.Commands
		fams = c.Family
		for k, v := range c.Tags {
			a.Tags[k] = v
		}
		a.StartOnDemand = c.StartOnDemand
	}
	a.Start, a.Stop, a.Check = base["start"], base["stop"], base["check"]
	a.Ban, a.Unban, a.Flush = base["ban"], base["unban"], base["flush"]
	a.Repair, a.Reban, a.Prolong = base["repair"], base["reban"], base["prolong"]
	for _, fam := range sortedKeysOf(fams) {
		fa := FamilyArguments{Name: fam}
		ptr := func(k string) *string {
			if v, ok := fams[fam][k]; ok {
				return &v
			}
			return nil
		}
		fa.Start, fa.Stop, fa.Check = ptr("start"), ptr("stop"), ptr("check")
		fa.Ban, fa.Unban, fa.Flush = ptr("ban"), ptr("unban"), ptr("flush")
		fa.Repair, fa.Reban, fa.Prolong = ptr("repair"), ptr("reban"), ptr("prolong")
		a.Family = append(a.Family, fa)
	}
	a.NoRestored = c.NoRestored
	a.RepairOnUnban = c.RepairOnUnban
	return a
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fixedClock is a clock that always says t.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                      { return c.t }
func (c fixedClock) NewTimer(time.Duration) engine.Timer { return engine.LogClock{}.NewTimer(0) }

// pyTimeOf turns seconds as a float into a time.
func pyTimeOf(f float64) time.Time {
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9)))
}

// eventsFor turns a case's actions into events.
func eventsFor(t *testing.T, c diffCase) []engine.Event {
	t.Helper()
	if len(c.Ops) < 2 || c.Ops[0].Op != "start" || c.Ops[len(c.Ops)-1].Op != "stop" {
		t.Fatalf("case %s: the steps must start with start and end with stop", c.Name)
	}
	var evs []engine.Event
	for _, op := range c.Ops[1 : len(c.Ops)-1] {
		a := &engine.Action{Jail: c.Jail, Host: netip.MustParseAddr(op.IP), HostText: op.IP}
		switch op.Op {
		case "ban":
			a.Type = engine.Ban
			a.Failures, a.BanCount, a.Matches, a.Restored = op.Failures, op.BanCount, op.Matches, op.Restored
			// The engine keeps <F-ALT-USER> as "alt_user".
			for k, v := range op.Fields {
				if a.Fields == nil {
					a.Fields = map[string]string{}
				}
				a.Fields[strings.ReplaceAll(k, "-", "_")] = v
			}
			a.BanTime = 600 * time.Second
			if op.BanCount == 0 {
				a.BanCount = 1
			}
			a.Start = pyTimeOf(op.Time)
		case "prolong":
			a.Type = engine.Prolong
		case "unban":
			a.Type = engine.Unban
		default:
			t.Fatalf("case %s: unknown step %q", c.Name, op.Op)
		}
		if op.BanTime != nil {
			a.BanTime = time.Duration(*op.BanTime) * time.Second
			if *op.BanTime == -1 {
				a.BanTime = engine.Permanent
			}
		}
		evs = append(evs, engine.Event{Kind: engine.KindAction, Time: a.Start, Action: a})
	}
	return evs
}

// recordingExec returns an exec function that records each script and
// fails as rules say, like the driver's Recorder.
func recordingExec(rules []failRule, execs *[][]string) func(r *runner, h hook, fam string, tk *ticket, sc script) bool {
	left := make([]failRule, len(rules))
	copy(left, rules)
	return func(r *runner, h hook, fam string, tk *ticket, sc script) bool {
		*execs = append(*execs, append([]string{sc.text}, sc.args...))
		for i := range left {
			if left[i].Times > 0 && strings.Contains(sc.text, left[i].Contains) {
				left[i].Times--
				return false
			}
		}
		return true
	}
}

// TestDifferentialFail2ban runs every case through fail2ban and through
// the sink and compares the commands run, byte for byte.
func TestDifferentialFail2ban(t *testing.T) {
	t.Parallel()
	cases := diffCases()
	results := runDriver(t, cases)
	for i, c := range cases {
		r := results[i]
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s, err := New(engine.Options{ID: "sink.diff", Clock: fixedClock{pyTimeOf(diffNow)}}, argsFor(c, r))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			s.hostname = func() (string, error) { return diffHost, nil }
			var got [][]string
			s.exec = recordingExec(c.Fail, &got)
			evs := eventsFor(t, c)
			in := make(chan engine.Event, len(evs))
			for _, ev := range evs {
				in <- ev
			}
			close(in)
			if err := s.Run(t.Context(), in, nil); err != nil {
				t.Fatal(err)
			}
			if len(r.Execs) == 0 {
				t.Fatalf("fail2ban ran nothing; the case tests nothing")
			}
			compareExecs(t, got, r.Execs)
		})
	}
}

// compareExecs reports the first difference between the scripts the sink
// ran and those fail2ban ran.
func compareExecs(t *testing.T, got, want [][]string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("command %d: fail2ban ran %q, the sink nothing more", i, want[i])
		case i >= len(want):
			t.Errorf("command %d: the sink ran %q, fail2ban nothing more", i, got[i])
		case !slices.Equal(got[i], want[i]):
			t.Errorf("command %d differs:\n sink:     %q\n fail2ban: %q", i, got[i], want[i])
		default:
			continue
		}
		return
	}
}
