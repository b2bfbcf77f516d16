package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/report"
)

// The suites of testdata/plan: runs (a test that calls integration.Run
// twice), compata and compatb (the same TestIntegration on the compat
// layer in two packages), and broken (a failing test).
const planFixtures = "github.com/matrixbox/matrixbox/cmd/matrixbox/testdata/plan/"

// runShards runs a suite's binary unsharded into whole and as n shards
// into shard-i.jsonl files of dir, with env added to each, and returns the
// shards' files.
func runShards(t *testing.T, bin, pkgDir, whole, dir string, n int, env ...string) []string {
	t.Helper()
	runSuite(t, bin, pkgDir, whole, env...)
	var files []string
	for i := 1; i <= n; i++ {
		f := filepath.Join(dir, fmt.Sprintf("%s-shard-%d.jsonl", filepath.Base(pkgDir), i))
		runSuite(t, bin, pkgDir, f, append([]string{fmt.Sprintf("%s=%d/%d", integration.EnvShard, i, n)}, env...)...)
		files = append(files, f)
	}
	return files
}

// readJUnit parses a JUnit file matrixbox report wrote.
func readJUnit(t *testing.T, path string) junitSuites {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// checkJUnit checks that doc has one suite per package of want (package →
// its case names), each holding exactly that package's cases.
func checkJUnit(t *testing.T, doc junitSuites, want map[string][]string) {
	t.Helper()
	got := map[string][]string{}
	for _, s := range doc.Suites {
		if got[s.Name] != nil {
			t.Errorf("JUnit: two suites named %q", s.Name)
		}
		for _, c := range s.Cases {
			got[s.Name] = append(got[s.Name], c.Name)
			if c.Classname != s.Name {
				t.Errorf("JUnit: case %s of suite %s has classname %q", c.Name, s.Name, c.Classname)
			}
		}
		sort.Strings(got[s.Name])
	}
	for pkg, cases := range want {
		sort.Strings(cases)
		if strings.Join(got[pkg], "\n") != strings.Join(cases, "\n") {
			t.Errorf("JUnit suite %q has cases\n%s\nwant\n%s", pkg, strings.Join(got[pkg], "\n"), strings.Join(cases, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("JUnit has %d suites, want %d (one per package)", len(got), len(want))
	}
}

// casesByPackage groups the case names of records by their package.
func casesByPackage(recs []report.Record) map[string][]string {
	m := map[string][]string{}
	for _, r := range recs {
		m[r.Package] = append(m[r.Package], r.Case)
	}
	return m
}

// TestReportOfATestWithTwoRuns: a green run of a test that calls
// integration.Run twice reports green, unsharded and over 3 shards, with
// each Run's grid apart and one JUnit suite for the package (issue 22: the
// Runs' records were merged, and the report said the shard ran twice).
func TestReportOfATestWithTwoRuns(t *testing.T) {
	bin, dir := suiteBinary(t, "testdata/plan/runs")
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole.jsonl")
	shards := runShards(t, bin, dir, whole, tmp, 3)
	recs := caseRecords(t, whole)
	if len(recs) != 8 {
		t.Fatalf("unsharded run: %d cases, want 8", len(recs))
	}
	for _, r := range recs {
		if r.Package != planFixtures+"runs" {
			t.Errorf("%s: package %q, want %q", r.Case, r.Package, planFixtures+"runs")
		}
		if wantIndex := map[bool]int{true: 2, false: 1}[r.Test == "TestC"]; r.Run == "TestTwoRuns" && r.RunIndex != wantIndex {
			t.Errorf("%s: run_index %d, want %d", r.Case, r.RunIndex, wantIndex)
		}
	}
	junit := filepath.Join(tmp, "junit.xml")
	wantReport, stderr, code := runCmd("report", "-durations=false", "-junit", junit, whole)
	if code != 0 {
		t.Fatalf("report of the green unsharded run: exit %d\n%s\n%s", code, stderr, wantReport)
	}
	for _, want := range []string{"· TestTwoRuns (Run 1)\n", "· TestTwoRuns (Run 2)\n", "· TestOneRun\n", "8 passed, 0 failed"} {
		if !strings.Contains(wantReport, want) {
			t.Errorf("report lacks %q:\n%s", want, wantReport)
		}
	}
	checkJUnit(t, readJUnit(t, junit), casesByPackage(recs))
	if got := caseNames(t, shards...); strings.Join(got, "\n") != strings.Join(caseNames(t, whole), "\n") {
		t.Errorf("the 3 shards ran\n%s\nwant each case of the unsharded run once", strings.Join(got, "\n"))
	}
	out, stderr, code := runCmd(append([]string{"report", "-durations=false", "-junit", junit}, shards...)...)
	if code != 0 || out != wantReport {
		t.Fatalf("report of the green run in 3 shards: exit %d %s\n%s\nwant the unsharded one:\n%s", code, stderr, out, wantReport)
	}
	checkJUnit(t, readJUnit(t, junit), casesByPackage(recs))
}

// TestCompatSuitesAreTheirOwnPackages: two packages whose TestIntegration
// runs on the compat layer are recorded, reported and put into JUnit
// under their own packages, not the compat layer's, and a timing plan of
// ci-matrix keeps their cases apart (issue 22: both were attributed to
// compat/buildkit/integration, and the plan keyed cases by name alone).
func TestCompatSuitesAreTheirOwnPackages(t *testing.T) {
	tmp := t.TempDir()
	type suite struct{ bin, dir, whole string }
	var suites []suite
	var wholes []string
	for _, name := range []string{"compata", "compatb"} {
		bin, dir := suiteBinary(t, "testdata/plan/"+name)
		whole := filepath.Join(tmp, name+".jsonl")
		runSuite(t, bin, dir, whole)
		suites = append(suites, suite{bin, dir, whole})
		wholes = append(wholes, whole)
		for _, r := range caseRecords(t, whole) {
			if r.Package != planFixtures+name {
				t.Errorf("%s: package %q, want %q", r.Case, r.Package, planFixtures+name)
			}
		}
	}
	recs := caseRecords(t, wholes...)
	if len(recs) != 8 {
		t.Fatalf("%d cases, want 8 (4 per package)", len(recs))
	}
	junit := filepath.Join(tmp, "junit.xml")
	wantReport, stderr, code := runCmd(append([]string{"report", "-durations=false", "-junit", junit}, wholes...)...)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code, stderr, wantReport)
	}
	checkJUnit(t, readJUnit(t, junit), casesByPackage(recs))

	planFile := filepath.Join(tmp, "shard-plan.json")
	if _, stderr, code := runCmd(append([]string{"ci-matrix", "-shards", "3", "-plan-out", planFile}, timingsArgs(wholes)...)...); code != 0 {
		t.Fatalf("ci-matrix: exit %d: %s", code, stderr)
	}
	sp, err := report.ReadShardPlan(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, ok := sp.Shard(report.CaseKey(r.Package, r.Case)); !ok {
			t.Errorf("the shard plan does not name %s of %s", r.Case, r.Package)
		}
	}
	if len(sp.Cases) != len(recs) {
		t.Errorf("the shard plan names %d cases, want %d: %v", len(sp.Cases), len(recs), sp.Cases)
	}
	var shards []string
	for _, s := range suites {
		for i := 1; i <= 3; i++ {
			f := filepath.Join(tmp, fmt.Sprintf("%s-%d.jsonl", filepath.Base(s.dir), i))
			runSuite(t, s.bin, s.dir, f, fmt.Sprintf("%s=%d/3", integration.EnvShard, i), integration.EnvShardPlan+"="+planFile)
			shards = append(shards, f)
		}
	}
	for _, r := range caseRecords(t, shards...) {
		if want, _ := sp.Shard(report.CaseKey(r.Package, r.Case)); r.Shard != fmt.Sprintf("%d/3", want) {
			t.Errorf("%s of %s ran in shard %s, the plan says %d/3", r.Case, r.Package, r.Shard, want)
		}
	}
	out, stderr, code := runCmd(append([]string{"report", "-durations=false"}, shards...)...)
	if code != 0 || out != wantReport {
		t.Fatalf("report of the planned shards: exit %d %s\n%s\nwant the unsharded one:\n%s", code, stderr, out, wantReport)
	}
}

func timingsArgs(files []string) []string {
	var args []string
	for _, f := range files {
		args = append(args, "-timings", f)
	}
	return args
}

// TestPlanOfSeveralRunsAndAFailingPackage: matrixbox plan lists every case
// of every Run of a test, attributes compat suites to their packages, and
// when one package's go test fails still prints the others' plans, then
// names the package and why (issue 22: the plan stopped at a test's first
// Run, and a failing package printed only "exit status 1").
func TestPlanOfSeveralRunsAndAFailingPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites of testdata/plan")
	}
	t.Setenv(integration.EnvConfig, "none")
	t.Chdir("testdata/plan")
	out, stderr, code := runCmd("plan", "./...")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a package failed)\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		planFixtures + "runs\n",
		"  TestTwoRuns (Run 1): 2 tests × 2 cells = 4 cases\n",
		"  TestTwoRuns (Run 2): 1 tests × 3 cells = 3 cases\n",
		"  TestOneRun: 1 tests × 1 cells = 1 cases\n",
		planFixtures + "compata\n  TestIntegration (Run 1): 2 tests × 1 cells = 2 cases\n",
		planFixtures + "compatb\n  TestIntegration (Run 1): 2 tests × 1 cells = 2 cases\n",
		planFixtures + "broken\n  TestPlanned: 1 tests × 1 cells = 1 cases\n",
		"total: 17 cases in 4 packages\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "compat/buildkit/integration") {
		t.Errorf("plan attributes cases to the compat layer:\n%s", out)
	}
	for _, want := range []string{"go test failed in 1 package(s)", planFixtures + "broken: TestBroken failed: BROKEN-ON-PURPOSE", "--- FAIL: TestBroken"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
