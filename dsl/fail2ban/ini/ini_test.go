package ini_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/f2bproject/f2b/dsl/fail2ban/ini"
	"github.com/f2bproject/f2b/dsl/fail2ban/internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*.txtar")

// A case in testdata/*.txtar is a comment, a "query" file with one query
// per line, the configuration files, and a "want" file with the expected
// answers:
//
//	files NAME             the files ReadNamed(dir, NAME) read
//	sections NAME          its sections
//	get NAME SEC OPT       Get (interpolated), with the value's place
//	raw NAME SEC OPT       GetRaw
//	getex NAME SEC OPT     GetEx
//	parse FILE             whether Parse accepts FILE, or its errors
//
// Where fail2ban's Python code is available the same queries also run
// through fail2ban's own ConfigReader and the answers must agree.
func TestTxtar(t *testing.T) {
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
			dir := t.TempDir()
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
			q, _ := a.Get("query")
			queries := strings.Split(strings.TrimSpace(q), "\n")
			results := runQueries(dir, queries)
			var b strings.Builder
			for i, q := range queries {
				fmt.Fprintf(&b, "> %s\n%s\n", q, results[i].text)
			}
			got := b.String()
			if *update {
				a.Set("want", got)
				if err := os.WriteFile(path, []byte(a.Format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, _ := a.Get("want")
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			crossCheck(t, dir, queries, results)
		})
	}
}

type result struct {
	text  string   // the golden text
	value *string  // the value, for get/raw/getex
	list  []string // for files/sections
	err   bool
}

func runQueries(dir string, queries []string) []result {
	r := ini.NewReader()
	rel := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, dir+"/", ""), dir, ".") }
	var out []result
	for _, q := range queries {
		f := strings.Fields(q)
		var res result
		if len(f) > 1 && f[0] != "parse" {
			cfg, _, err := r.ReadNamed(dir, f[1])
			if err != nil {
				out = append(out, result{text: "error: " + rel(err.Error()), err: true})
				continue
			}
			switch f[0] {
			case "files":
				for _, p := range cfg.Files {
					res.list = append(res.list, rel(p))
				}
				res.text = strings.Join(res.list, "\n")
			case "sections":
				res.list = cfg.Sections()
				res.text = strings.Join(res.list, "\n")
			case "get", "raw", "getex":
				get := map[string]func(string, string, *ini.Options) (ini.Value, error){
					"get": cfg.Get, "raw": cfg.GetRaw, "getex": cfg.GetEx,
				}[f[0]]
				v, err := get(f[2], f[3], nil)
				if err != nil {
					res.err = true
					res.text = "error: " + rel(err.Error())
				} else {
					res.value = &v.Text
					res.text = fmt.Sprintf("%q @ %s", v.Text, rel(v.Pos()))
				}
			}
		} else if f[0] == "parse" {
			data, _ := os.ReadFile(filepath.Join(dir, f[1]))
			_, err := ini.Parse(f[1], data)
			res.text = "ok"
			if err != nil {
				res.err = true
				res.text = "error: " + err.Error()
				var el ini.ErrorList
				if errors.As(err, &el) {
					res.text = fmt.Sprintf("errors (%d):\n%s", len(el), el.Error())
				}
				if !errors.Is(err, ini.ErrParse) && !errors.Is(err, ini.ErrDecode) {
					res.text += "\n(not ErrParse)"
				}
			}
		}
		out = append(out, res)
	}
	return out
}

// pyQueries answers the queries with fail2ban's ConfigReaderUnshared.
const pyQueries = `
import sys, json
from fail2ban.client.configparserinc import SafeConfigParserWithIncludes as S
from fail2ban.client.configreader import ConfigReaderUnshared
orig = S.read
def rec(self, filenames, get_includes=True):
    r = orig(self, filenames, get_includes)
    if get_includes:
        self._files = r
    return r
S.read = rec
d = sys.argv[1]
share = {}
cfgs = {}
out = []
for q in json.load(sys.stdin):
    f = q.split()
    try:
        if f[0] == 'parse':
            S().read(d + '/' + f[1], get_includes=False)
            out.append({'ok': True}); continue
        c = cfgs.get(f[1])
        if c is None:
            c = ConfigReaderUnshared(share_config=share, basedir=d)
            if not c.read(f[1]):
                raise ValueError('no files')
            cfgs[f[1]] = c
        if f[0] == 'files':
            out.append({'list': [p[len(d)+1:] for p in c._files]})
        elif f[0] == 'sections':
            out.append({'list': c.sections()})
        elif f[0] == 'get':
            out.append({'value': c.get(f[2], f[3])})
        elif f[0] == 'raw':
            out.append({'value': c.get(f[2], f[3], raw=True)})
        elif f[0] == 'getex':
            out.append({'value': c.get_ex(f[2], f[3])})
    except Exception as e:
        out.append({'error': '%s: %s' % (type(e).__name__, e)})
print(json.dumps(out))
`

// crossCheck runs the queries through fail2ban's own code when it is
// available (scripts/fetch-fail2ban.sh has unpacked it and python3 runs).
func crossCheck(t *testing.T, dir string, queries []string, ours []result) {
	root := fail2banRootIfPresent()
	py, err := exec.LookPath("python3")
	if root == "" || err != nil {
		t.Log("fail2ban or python3 not available: no cross-check with fail2ban's ConfigReader")
		return
	}
	in, _ := json.Marshal(queries)
	cmd := exec.Command(py, "-c", pyQueries, dir)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "usr/lib/python3/dist-packages"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var res []struct {
		OK    bool     `json:"ok"`
		List  []string `json:"list"`
		Value *string  `json:"value"`
		Error string   `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for i, q := range queries {
		p, o := res[i], ours[i]
		switch {
		case p.Error != "" || o.err:
			if (p.Error != "") != o.err {
				t.Errorf("%s: fail2ban: %q, ours: %s", q, p.Error, o.text)
			}
		case p.Value != nil:
			if o.value == nil || *o.value != *p.Value {
				t.Errorf("%s: fail2ban %q, ours %s", q, *p.Value, o.text)
			}
		case p.List != nil:
			if strings.Join(p.List, "\n") != strings.Join(o.list, "\n") {
				t.Errorf("%s:\nfail2ban %q\nours     %q", q, p.List, o.list)
			}
		}
	}
}

var (
	rootOnce sync.Once
	rootDir  string
)

// fail2banRootIfPresent runs scripts/fetch-fail2ban.sh (once) and returns
// the unpacked fail2ban package, or "" when it cannot run here (no apt).
func fail2banRootIfPresent() string {
	rootOnce.Do(func() {
		script, err := filepath.Abs("../../../scripts/fetch-fail2ban.sh")
		if err != nil {
			return
		}
		for _, tool := range []string{"bash", "apt-get", "dpkg"} {
			if _, err := exec.LookPath(tool); err != nil {
				return
			}
		}
		out, err := exec.Command("bash", script).Output()
		if err == nil {
			rootDir = strings.TrimSpace(string(out))
		}
	})
	return rootDir
}

func TestNotUTF8(t *testing.T) {
	_, err := ini.Parse("x.conf", []byte("[s]\na = \xff\n"))
	if !errors.Is(err, ini.ErrDecode) {
		t.Fatalf("got %v, want ErrDecode", err)
	}
	// A file that is not UTF-8 is skipped with a warning, as fail2ban does.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "jail.conf"), []byte("[s]\na = 1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "jail.local"), []byte("[s]\na = \xff\n"), 0o644)
	cfg, warns, err := ini.NewReader().ReadNamed(dir, "jail")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Files) != 1 || len(warns) == 0 || !strings.Contains(warns[0].Error(), "jail.local") {
		t.Fatalf("files %v, warnings %v", cfg.Files, warns)
	}
	if v, _ := cfg.Get("s", "a", nil); v.Text != "1" {
		t.Fatalf("a = %q", v.Text)
	}
}

func TestCRLF(t *testing.T) {
	f, err := ini.Parse("x.conf", []byte("[s]\r\na = 1\r\n  2\rb = 3\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section("s")
	if a, _ := s.Get("a"); a.Text != "1\n2" || a.Line != 2 {
		t.Errorf("a = %+v", a)
	}
	if b, _ := s.Get("b"); b.Text != "3" || b.Line != 4 {
		t.Errorf("b = %+v", b)
	}
}

func TestVarsAndMerge(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.conf"), []byte("[DEFAULT]\nd = D\n[s]\na = %(v)s-%(d)s\nb = %(known/b)s\n"), 0o644)
	cfg, _, err := ini.NewReader().ReadNamed(dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	vars := ini.NewOptions()
	vars.Set("V", ini.Value{Text: "from-vars"})
	vars.Set("d", ini.Value{Text: "vars-d"})
	if v, err := cfg.Get("s", "a", vars); err != nil || v.Text != "from-vars-vars-d" {
		t.Errorf("a = %q, %v", v.Text, err)
	}
	// known/ falls back to DEFAULT; a merged known/ option wins.
	if _, err := cfg.Get("s", "b", nil); !errors.Is(err, ini.ErrInterpolation) {
		t.Errorf("b: %v", err)
	}
	m := ini.NewOptions()
	m.Set("b", ini.Value{Text: "merged"})
	cfg.MergeSection("s", m, "known/")
	if v, err := cfg.Get("s", "b", nil); err != nil || v.Text != "merged" {
		t.Errorf("b = %q, %v", v.Text, err)
	}
	if _, err := cfg.Get("nope", "a", nil); !errors.Is(err, ini.ErrNoSection) {
		t.Errorf("no section: %v", err)
	}
	if _, err := cfg.Get("s", "nope", nil); !errors.Is(err, ini.ErrNoOption) {
		t.Errorf("no option: %v", err)
	}
	if _, _, err := ini.NewReader().ReadNamed(dir, "missing"); !errors.Is(err, ini.ErrNoFiles) {
		t.Errorf("missing: %v", err)
	}
}
