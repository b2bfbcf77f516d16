package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/report"
)

// TestCIExample checks that the example workflow is YAML with the three
// jobs, uses the three commands, and feeds ci-matrix to strategy.matrix.
func TestCIExample(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/integration.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Needs    any            `yaml:"needs"`
			Strategy map[string]any `yaml:"strategy"`
			Steps    []map[string]any
		}
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("integration.yml: %v", err)
	}
	for _, j := range []string{"plan", "test", "report"} {
		if _, ok := wf.Jobs[j]; !ok {
			t.Errorf("no job %q", j)
		}
	}
	if m, _ := wf.Jobs["test"].Strategy["matrix"].(string); !strings.Contains(m, "fromJSON(needs.plan.outputs.matrix)") {
		t.Errorf("test job's matrix = %q, want fromJSON of the plan job's output", m)
	}
	for _, cmd := range []string{"matrixbox plan ./...", "matrixbox ci-matrix", "matrixbox report --shards", "--junit junit.xml", "MATRIXBOX_SHARD: ${{ matrix.shard }}", "MATRIXBOX_SHARD_PLAN", `MATRIXBOX_STRICT: "1"`} {
		if !strings.Contains(string(data), cmd) {
			t.Errorf("the workflow does not use %q", cmd)
		}
	}
}

// TestGitLabExample checks that the GitLab pipeline and its child are YAML
// that fit together with what matrixbox ci-matrix -format gitlab writes:
// the plan job writes shards.yml, the trigger includes it with the child,
// and the child's test job extends the generated hidden job.
func TestGitLabExample(t *testing.T) {
	type job struct {
		Extends   string            `yaml:"extends"`
		Needs     any               `yaml:"needs"`
		Variables map[string]string `yaml:"variables"`
		Script    []string          `yaml:"script"`
		Trigger   struct {
			Include []map[string]string `yaml:"include"`
		} `yaml:"trigger"`
		Parallel  any `yaml:"parallel"`
		Artifacts struct {
			Reports map[string]any `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	load := func(name string, data []byte) map[string]job {
		t.Helper()
		var nodes map[string]yaml.Node
		if err := yaml.Unmarshal(data, &nodes); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		jobs := map[string]job{}
		for k, n := range nodes {
			if k == "stages" || k == "variables" {
				continue // global keywords, not jobs
			}
			var j job
			if err := n.Decode(&j); err != nil {
				t.Fatalf("%s: job %s: %v", name, k, err)
			}
			jobs[k] = j
		}
		return jobs
	}
	read := func(name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("../../examples/ci", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	parent := load("gitlab-ci.yml", read("gitlab-ci.yml"))
	if plan := strings.Join(parent["plan"].Script, "\n"); !strings.Contains(plan, "matrixbox ci-matrix -format gitlab") || !strings.Contains(plan, "> shards.yml") {
		t.Errorf("the plan job does not write shards.yml with ci-matrix -format gitlab:\n%s", plan)
	}
	inc := parent["shards"].Trigger.Include
	if len(inc) != 2 || inc[0]["artifact"] != "shards.yml" || inc[0]["job"] != "plan" || inc[1]["local"] != ".gitlab/matrixbox-shards.yml" {
		t.Errorf("the shards job includes %v, want the plan's shards.yml and .gitlab/matrixbox-shards.yml", inc)
	}

	out, stderr, code := runCmd("ci-matrix", "-shards", "4", "-format", "gitlab")
	if code != 0 {
		t.Fatal(stderr)
	}
	child := load("gitlab-shards.yml", read("gitlab-shards.yml"))
	for name, j := range load("ci-matrix output", []byte(out)) {
		child[name] = j
	}
	test := child["test"]
	if base, ok := child[test.Extends]; !ok || base.Parallel != 4 {
		t.Errorf("the test job extends %q, which is %+v; want the generated job with parallel: 4\n%s", test.Extends, base, out)
	}
	if test.Variables["MATRIXBOX_STRICT"] != "1" || !strings.Contains(strings.Join(test.Script, "\n"), "go test") {
		t.Errorf("test job: %+v", test)
	}
	if rep := child["report"]; rep.Artifacts.Reports["junit"] != "junit.xml" || !strings.Contains(strings.Join(rep.Script, "\n"), "matrixbox report -junit junit.xml") {
		t.Errorf("report job: %+v", rep)
	}

	out, stderr, code = runCmd("ci-matrix", "-shards", "3", "-format", "gitlab-matrix")
	if code != 0 {
		t.Fatal(stderr)
	}
	var m map[string]struct {
		Parallel struct {
			Matrix []map[string][]string `yaml:"matrix"`
		} `yaml:"parallel"`
	}
	if err := yaml.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if got := m[".matrixbox-shards"].Parallel.Matrix; len(got) != 1 || strings.Join(got[0]["MATRIXBOX_SHARD"], " ") != "1/3 2/3 3/3" {
		t.Errorf("gitlab-matrix: %v\n%s", got, out)
	}
	for _, args := range [][]string{{"-shards", "201", "-format", "gitlab"}, {"-shards", "2", "-format", "jenkins"}} {
		if _, stderr, code := runCmd(append([]string{"ci-matrix"}, args...)...); code != 2 || stderr == "" {
			t.Errorf("ci-matrix %v: exit %d, %q; want a usage error", args, code, stderr)
		}
	}
}

// TestExampleConfigOnQuickstart runs the quickstart suite with the example
// config: its selection, exclusion and quarantine must show in the report.
func TestExampleConfigOnQuickstart(t *testing.T) {
	cfg, err := filepath.Abs("../../examples/ci/matrixbox.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := repoconfig.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fc.Shards != 4 {
		t.Errorf("shards = %d", fc.Shards)
	}
	bin, dir := quickstartBinary(t)
	reportFile := filepath.Join(t.TempDir(), "r.jsonl")
	runSuite(t, bin, dir, reportFile, integration.EnvConfig+"="+cfg)
	recs, err := report.Read(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, r := range recs {
		if r.Kind != report.KindCase {
			continue
		}
		cases = append(cases, r.Case)
		q := r.Test == "TestEcho" && r.Axes["lang"] == "rust"
		if (r.Quarantine != nil) != q {
			t.Errorf("%s: quarantine %+v", r.Case, r.Quarantine)
		}
		if r.Status != report.StatusPass {
			t.Errorf("%s: %s", r.Case, r.Status)
		}
	}
	if len(cases) != 6 {
		t.Errorf("ran %d cases, want 6 (2 tests × 4 cells less lang=rust,size=l): %q", len(cases), cases)
	}
	for _, c := range cases {
		if strings.Contains(c, "lang=rust/size=l") {
			t.Errorf("%s ran; the config excludes it", c)
		}
	}
}
