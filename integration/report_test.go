package integration

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
	"github.com/matrixbox/matrixbox/sandbox"
)

// startCountingWorker counts the backends it was asked to start.
type startCountingWorker struct {
	namedWorker
	starts, checks *atomic.Int32
}

func (w startCountingWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	w.starts.Add(1)
	return w.namedWorker.New(ctx, cfg)
}

func (w startCountingWorker) Check() error { w.checks.Add(1); return nil }

// TestPlanModeStartsNothing checks that with MATRIXBOX_PLAN a Run writes its
// plan and neither checks nor starts a worker nor runs a test, and that the
// test that called it goes on to its next Run, which writes its plan too,
// numbered apart.
func TestPlanModeStartsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("Run skips before planning in -short mode; matrixbox plan never passes -short")
	}
	planFile := filepath.Join(t.TempDir(), "plan.jsonl")
	t.Setenv(EnvPlan, planFile)
	t.Setenv(EnvConfig, "none")
	t.Setenv(EnvShard, "")
	t.Setenv(envSelect, "")
	w := startCountingWorker{namedWorker{"w"}, new(atomic.Int32), new(atomic.Int32)}
	var ran atomic.Int32
	t.Run("suite", func(t *testing.T) {
		Run(t, []Test{NewTest("TestA", func(t *testing.T, sb sandbox.Sandbox) { ran.Add(1) })},
			WithWorkers(w), WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2, "3": 3})))
		Run(t, []Test{NewTest("TestB", func(t *testing.T, sb sandbox.Sandbox) { ran.Add(1) })}, WithWorkers(w))
	})
	if w.starts.Load()+w.checks.Load()+ran.Load() != 0 {
		t.Errorf("plan mode started %d backends, checked %d workers, ran %d tests; want none", w.starts.Load(), w.checks.Load(), ran.Load())
	}
	recs, err := report.Read(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, r := range recs {
		if r.Kind == report.KindPlan {
			cases = append(cases, r.RunID()+" "+r.Case)
			if r.Package != thisPackage {
				t.Errorf("%s: package %q", r.Case, r.Package)
			}
		}
	}
	want := "TestPlanModeStartsNothing/suite TestPlanModeStartsNothing/suite/TestA/worker=w/n=1 " +
		"TestPlanModeStartsNothing/suite TestPlanModeStartsNothing/suite/TestA/worker=w/n=2 " +
		"TestPlanModeStartsNothing/suite TestPlanModeStartsNothing/suite/TestA/worker=w/n=3 " +
		"TestPlanModeStartsNothing/suite#2 TestPlanModeStartsNothing/suite/TestB/worker=w"
	if strings.Join(cases, " ") != want {
		t.Errorf("plan = %q, want %q", cases, want)
	}
}
