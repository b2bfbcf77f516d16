package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/report"
)

// Quarantined cases run in a child process.
//
// Go's testing package has no way to let a subtest fail without failing its
// parent: a failing t.Run marks every ancestor failed, and a *testing.T
// cannot be made or intercepted outside the package. So each attempt of a
// quarantined case re-executes the test binary (os.Args[0]) with -test.run
// anchored on the case's full name and MATRIXBOX_ATTEMPT naming it; in that
// child the case runs as an ordinary case in its own sandbox and writes its
// record to a private report file, which the parent reads. The parent's
// subtest passes when an attempt passed, and is skipped with the tracking
// URL when every attempt failed; the child's output is logged.
//
// Limits: every attempt pays for a process start (and the package's
// TestMain, if any); a case must be reachable by -test.run from the top,
// so a Run under a subtest whose name is not unique (go test adds "#01")
// cannot be quarantined; the child sees the flags Run passes (-test.v,
// -test.timeout from the parent's deadline), not the others.

// quarantineOf returns the first entry quarantining c, or nil. In the child
// that runs an attempt, the case is not quarantined: it must fail for real.
func (r *runner) quarantineOf(c caseSpec) *repoconfig.Quarantine {
	full := r.settings.ext.parent + "/" + c.name
	if r.settings.ext.attempt == full {
		return nil
	}
	for i, q := range r.settings.ext.quarantine {
		if q.Matches(r.settings.ext.parent, c.test.Name(), c.cell) {
			return &r.settings.ext.quarantine[i]
		}
	}
	return nil
}

// runQuarantined runs a quarantined case's attempts in child processes and
// reports whether it did (false: c is not quarantined, run it as usual).
func (r *runner) runQuarantined(t *testing.T, c caseSpec, cr *caseReport) bool {
	q := r.quarantineOf(c)
	if q == nil {
		return false
	}
	full := t.Name()
	var log []report.Attempt
	status := report.StatusQuarantined
	for n := 1; n <= 1+q.Retries; n++ {
		a, out := runAttempt(t, full)
		log = append(log, a)
		switch a.Status {
		case report.StatusPass:
			t.Logf("matrixbox: quarantined case passed on attempt %d of %d; the quarantine (%s) may be lifted", n, 1+q.Retries, q.URL)
		case report.StatusSkip:
			t.Logf("matrixbox: attempt %d skipped:\n%s", n, out)
		default:
			t.Logf("matrixbox: attempt %d of %d failed (quarantined: %s):\n%s", n, 1+q.Retries, q.URL, out)
		}
		if a.Status == report.StatusPass || a.Status == report.StatusSkip {
			status = a.Status
			break
		}
	}
	cr.mu.Lock()
	cr.set = true
	cr.rec.Status = status
	cr.rec.Attempts = len(log)
	cr.rec.AttemptLog = log
	switch status {
	case report.StatusQuarantined:
		cr.rec.SkipReason = fmt.Sprintf("quarantined (%s: %s): failed %d attempt(s)", q.URL, q.Reason, len(log))
	case report.StatusSkip:
		cr.rec.SkipReason = log[len(log)-1].Error
	}
	cr.mu.Unlock()
	switch status {
	case report.StatusQuarantined:
		t.Skipf("matrixbox: QUARANTINED (%s: %s): failed %d attempt(s); not failing the run", q.URL, q.Reason, len(log))
	case report.StatusSkip:
		t.Skipf("matrixbox: quarantined case skipped itself (see the log above)")
	}
	return true
}

// runAttempt runs the case named full once in a child test process and
// returns the outcome and the child's output.
func runAttempt(t *testing.T, full string) (report.Attempt, string) {
	t.Helper()
	start := time.Now()
	dir, err := os.MkdirTemp("", "mbx-attempt-")
	if err != nil {
		return report.Attempt{Status: report.StatusFail, Error: err.Error()}, ""
	}
	defer os.RemoveAll(dir)
	reportFile := filepath.Join(dir, "report.jsonl")
	args := []string{"-test.run=" + runPattern(full), "-test.count=1", "-test.v"}
	ctx := t.Context()
	if dl, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(dl).Round(time.Second).String())
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), envAttempt+"="+full, EnvReport+"="+reportFile, EnvPlan+"=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	a := report.Attempt{DurationMS: ms(time.Since(start))}
	recs, err := report.Read(reportFile)
	var got *report.Record
	for i := range recs {
		if recs[i].Kind == report.KindCase && recs[i].Case == full {
			got = &recs[i]
		}
	}
	switch {
	case got != nil:
		a.Status = got.Status
		switch a.Status {
		case report.StatusFail:
			a.Error = lastLines(out.String(), 20)
		case report.StatusSkip:
			a.Error = got.SkipReason // why it skipped, for the parent's record
		}
	case err != nil && !os.IsNotExist(err):
		a.Status, a.Error = report.StatusFail, fmt.Sprintf("read the attempt's report: %v", err)
	default:
		a.Status = report.StatusFail
		a.Error = fmt.Sprintf("the attempt reported no result for %s (exit: %v); the case is not reachable by -test.run=%s", full, runErr, runPattern(full))
	}
	if a.Status == report.StatusPass && runErr != nil {
		a.Status, a.Error = report.StatusFail, fmt.Sprintf("case passed but the test process failed: %v", runErr)
	}
	return a, out.String()
}

// runPattern anchors every level of a subtest name for -test.run.
func runPattern(full string) string {
	parts := strings.Split(full, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
