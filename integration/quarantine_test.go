package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
	"github.com/matrixbox/matrixbox/sandbox"
)

const envHelper = "MATRIXBOX_TEST_HELPER"

// TestQuarantineHelper is the suite the quarantine tests run in a child
// process, so that they can see whether go test itself failed.
func TestQuarantineHelper(t *testing.T) {
	if os.Getenv(envHelper) != "quarantine" {
		t.Skip("run by TestQuarantine")
	}
	counters := os.Getenv("MBX_COUNTERS")
	Run(t, []Test{
		NewTest("TestAlwaysFails", func(t *testing.T, sb sandbox.Sandbox) { t.Fatal("always broken") }),
		NewTest("TestFlaky", func(t *testing.T, sb sandbox.Sandbox) {
			// Fails on the first attempt of each cell, passes after.
			p := filepath.Join(counters, strings.ReplaceAll(sb.Name(), "/", "_"))
			_, err := os.Stat(p)
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if os.IsNotExist(err) {
				t.Fatal("first attempt fails")
			}
		}),
		NewTest("TestPasses", func(t *testing.T, sb sandbox.Sandbox) {}),
		NewTest("TestSkips", func(t *testing.T, sb sandbox.Sandbox) { t.Skip("not today") }),
	}, WithAxes(matrix.FromMap("color", map[string]any{"red": 1, "blue": 2})))
}

func runHelper(t *testing.T, name string, env ...string) ([]report.Record, string, error) {
	t.Helper()
	dir := t.TempDir()
	reportFile := filepath.Join(dir, "report.jsonl")
	counters := filepath.Join(dir, "counters")
	if err := os.Mkdir(counters, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testkit.Self(), "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"=quarantine", EnvReport+"="+reportFile, "MBX_COUNTERS="+counters, EnvShard+"=", envSelect+"=")
	cmd.Env = append(cmd.Env, env...)
	out, runErr := cmd.CombinedOutput()
	recs, err := report.Read(reportFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return recs, string(out), runErr
}

func writeConfig(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "matrixbox.yaml")
	testkit.WriteFile(t, p, s)
	return p
}

func TestQuarantine(t *testing.T) {
	cfg := writeConfig(t, `
quarantine:
  - test: TestAlwaysFails
    url: https://example.com/issues/1
    reason: always broken
    retries: 2
  - test: TestFlaky
    url: https://example.com/issues/2
    reason: flaky
    retries: 2
  - test: TestPasses
    cells: color=red
    url: https://example.com/issues/3
    reason: fixed, not yet lifted
`)
	recs, out, err := runHelper(t, "TestQuarantineHelper", EnvConfig+"="+cfg)
	if err != nil {
		t.Fatalf("go test failed with quarantined failures: %v\n%s", err, out)
	}
	byCase := map[string]report.Record{}
	for _, r := range recs {
		if r.Kind == report.KindCase {
			if _, dup := byCase[r.Case]; dup {
				t.Errorf("%s reported twice", r.Case)
			}
			byCase[r.Case] = r
		}
	}
	if len(byCase) != 8 {
		t.Errorf("%d cases reported, want 8:\n%s", len(byCase), out)
	}
	for _, color := range []string{"red", "blue"} {
		c := func(test string) report.Record {
			return byCase["TestQuarantineHelper/"+test+"/worker=host/color="+color]
		}
		r := c("TestAlwaysFails")
		if r.Status != report.StatusQuarantined || r.Attempts != 3 || len(r.AttemptLog) != 3 || r.Quarantine == nil || r.Quarantine.URL != "https://example.com/issues/1" {
			t.Errorf("%s: %+v, want quarantined after 3 attempts with the URL", color, r)
		}
		for i, a := range r.AttemptLog {
			if a.Status != report.StatusFail || !strings.Contains(a.Error, "always broken") {
				t.Errorf("%s attempt %d: %+v, want a failure with the test's message", color, i+1, a)
			}
		}
		if r := c("TestFlaky"); r.Status != report.StatusPass || r.Attempts != 2 || r.AttemptLog[0].Status != report.StatusFail || r.AttemptLog[1].Status != report.StatusPass {
			t.Errorf("%s: TestFlaky %+v, want a pass on attempt 2", color, r)
		}
		r = c("TestPasses")
		if r.Status != report.StatusPass || r.Attempts != 1 {
			t.Errorf("%s: TestPasses %+v", color, r)
		}
		if (r.Quarantine != nil) != (color == "red") {
			t.Errorf("%s: TestPasses quarantine = %+v; only the red cell is quarantined", color, r.Quarantine)
		}
		if r := c("TestSkips"); r.Status != report.StatusSkip {
			t.Errorf("%s: TestSkips %+v", color, r)
		}
	}
	if !strings.Contains(out, "QUARANTINED (https://example.com/issues/1: always broken)") || !strings.Contains(out, "may be lifted") {
		t.Errorf("the go test output does not say what was quarantined and what may be lifted:\n%s", out)
	}

	// Without the quarantine the same suite fails go test, and reports
	// each failing case once, with no retry.
	recs, out, err = runHelper(t, "TestQuarantineHelper", EnvConfig+"=none")
	if err == nil {
		t.Fatalf("go test passed with failing cases and no quarantine:\n%s", out)
	}
	fails := 0
	for _, r := range recs {
		if r.Kind == report.KindCase && r.Status == report.StatusFail {
			fails++
			if r.Attempts != 1 || r.Quarantine != nil {
				t.Errorf("%s: %+v, want one attempt", r.Case, r)
			}
		}
	}
	if fails != 4 {
		t.Errorf("%d failures reported, want 4 (TestAlwaysFails and TestFlaky in 2 cells)", fails)
	}
}

func TestRunPattern(t *testing.T) {
	got := runPattern("TestA/TestB.x/worker=host/v=1+2")
	want := `^TestA$/^TestB\.x$/^worker=host$/^v=1\+2$`
	if got != want {
		t.Errorf("runPattern = %s, want %s", got, want)
	}
}

// Example of a quarantine entry's matching.
func ExampleQuarantine_Matches() {
	fc, err := repoconfig.Parse("matrixbox.yaml", []byte(`
quarantine:
  - test: TestPush
    cells: worker=dockerd
    url: https://github.com/example/project/issues/42
    reason: dockerd push times out on arm64 runners
    retries: 1
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	q := fc.Quarantine[0]
	fmt.Println(q.URL, q.Retries)
	// Output: https://github.com/example/project/issues/42 1
}
