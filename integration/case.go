package integration

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/sandbox"
)

// A case goes through these steps, in order, one method each:
//
//	record      its report record, written when the case ends
//	admit       the worker's Check and the test's requirements: a cell
//	            that cannot run is skipped before anything starts (failed,
//	            when its worker is misconfigured or strict mode is on)
//	holdSlot    a place among the sandboxes alive at once
//	quarantine  a quarantined case runs in child processes instead
//	open        the sandbox, on a fresh backend or a warm one
//	run         the test, under the watchdog, a panic made a failure
//
// Each step registers its own undoing with t.Cleanup, so they unwind in
// reverse: on failure the logs are printed while the backend is still up,
// then the sandbox closes (a fresh backend stops, a warm one goes back to
// its pool), then whatever the backend said while stopping is printed, the
// slot is released and, last, the record is written, having seen every
// failure, cleanup errors included.
type caseRun struct {
	r    *runner
	t    *testing.T
	spec caseSpec
	cell string // the cell's name, e.g. "worker=host/n=1"
	rep  *caseReport
	logs *sandbox.Logs
	// warm is the warm backend the case runs on; nil for a fresh one.
	warm *lease
	// shown marks how much of each log was printed before the sandbox
	// closed; nil when nothing was.
	shown, warmShown box.LogMark
	// begun is when the case started: the blobs the mirror refused as
	// damaged since then are named if it fails.
	begun time.Time
	// release gives up the case's parallel slot; once only.
	release func()
	// interrupted says a signal ended the wait of a kept sandbox.
	interrupted bool
	// deathTold says the case failed already on its backend's death.
	deathTold atomic.Bool
}

func (r *runner) runCase(t *testing.T, c caseSpec) {
	if !c.props.serial {
		t.Parallel()
	}
	cr := &caseRun{r: r, t: t, spec: c, cell: c.cell.Name(), logs: sandbox.NewLogs(), begun: time.Now()}
	cr.setAttrs()
	cr.rep = r.report(t, c)
	if reason, fail := cr.admit(); fail {
		t.Fatal("matrixbox: " + reason)
	} else if reason != "" {
		cr.rep.skip(reason)
		t.Skip("matrixbox: " + reason)
	}
	if err := r.mirrorReady(); err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	cr.holdSlot()
	if r.runQuarantined(t, c, cr.rep) {
		return
	}
	bx := cr.open()
	cr.run(bx)
}

// setAttrs gives the case a test attribute per axis of its cell, the
// worker included: go test -json reports them, and gotestsum turns them
// into JUnit properties.
func (cr *caseRun) setAttrs() {
	for _, axis := range cr.spec.cell.Axes() {
		v, _ := cr.spec.cell.Lookup(axis)
		cr.t.Attr(axis, v.Name)
	}
}

// admit returns why the case cannot run in its cell, or "": the worker is
// unavailable, lacks a feature the test requires, or a requirement of the
// cell is not met. Nothing has started yet. fail says the reason fails the
// case instead of skipping it: a misconfigured worker (an explicit binary
// that does not exist) always, an unavailable one in strict mode.
func (cr *caseRun) admit() (reason string, fail bool) {
	w := cr.spec.worker
	if err := cr.r.check(w, cr.spec.workerKey); err != nil {
		switch {
		case errors.Is(err, sandbox.ErrMisconfigured):
			return fmt.Sprintf("worker %s: %v", w.Name(), err), true
		case errors.Is(err, errors.ErrUnsupported):
			return fmt.Sprintf("worker %s: %v", w.Name(), err), false
		case cr.r.settings.strict:
			return fmt.Sprintf("worker %s unavailable, which strict mode (%s=1 or strict: true) does not allow: %v", w.Name(), EnvStrict, err), true
		}
		return fmt.Sprintf("worker %s unavailable: %v", w.Name(), err), false
	}
	for _, f := range cr.spec.props.needs {
		if s, ok := w.(sandbox.Supporter); !ok || !s.Supports(f) {
			return fmt.Sprintf("worker %s lacks feature %q, which %s requires", w.Name(), f, cr.spec.test.Name()), false
		}
	}
	for _, check := range cr.spec.props.cellChecks {
		if err := check(cr.spec.cell); err != nil {
			return fmt.Sprintf("%s: %v", cr.cell, err), false
		}
	}
	return "", false
}

func (cr *caseRun) holdSlot() {
	release, err := slots(cr.t.Context(), cr.r.global, cr.r.local)
	if err != nil {
		cr.t.Fatalf("matrixbox: waiting for a sandbox slot: %v", err)
	}
	cr.release = sync.OnceFunc(release)
	cr.t.Cleanup(cr.release)
	cr.rep.started()
}

// open starts the case's sandbox and registers its undoing: the logs
// printed on failure (before the sandbox closes, while its daemon is up),
// the close, and the rest of the logs after it.
func (cr *caseRun) open() *box.Box {
	t, r := cr.t, cr.r
	spec := box.Spec{Config: sandbox.Config{Cell: cr.spec.cell, Logs: cr.logs}, Worker: cr.spec.worker}
	if r.mirror != nil {
		spec.Mirror = r.mirrorAt
		spec.MirrorHosts = r.mirrorHosts
		spec.NewRegistry = func(ctx context.Context, dir string, logs *sandbox.Logs) (string, func() error, error) {
			return r.mirror.NewRegistry(ctx, dir, logs.Writer("registry"))
		}
	}
	t.Cleanup(cr.endKeep)
	// Registered first so it runs last: after the sandbox is closed, with
	// the daemon's shutdown output and every cleanup error known.
	t.Cleanup(cr.printRest)
	if iso := cr.spec.props.isolation; iso != fresh {
		// The warm backend logs to its own set, not to the case's.
		cfg := spec.Config
		cfg.Logs = nil
		l, err := warm.acquire(cr.spec, cfg)
		if l != nil {
			cr.warm = l
			cr.rep.startup(l.startup)
			if l.discarded != "" {
				cr.logs.Printf("matrixbox", "matrixbox: this case runs on a fresh backend: the one an earlier case used was discarded: %s", l.discarded)
			}
		}
		if err != nil {
			t.Fatalf("matrixbox: %v", err)
		}
		if iso == reset {
			// After the sandbox closes: wiped for the next case.
			t.Cleanup(func() {
				cr.tellDeath(l.wb.running)
				warm.release(t, cr.spec, l)
			})
		} else {
			t.Cleanup(func() { cr.tellDeath(l.wb.running) })
		}
		spec.Backend = l.wb.running.Backend
	}
	start := time.Now()
	bx, err := box.Open(context.Background(), spec)
	if err != nil {
		t.Fatalf("matrixbox: start sandbox %s after %s: %v", cr.cell, time.Since(start).Round(time.Millisecond), err)
	}
	if cr.warm == nil {
		cr.rep.startup(bx.Startup())
	}
	t.Cleanup(func() {
		if err := bx.Close(); err != nil {
			t.Errorf("matrixbox: sandbox cleanup: %v", err)
		}
	})
	// MATRIXBOX_KEEP: after the logs are printed, before the close.
	t.Cleanup(func() { cr.keep(bx) })
	t.Cleanup(cr.printWhileUp)
	return bx
}

// printWhileUp prints a failing case's logs before its sandbox closes, so
// that they are read while the daemon that wrote them is still up.
func (cr *caseRun) printWhileUp() {
	if !cr.t.Failed() && !cr.r.settings.logsAlways {
		return
	}
	cr.shown = box.Mark(cr.logs)
	if s := cr.logs.String(); s != "" {
		cr.t.Logf("matrixbox: logs of %s:\n%s", cr.cell, s)
	}
	if cr.warm != nil {
		// A reset backend's logs from before the case belong to other cases.
		since := cr.warm.mark
		if cr.spec.props.isolation == shared {
			since = nil
		}
		cr.warmShown = box.Mark(cr.warm.logs())
		if s := box.StringSince(cr.warm.logs(), since); s != "" {
			cr.t.Logf("matrixbox: logs of the warm backend of %s:\n%s", cr.cell, s)
		}
	}
}

// printRest prints, after the sandbox closed, what its logs gained since
// printWhileUp (all of them when that printed nothing: the case failed
// only in its cleanup).
func (cr *caseRun) printRest() {
	if !cr.t.Failed() && !cr.r.settings.logsAlways {
		return
	}
	if s := box.StringSince(cr.logs, cr.shown); s != "" {
		cr.t.Logf("matrixbox: logs of %s%s:\n%s", cr.cell, afterClose(cr.shown), s)
	}
	if cr.warm != nil {
		shown := cr.warmShown
		if shown == nil && cr.spec.props.isolation == reset {
			shown = cr.warm.mark
		}
		if s := box.StringSince(cr.warm.logs(), shown); s != "" {
			cr.t.Logf("matrixbox: logs of the warm backend of %s%s:\n%s", cr.cell, afterClose(cr.warmShown), s)
		}
	}
	nameMirrorRefusals(cr.t, cr.r.mirror, cr.begun)
}

func afterClose(shown box.LogMark) string {
	if shown == nil {
		return ""
	}
	return " after its sandbox closed"
}

// run runs the test under the watchdog. A panic fails this case alone, so
// the other cases go on and every cleanup still runs.
func (cr *caseRun) run(bx *box.Box) {
	wd := startWatchdog(cr.t, cr.r.settings.watchdog, cr.logs.String, bx.Abort)
	defer wd.stop()
	defer cr.watchBackend(bx)()
	defer cr.noteSkip()
	defer func() {
		if v := recover(); v != nil {
			cr.t.Errorf("matrixbox: test panicked: %v\n%s", v, debug.Stack())
		}
	}()
	cr.spec.test.Run(cr.t, bx)
}

// backendOf is the running backend the case's sandbox uses: its own fresh
// one, or the warm one it leased; nil for neither (a remote worker's).
func (cr *caseRun) backendOf(bx *box.Box) *box.Running {
	if r := bx.Fresh(); r != nil {
		return r
	}
	if cr.warm != nil {
		return cr.warm.wb.running
	}
	return nil
}

// watchBackend fails the case as soon as a daemon of its backend dies,
// saying which and how, and aborts the sandbox (its context and commands)
// so that a test waiting on the dead daemon's work returns. The returned
// func ends the watch.
func (cr *caseRun) watchBackend(bx *box.Box) func() {
	r := cr.backendOf(bx)
	if r == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-r.Died():
			cr.tellDeath(r)
			bx.Abort()
		case <-stop:
		}
	})
	return func() { close(stop); wg.Wait() }
}

// tellDeath fails the case, once, when a daemon of r has died.
func (cr *caseRun) tellDeath(r *box.Running) {
	if r == nil {
		return
	}
	if d := r.Death(); d != "" && cr.deathTold.CompareAndSwap(false, true) {
		cr.t.Errorf("matrixbox: the backend of this case is dead: %s; the case's commands and context were ended", d)
	}
}

// noteSkip records why the test skipped itself. Deferred by run, it runs
// while the test's goroutine unwinds from SkipNow, when the stack still
// shows where the test called it.
func (cr *caseRun) noteSkip() {
	if cr.t.Skipped() {
		cr.rep.skippedByTest(cr.t)
	}
}
