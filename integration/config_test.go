package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
	"github.com/matrixbox/matrixbox/sandbox"
)

func init() {
	// A typed axis for the tests: "even" takes even numbers only.
	registerAxisDecoder("even", func(s string) (matrix.Value, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n%2 != 0 {
			return matrix.Value{}, fmt.Errorf("%q is not an even number", s)
		}
		return matrix.Value{Name: "n" + s, V: n}, nil
	})
}

func TestLoadConfigGood(t *testing.T) {
	fc, err := LoadConfig("testdata/config/good.yaml")
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

func TestLoadConfigEmpty(t *testing.T) {
	for _, f := range []string{"empty.yaml", "comments.yaml"} {
		fc, err := LoadConfig(filepath.Join("testdata/config", f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(fc.Workers)+len(fc.Axes)+len(fc.Exclude)+len(fc.Quarantine)+fc.Shards != 0 || fc.Select != "" {
			t.Errorf("%s: %+v, want an empty config", f, fc)
		}
	}
}

// TestLoadConfigBad checks that every bad file is refused with an error
// naming the file, the line and the key.
func TestLoadConfigBad(t *testing.T) {
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
		_, err := LoadConfig(path)
		if err == nil {
			t.Errorf("%s: loaded without error", file)
			continue
		}
		if !strings.HasPrefix(err.Error(), "testdata/config/") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got  %v\n want testdata/config/%s…", file, err, want)
		}
	}
}

func TestFindConfig(t *testing.T) {
	t.Setenv(EnvConfig, "")
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
	if p, err := FindConfig(sub); err != nil || p != "" {
		t.Errorf("no config: FindConfig = %q, %v; want none", p, err)
	}
	write(filepath.Join(root, ConfigFileName), "shards: 2\n")
	if p, err := FindConfig(sub); err != nil || p != filepath.Join(root, ConfigFileName) {
		t.Errorf("FindConfig = %q, %v; want the module root's file", p, err)
	}
	// The nearest file wins.
	write(filepath.Join(root, "a", ConfigFileName), "shards: 3\n")
	if p, err := FindConfig(sub); err != nil || p != filepath.Join(root, "a", ConfigFileName) {
		t.Errorf("FindConfig = %q, %v; want the nearest file", p, err)
	}
	// The walk stops at the module root: a file above it is not this
	// module's.
	inner := filepath.Join(root, "a", "b")
	write(filepath.Join(inner, "go.mod"), "module example.com/y\n")
	if p, err := FindConfig(inner); err != nil || p != "" {
		t.Errorf("nested module: FindConfig = %q, %v; want none", p, err)
	}
	t.Setenv(EnvConfig, filepath.Join(root, ConfigFileName))
	if p, err := FindConfig(sub); err != nil || p != filepath.Join(root, ConfigFileName) {
		t.Errorf("%s: FindConfig = %q, %v", EnvConfig, p, err)
	}
	t.Setenv(EnvConfig, filepath.Join(root, "missing.yaml"))
	if _, err := FindConfig(sub); err == nil || !strings.Contains(err.Error(), EnvConfig) {
		t.Errorf("missing %s file: err = %v", EnvConfig, err)
	}
}

type namedWorker struct{ name string }

func (w namedWorker) Name() string { return w.name }
func (w namedWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	return hostworker.New().New(ctx, cfg)
}

// TestApplyConfig checks the precedence: environment over config over code.
func TestApplyConfig(t *testing.T) {
	fc, err := ParseConfig("m.yaml", []byte(`
workers: [b, a]
axes:
  lang: [rust, python]
  other: [x]
select: "lang=rust"
exclude: ["worker=a,lang=python"]
`))
	if err != nil {
		t.Fatal(err)
	}
	code := &config{}
	WithAxes(matrix.FromMap("lang", map[string]any{"go": ".go", "rust": ".rs"}))(code)
	st := settings{}
	ws, notes, err := applyConfig(fc, &st, code, []sandbox.Worker{namedWorker{"a"}, namedWorker{"b"}, namedWorker{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Name() != "b" || ws[1].Name() != "a" {
		t.Errorf("workers = %v, want b, a", ws)
	}
	want := []matrix.Value{{Name: "rust", V: ".rs"}, {Name: "python", V: "python"}}
	if !reflect.DeepEqual(code.axes[0].Values, want) {
		t.Errorf("lang values = %v, want %v (the code's value for a name it declares)", code.axes[0].Values, want)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `m.yaml:5: axes.other: not an axis of this Run; ignored`) {
		t.Errorf("notes = %q", notes)
	}
	if st.selector.String() != "lang=rust" || !reflect.DeepEqual(code.excludes, []string{"worker=a,lang=python"}) {
		t.Errorf("selector %q excludes %q", st.selector, code.excludes)
	}

	// The environment's selection wins over the file's.
	st = settings{}
	st.selector, _ = matrix.ParseSelector("lang=go")
	if _, _, err := applyConfig(fc, &st, &config{}, []sandbox.Worker{namedWorker{"a"}, namedWorker{"b"}}); err != nil {
		t.Fatal(err)
	}
	if st.selector.String() != "lang=go" {
		t.Errorf("selector = %q, want the environment's", st.selector)
	}

	// A worker the Run does not have is left aside: another suite of the
	// module has it.
	ws, notes, err = applyConfig(fc, &settings{}, &config{}, []sandbox.Worker{namedWorker{"a"}})
	if err != nil || len(ws) != 1 || ws[0].Name() != "a" || !strings.Contains(strings.Join(notes, "\n"), `m.yaml:2: workers: b not a worker of this Run (it has a); ignored`) {
		t.Errorf("workers b, a on a Run of a: %v, %q, %v", ws, notes, err)
	}
	// Leaving the Run none is an error naming the file, line and key, and
	// the workers the Run has.
	_, _, err = applyConfig(fc, &settings{}, &config{}, []sandbox.Worker{namedWorker{"c"}, namedWorker{"d"}})
	if err == nil || err.Error() != `m.yaml:2: workers: none of b, a is a worker of this Run, which has c, d` {
		t.Errorf("workers b, a on a Run of c, d: err = %v", err)
	}
}

// TestApplyConfigDecodesOnlyDeclaredAxes: a value is decoded, and can be
// refused, only by a Run that declares its axis; the error names the file,
// the line and the key.
func TestApplyConfigDecodesOnlyDeclaredAxes(t *testing.T) {
	for file, want := range map[string]string{
		"apply-bad-axis-value.yaml": `testdata/config/apply-bad-axis-value.yaml:2: axes.lang: axis "lang" value "c/c++": character '/' is not allowed`,
		"apply-bad-decoder.yaml":    `testdata/config/apply-bad-decoder.yaml:2: axes.even: value "3" does not decode: "3" is not an even number`,
	} {
		fc, err := LoadConfig(filepath.Join("testdata/config", file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		// A Run without the axis ignores it, values unread.
		other := &config{}
		WithAxes(matrix.FromMap("color", map[string]any{"red": 1}))(other)
		if _, notes, err := applyConfig(fc, &settings{}, other, nil); err != nil || len(notes) != 1 || !strings.Contains(notes[0], "not an axis of this Run; ignored") {
			t.Errorf("%s on a Run without the axis: notes %q, err %v", file, notes, err)
		}
		// A Run with it decodes them.
		with := &config{}
		WithAxes(matrix.Strings(fc.Axes[0].Name, "x"))(with)
		if _, _, err := applyConfig(fc, &settings{}, with, nil); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s:\n got  %v\n want %s", file, err, want)
		}
	}
}

func TestApplyConfigStrict(t *testing.T) {
	fc, err := ParseConfig("m.yaml", []byte("strict: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := settings{}
	if _, _, err := applyConfig(fc, &st, &config{}, nil); err != nil || !st.strict {
		t.Errorf("strict: true left strict %v, %v", st.strict, err)
	}
	st = settings{strictSet: true} // MATRIXBOX_STRICT=0 wins
	if _, _, err := applyConfig(fc, &st, &config{}, nil); err != nil || st.strict {
		t.Errorf("%s=0 with strict: true: strict %v, %v", EnvStrict, st.strict, err)
	}
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

// FuzzParseConfig checks that no input makes the loader panic, that every
// error names the file, and that an accepted config is consistent.
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fc, err := ParseConfig("fuzz.yaml", data)
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
			if len(a.Values) == 0 || a.Name == WorkerAxis {
				t.Fatalf("accepted axis %q with values %q", a.Name, a.Values)
			}
			// Values are decoded by the Run that declares the axis; an
			// error then still names the file.
			if _, err := a.Decode(); err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("decode error does not name the file: %v", err)
			}
		}
	})
}

// TestApplyConfigMisspeltWorker: a name in the file's workers that is a
// typo of a worker the Run has fails the Run, in every mode, naming the
// file, the line, the name and the worker it meant (issue 22: it was left
// aside, and the Run narrowed to the other workers in silence). A worker
// of another suite, or one this process knows as remote, is no typo.
func TestApplyConfigMisspeltWorker(t *testing.T) {
	run := []sandbox.Worker{namedWorker{"buildkitd-oci"}, namedWorker{"dockerd"}}
	for _, tc := range []struct{ name, file, want string }{
		{"flow", "workers: [buildkitd-oci, buildkitd-oic]\n",
			`m.yaml:1: workers: "buildkitd-oic" is not a worker of this Run, which has buildkitd-oci, dockerd: did you mean buildkitd-oci?`},
		{"block", "strict: false\nworkers:\n  - dockerd\n  - buildkitd-oci\n  - dockrd\n",
			`m.yaml:5: workers: "dockrd" is not a worker of this Run, which has buildkitd-oci, dockerd: did you mean dockerd?`},
		{"another suite's worker", "workers: [buildkitd-oci, buildkitd-containerd, containerd, host]\n", ""},
		{"a remote worker", "workers: [buildkitd-oci, buildkitd-oc1]\nremote:\n  buildkitd-oc1:\n    buildkit: tcp://127.0.0.1:1\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc, err := ParseConfig("m.yaml", []byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			ws, notes, err := applyConfig(fc, &settings{}, &config{}, run)
			if tc.want == "" {
				if err != nil || len(ws) != 1 || len(notes) != 1 {
					t.Errorf("workers %v, notes %q, err %v; want buildkitd-oci and a note", ws, notes, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}
