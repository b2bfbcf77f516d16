package report

import (
	"fmt"
	"time"
)

// Record kinds.
const (
	// KindCase is the outcome of one case.
	KindCase = "case"
	// KindRun is written by every Run before its cases, even when its shard
	// holds none, so that a report shows which shards ran.
	KindRun = "run"
	// KindPlan is one case a Run would run (MATRIXBOX_PLAN).
	KindPlan = "plan"
)

// Case statuses.
const (
	StatusPass        = "pass"
	StatusFail        = "fail"
	StatusSkip        = "skip"
	StatusQuarantined = "quarantined" // failed, but quarantined: does not fail go test
)

// Record is one line of a report or plan file.
type Record struct {
	Kind    string `json:"kind"`
	Package string `json:"package,omitempty"`
	// Run is the name of the test that called integration.Run.
	Run string `json:"run"`
	// RunIndex numbers the calls of integration.Run that the test Run
	// made, from 1 (BuildKit's TestIntegration makes five): with Package
	// and Run it names one Run (see [Record.RunID]). Reports written
	// before it was recorded have 0, read as 1.
	RunIndex int `json:"run_index,omitempty"`
	// Shard is "i/n" of the process that wrote the record; "1/1" unsharded.
	Shard string `json:"shard"`
	// ShardFrom says where the shard came from: "MATRIXBOX_SHARD=2/4",
	// "GitLab CI (CI_NODE_INDEX=2, CI_NODE_TOTAL=4)", ...; "" unsharded.
	ShardFrom string `json:"shard_from,omitempty"`

	Test   string            `json:"test,omitempty"` // the Test's name
	Case   string            `json:"case,omitempty"` // the full subtest name
	Cell   string            `json:"cell,omitempty"`
	Worker string            `json:"worker,omitempty"`
	Axes   map[string]string `json:"axes,omitempty"` // axis → value name

	Status     string         `json:"status,omitempty"`
	Attempts   int            `json:"attempts,omitempty"`
	AttemptLog []Attempt      `json:"attempt_log,omitempty"`
	DurationMS float64        `json:"duration_ms,omitempty"`
	StartupMS  float64        `json:"startup_ms,omitempty"`
	SkipReason string         `json:"skip_reason,omitempty"`
	Quarantine *QuarantineRef `json:"quarantine,omitempty"`
	// Output is what the case logged, when it failed or skipped itself
	// (the tail, when long): the test's t.Log, t.Error and t.Skip lines and
	// matrixbox's own, daemon logs included.
	Output string `json:"output,omitempty"`

	// Selected (KindRun) counts the cases of the Run in all shards, Cases
	// those of this shard.
	Selected int `json:"selected,omitempty"`
	Cases    int `json:"cases,omitempty"`
	// GoVersion (KindRun) is the Go release the test binary was built with.
	GoVersion string `json:"go_version,omitempty"`

	Time time.Time `json:"time"`
}

// RunID names the Run that wrote r within its package: see [RunID].
func (r Record) RunID() string { return RunID(r.Run, r.RunIndex) }

// RunID names the index-th call of integration.Run by the test named run:
// run itself for the first, "run#2", "run#3", … for the later ones. It is
// the same in every process and shard of a suite, as long as the test
// calls Run in the same order each time.
func RunID(run string, index int) string {
	if index <= 1 {
		return run
	}
	return fmt.Sprintf("%s#%d", run, index)
}

// CaseKey is what names a case across the packages of a suite: its
// package and its full subtest name ("example.com/pkg TestIntegration/TestCopy/worker=oci").
// Shard plans key their cases by it, so that two packages' cases of the
// same name do not collide.
func CaseKey(pkg, caseName string) string {
	if pkg == "" {
		return caseName
	}
	return pkg + " " + caseName
}

// Attempt is one run of a quarantined case.
type Attempt struct {
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	// Error is the tail of a failed attempt's output, or why a skipped one
	// skipped.
	Error string `json:"error,omitempty"`
}

// QuarantineRef says why a case is quarantined.
type QuarantineRef struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}
