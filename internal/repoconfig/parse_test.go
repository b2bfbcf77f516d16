package repoconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

func TestLoadGood(t *testing.T) {
	fc, err := Load("testdata/config/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fc.Workers, []string{"host"}) {
		t.Errorf("workers = %q", fc.Workers)
	}
	var axes []string
	for _, a := range fc.Axes {
		var names []string
		names = append(names, a.Values...)
		axes = append(axes, a.Name+"="+strings.Join(names, "|"))
	}
	if got, want := strings.Join(axes, " "), "lang=rust|go|zig size=s"; got != want {
		t.Errorf("axes = %q, want %q", got, want)
	}
	if fc.Select != "lang=go|rust" || !reflect.DeepEqual(fc.Exclude, []string{"lang=zig,size=l"}) || fc.Shards != 4 {
		t.Errorf("select %q exclude %q shards %d", fc.Select, fc.Exclude, fc.Shards)
	}
	if len(fc.Quarantine) != 2 {
		t.Fatalf("%d quarantine entries, want 2", len(fc.Quarantine))
	}
	q := fc.Quarantine[0]
	if q.Test != "TestEcho" || q.URL != "https://github.com/matrixbox/matrixbox/issues/12" || q.Reason != "flaky on rust" || q.Retries != 2 || q.Line != 10 {
		t.Errorf("quarantine[0] = %+v", q)
	}
	rust := mustCell(t, "worker=host", "lang=rust")
	goCell := mustCell(t, "worker=host", "lang=go")
	full := q
	full.Test = "TestSuite/TestEc*"
	if !q.Matches("TestSuite", "TestEcho", rust) || !full.Matches("TestSuite", "TestEcho", rust) {
		t.Error("quarantine[0] does not match TestEcho in lang=rust")
	}
	if q.Matches("TestSuite", "TestEcho", goCell) || q.Matches("TestSuite", "TestWrite", rust) {
		t.Error("quarantine[0] matches outside TestEcho/lang=rust")
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, f := range []string{"empty.yaml", "comments.yaml"} {
		fc, err := Load(filepath.Join("testdata/config", f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(fc.Workers)+len(fc.Axes)+len(fc.Exclude)+len(fc.Quarantine)+fc.Shards != 0 || fc.Select != "" {
			t.Errorf("%s: %+v, want an empty config", f, fc)
		}
	}
}

// TestLoadBad checks that every bad file is refused with an error
// naming the file, the line and the key.
func TestLoadBad(t *testing.T) {
	cases := map[string]string{
		"bad-unknown-key.yaml":            `bad-unknown-key.yaml:2: shard: unknown key`,
		"bad-unknown-quarantine-key.yaml": `bad-unknown-quarantine-key.yaml:5: quarantine[0].issue: unknown key`,
		"bad-no-url.yaml":                 `bad-no-url.yaml:2: quarantine[0]: url is required`,
		"bad-url.yaml":                    `bad-url.yaml:3: quarantine[0].url: "not a url" is not an http(s) URL`,
		"bad-match-all.yaml":              `bad-match-all.yaml:2: quarantine[0]: give test or cells`,
		"bad-select.yaml":                 `bad-select.yaml:1: select: selection "lang": term "lang" has no '='`,
		"bad-exclude.yaml":                `bad-exclude.yaml:3: exclude: selection "size=l,,"`,
		"bad-shards.yaml":                 `bad-shards.yaml:1: shards: 300 shards: want 1 to 256`,
		"bad-shards-type.yaml":            `bad-shards-type.yaml:1: shards: want a whole number, got a scalar "four"`,
		"bad-strict.yaml":                 `bad-strict.yaml:2: strict: want true or false, got a scalar "yes please"`,
		"bad-worker-axis.yaml":            `bad-worker-axis.yaml:2: axes.worker: the worker axis is set by the workers key`,
		"bad-duplicate-key.yaml":          `bad-duplicate-key.yaml:2: top level.select: key given twice`,
		"bad-retries.yaml":                `bad-retries.yaml:5: quarantine[0].retries: 99: want 0 to 10`,
		"bad-top-list.yaml":               `bad-top-list.yaml:1: top level: want a mapping`,
		"bad-syntax.yaml":                 `bad-syntax.yaml: yaml: line 1`,
		"bad-two-docs.yaml":               `bad-two-docs.yaml:2: a second YAML document`,
	}
	entries, err := os.ReadDir("testdata/config")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "bad-") && cases[e.Name()] == "" {
			t.Errorf("testdata/config/%s has no expected error in this test", e.Name())
		}
	}
	for file, want := range cases {
		path := filepath.Join("testdata/config", file)
		_, err := Load(path)
		if err == nil {
			t.Errorf("%s: loaded without error", file)
			continue
		}
		if !strings.HasPrefix(err.Error(), "testdata/config/") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got  %v\n want testdata/config/%s…", file, err, want)
		}
	}
}

func TestFind(t *testing.T) {
	t.Setenv(Env, "")
	root := t.TempDir()
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"), "module example.com/x\n")
	if p, err := Find(sub); err != nil || p != "" {
		t.Errorf("no config: Find = %q, %v; want none", p, err)
	}
	write(filepath.Join(root, FileName), "shards: 2\n")
	if p, err := Find(sub); err != nil || p != filepath.Join(root, FileName) {
		t.Errorf("Find = %q, %v; want the module root's file", p, err)
	}
	// The nearest file wins.
	write(filepath.Join(root, "a", FileName), "shards: 3\n")
	if p, err := Find(sub); err != nil || p != filepath.Join(root, "a", FileName) {
		t.Errorf("Find = %q, %v; want the nearest file", p, err)
	}
	// The walk stops at the module root: a file above it is not this
	// module's.
	inner := filepath.Join(root, "a", "b")
	write(filepath.Join(inner, "go.mod"), "module example.com/y\n")
	if p, err := Find(inner); err != nil || p != "" {
		t.Errorf("nested module: Find = %q, %v; want none", p, err)
	}
	t.Setenv(Env, filepath.Join(root, FileName))
	if p, err := Find(sub); err != nil || p != filepath.Join(root, FileName) {
		t.Errorf("%s: Find = %q, %v", Env, p, err)
	}
	t.Setenv(Env, filepath.Join(root, "missing.yaml"))
	if _, err := Find(sub); err == nil || !strings.Contains(err.Error(), Env) {
		t.Errorf("missing %s file: err = %v", Env, err)
	}
}

// FuzzParse checks that no input makes the loader panic, that every
// error names the file, and that an accepted config is consistent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fc, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if fc.Shards < 0 || fc.Shards > report.MaxShards {
			t.Fatalf("accepted shards=%d", fc.Shards)
		}
		if _, err := matrix.ParseSelector(fc.Select); err != nil {
			t.Fatalf("accepted a bad select: %v", err)
		}
		for _, q := range fc.Quarantine {
			if q.URL == "" || q.Reason == "" || (q.Test == "" && q.Cells.Empty()) || q.Retries < 0 || q.Retries > maxRetries {
				t.Fatalf("accepted a bad quarantine entry %+v", q)
			}
		}
		for _, a := range fc.Axes {
			if len(a.Values) == 0 || a.Name == workerAxis {
				t.Fatalf("accepted axis %q with values %q", a.Name, a.Values)
			}
			// Values are decoded by the Run that declares the axis; an
			// error then still names the file.
			if !strings.HasPrefix(a.Where(len(a.Values)-1), "fuzz.yaml:") {
				t.Fatalf("axis %s is not placed in the file: %s", a.Name, a.Where(len(a.Values)-1))
			}
		}
	})
}

func mustCell(t *testing.T, terms ...string) matrix.Cell {
	t.Helper()
	var axes []matrix.Axis
	for _, term := range terms {
		a, v, _ := strings.Cut(term, "=")
		axes = append(axes, matrix.Strings(a, v))
	}
	cells, err := matrix.Expand(axes...)
	if err != nil {
		t.Fatal(err)
	}
	return cells[0]
}
