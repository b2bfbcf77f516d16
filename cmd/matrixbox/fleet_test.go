package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/report"
)

// runFleet runs the fleet suite with env, writing its report to
// reportFile, and returns the report's case records, its output and
// whether it passed.
func runFleet(t *testing.T, bin, dir, reportFile string, args []string, env ...string) ([]report.Record, string, bool) {
	t.Helper()
	out, ok := testkit.Run(t, suiteCommand(bin, dir, reportFile, args, env))
	if _, serr := os.Stat(reportFile); serr != nil {
		t.Fatalf("no report: %v\n%s", serr, out)
	}
	return caseRecords(t, reportFile), out, ok
}

// TestFleetSuite runs the fleet fixture, built once, in each way below.
func TestFleetSuite(t *testing.T) {
	bin, dir := suiteBinary(t, "testdata/fleet")
	t.Run("AttributesAndJUnit", func(t *testing.T) { testAttributesAndJUnit(t, bin, dir) })
	t.Run("SkipReasonOfAVerboseRun", func(t *testing.T) { testSkipReasonOfAVerboseRun(t, bin, dir) })
	t.Run("MisconfiguredBinaryFailsInEveryMode", func(t *testing.T) { testMisconfiguredBinaryFailsInEveryMode(t, bin, dir) })
}

// cellTerms returns the worker and axis values named by a case's full name.
func cellTerms(name string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(name, "/") {
		if k, v, ok := strings.Cut(part, "="); ok {
			m[k] = v
		}
	}
	return m
}

// testAttributesAndJUnit: go test -json shows each case's worker and axis
// values as attributes; matrixbox report -junit writes a file that parses,
// with one property per axis on every case, the reason on every skipped
// case and the output on every failed one; the Markdown grid and the heat
// map show the reasons too.
func testAttributesAndJUnit(t *testing.T, bin, dir string) {
	// go test -json is test2json over the binary run with -test.v=test2json.
	cmd := testkit.JSONCommand(t, bin, "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(childEnv(), integration.EnvConfig+"=none")
	out, _ := cmd.Output()
	attrs := map[string]map[string]string{}
	for _, ev := range testkit.Events(out) {
		if ev.Action == "run" && strings.Count(ev.Test, "/") == 5 {
			attrs[ev.Test] = map[string]string{}
		}
		if ev.Action == "attr" {
			if attrs[ev.Test] == nil {
				attrs[ev.Test] = map[string]string{}
			}
			attrs[ev.Test][ev.Key] = ev.Value
		}
	}
	if len(attrs) != 32 {
		t.Errorf("go test -json shows %d cases, want 32 (4 tests × 2 workers × 2 langs × 2 sizes):\n%s", len(attrs), out)
	}
	for name, got := range attrs {
		if want := cellTerms(name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: attributes %v, want %v", name, got, want)
		}
	}

	reportFile := filepath.Join(t.TempDir(), "r.jsonl")
	if _, _, ok := runFleet(t, bin, dir, reportFile, nil, "FLEET_FAIL=1"); ok {
		t.Fatal("the fleet suite passed with FLEET_FAIL=1")
	}
	junitFile := filepath.Join(t.TempDir(), "junit.xml")
	htmlFile := filepath.Join(t.TempDir(), "report.html")
	md, stderr, code := runCmd("report", "-junit", junitFile, "-html", htmlFile, reportFile)
	if code != 1 || !strings.Contains(stderr, "4 failed case(s), 0 problem(s)") {
		t.Errorf("report: exit %d, %s", code, stderr)
	}
	data, err := os.ReadFile(junitFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name       string `xml:"name,attr"`
			Tests      int    `xml:"tests,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Classname  string `xml:"classname,attr"`
				Name       string `xml:"name,attr"`
				Time       string `xml:"time,attr"`
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, data)
	}
	const pkg = "github.com/matrixbox/matrixbox/cmd/matrixbox/testdata/fleet"
	if len(doc.Suites) != 1 || doc.Suites[0].Name != pkg || doc.Tests != 32 || doc.Failures != 4 {
		t.Fatalf("junit.xml: %d suites, %d tests, %d failures; want one suite %s of 32 tests, 4 failures", len(doc.Suites), doc.Tests, doc.Failures, pkg)
	}
	skipReasons := map[string]string{
		"TestSkipsItself/worker=host":    "SKIPPED-BY-THE-TEST in worker=host/",
		"TestNeedsFrob/worker=host":      `worker host lacks feature "frob", which TestNeedsFrob requires`,
		"worker=frobd":                   "worker frobd unavailable: frobd not found in PATH: apt-get install frobd",
		"TestFailsOnRequest/worker=host": "",
		"TestPasses/worker=host":         "",
	}
	for _, c := range doc.Suites[0].Cases {
		got := map[string]string{}
		for _, p := range c.Properties {
			got[p.Name] = p.Value
		}
		if want := cellTerms(c.Name); len(c.Properties) != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: properties %v, want one per axis: %v", c.Name, c.Properties, want)
		}
		if c.Classname != pkg || !strings.HasPrefix(c.Name, "TestFleet/Test") {
			t.Errorf("testcase %s %s: want the package and the full subtest path", c.Classname, c.Name)
		}
		for key, reason := range skipReasons {
			if !strings.Contains(c.Name, key) {
				continue
			}
			switch {
			case reason == "" && c.Skipped != nil:
				t.Errorf("%s: skipped %q", c.Name, c.Skipped.Message)
			case reason != "" && (c.Skipped == nil || !strings.Contains(c.Skipped.Message, reason)):
				t.Errorf("%s: skipped %+v, want a reason with %q", c.Name, c.Skipped, reason)
			}
			if reason != "" && !strings.Contains(md, reason) {
				t.Errorf("the Markdown grid does not say %q", reason)
			}
		}
		if strings.Contains(c.Name, "TestFailsOnRequest/worker=host") && (c.Failure == nil || !strings.Contains(c.Failure.Text, "FAILED-ON-REQUEST in "+strings.SplitN(c.Name, "/", 3)[2])) {
			t.Errorf("%s: failure %+v, want the case's output", c.Name, c.Failure)
		}
	}
	page, err := os.ReadFile(htmlFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"apt-get install frobd", "lacks feature &#34;frob&#34;", "SKIPPED-BY-THE-TEST in worker=host/lang=go/size=s"} {
		if !bytes.Contains(page, []byte(reason)) {
			t.Errorf("the heat map does not say %q", reason)
		}
	}
}

// testSkipReasonOfAVerboseRun: with -v the testing package prints a
// test's log instead of keeping it, so the record says where the test
// skipped and where its message went.
func testSkipReasonOfAVerboseRun(t *testing.T, bin, dir string) {
	recs, out, ok := runFleet(t, bin, dir, filepath.Join(t.TempDir(), "r.jsonl"), []string{"-test.v", "-test.run=TestFleet/TestSkipsItself/worker=host"})
	if !ok {
		t.Fatalf("fleet failed:\n%s", out)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	for _, r := range recs {
		if r.Status != report.StatusSkip || !strings.HasPrefix(r.SkipReason, "skipped by the test at fleet_test.go:") || !strings.HasSuffix(r.SkipReason, "; its message is in the go test output") {
			t.Errorf("%s: %s %q", r.Case, r.Status, r.SkipReason)
		}
	}
}

// testMisconfiguredBinaryFailsInEveryMode: a worker given a binary path
// that does not exist fails its cells, strict mode or not, naming it.
func testMisconfiguredBinaryFailsInEveryMode(t *testing.T, bin, dir string) {
	for _, strict := range []string{"0", "1"} {
		recs, out, ok := runFleet(t, bin, dir, filepath.Join(t.TempDir(), "r.jsonl"), []string{"-test.run=TestFleet/TestPasses/worker=buildkitd-oci"},
			"FLEET_MISCONFIGURED=1", integration.EnvStrict+"="+strict)
		if ok || !strings.Contains(out, "matrixbox: worker buildkitd-oci: misconfigured: /opt/nope/buildkitd: ") {
			t.Errorf("%s=%s: passed=%v\n%s", integration.EnvStrict, strict, ok, out)
		}
		var statuses []string
		for _, r := range recs {
			statuses = append(statuses, r.Status)
		}
		sort.Strings(statuses)
		if strings.Join(statuses, " ") != "fail fail fail fail" {
			t.Errorf("%s=%s: statuses %q, want 4 failures", integration.EnvStrict, strict, statuses)
		}
	}
}
