package integration

import (
	"os"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/sandbox"
)

func init() {
	scenarios["keep-one"] = func(t *testing.T) {
		Run(t, []Test{NewTest("TestKept", func(t *testing.T, sb sandbox.Sandbox) {
			if err := os.WriteFile(sb.TempDir()+"/state", []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		})})
	}
	scenarios["keep-many"] = func(t *testing.T) {
		Run(t, TestFuncs(testNothing, testAlsoNothing))
	}
}

func TestReadKeep(t *testing.T) {
	for _, c := range []struct{ keep, keepFor, want string }{
		{"sometimes", "", envKeep + `="sometimes"`},
		{"failed", "soon", envKeepFor + `="soon"`},
		{"failed", "-1m", envKeepFor + `="-1m"`},
	} {
		t.Setenv(envKeep, c.keep)
		t.Setenv(envKeepFor, c.keepFor)
		if _, err := readKeep(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q %s=%q: error %v, want one naming %s", envKeep, c.keep, envKeepFor, c.keepFor, err, c.want)
		}
	}
	t.Setenv(envKeep, "failed")
	t.Setenv(envKeepFor, "")
	if k, err := readKeep(); err != nil || !k.failed || k.always || k.wait != defaultKeepFor {
		t.Errorf("failed: %+v, %v", k, err)
	}
}

// MATRIXBOX_KEEP=always keeps the sandbox of the one case of a Run, passed
// or not, says where it is and waits MATRIXBOX_KEEP_FOR.
func TestKeepAlwaysOneCase(t *testing.T) {
	out, ok := runChild(t, "keep-one", []string{envKeep + "=always", envKeepFor + "=1s"})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	for _, want := range []string{
		"matrixbox: keeping the sandbox of TestChild/TestKept/worker=host, which passed (MATRIXBOX_KEEP=always), for 1s (MATRIXBOX_KEEP_FOR=1s) or until Ctrl-C:",
		"  sandbox dir  /",
		"  case logs    /",
		"matrixbox: the wait of TestChild/TestKept/worker=host ended after 1s; cleaning up",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// It refuses a Run of more than one case, saying how to select one.
func TestKeepAlwaysRefusesManyCases(t *testing.T) {
	out, ok := runChild(t, "keep-many", []string{envKeep + "=always"})
	if ok {
		t.Fatalf("child passed:\n%s", out)
	}
	for _, want := range []string{
		"MATRIXBOX_KEEP=always keeps the sandbox of one case, and this Run selects 2 (TestChild/TestNothing/worker=host, TestChild/TestAlsoNothing/worker=host)",
		"go test -run '^TestChild$/^TestNothing$/^worker=host$'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "keeping the sandbox") {
		t.Errorf("a sandbox was kept:\n%s", out)
	}
}
