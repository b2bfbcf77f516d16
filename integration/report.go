package integration

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

func shardString(s matrix.Shard) string {
	if s.Count == 0 {
		return "1/1"
	}
	return s.String()
}

func (s settings) baseRecord(kind string) report.Record {
	return report.Record{Kind: kind, Package: s.ext.pkg, Run: s.ext.parent, RunIndex: s.ext.runIndex, Shard: shardString(s.shard),
		ShardFrom: s.shardFrom, Time: time.Now().UTC()}
}

func (s settings) caseRecord(kind string, c caseSpec) report.Record {
	r := s.baseRecord(kind)
	r.Test = c.test.Name()
	r.Case = s.ext.parent + "/" + c.name
	r.Cell = c.cell.Name()
	r.Worker, _ = c.cell.Value(WorkerAxis).(string)
	r.Axes = map[string]string{}
	for _, a := range c.cell.Axes() {
		v, _ := c.cell.Lookup(a)
		r.Axes[a] = v.Name
	}
	return r
}

// announce writes the Run's record to the report, or, in plan mode, the
// plan to the plan file. It reports whether Run must stop here: in plan
// mode it returns without skipping the test that called Run, so that
// test goes on to its later Runs, which write their plans too.
func (s settings) announce(t *testing.T, p *plan) (stop bool) {
	t.Helper()
	run := s.baseRecord(report.KindRun)
	run.Selected, run.Cases, run.GoVersion = p.selected, len(p.cases), runtime.Version()
	if s.ext.planOut != "" {
		recs := []report.Record{run}
		for _, c := range p.cases {
			recs = append(recs, s.caseRecord(report.KindPlan, c))
		}
		if err := report.Append(s.ext.planOut, recs...); err != nil {
			t.Fatalf("matrixbox: %s: %v", EnvPlan, err)
		}
		t.Logf("matrixbox: %s is set: wrote the plan of %d cases, ran none", EnvPlan, len(p.cases))
		return true
	}
	if s.report != "" && s.ext.attempt == "" {
		if err := report.Append(s.report, run); err != nil {
			t.Fatalf("matrixbox: %s: %v", EnvReport, err)
		}
	}
	return false
}

// caseReport collects what the report says of one case.
type caseReport struct {
	mu    sync.Mutex
	rec   report.Record
	start time.Time
	set   bool // the status was decided by Run (quarantine), not by t
}

// report starts the record of case c and registers the cleanup that writes
// it. Call it first in the case, so its cleanup runs last and sees every
// failure, cleanup errors included.
func (r *runner) report(t *testing.T, c caseSpec) *caseReport {
	cr := &caseReport{rec: r.settings.caseRecord(report.KindCase, c), start: time.Now()}
	if q := r.quarantineOf(c); q != nil {
		cr.rec.Quarantine = &report.QuarantineRef{URL: q.URL, Reason: q.Reason}
	}
	t.Cleanup(func() {
		if r.settings.report == "" {
			return
		}
		cr.mu.Lock()
		rec := cr.rec
		if !cr.set {
			switch {
			case t.Failed():
				rec.Status = report.StatusFail
				rec.Output, _ = testOutput(t)
			case t.Skipped():
				rec.Status = report.StatusSkip
				if rec.SkipReason == "" {
					rec.SkipReason = "skipped by the test"
				}
			default:
				rec.Status = report.StatusPass
			}
			rec.Attempts = 1
		}
		rec.Output = tail(rec.Output, maxOutput)
		rec.DurationMS = ms(time.Since(cr.start))
		cr.mu.Unlock()
		if err := report.Append(r.settings.report, rec); err != nil {
			t.Errorf("matrixbox: %v", err)
		}
	})
	return cr
}

// started restarts the clock once the case holds its sandbox slot, so that
// the duration does not count the wait.
func (cr *caseReport) started() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.start = time.Now()
}

func (cr *caseReport) startup(d time.Duration) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.rec.StartupMS = ms(d)
}

func (cr *caseReport) skip(reason string) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.rec.SkipReason = strings.TrimSpace(reason)
}

// skippedByTest records why the test skipped itself; call it from a
// deferred function of the test's goroutine, as it unwinds from SkipNow.
func (cr *caseReport) skippedByTest(t *testing.T) {
	site, logged := skipCall()
	out, held := testOutput(t)
	reason := "skipped by the test"
	switch {
	case logged && held:
		reason = lastMessage(out)
		if site != "" {
			reason += " (" + site + ")"
		}
	case logged:
		reason += " at " + site + "; its message is in the go test output"
	case site != "":
		reason += " at " + site
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.rec.SkipReason = reason
	if held {
		cr.rec.Output = out
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
