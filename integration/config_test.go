package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/matrix"
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

type namedWorker struct{ name string }

func (w namedWorker) Name() string { return w.name }
func (w namedWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	return hostworker.New().New(ctx, cfg)
}

// TestApplyConfig checks the precedence: environment over config over code.
func TestApplyConfig(t *testing.T) {
	fc, err := repoconfig.Parse("m.yaml", []byte(`
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
		fc, err := repoconfig.Load(filepath.Join("testdata/config", file))
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
	fc, err := repoconfig.Parse("m.yaml", []byte("strict: true\n"))
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
			fc, err := repoconfig.Parse("m.yaml", []byte(tc.file))
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
