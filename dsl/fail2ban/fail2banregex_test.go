package fail2ban_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/f2bproject/f2b/dsl/fail2ban"
)

// filterShim loads filters as fail2ban-regex's readRegex does (FilterReader
// with the filter's options, read, applyAutoOptions, getOptions(None),
// convert) and prints each one's command stream, or its error, as JSON.
const filterShim = `
import sys, json
from fail2ban.client.filterreader import FilterReader
from fail2ban.helpers import extractOptions
basedir, specs = sys.argv[1], json.load(sys.stdin)
share = {}
out = {}
for spec in specs:
    try:
        name, opts = extractOptions(spec)
        r = FilterReader(name, 'fail2ban-regex-jail', opts, share_config=share, basedir=basedir)
        if not r.read():
            out[spec] = {'error': 'cannot read'}
            continue
        r.applyAutoOptions('auto')
        r.getOptions(None)
        out[spec] = {'stream': r.convert()}
    except Exception as e:
        out[spec] = {'error': str(e)}
print(json.dumps(out))
`

// TestFilterAgainstFail2banRegex loads every stock filter, with the mode
// and logtype variants, through Filter and through fail2ban's FilterReader
// as fail2ban-regex uses it, and compares the results.
func TestFilterAgainstFail2banRegex(t *testing.T) {
	root := fail2banRoot(t)
	python(t)
	dir := filepath.Join(t.TempDir(), "fail2ban")
	copyTree(t, filepath.Join(root, "etc/fail2ban"), dir)
	ents, err := os.ReadDir(filepath.Join(dir, "filter.d"))
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".conf")
		if !ok {
			continue
		}
		specs = append(specs, n, n+"[mode=aggressive]", n+"[mode=ddos]", n+"[logtype=journal]",
			n+`[mode=extra, logtype=short, maxlines=2]`)
	}
	in, _ := json.Marshal(specs)
	var res map[string]struct {
		Stream [][]any `json:"stream"`
		Error  string  `json:"error"`
	}
	if err := json.Unmarshal(runPython(t, root, filterShim, in, dir), &res); err != nil {
		t.Fatal(err)
	}
	cfg, err := fail2ban.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &comparer{t: t}
	for _, spec := range specs {
		r := res[spec]
		f, err := cfg.Filter(spec, nil)
		if r.Error != "" {
			c.eq(spec, "error", err != nil, true)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v (fail2ban loads it)", spec, err)
			continue
		}
		var fail, ign, jm []string
		var pref, dp string
		var maxlines int
		for _, cmdv := range r.Stream {
			key := cmdv[2].(string)
			switch key {
			case "addfailregex", "addignoreregex":
				var list []string
				if cmdv[0] == "multi-set" {
					for _, x := range cmdv[3].([]any) {
						list = append(list, x.(string))
					}
				} else {
					list = []string{cmdv[3].(string)}
				}
				if key == "addfailregex" {
					fail = append(fail, list...)
				} else {
					ign = append(ign, list...)
				}
			case "prefregex":
				pref = cmdv[3].(string)
			case "datepattern":
				dp = cmdv[3].(string)
			case "maxlines":
				maxlines = int(cmdv[3].(float64))
			case "addjournalmatch":
				var toks []string
				for _, x := range cmdv[3:] {
					toks = append(toks, x.(string))
				}
				jm = append(jm, strings.Join(toks, "\x00"))
			}
		}
		var gotJM []string
		for _, m := range f.JournalMatch {
			toks, _ := fail2ban.ShellSplit(m)
			gotJM = append(gotJM, strings.Join(toks, "\x00"))
		}
		c.eq(spec, "failregex", texts(f.FailRegex), fail)
		c.eq(spec, "ignoreregex", texts(f.IgnoreRegex), ign)
		c.eq(spec, "prefregex", f.PrefRegex.Text, pref)
		c.eq(spec, "datepattern", texts(f.DatePattern), serverDatePatterns(dp))
		c.eq(spec, "maxlines", f.MaxLines, maxlines)
		c.eq(spec, "journalmatch", gotJM, jm)
	}
	t.Logf("compared %d filter specs, %d fields with fail2ban's FilterReader: %d differences", len(specs), c.fields, c.diffs)
}

// primitivesShim runs fail2ban's helpers on the inputs it is given.
const primitivesShim = `
import sys, json, shlex
from fail2ban.helpers import extractOptions, splitWithOptions, substituteRecursiveTags
from fail2ban.server.mytime import MyTime
inp = json.load(sys.stdin)
def run(f, x):
    try:
        return {'ok': f(x)}
    except Exception as e:
        return {'error': str(e)}
def tags(x):
    r = substituteRecursiveTags(dict(x['tags']), ignore=x.get('ignore', ()))
    return [[k, r[k]] for k in r]
out = {
  'extract': [run(lambda s: list(extractOptions(s)), s) for s in inp['extract']],
  'split': [run(splitWithOptions, s) for s in inp['split']],
  'seconds': [run(lambda s: float(MyTime.str2seconds(s)), s) for s in inp['seconds']],
  'shlex': [run(shlex.split, s) for s in inp['shlex']],
  'tags': [run(tags, x) for x in inp['tags']],
}
print(json.dumps(out))
`

type tagCase struct {
	Tags   [][2]string `json:"tags"`
	Ignore []string    `json:"ignore,omitempty"`
}

// TestPrimitivesAgainstPython checks option syntax, action splitting, time
// values, journalmatch splitting and tag substitution against fail2ban's
// own helpers on the same inputs.
func TestPrimitivesAgainstPython(t *testing.T) {
	root := fail2banRoot(t)
	python(t)
	extract := []string{
		`sshd`, `sshd[mode=aggressive]`, `a[p1="x, y", p2='z ]', p3=w]`, `a[x=1][y=2]`, `a[x=1] [y=2]`,
		`a[x="multi\nline"]`, "a[x=1,\n  y=2]", `a[x=1]  `, `a [x=1]`, `a[x=1]b`, `[x=1]`, ``, `a[x]`,
		`a[x=1, =2]`, `a[x="1"y]`, `a[x=1,]`, `a[x=1, y]`, `a[]`, `a[x=]`, `a[ x = 1 ]`, `a[x=a=b]`,
		`a[x="q"]`, `a[x='<known/x>|y']`, `a[x-y.z_w=1]`, "a[x=1]\n", `a[x="a]b"]`, `a[x=a]b]`,
		`nftables[type=multiport, blocktype="drop"][port="ssh", protocol="tcp", chain="<known/chain>"]`,
		`a[p="x"  , q='y'  ]`, `a[x=1]]`, "a[x=\"1\"\n]", `ä[ö=ü]`,
	}
	split := []string{
		"iptables-multiport[port=\"ssh\", protocol=\"tcp\"]\nsendmail-whois[sender=\"a@b\", dest=\"c\"]",
		"a b  c", "a[x=1] b[y=\"2 3\"]", "a[x=\"1\n2\"]\n  b", "a[x=1\n\n", "  a\n\n b  ", "a[x=1]b c",
		"a[x=1,\n   y=2]\nb[z=3][w=4]", "a [x=1]", "a[ x=1 , y = 2 ]", "a[x=1]][", "", "a[x='y'] [z=1]",
		"a[x=foo bar] b", "smtp.py[host=localhost, actname=mail]\ndummy",
	}
	seconds := []string{
		"600", "10m", "1h30m", "1d 2h", "1w", "1mo", "1y", "-1", "2.5h", "1year-6mo", "6 months", "3 hours",
		"1 minute", "2*(1h+5m)", "1d12h", "1H", "10 M", "1.5e3", "01", "0", "1 2 3", "1h 30", "abc", "",
		"1d-1h", "5w", "1hou", "2 days 4 hours", "48h", "1_000", "3//2", "7%4", "2**10", "1/4", "10s", "1sec",
		"1 seconds", "1ss", "1mm", "1mon", "1da", "1dd", "1yy", "1ww", "1wee", "1hh", "1ho", "1mi", "1mis",
		"5m5s", "1h 2m 3s", "-5m", "+5m", "(1h)", "1e2m",
	}
	shlexIn := []string{
		`_SYSTEMD_UNIT=sshd.service + _COMM=sshd`, `_COMM="f2b test"`, `a 'b c' "d\"e" f\ g`, `"a\x"`,
		`'unterminated`, `a\`, `''`, `a"b c"d`, `x  y`,
	}
	tagCases := []tagCase{
		{Tags: [][2]string{{"a", "3"}, {"b", "<a>_3"}}},
		{Tags: [][2]string{{"mode", "extra"}, {"failregex", "<mdre-<mode>>"}, {"mdre-extra", "E <HOST>"}}},
		{Tags: [][2]string{{"a", "<a>"}}},
		{Tags: [][2]string{{"a", "<b>"}, {"b", "<a>"}}},
		{Tags: [][2]string{{"x", "<HOST> <ip> <y>"}, {"y", "Y"}}},
		{Tags: [][2]string{{"a", "<b><b>"}, {"b", "<c><c>"}, {"c", "<d><d>"}, {"d", "<e><e>"}, {"e", "<f><f>"}, {"f", "z"}}},
		{Tags: [][2]string{{"a", "<b>"}, {"b", "<c>"}, {"c", "x"}}, Ignore: []string{"b"}},
		{Tags: [][2]string{{"c", "<b>"}, {"b", "<a>"}, {"a", "<x>"}, {"x", "1"}}},
		{Tags: [][2]string{{"a", "<p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p><p>"}, {"p", "<q>"}, {"q", "."}}},
		{Tags: [][2]string{{"a", "<l<m>>"}, {"m", "<n>"}, {"n", "z"}, {"lz", "ok"}}},
	}
	in, _ := json.Marshal(map[string]any{"extract": extract, "split": split, "seconds": seconds, "shlex": shlexIn, "tags": tagCases})
	type res struct {
		OK    json.RawMessage `json:"ok"`
		Error *string         `json:"error"`
	}
	var out map[string][]res
	if err := json.Unmarshal(runPython(t, root, primitivesShim, in), &out); err != nil {
		t.Fatal(err)
	}
	n := 0
	check := func(kind, in string, r res, got any, gotErr error) {
		t.Helper()
		n++
		if r.Error != nil {
			if gotErr == nil {
				t.Errorf("%s(%q): got %#v, Python fails: %s", kind, in, got, *r.Error)
			}
			return
		}
		if gotErr != nil {
			t.Errorf("%s(%q): %v; Python gives %s", kind, in, gotErr, r.OK)
			return
		}
		want := reflect.New(reflect.TypeOf(got)).Interface()
		if err := json.Unmarshal(r.OK, want); err != nil {
			t.Fatalf("%s(%q): %v", kind, in, err)
		}
		w := reflect.ValueOf(want).Elem().Interface()
		if f, ok := got.(float64); ok {
			if math.Abs(f-w.(float64)) > 1e-9 {
				t.Errorf("%s(%q) = %v, Python %v", kind, in, f, w)
			}
			return
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s(%q):\n  got  %#v\n  want %#v (Python)", kind, in, got, w)
		}
	}
	for i, s := range extract {
		name, opts, err := fail2ban.ExtractOptions(s)
		check("extractOptions", s, out["extract"][i], []any{name, toAnyMap(opts)}, err)
	}
	for i, s := range split {
		got := fail2ban.SplitWithOptions(s)
		if got == nil {
			got = []string{}
		}
		check("splitWithOptions", s, out["split"][i], got, nil)
	}
	for i, s := range seconds {
		v, err := fail2ban.Seconds(s)
		check("str2seconds", s, out["seconds"][i], v, err)
	}
	for i, s := range shlexIn {
		v, err := fail2ban.ShellSplit(s)
		if v == nil {
			v = []string{}
		}
		check("shlex.split", s, out["shlex"][i], v, err)
	}
	for i, tc := range tagCases {
		got, err := fail2ban.SubstituteTagsForTest(tc.Tags, tc.Ignore)
		check("substituteRecursiveTags", tagCaseString(tc), out["tags"][i], got, err)
	}
	t.Logf("checked %d primitive results against fail2ban's helpers", n)
}

func toAnyMap(m map[string]string) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func tagCaseString(tc tagCase) string {
	b, _ := json.Marshal(tc)
	return string(b)
}
