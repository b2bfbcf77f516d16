package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/integration"
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
	for _, cmd := range []string{"matrixbox plan ./...", "matrixbox ci-matrix", "matrixbox report --shards", "MATRIXBOX_SHARD: ${{ matrix.shard }}", "MATRIXBOX_SHARD_PLAN"} {
		if !strings.Contains(string(data), cmd) {
			t.Errorf("the workflow does not use %q", cmd)
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
	fc, err := integration.LoadConfig(cfg)
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
