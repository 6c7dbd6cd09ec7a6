package failfilter

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2bproject/f2b/failregex"
)

// now is the tests' clock: 2005-08-14 12:00 CEST, fail2ban's TEST_NOW.
var (
	cet   = time.FixedZone("CET", 3600)
	tnow  = time.Unix(1124013600, 0)
	clock = func() time.Time { return tnow }
)

func newFilter(t testing.TB, def Definition, opts Options) *Filter {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock
	}
	if opts.Location == nil {
		opts.Location = cet
	}
	f, err := New(def, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// summary prints failures compactly: "regex:id[:fields]".
func summary(fs []Failure) string {
	var parts []string
	for _, f := range fs {
		s := fmt.Sprintf("%d:%s", f.Regex, f.ID)
		if f.NoFail {
			s += ":nofail"
		}
		if f.Pending {
			s += ":pending"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

const syslogPrefix = `^\s*\S+ \S+\[\d+\]: `

func TestDateCutAndBuffer(t *testing.T) {
	t.Parallel()
	f := newFilter(t, Definition{FailRegex: []string{
		`^ host sshd\[\d+\]: fail from <HOST>$`, // the date is cut, the blank after it stays
	}}, Options{})
	got := f.ProcessLine("Aug 14 11:59:58 host sshd[1]: fail from 192.0.2.1")
	if len(got) != 1 || got[0].ID != "192.0.2.1" {
		t.Fatalf("got %v", summary(got))
	}
	if want := time.Date(2005, 8, 14, 11, 59, 58, 0, cet); !got[0].Time.Equal(want) {
		t.Errorf("time %v, want %v", got[0].Time, want)
	}
	if got[0].Host != netip.MustParseAddr("192.0.2.1") || got[0].Attempts != 1 || got[0].Lines[0] != "Aug 14 11:59:58 host sshd[1]: fail from 192.0.2.1" {
		t.Errorf("failure %+v", got[0])
	}
	// A date in the middle: the text around it is joined.
	f = newFilter(t, Definition{FailRegex: []string{`^x  y <HOST>$`}}, Options{})
	if got := f.ProcessLine("x 2005-08-14 11:00:00 y 192.0.2.2"); summary(got) != "0:192.0.2.2" {
		t.Errorf("mid-line date: %v", summary(got))
	}
}

func TestLastDate(t *testing.T) {
	t.Parallel()
	f := newFilter(t, Definition{FailRegex: []string{`fail from <HOST>`}}, Options{})
	// A current date is reused by the next line without date.
	f.ProcessLine("Aug 14 11:59:30 host x: start")
	got := f.ProcessLine("fail from 192.0.2.3")
	if len(got) != 1 || !got[0].Time.Equal(time.Date(2005, 8, 14, 11, 59, 30, 0, cet)) {
		t.Fatalf("got %+v", got)
	}
	if got[0].Lines[0] != "Aug 14 11:59:30fail from 192.0.2.3" {
		t.Errorf("matched line %q: the last date text goes in front", got[0].Lines[0])
	}
	// An old date is not: the line has no time (fail2ban's samples test).
	f.ProcessLine("Aug 14 10:00:00 host x: start")
	got = f.ProcessLine("fail from 192.0.2.4")
	if len(got) != 1 || !got[0].Time.IsZero() {
		t.Fatalf("got %+v", got)
	}
	if f.Stats().NoDate != 2 {
		t.Errorf("NoDate = %d", f.Stats().NoDate)
	}
	// In operation, a line without date is now.
	f = newFilter(t, Definition{FailRegex: []string{`fail from <HOST>`}}, Options{CheckFindTime: true, InOperation: true, FindTime: time.Hour})
	if got := f.ProcessLine("fail from 192.0.2.4"); len(got) != 1 || !got[0].Time.Equal(tnow) {
		t.Fatalf("got %+v", got)
	}
	// ... as is a date far from now.
	if got := f.ProcessLine("2001-01-01 00:00:00 fail from 192.0.2.4"); len(got) != 1 || !got[0].Time.Equal(tnow) {
		t.Fatalf("got %+v", got)
	}
	// Before operation, lines older than findtime are dropped.
	f = newFilter(t, Definition{FailRegex: []string{`fail from <HOST>`}}, Options{CheckFindTime: true, FindTime: time.Hour})
	if got := f.ProcessLine("2005-08-14 09:00:00 fail from 192.0.2.4"); len(got) != 0 {
		t.Fatalf("old line: %+v", got)
	}
	if got := f.ProcessLine("2005-08-14 11:30:00 fail from 192.0.2.4"); len(got) != 1 {
		t.Fatalf("recent line: %+v", got)
	}
}

func TestDatePatterns(t *testing.T) {
	t.Parallel()
	// {NONE}: no date is looked for; the time is now.
	f := newFilter(t, Definition{FailRegex: []string{`^2001-01-01 fail <HOST>`}, DatePattern: []string{"{NONE}"}}, Options{})
	if got := f.ProcessLine("2001-01-01 fail 192.0.2.5"); len(got) != 1 || !got[0].Time.Equal(tnow) {
		t.Fatalf("{NONE}: %+v", got)
	}
	// {DATE} inside a pattern: the defaults after the first "[".
	f = newFilter(t, Definition{FailRegex: []string{`^<HOST> - - \[\] "GET`}, DatePattern: []string{`^[^\[]*\[({DATE})`}}, Options{})
	got := f.ProcessLine(`192.0.2.6 - - [14/Aug/2005:11:00:00 +0200] "GET / HTTP/1.1"`)
	if len(got) != 1 || !got[0].Time.Equal(time.Date(2005, 8, 14, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("{DATE}: %+v", got)
	}
	// {^LN-BEG}: a date only at the start of the line.
	f = newFilter(t, Definition{FailRegex: []string{`fail <HOST>`}, DatePattern: []string{"{^LN-BEG}"}}, Options{})
	if got := f.ProcessLine("x 2005-08-14 11:00:00 fail 192.0.2.7"); len(got) != 1 || !got[0].Time.IsZero() {
		t.Fatalf("{^LN-BEG}: %+v", got)
	}
	// An empty date match (a pattern whose group may be empty) means now.
	f = newFilter(t, Definition{FailRegex: []string{`fail <HOST>`}, DatePattern: []string{`^I\(()**`}}, Options{})
	if got := f.ProcessLine("I(x) fail 192.0.2.8"); len(got) != 1 || !got[0].Time.Equal(tnow) {
		t.Fatalf("empty date: %+v", got)
	}
	// logtimezone applies to dates without zone.
	f = newFilter(t, Definition{FailRegex: []string{`fail <HOST>`}, LogTimeZone: "UTC"}, Options{})
	if got := f.ProcessLine("2005-08-14 09:00:00 fail 192.0.2.9"); len(got) != 1 || !got[0].Time.Equal(time.Date(2005, 8, 14, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("logtimezone: %+v", got)
	}
	// Fractions are dropped as in fail2ban, except for EPOCH.
	f = newFilter(t, Definition{FailRegex: []string{`fail <HOST>`}}, Options{})
	if got := f.ProcessLine("2005-08-14 09:00:00.750 fail 192.0.2.9"); len(got) != 1 || got[0].Time.Nanosecond() != 0 {
		t.Fatalf("fraction: %+v", got)
	}
	f = newFilter(t, Definition{FailRegex: []string{`fail <HOST>`}, DatePattern: []string{"EPOCH"}}, Options{})
	if got := f.ProcessLine("1124000000.750 fail 192.0.2.9"); len(got) != 1 || got[0].Time.Nanosecond() != 750e6 {
		t.Fatalf("epoch fraction: %+v", got)
	}
}

func TestPrefRegexContent(t *testing.T) {
	t.Parallel()
	f := newFilter(t, Definition{
		PrefRegex: `^\s*\S+ (?P<daemon>sshd)\[\d+\]: <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{
			`^Failed for <F-USER>\S+</F-USER> from <HOST>$`,
			`^(?P<daemon>x)? from <HOST>$`, // its own daemon group did not take part: None wins
		},
	}, Options{CheckAllRegex: true})
	got := f.ProcessLine("2005-08-14 11:00:00 host sshd[1]: Failed for root from 192.0.2.10")
	if summary(got) != "0:192.0.2.10" || got[0].Fields["daemon"] != "sshd" || got[0].Fields["user"] != "root" {
		t.Fatalf("got %+v", got)
	}
	if _, ok := got[0].Fields["content"]; ok {
		t.Error("content is not a field")
	}
	got = f.ProcessLine("2005-08-14 11:00:00 host sshd[1]:  from 192.0.2.11")
	if summary(got) != "1:192.0.2.11" {
		t.Fatalf("got %v", summary(got))
	}
	if _, ok := got[0].Fields["daemon"]; ok {
		t.Errorf("daemon = %q: the failregex's unmatched group overrides the prefregex's", got[0].Fields["daemon"])
	}
	// A line the prefregex does not match is not looked at further.
	if got := f.ProcessLine("2005-08-14 11:00:00 host cron[1]: Failed for root from 192.0.2.10"); len(got) != 0 {
		t.Fatalf("got %v", summary(got))
	}
}

func TestIgnoreRegex(t *testing.T) {
	t.Parallel()
	def := Definition{
		FailRegex:   []string{`fail from <HOST>`, `error from <HOST>`},
		IgnoreRegex: []string{`from 192\.0\.2\.99`},
	}
	for _, all := range []bool{false, true} {
		f := newFilter(t, def, Options{CheckAllRegex: all})
		if got := f.ProcessLine("fail from 192.0.2.99"); len(got) != 0 {
			t.Errorf("checkAll=%v: ignored line gave %v", all, summary(got))
		}
		if got := f.ProcessLine("fail from 192.0.2.98"); summary(got) != "0:192.0.2.98" {
			t.Errorf("checkAll=%v: got %v", all, summary(got))
		}
		if f.Stats().Ignored != 1 {
			t.Errorf("Ignored = %d", f.Stats().Ignored)
		}
	}
	// With fewer ignoreregexes than failregexes minus two, they are also
	// checked first, on the whole line: the line is not looked at at all.
	def = Definition{
		FailRegex:   []string{`a <HOST>`, `b <HOST>`, `c <HOST>`, `d <HOST>`},
		IgnoreRegex: []string{`^skip`},
	}
	f := newFilter(t, def, Options{})
	if got := f.ProcessLine("skip a 192.0.2.1"); len(got) != 0 || f.Stats().Ignored != 0 {
		t.Errorf("pre-check: %v, ignored %d", summary(got), f.Stats().Ignored)
	}
}

func TestCheckAllRegex(t *testing.T) {
	t.Parallel()
	def := Definition{FailRegex: []string{`from <HOST>`, `x from <HOST>`}}
	if got := newFilter(t, def, Options{}).ProcessLine("x from 192.0.2.1"); summary(got) != "0:192.0.2.1" {
		t.Errorf("first match: %v", summary(got))
	}
	if got := newFilter(t, def, Options{CheckAllRegex: true}).ProcessLine("x from 192.0.2.1"); summary(got) != "0:192.0.2.1 1:192.0.2.1" {
		t.Errorf("all: %v", summary(got))
	}
}

func TestHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, regex, line string
		opts              Options
		id, host, text    string
		bits              int
	}{
		{"ipv4", `from <HOST>`, "from 192.0.2.1", Options{}, "192.0.2.1", "192.0.2.1", "192.0.2.1", -1},
		{"mapped", `from <HOST>`, "from ::ffff:192.0.2.1", Options{}, "192.0.2.1", "192.0.2.1", "192.0.2.1", -1},
		{"ipv6", `from <HOST>`, "from 2001:DB8::1", Options{}, "2001:db8::1", "2001:db8::1", "2001:DB8::1", -1},
		{"ipv6 trailing ::", `from <HOST> x`, "from 2001:db8:: x", Options{}, "2001:db8::", "2001:db8::", "2001:db8::", -1},
		{"brackets", `from <ADDR>:\d+`, "from [2001:db8::2]:22", Options{}, "2001:db8::2", "2001:db8::2", "2001:db8::2", -1},
		{"leading zero is raw", `from <HOST>`, "from 192.030.0.6", Options{}, "192.030.0.6", "", "192.030.0.6", -1},
		{"dns kept", `from <HOST>$`, "from example.com", Options{}, "example.com", "", "example.com", -1},
		{"dns raw", `from <HOST>$`, "from example.com", Options{ReturnRawHost: true}, "example.com", "", "example.com", -1},
		{"dns resolved", `from <HOST>$`, "from example.com", Options{Resolve: func(string) []netip.Addr {
			return []netip.Addr{netip.MustParseAddr("192.0.2.50")}
		}}, "192.0.2.50", "192.0.2.50", "example.com", -1},
		{"subnet", `net <SUBNET>`, "net 192.0.2.77/24", Options{}, "192.0.2.0/24", "192.0.2.0", "192.0.2.77", 24},
		{"f-id", `user <F-ID/> at`, "user bob at", Options{}, "bob", "", "bob", -1},
		{"f-id and host", `user <F-ID/> from <HOST>`, "user bob from 192.0.2.3", Options{}, "bob", "192.0.2.3", "192.0.2.3", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := newFilter(t, Definition{FailRegex: []string{tc.regex}}, tc.opts).ProcessLine(tc.line)
			if len(got) != 1 {
				t.Fatalf("got %v", summary(got))
			}
			g := got[0]
			host := ""
			if g.Host.IsValid() {
				host = g.Host.String()
			}
			if g.ID != tc.id || host != tc.host || g.HostText != tc.text || g.Bits != tc.bits {
				t.Errorf("ID %q Host %q HostText %q Bits %d, want %q %q %q %d", g.ID, host, g.HostText, g.Bits, tc.id, tc.host, tc.text, tc.bits)
			}
		})
	}
	// usedns=no: <HOST> is <ADDR>.
	f := newFilter(t, Definition{FailRegex: []string{`from <HOST>$`}, UseDNS: "no"}, Options{})
	if got := f.ProcessLine("from example.com"); len(got) != 0 {
		t.Errorf("usedns=no matched a name: %v", summary(got))
	}
	// <F-PORT/> is the field "fport".
	f = newFilter(t, Definition{FailRegex: []string{`from <HOST> port <F-PORT/>`}}, Options{})
	if got := f.ProcessLine("from 192.0.2.1 port 22"); len(got) != 1 || got[0].Fields["fport"] != "22" {
		t.Errorf("port: %+v", got)
	}
}

func TestAltAndTuple(t *testing.T) {
	t.Parallel()
	f := newFilter(t, Definition{FailRegex: []string{
		`^(?:user=<F-USER>\S*</F-USER> )?(?:ruser=<F-ALT_USER>\S*</F-ALT_USER> )?(?:luser=<F-ALT_USER_2>\S+</F-ALT_USER_2> )?from <HOST>$`,
		`^t <F-TUPLE_ID_1>\w+</F-TUPLE_ID_1> <F-TUPLE_ID_2>\w+</F-TUPLE_ID_2> <F-ID>\w+</F-ID>$`,
	}}, Options{})
	for line, want := range map[string]string{
		"user=root from 192.0.2.1":                       "root",
		"user= ruser=bob from 192.0.2.1":                 "bob",
		"ruser= luser=eve from 192.0.2.1":                "eve",
		"user=root ruser=bob luser=eve from 192.0.2.1":   "root",
		"user= ruser= luser=eve from 192.0.2.1":          "eve",
		"user=root ruser=bob from 192.0.2.1 extra":       "",
		"user=alice ruser=bob luser=eve from 192.0.2.1 ": "",
	} {
		got := f.ProcessLine(line)
		if want == "" {
			if len(got) != 0 {
				t.Errorf("%q: %v", line, summary(got))
			}
			continue
		}
		if len(got) != 1 || got[0].Fields["user"] != want {
			t.Errorf("%q: user %q, want %q", line, got[0].Fields["user"], want)
		}
	}
	got := f.ProcessLine("t a b c")
	if len(got) != 1 || got[0].ID != "('c', 'a', 'b')" {
		t.Errorf("tuple id %+v", got)
	}
}

// sshdLike is a small multi-line id filter in the style of fail2ban's sshd.
func sshdLike() Definition {
	return Definition{
		PrefRegex: `^\s*<F-MLFID>\S+ sshd\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`,
		FailRegex: []string{
			`^Failed (?:<F-NOFAIL>publickey</F-NOFAIL>|password) for <F-USER>\S+</F-USER> from <HOST>`,
			`^Disconnecting: Too many authentication failures`,
			`^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>`,
			`^<F-MLFGAINED>Accepted \w+</F-MLFGAINED> for <F-USER>\S+</F-USER> from <HOST>`,
			`^<F-MLFFORGET>Connection closed</F-MLFFORGET>`,
		},
	}
}

func TestMultiLineID(t *testing.T) {
	t.Parallel()
	const p = "2005-08-14 11:00:00 "
	t.Run("nofail then failure", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{})
		if got := f.ProcessLine(p + "h sshd[1]: Failed publickey for root from 192.0.2.1"); len(got) != 0 {
			t.Fatalf("nofail reported: %v", summary(got))
		}
		got := f.ProcessLine(p + "h sshd[1]: Failed password for root from 192.0.2.1")
		// The helper line counts with the failure (fail2ban's nofail-matches).
		if summary(got) != "0:192.0.2.1" || got[0].Attempts != 2 || !slices.Equal(got[0].Users, []string{"root"}) {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("address from an earlier line", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{})
		f.ProcessLine(p + "h sshd[2]: Connection from 192.0.2.2 port 1")
		got := f.ProcessLine(p + "h sshd[2]: Disconnecting: Too many authentication failures")
		if summary(got) != "1:192.0.2.2" || got[0].Fields["mlfid"] != "h sshd[2]:" {
			t.Fatalf("got %+v", got)
		}
		// Another connection knows nothing.
		if got := f.ProcessLine(p + "h sshd[3]: Disconnecting: Too many authentication failures"); len(got) != 0 {
			t.Fatalf("pending reported: %v", summary(got))
		}
	})
	t.Run("pending then address", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{KeepPending: true})
		got := f.ProcessLine(p + "h sshd[4]: Disconnecting: Too many authentication failures")
		if summary(got) != "1::pending" {
			t.Fatalf("got %v", summary(got))
		}
		// The pending failure turns the next helper line into a failure.
		got = f.ProcessLine(p + "h sshd[4]: Connection from 192.0.2.4 port 1")
		if summary(got) != "2:192.0.2.4" || got[0].Attempts != 2 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("second user makes nofail a failure", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{})
		f.ProcessLine(p + "h sshd[5]: Failed publickey for alice from 192.0.2.5")
		got := f.ProcessLine(p + "h sshd[5]: Failed publickey for bob from 192.0.2.5")
		if summary(got) != "0:192.0.2.5" || !slices.Equal(got[0].Users, []string{"alice", "bob"}) || got[0].Attempts != 2 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("gained resets pending", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{})
		f.ProcessLine(p + "h sshd[6]: Disconnecting: Too many authentication failures")
		if got := f.ProcessLine(p + "h sshd[6]: Accepted publickey for root from 192.0.2.6"); len(got) != 0 {
			t.Fatalf("gained reported: %v", summary(got))
		}
	})
	t.Run("forget", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{})
		f.ProcessLine(p + "h sshd[7]: Connection from 192.0.2.7 port 1")
		f.ProcessLine(p + "h sshd[7]: Connection closed")
		if got := f.ProcessLine(p + "h sshd[7]: Disconnecting: Too many authentication failures"); len(got) != 0 {
			t.Fatalf("forgotten connection still known: %v", summary(got))
		}
	})
	t.Run("checkAllRegex reports helpers", func(t *testing.T) {
		t.Parallel()
		f := newFilter(t, sshdLike(), Options{CheckAllRegex: true})
		if got := f.ProcessLine(p + "h sshd[8]: Connection from 192.0.2.8 port 1"); summary(got) != "2:192.0.2.8:nofail" {
			t.Fatalf("got %v", summary(got))
		}
	})
}

func TestIDCache(t *testing.T) {
	t.Parallel()
	c := newIDCache(3, time.Minute)
	now := tnow
	for i := 0; i < 3; i++ {
		d := &dict{}
		d.set(keyOf("n"), box(i))
		c.set(fmt.Sprint(i), d, now)
	}
	c.set("3", &dict{}, now) // full: the oldest goes
	if c.get("0", now) != nil || c.get("1", now) == nil || c.get("3", now) == nil {
		t.Error("eviction is not first in, first out")
	}
	if c.get("1", now.Add(time.Minute)) != nil {
		t.Error("expired entry returned")
	}
	// Expired entries at the front go with one live one.
	c = newIDCache(3, time.Minute)
	c.set("a", &dict{}, now)
	c.set("b", &dict{}, now)
	c.set("c", &dict{}, now.Add(2*time.Minute))
	c.set("d", &dict{}, now.Add(90*time.Second))
	if c.len() != 1 || c.get("d", now.Add(90*time.Second)) == nil {
		t.Errorf("len %d after eviction", c.len())
	}
}

// TestIDCacheModel: random gets, sets and unsets give what a plain list
// in insertion order (fail2ban's OrderedDict) gives.
func TestIDCacheModel(t *testing.T) {
	type ent struct {
		key string
		exp time.Time
		val *dict
	}
	var model []ent
	find := func(k string) int {
		for i, e := range model {
			if e.key == k {
				return i
			}
		}
		return -1
	}
	c := newIDCache(5, time.Minute)
	r := rand.New(rand.NewPCG(7, 8))
	now := tnow
	for step := range 20000 {
		now = now.Add(time.Duration(r.IntN(20)) * time.Second)
		k := fmt.Sprint(r.IntN(12))
		switch r.IntN(3) {
		case 0:
			got := c.get(k, now)
			var want *dict
			if i := find(k); i >= 0 {
				if model[i].exp.After(now) {
					want = model[i].val
				} else {
					model = append(model[:i], model[i+1:]...)
				}
			}
			if got != want {
				t.Fatalf("step %d: get %s = %p, want %p", step, k, got, want)
			}
		case 1:
			v := &dict{}
			c.set(k, v, now)
			if len(model) >= 5 {
				for len(model) > 0 {
					e := model[0]
					model = model[1:]
					if e.exp.After(now) && len(model) < 5 {
						break
					}
				}
			}
			if i := find(k); i >= 0 {
				model[i].val, model[i].exp = v, now.Add(time.Minute)
			} else {
				model = append(model, ent{k, now.Add(time.Minute), v})
			}
		default:
			c.unset(k)
			if i := find(k); i >= 0 {
				model = append(model[:i], model[i+1:]...)
			}
		}
		if c.len() != len(model) {
			t.Fatalf("step %d: %d entries, want %d", step, c.len(), len(model))
		}
		i := c.head
		for _, e := range model {
			if i < 0 || c.ents[i].key != e.key {
				t.Fatalf("step %d: order differs", step)
			}
			i = c.ents[i].next
		}
	}
}

func TestMaxLines(t *testing.T) {
	t.Parallel()
	def := Definition{
		MaxLines:  4,
		FailRegex: []string{`^ \[conn(?P<c>\d+)\] auth failed<SKIPLINES>^ \[conn(?P=c)\] end from <HOST>$`},
	}
	f := newFilter(t, def, Options{})
	lines := []string{
		"2005-08-14 11:00:00 [conn1] auth failed",
		"2005-08-14 11:00:01 [conn2] other",
		"2005-08-14 11:00:02 [conn1] end from 192.0.2.1",
		"2005-08-14 11:00:03 [conn2] end from 192.0.2.2",
	}
	var got []Failure
	for _, l := range lines[:3] {
		got = append(got, f.ProcessLine(l)...)
	}
	if summary(got) != "0:192.0.2.1" {
		t.Fatalf("got %v", summary(got))
	}
	if !slices.Equal(got[0].Lines, []string{lines[0], lines[2]}) {
		t.Errorf("matched lines %q, want the two of conn1 (the skipped line stays in the buffer)", got[0].Lines)
	}
	// The matched lines left the buffer; the skipped one stayed.
	if len(f.lineBuf) != 1 || f.lineBuf[0].text() != lines[1] {
		t.Errorf("buffer %v", f.lineBuf)
	}
	if got := f.ProcessLine(lines[3]); len(got) != 0 || len(f.lineBuf) != 2 {
		t.Errorf("got %v, buffer %v", summary(got), f.lineBuf)
	}
	// Ignoreregexes see the matched lines only.
	def.IgnoreRegex = []string{`other`}
	f = newFilter(t, def, Options{})
	got = nil
	for _, l := range lines {
		got = append(got, f.ProcessLine(l)...)
	}
	if summary(got) != "0:192.0.2.1" {
		t.Fatalf("ignore on skipped lines: %v", summary(got))
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	f := newFilter(t, Definition{FailRegex: []string{`^host sshd\[\d+\]: fail from <HOST>$`}}, Options{})
	when := time.Date(2005, 8, 14, 10, 0, 0, 0, cet)
	got := f.ProcessSplit("", "2005-08-14T09:00:00", "host sshd[1]: fail from 192.0.2.1", when)
	if len(got) != 1 || !got[0].Time.Equal(when) {
		t.Fatalf("got %+v", got)
	}
	// The journal's time is the last date for lines without one.
	if got := f.ProcessLine("host sshd[1]: fail from 192.0.2.2"); len(got) != 1 || !got[0].Time.IsZero() {
		t.Fatalf("old last date reused: %+v", got)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	_, err := New(Definition{
		FailRegex:   []string{`ok <HOST>`, `no id here`, `bad (<HOST>`, ``},
		IgnoreRegex: []string{`(?P<x>`},
		PrefRegex:   `(`,
		DatePattern: []string{`%Q`},
		LogTimeZone: "Mars/Olympus",
	}, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"prefregex:", "failregex[1]:", "failregex[2]:", "failregex[3]:", "ignoreregex[0]:", "datepattern:", "logtimezone:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	if !errors.Is(err, ErrNoFailureID) || !errors.Is(err, ErrEmptyRegex) || !errors.Is(err, failregex.ErrSyntax) {
		t.Errorf("sentinels missing from %v", err)
	}
	// A failure id in the prefregex is enough.
	if _, err := New(Definition{PrefRegex: `^<F-MLFID>\S+</F-MLFID> <F-CONTENT>.+</F-CONTENT>$`, FailRegex: []string{`^fail$`}}, Options{}); err != nil {
		t.Errorf("mlfid in prefregex: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	// (a|aa)+ before a look-ahead that fails backtracks exponentially.
	def := Definition{FailRegex: []string{`^(?:a|aa)+(?=b)<HOST>`, `from <HOST>`}}
	f := newFilter(t, def, Options{MatchTimeout: 5 * time.Millisecond})
	start := time.Now()
	got := f.ProcessLine(strings.Repeat("a", 60) + "c from 192.0.2.1")
	if d := time.Since(start); d > time.Second {
		t.Errorf("hostile line took %v", d)
	}
	if len(got) != 0 || f.Stats().TimedOut != 1 {
		t.Errorf("got %v, timed out %d", summary(got), f.Stats().TimedOut)
	}
	// The next line is processed normally.
	if got := f.ProcessLine("x from 192.0.2.2"); summary(got) != "1:192.0.2.2" {
		t.Errorf("after a timeout: %v", summary(got))
	}
	if bt, why := f.Backtracking(0); !bt || !strings.Contains(why, "lookahead") {
		t.Errorf("Backtracking(0) = %v %q", bt, why)
	}
	if bt, _ := f.Backtracking(1); bt {
		t.Error("a plain regex runs on the backtracking engine")
	}
}

func TestNoAllocNoMatch(t *testing.T) {
	f := newFilter(t, sshdLike(), Options{})
	lines := []string{
		"2005-08-14 11:00:00 h cron[1]: session opened for user root",
		"Aug 14 11:00:00 h kernel: [123.456] eth0: link up",
		"no date at all, some text",
	}
	for _, l := range lines {
		f.ProcessLine(l) // warm up the scratch buffers
	}
	for _, l := range lines {
		if n := testing.AllocsPerRun(100, func() { f.ProcessLine(l) }); n != 0 {
			t.Errorf("%q: %v allocations per line", l, n)
		}
	}
}

func TestClone(t *testing.T) {
	t.Parallel()
	f := newFilter(t, sshdLike(), Options{})
	f.ProcessLine("2005-08-14 11:00:00 h sshd[9]: Connection from 192.0.2.9 port 1")
	g := f.Clone()
	if got := g.ProcessLine("2005-08-14 11:00:00 h sshd[9]: Disconnecting: Too many authentication failures"); len(got) != 0 {
		t.Errorf("clone shares the id cache: %v", summary(got))
	}
	if got := f.ProcessLine("2005-08-14 11:00:00 h sshd[9]: Disconnecting: Too many authentication failures"); len(got) != 1 {
		t.Errorf("original lost its state: %v", summary(got))
	}
}

func TestExpandTags(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`<F-USER>\S+</F-USER>`, `(?P<user>\S+)`},
		{`<F-ID>x</F-ID> <F-PORT>y</F-PORT>`, `(?P<fid>x) (?P<fport>y)`},
		{`</F-USER> alone`, `</F-USER> alone`},
		{`<UNKNOWN> <F-lower>`, `<UNKNOWN> <F-lower>`},
		{`(?P<name>x)`, `(?P<name>x)`},
		{`a<SKIPLINES>b<SKIPLINES>c`, `a\n(?P<skiplines0>(?:(?:.*\n)*?))b\n(?P<skiplines1>(?:(?:.*\n)*?))c`},
		{`<CIDR>`, `(?P<cidr>[0-9]+)`},
	}
	for _, tc := range tests {
		if got := ExpandTags(tc.in, "warn"); got != tc.want {
			t.Errorf("ExpandTags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := ExpandTags(`<HOST>`, "no"); got != tagAddr {
		t.Errorf("usedns=no: %q", got)
	}
	if got := failregex.LocalizeFlags(`a((?i)b)c(?:(?s)d)\((?i)e)`); got != `a(?i:b)c(?s:d)\((?i)e)` {
		t.Errorf("LocalizeFlags: %q", got)
	}
}

func TestSplitLines(t *testing.T) {
	t.Parallel()
	if got := splitLines("a\nb\r\nc\rd\x1ce\u2028f\n"); !slices.Equal(got, []string{"a", "b", "c", "d", "e", "f"}) {
		t.Errorf("splitLines = %q", got)
	}
	if got := splitLines(""); got != nil {
		t.Errorf("splitLines(\"\") = %q", got)
	}
}

func TestRejectAmbiguous(t *testing.T) {
	t.Parallel()
	// A lazy catch-all lets the regex take either address; it takes the
	// first, which sits in the attacker's user name.
	def := Definition{FailRegex: []string{`^Failed for (?:\S+ )*?from <HOST>`}}
	line := "Failed for x from 198.51.100.66 from 192.0.2.1"
	if got := newFilter(t, def, Options{}).ProcessLine(line); summary(got) != "0:198.51.100.66" {
		t.Fatalf("plain: %v", summary(got))
	}
	f := newFilter(t, def, Options{RejectAmbiguous: true})
	if got := f.ProcessLine(line); len(got) != 0 || f.Stats().Ambiguous != 1 {
		t.Fatalf("hardened: %v, ambiguous %d", summary(got), f.Stats().Ambiguous)
	}
	// One address, or the same one twice, or a host name next to an
	// address, is no ambiguity.
	for _, l := range []string{
		"Failed for x from 192.0.2.1",
		"Failed for x from 192.0.2.1 from 192.0.2.1",
		"Failed for x from ::ffff:192.0.2.1",
	} {
		if got := f.ProcessLine(l); summary(got) != "0:192.0.2.1" {
			t.Errorf("%q: %v", l, summary(got))
		}
	}
}
