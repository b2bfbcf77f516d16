package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/matrixbox/matrixbox/sandbox"
)

// TestReportHelper appends records to the report named by the environment
// from several goroutines; TestAppendRecordsProcesses runs it in several
// processes at once.
func TestReportHelper(t *testing.T) {
	if os.Getenv(envHelper) != "report" {
		t.Skip("run by TestAppendRecordsProcesses")
	}
	path, proc := os.Getenv(EnvReport), os.Getenv("MBX_PROC")
	// Lines longer than a pipe buffer, so that an unguarded writer would
	// be seen interleaving.
	pad := strings.Repeat("x", 8192)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r := Record{Kind: KindCase, Case: fmt.Sprintf("%s/%d/%d", proc, g, i), SkipReason: pad}
				if err := AppendRecords(path, r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAppendRecordsProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const procs = 4
	var cmds []*exec.Cmd
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReportHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), envHelper+"=report", EnvReport+"="+path, "MBX_PROC="+strconv.Itoa(p))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer process: %v", err)
		}
	}
	recs, err := ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Case] {
			t.Errorf("%s written twice", r.Case)
		}
		seen[r.Case] = true
	}
	if want := procs * 4 * 50; len(seen) != want {
		t.Errorf("%d records read back, want %d", len(seen), want)
	}
}

func TestReadRecordsBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, []byte("{\"kind\":\"case\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRecords(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("err = %v, want one naming %s:2", err, path)
	}
}

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
// plan and neither checks nor starts a worker nor runs a test.
func TestPlanModeStartsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("Run skips before planning in -short mode; matrixbox plan never passes -short")
	}
	planFile := filepath.Join(t.TempDir(), "plan.jsonl")
	t.Setenv(EnvPlan, planFile)
	t.Setenv(EnvConfig, "none")
	t.Setenv(EnvShard, "")
	t.Setenv(EnvSelect, "")
	w := startCountingWorker{namedWorker{"w"}, new(atomic.Int32), new(atomic.Int32)}
	var ran atomic.Int32
	t.Run("suite", func(t *testing.T) {
		Run(t, []Test{NewTest("TestA", func(t *testing.T, sb sandbox.Sandbox) { ran.Add(1) })},
			WithWorkers(w), WithMatrix("n", map[string]any{"1": 1, "2": 2, "3": 3}))
	})
	if w.starts.Load()+w.checks.Load()+ran.Load() != 0 {
		t.Errorf("plan mode started %d backends, checked %d workers, ran %d tests; want none", w.starts.Load(), w.checks.Load(), ran.Load())
	}
	recs, err := ReadRecords(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, r := range recs {
		if r.Kind == KindPlan {
			cases = append(cases, r.Case)
		}
	}
	want := "TestPlanModeStartsNothing/suite/TestA/worker=w/n=1 TestPlanModeStartsNothing/suite/TestA/worker=w/n=2 TestPlanModeStartsNothing/suite/TestA/worker=w/n=3"
	if strings.Join(cases, " ") != want {
		t.Errorf("plan = %q, want %q", cases, want)
	}
}
