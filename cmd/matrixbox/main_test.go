package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/report"
)

// quickstartBinary builds the quickstart example's test binary once per
// test; every shard runs it as a separate process.
func quickstartBinary(t *testing.T) (bin, dir string) {
	return suiteBinary(t, "../../examples/quickstart")
}

// suiteBinary builds the test binary of the package in dir (relative to
// this one) and returns it with the package's absolute directory.
func suiteBinary(t *testing.T, dir string) (bin, abs string) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.BuildTest(t, abs), abs
}

// runSuite runs the suite's binary once with env, writing its report to
// report.
func runSuite(t *testing.T, bin, dir, report string, env ...string) {
	t.Helper()
	if out, err := suiteCommand(bin, dir, report, nil, env).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, env, err, out)
	}
}

// suiteCommand runs a suite's binary in dir with no config file, writing
// its report to report, with args and env added.
func suiteCommand(bin, dir, report string, args, env []string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"-test.count=1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(childEnv(), integration.EnvReport+"="+report, integration.EnvConfig+"=none"), env...)
	return cmd
}

// childEnv is this process's environment without the variables that
// choose cases: matrixbox's and the shard variables of CI engines (these
// tests may themselves run in a CI job).
func childEnv() []string {
	return testkit.Environ(func(k string) bool { return testkit.MatrixboxVar(k) || ciShardVars[k] })
}

var ciShardVars = map[string]bool{
	"TEST_SHARD_INDEX": true, "TEST_TOTAL_SHARDS": true, "TEST_SHARD_STATUS_FILE": true,
	"CI_NODE_INDEX": true, "CI_NODE_TOTAL": true,
	"CIRCLE_NODE_INDEX": true, "CIRCLE_NODE_TOTAL": true,
	"BUILDKITE_PARALLEL_JOB": true, "BUILDKITE_PARALLEL_JOB_COUNT": true,
}

func caseNames(t *testing.T, files ...string) []string {
	t.Helper()
	var names []string
	for _, r := range caseRecords(t, files...) {
		names = append(names, r.Case)
	}
	sort.Strings(names)
	return names
}

// caseRecords returns the case records of report files.
func caseRecords(t *testing.T, files ...string) []report.Record {
	t.Helper()
	var cases []report.Record
	for _, f := range files {
		recs, err := report.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Kind == report.KindCase {
				cases = append(cases, r)
			}
		}
	}
	return cases
}

func runCmd(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// ciEngines is the table of issue 14: each engine's index and total
// variables and its first index.
var ciEngines = []struct {
	name, index, total string
	base               int
}{
	{"Bazel", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", 0},
	{"GitLab CI", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1},
	{"CircleCI", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0},
	{"Buildkite", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0},
}

// shardVariant is one way of telling n processes their shards.
type shardVariant struct {
	name string
	n    int
	// env returns the variables of shard i (0-based) and, for Bazel, the
	// status file it must touch.
	env func(i int, dir string) (env []string, status string)
	// from is how the records must say where the shard came from.
	from string
}

func shardVariants(planFile string) []shardVariant {
	var vs []shardVariant
	for _, n := range []int{1, 2, 3, 7} {
		vs = append(vs, shardVariant{name: fmt.Sprintf("MATRIXBOX_SHARD/n=%d", n), n: n, from: "MATRIXBOX_SHARD=",
			env: func(i int, _ string) ([]string, string) {
				return []string{fmt.Sprintf("%s=%d/%d", integration.EnvShard, i+1, n)}, ""
			}})
	}
	vs = append(vs, shardVariant{name: "MATRIXBOX_SHARD/n=3/balanced", n: 3, from: "MATRIXBOX_SHARD=",
		env: func(i int, _ string) ([]string, string) {
			return []string{fmt.Sprintf("%s=%d/3", integration.EnvShard, i+1), integration.EnvShardPlan + "=" + planFile}, ""
		}})
	for _, e := range ciEngines {
		for _, n := range []int{1, 2, 3, 7, 16} {
			vs = append(vs, shardVariant{name: fmt.Sprintf("%s/n=%d", e.name, n), n: n, from: e.name + " (",
				env: func(i int, dir string) ([]string, string) {
					env := []string{fmt.Sprintf("%s=%d", e.index, e.base+i), fmt.Sprintf("%s=%d", e.total, n)}
					if e.name != "Bazel" {
						return env, ""
					}
					status := filepath.Join(dir, fmt.Sprintf("status-%d", i+1))
					return append(env, "TEST_SHARD_STATUS_FILE="+status), status
				}})
		}
	}
	return vs
}

// TestShardsRunEveryCaseOnce runs the quickstart suite (the host worker,
// two axes) in shards as separate processes, told their shard by
// MATRIXBOX_SHARD (with and without a timing plan) or, as each CI engine
// runs its parallel jobs, by the engine's variables alone. The shards run
// every case of the unsharded run exactly once, Bazel's status file exists
// after each, merging their reports (with no -shards: the count comes from
// the records) gives the unsharded report, and the merge fails when a
// shard's report is missing.
func TestShardsRunEveryCaseOnce(t *testing.T) {
	bin, dir := quickstartBinary(t)
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole.jsonl")
	runSuite(t, bin, dir, whole)
	want := caseNames(t, whole)
	if len(want) != 8 {
		t.Fatalf("unsharded run: %d cases, want 8: %q", len(want), want)
	}
	wantReport, stderr, code := runCmd("report", "-durations=false", whole)
	if code != 0 {
		t.Fatalf("report of the unsharded run: exit %d\n%s", code, stderr)
	}
	// The timings of the unsharded run make a balanced plan for 3 shards.
	planFile := filepath.Join(tmp, "plan.json")
	if _, stderr, code := runCmd("ci-matrix", "-shards", "3", "-timings", whole, "-plan-out", planFile); code != 0 {
		t.Fatalf("ci-matrix: exit %d: %s", code, stderr)
	}
	for _, v := range shardVariants(planFile) {
		t.Run(v.name, func(t *testing.T) {
			sdir := t.TempDir()
			files := make([]string, v.n)
			var wg sync.WaitGroup
			for i := range files {
				files[i] = filepath.Join(sdir, fmt.Sprintf("shard-%d.jsonl", i+1))
				env, status := v.env(i, sdir)
				wg.Add(1)
				go func() {
					defer wg.Done()
					runSuite(t, bin, dir, files[i], env...)
					if _, err := os.Stat(status); status != "" && err != nil {
						t.Errorf("shard %d/%d: Bazel's status file: %v", i+1, v.n, err)
					}
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			got := caseNames(t, files...)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("the shards ran\n%s\nwant each case of the unsharded run once:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for i, f := range files {
				for _, r := range caseRecords(t, f) {
					if wantShard := fmt.Sprintf("%d/%d", i+1, v.n); v.n > 1 && (r.Shard != wantShard || !strings.HasPrefix(r.ShardFrom, v.from)) {
						t.Errorf("%s: shard %q from %q, want %s from %s…", r.Case, r.Shard, r.ShardFrom, wantShard, v.from)
					}
				}
			}
			if _, _, code := runCmd("report", "-durations=false", filepath.Join(sdir, "*.jsonl")); code == 0 {
				t.Fatal("report accepted a glob that names no file")
			}
			out, stderr, code := runCmd(append([]string{"report", "-durations=false"}, files...)...)
			if code != 0 || out != wantReport {
				t.Fatalf("merged report: exit %d %s\n%s\nwant the unsharded one:\n%s", code, stderr, out, wantReport)
			}
			// One shard's report missing: the merge must fail and say
			// which.
			for drop := 0; drop < v.n && v.n > 1; drop++ {
				rest := append(append([]string(nil), files[:drop]...), files[drop+1:]...)
				_, stderr, code := runCmd(append([]string{"report"}, rest...)...)
				wantMsg := fmt.Sprintf("no report from shard %d/%d", drop+1, v.n)
				if code != 1 || !strings.Contains(stderr, wantMsg) {
					t.Errorf("without shard %d/%d: exit %d, stderr %q; want 1 and %q", drop+1, v.n, code, stderr, wantMsg)
				}
			}
		})
	}
}

func TestReportFailsOnFailure(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "r.jsonl")
	recs := []report.Record{
		{Kind: report.KindRun, Run: "TestS", Shard: "1/1", Selected: 3, Cases: 3},
		{Kind: report.KindCase, Run: "TestS", Shard: "1/1", Test: "TestA", Case: "TestS/TestA/worker=host", Cell: "worker=host", Status: report.StatusPass},
		{Kind: report.KindCase, Run: "TestS", Shard: "1/1", Test: "TestB", Case: "TestS/TestB/worker=host", Cell: "worker=host", Status: report.StatusQuarantined, Attempts: 3,
			Quarantine: &report.QuarantineRef{URL: "https://example.com/1", Reason: "flaky"}},
		{Kind: report.KindCase, Run: "TestS", Shard: "1/1", Test: "TestC", Case: "TestS/TestC/worker=host", Cell: "worker=host", Status: report.StatusSkip},
	}
	if err := report.Append(f, recs...); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCmd("report", f)
	if code != 0 {
		t.Fatalf("a quarantined failure failed the report: exit %d %s", code, stderr)
	}
	if !strings.Contains(out, "[flaky](https://example.com/1), 3 attempts") || !strings.Contains(out, "| TestB | 🟡 ×3") {
		t.Errorf("report does not show the quarantined case:\n%s", out)
	}
	if err := report.Append(f, report.Record{Kind: report.KindCase, Run: "TestS", Shard: "1/1", Test: "TestD", Case: "TestS/TestD/worker=host", Cell: "worker=host", Status: report.StatusFail}); err != nil {
		t.Fatal(err)
	}
	// One more case than the run record announced, and a failure.
	out, stderr, code = runCmd("report", f)
	if code != 1 || !strings.Contains(out, "| TestD | ❌") || !strings.Contains(stderr, "reported 4 of its 3 cases") {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, out, stderr)
	}
}

func TestCIMatrix(t *testing.T) {
	out, stderr, code := runCmd("ci-matrix", "-shards", "4")
	if code != 0 {
		t.Fatal(stderr)
	}
	var m struct{ Include []map[string]any }
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(m.Include) != 4 || m.Include[0]["shard"] != "1/4" || m.Include[3]["shard"] != "4/4" {
		t.Errorf("include = %v", m.Include)
	}
	for _, n := range []string{"0", "257", "x"} {
		if _, stderr, code := runCmd("ci-matrix", "-shards", n); code != 2 || stderr == "" {
			t.Errorf("-shards %s: exit %d, %q; want a usage error", n, code, stderr)
		}
	}
	if _, _, code := runCmd("ci-matrix", "-shards", "256"); code != 0 {
		t.Error("-shards 256 refused")
	}
}

func TestBalance(t *testing.T) {
	d := map[string]float64{}
	for i := 0; i < 100; i++ {
		d[fmt.Sprintf("T/c%03d", i)] = float64((i*37)%101 + 1)
	}
	d["T/slow"] = 300
	plan, loads := balance(7, d)
	if err := plan.Check(); err != nil {
		t.Fatal(err)
	}
	if len(plan.Cases) != len(d) {
		t.Fatalf("plan has %d cases, want %d", len(plan.Cases), len(d))
	}
	lo, hi := loads[0], loads[0]
	for _, l := range loads {
		lo, hi = min(lo, l), max(hi, l)
	}
	// Longest-first greedy: the spread is at most one case's duration.
	if hi-lo > 101 {
		t.Errorf("loads %v: spread %.0f", loads, hi-lo)
	}
	again, _ := balance(7, d)
	for k, i := range plan.Cases {
		if again.Cases[k] != i {
			t.Fatalf("balance is not deterministic: %s in %d then %d", k, i, again.Cases[k])
		}
	}
}

func TestPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the quickstart example")
	}
	t.Setenv(integration.EnvConfig, "none")
	dir, _ := filepath.Abs("../..")
	t.Chdir(dir)
	out, stderr, code := runCmd("plan", "-shards", "3", "./examples/quickstart")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"github.com/matrixbox/matrixbox/examples/quickstart\n",
		"TestQuickstart: 2 tests × 4 cells = 8 cases",
		"worker=host/lang=rust/size=l",
		"total: 8 cases in 1 packages",
		"cases per shard: 1/3:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsage(t *testing.T) {
	if _, stderr, code := runCmd("frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("exit %d, %q", code, stderr)
	}
	if _, stderr, code := runCmd("report"); code != 2 || !strings.Contains(stderr, "give the report files") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}
