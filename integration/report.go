package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/matrixbox/matrixbox/matrix"
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

// Record is one line of a MATRIXBOX_REPORT file.
type Record struct {
	Kind    string `json:"kind"`
	Package string `json:"package,omitempty"`
	// Run is the name of the test that called integration.Run.
	Run string `json:"run"`
	// Shard is "i/n" of the process that wrote the record; "1/1" unsharded.
	Shard string `json:"shard"`

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

	// Selected (KindRun) counts the cases of the Run in all shards, Cases
	// those of this shard.
	Selected int `json:"selected,omitempty"`
	Cases    int `json:"cases,omitempty"`

	Time time.Time `json:"time"`
}

// Attempt is one run of a quarantined case.
type Attempt struct {
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// QuarantineRef says why a case is quarantined.
type QuarantineRef struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

// AppendRecords appends recs to the file at path, one JSON object a line,
// in a single write under an exclusive flock, so that the test processes of
// go test ./... may share one report.
func AppendRecords(path string, recs ...Record) (err error) {
	if len(recs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("report %s: %w", path, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("report %s: %w", path, cerr)
		}
	}()
	lock := flock.New(path)
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("report %s: lock: %w", path, err)
	}
	defer lock.Unlock()
	if _, err := f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

// ReadRecords reads a report file. A line that is not a record is an error
// naming the file and line.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if r.Kind == "" {
			return nil, fmt.Errorf("%s:%d: not a matrixbox record (no kind)", path, n)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func shardString(s matrix.Shard) string {
	if s.Count == 0 {
		return "1/1"
	}
	return s.String()
}

func (s settings) baseRecord(kind string) Record {
	return Record{Kind: kind, Package: s.ext.pkg, Run: s.ext.parent, Shard: shardString(s.shard), Time: time.Now().UTC()}
}

func (s settings) caseRecord(kind string, c caseSpec) Record {
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
// plan to the plan file. It reports whether Run must stop here.
func (s settings) announce(t *testing.T, p *plan) (stop bool) {
	t.Helper()
	run := s.baseRecord(KindRun)
	run.Selected, run.Cases = p.selected, len(p.cases)
	if s.ext.planOut != "" {
		recs := []Record{run}
		for _, c := range p.cases {
			recs = append(recs, s.caseRecord(KindPlan, c))
		}
		if err := AppendRecords(s.ext.planOut, recs...); err != nil {
			t.Fatalf("matrixbox: %s: %v", EnvPlan, err)
		}
		t.Skipf("matrixbox: %s is set: wrote the plan of %d cases, ran none", EnvPlan, len(p.cases))
		return true
	}
	if s.report != "" && s.ext.attempt == "" {
		if err := AppendRecords(s.report, run); err != nil {
			t.Fatalf("matrixbox: %s: %v", EnvReport, err)
		}
	}
	return false
}

// caseReport collects what the report says of one case.
type caseReport struct {
	mu    sync.Mutex
	rec   Record
	start time.Time
	set   bool // the status was decided by Run (quarantine), not by t
}

// report starts the record of case c and registers the cleanup that writes
// it. Call it first in the case, so its cleanup runs last and sees every
// failure, cleanup errors included.
func (r *runner) report(t *testing.T, c caseSpec) *caseReport {
	cr := &caseReport{rec: r.settings.caseRecord(KindCase, c), start: time.Now()}
	if q := r.quarantineOf(c); q != nil {
		cr.rec.Quarantine = &QuarantineRef{URL: q.URL, Reason: q.Reason}
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
				rec.Status = StatusFail
			case t.Skipped():
				rec.Status = StatusSkip
				if rec.SkipReason == "" {
					rec.SkipReason = "skipped by the test (its message is in the go test output)"
				}
			default:
				rec.Status = StatusPass
			}
			rec.Attempts = 1
		}
		rec.DurationMS = ms(time.Since(cr.start))
		cr.mu.Unlock()
		if err := AppendRecords(r.settings.report, rec); err != nil {
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

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
