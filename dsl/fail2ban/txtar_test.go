package fail2ban_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/dsl/fail2ban"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*.txtar")

// A case in testdata/*.txtar is a comment, an optional "query" file, the
// configuration files and a "want" file with the dump of the answers.
// Queries, one per line (default "jails"):
//
//	jails                  Jails(false)
//	jails all              Jails(true)
//	filter SPEC [k=v …]    Filter(SPEC, jail vars k=v)
//
// Where fail2ban's code is available, each "jails" query is also run as
// fail2ban-client -d on the same directory and compared field by field;
// when fail2ban-client refuses the whole configuration, a warning must say
// so.
func TestTxtarCases(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*.txtar")
	if len(cases) == 0 {
		t.Fatal("no test cases")
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "etc")
			for _, f := range a.Files {
				if f.Name == "query" || f.Name == "want" {
					continue
				}
				p := filepath.Join(dir, f.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f.Data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			q, ok := a.Get("query")
			if !ok {
				q = "jails"
			}
			var b strings.Builder
			var jailsResults [][]*fail2ban.Jail
			var jailsWarns [][]fail2ban.Warning
			cfg, err := fail2ban.Load(dir)
			for _, query := range strings.Split(strings.TrimSpace(q), "\n") {
				fmt.Fprintf(&b, "> %s\n", query)
				if err != nil {
					fmt.Fprintf(&b, "load error: %v\n", err)
					continue
				}
				f := strings.Fields(query)
				switch f[0] {
				case "jails":
					jails, warns := cfg.Jails(len(f) > 1 && f[1] == "all")
					dumpJails(&b, jails, warns)
					if len(f) == 1 {
						jailsResults = append(jailsResults, jails)
						jailsWarns = append(jailsWarns, warns)
					}
				case "filter":
					vars := map[string]string{}
					for _, kv := range f[2:] {
						k, v, _ := strings.Cut(kv, "=")
						vars[k] = v
					}
					spec := f[1]
					if strings.HasPrefix(spec, "./") {
						spec = filepath.Join(dir, spec[2:])
					}
					flt, err := cfg.Filter(spec, vars)
					if err != nil {
						fmt.Fprintf(&b, "error: %v\n", err)
						continue
					}
					dumpFilter(&b, "", flt)
				default:
					t.Fatalf("unknown query %q", query)
				}
			}
			got := strings.ReplaceAll(b.String(), dir+"/", "")
			got = strings.ReplaceAll(got, dir, "CONFDIR")
			if *update {
				a.Set("want", got)
				if err := os.WriteFile(path, []byte(a.Format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want, _ := a.Get("want"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			for i := range jailsResults {
				crossCheckJails(t, dir, jailsResults[i], jailsWarns[i])
			}
		})
	}
}

// crossCheckJails compares with fail2ban-client -d when it can run.
func crossCheckJails(t *testing.T, dir string, jails []*fail2ban.Jail, warns []fail2ban.Warning) {
	t.Helper()
	root := fail2banRootIfPresent()
	if root == "" {
		t.Log("fail2ban not unpacked: no cross-check with fail2ban-client")
		return
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("no python3: no cross-check with fail2ban-client")
		return
	}
	out, err := runPythonErr(t, root, dumpShim, nil, "-c", dir, "-d")
	if err != nil || strings.Contains(string(out), "ERROR") {
		for _, w := range warns {
			if strings.Contains(w.Msg, "would refuse the whole configuration") {
				return
			}
		}
		t.Errorf("fail2ban-client refuses the configuration, but no warning says so:\n%s %v", out, err)
		return
	}
	order, exp := parseDump(t, out)
	c := compareJails(t, root, order, exp, jails, warns)
	t.Logf("cross-checked %d jails, %d fields with fail2ban-client -d: %d differences", len(order), c.fields, c.diffs)
}

// fail2banRootIfPresent fetches fail2ban (once) and returns its root, or ""
// when that cannot be done here.
func fail2banRootIfPresent() string {
	f2bRootOnce.Do(fetchFail2ban)
	if f2bRootErr != nil {
		return ""
	}
	return f2bRoot
}

func pos(v fail2ban.Value) string {
	if v.File == "" {
		return "(auto)"
	}
	return fmt.Sprintf("%s:%d", v.File, v.Line)
}

func fmtMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func dumpJails(b *strings.Builder, jails []*fail2ban.Jail, warns []fail2ban.Warning) {
	for _, j := range jails {
		state := "enabled"
		if !j.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(b, "jail %s %s @ %s\n", j.Name, state, j.Pos)
		fmt.Fprintf(b, "  backend=%q logencoding=%q usedns=%q\n", j.Backend, j.LogEncoding, j.UseDNS)
		fmt.Fprintf(b, "  maxretry=%d maxmatches=%d findtime=%v bantime=%v\n", j.MaxRetry, j.MaxMatches, j.FindTime, j.BanTime)
		if j.BanTimeIncrement || j.BanTimeFactor != "" || j.BanTimeFormula != "" || j.BanTimeMultipliers != "" || j.BanTimeMaxTime != 0 || j.BanTimeRndTime != 0 || j.BanTimeOverallJails {
			fmt.Fprintf(b, "  bantime.increment=%v factor=%q formula=%q multipliers=%q maxtime=%v rndtime=%v overalljails=%v\n",
				j.BanTimeIncrement, j.BanTimeFactor, j.BanTimeFormula, j.BanTimeMultipliers, j.BanTimeMaxTime, j.BanTimeRndTime, j.BanTimeOverallJails)
		}
		fmt.Fprintf(b, "  ignoreip=%q ignoreself=%v ignorecommand=%q ignorecache=%q\n", j.IgnoreIP, j.IgnoreSelf, j.IgnoreCommand, j.IgnoreCache)
		for i, p := range j.LogPath {
			fmt.Fprintf(b, "  logpath %q tail=%v\n", p, j.LogTail[i])
		}
		if j.Filter != nil {
			dumpFilter(b, "  ", j.Filter)
		}
		for _, a := range j.Actions {
			dumpAction(b, a)
		}
	}
	for _, w := range warns {
		fmt.Fprintf(b, "warning: %s\n", w)
	}
}

func dumpFilter(b *strings.Builder, ind string, f *fail2ban.Filter) {
	fmt.Fprintf(b, "%sfilter %q file=%q options=%s mode=%q logtype=%q\n", ind, f.Name, f.File, fmtMap(f.Options), f.Mode, f.LogType)
	for _, v := range f.FailRegex {
		fmt.Fprintf(b, "%s  failregex %q @ %s\n", ind, v.Text, pos(v))
	}
	for _, v := range f.IgnoreRegex {
		fmt.Fprintf(b, "%s  ignoreregex %q @ %s\n", ind, v.Text, pos(v))
	}
	if f.PrefRegex.Text != "" {
		fmt.Fprintf(b, "%s  prefregex %q @ %s\n", ind, f.PrefRegex.Text, pos(f.PrefRegex))
	}
	for _, v := range f.DatePattern {
		fmt.Fprintf(b, "%s  datepattern %q @ %s\n", ind, v.Text, pos(v))
	}
	if f.MaxLines != 0 {
		fmt.Fprintf(b, "%s  maxlines %d\n", ind, f.MaxLines)
	}
	for _, m := range f.JournalMatch {
		fmt.Fprintf(b, "%s  journalmatch %q\n", ind, m)
	}
	if f.LogTimeZone != "" || f.UseDNS != "" {
		fmt.Fprintf(b, "%s  logtimezone=%q usedns=%q\n", ind, f.LogTimeZone, f.UseDNS)
	}
}

func dumpAction(b *strings.Builder, a *fail2ban.Action) {
	kind := ""
	if a.Python {
		kind = " python"
	}
	fmt.Fprintf(b, "  action %q name=%q file=%q options=%s%s\n", a.ActName, a.Name, a.File, fmtMap(a.Options), kind)
	for _, c := range []struct{ k, v string }{
		{"start", a.Start}, {"stop", a.Stop}, {"check", a.Check}, {"ban", a.Ban}, {"unban", a.Unban},
		{"flush", a.Flush}, {"repair", a.Repair}, {"reban", a.Reban}, {"prolong", a.Prolong}, {"reload", a.Reload},
	} {
		if c.v != "" {
			fmt.Fprintf(b, "    %s %q @ %s\n", c.k, c.v, pos(a.Raw["action"+c.k]))
		}
	}
	for _, k := range sortedKeys(a.Init) {
		fmt.Fprintf(b, "    init %s=%q @ %s\n", k, a.Init[k].Text, pos(a.Init[k]))
	}
	for _, cond := range sortedKeys(a.Conditional) {
		for _, k := range sortedKeys(a.Conditional[cond]) {
			v := a.Conditional[cond][k]
			fmt.Fprintf(b, "    [%s] %s=%q @ %s\n", cond, k, v.Text, pos(v))
		}
	}
	for _, k := range sortedKeys(a.Raw) {
		if strings.HasPrefix(k, "action") && k != "actionstart_on_demand" && k != "actionrepair_on_unban" {
			continue
		}
		if _, ok := a.Init[k]; ok || strings.Contains(k, "?") {
			continue
		}
		fmt.Fprintf(b, "    raw %s=%q\n", k, a.Raw[k].Text)
	}
}
