package platform_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// childEnv selects the scenario TestChild plays when this test binary runs
// itself as a child; what the user of `go test` sees is what is checked.
const childEnv = "MATRIXBOX_PLATFORM_CHILD"

func TestChild(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("runs only as a child of TestBadPlatform")
	case "code":
		integration.Run(t, integration.TestFuncs(testNeverRuns), integration.WithWorkers(workers.Host()),
			platforms(t, "linux/amd64", "linux/amd64/v9"))
	case "config":
		integration.Run(t, integration.TestFuncs(testNeverRuns), integration.WithWorkers(workers.Host()),
			platforms(t, "linux/amd64"))
	}
}

func testNeverRuns(t *testing.T, sb sandbox.Sandbox) {
	t.Errorf("a case ran in %s", sb.Name())
}

// TestBadPlatform: a platform string that does not parse fails the test,
// before anything starts, with an error naming the string; from the code
// (platform.Axis, whose error the suite's platforms helper checks) and from
// matrixbox.yaml (Run, through Main's platform.DecodeValue).
func TestBadPlatform(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "matrixbox.yaml")
	if err := os.WriteFile(conf, []byte("workers: [host]\naxes:\n  platform:\n    - linux/amd64\n    - linux/amd64/v9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scenario, config string
		want             []string
	}{
		{"code", "none", []string{`platform axis: platform "linux/amd64/v9": unknown variant "v9" of amd64`}},
		{"config", conf, []string{conf + `:5: axes.platform: value "linux/amd64/v9" does not decode`, `unknown variant "v9" of amd64`}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
			cmd.Env = append(os.Environ(), childEnv+"="+tc.scenario, integration.EnvConfig+"="+tc.config)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("child: %v, want exit status 1\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("child output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), "a case ran") {
				t.Errorf("a case ran despite the bad platform:\n%s", out)
			}
		})
	}
}
