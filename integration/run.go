package integration

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Run runs every test in every cell of workers × axes as a subtest named
// <Test>/worker=<w>/<axis>=<value>/...; see the package documentation.
func Run(t *testing.T, tests []Test, opts ...Option) {
	t.Helper()
	if testing.Short() {
		t.Skip("matrixbox: integration tests are skipped in -short mode")
	}
	st, err := readSettings()
	if err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	if st.skip {
		t.Skipf("matrixbox: %s=1", EnvSkip)
	}
	cfg := &config{}
	for _, o := range opts {
		o(cfg)
	}
	if len(cfg.errs) > 0 {
		t.Fatalf("matrixbox: %v", cfg.errs[0])
	}
	workers := cfg.workers
	if len(workers) == 0 {
		workers = registeredWorkers()
	}
	st.ext.begin(t)
	if workers, err = applyRepoConfig(t, &st, cfg, workers); err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	p, err := makePlan(t.Name(), tests, workers, cfg, st)
	if err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	for _, d := range p.dropped {
		t.Log("matrixbox: " + d)
	}
	if len(p.cases) < p.total {
		t.Logf("matrixbox: running %d of %d cases (%s=%q %s=%q)", len(p.cases), p.total, EnvSelect, st.selector.String(), EnvShard, st.shard.String())
	}
	if st.announce(t, p) || len(p.cases) == 0 {
		return
	}

	reapOnce.Do(func() {
		if err := sandbox.StartGuard(); err != nil {
			t.Logf("matrixbox: %v: a crash of this process may leave daemons or dirs behind until the next run", err)
		}
		removed, err := sandbox.Reap()
		for _, line := range removed {
			t.Logf("matrixbox: removed a leftover of an earlier run: %s", line)
		}
		if err != nil {
			t.Logf("matrixbox: cleaning leftovers of earlier runs: %v", err)
		}
	})
	r := &runner{settings: st, cfg: cfg, checks: map[string]*onceValue[struct{}]{}}
	r.global, _ = processLimit(st.parallel)
	if cfg.parallelism > 0 {
		r.local = semaphore.NewWeighted(int64(cfg.parallelism))
	}
	if err := r.prepareMirror(t); err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	r.pool = newPool(p.cases)
	t.Cleanup(func() {
		if err := r.pool.closeAll(); err != nil {
			t.Errorf("matrixbox: %v", err)
		}
	})
	for _, c := range p.cases {
		c := c
		t.Run(c.name, func(t *testing.T) { r.runCase(t, c) })
	}
}

// reapOnce makes the first Run of a process remove what test processes that
// died earlier left behind.
var reapOnce sync.Once

type runner struct {
	settings settings
	cfg      *config
	global   *semaphore.Weighted
	local    *semaphore.Weighted
	mirror   Mirror
	mirrorAt string
	// mirrorHosts are the registries the mirror serves; daemons get
	// mirror configuration for each.
	mirrorHosts []string
	pool        *pool

	mu     sync.Mutex
	checks map[string]*onceValue[struct{}]
}

func (r *runner) prepareMirror(t *testing.T) error {
	m := r.cfg.mirrorOrDefault()
	if m == nil {
		if len(r.cfg.images) > 0 {
			return fmt.Errorf("WithMirroredImages needs a mirror: integration.UseMirror(mirror.Shared()) or WithMirror")
		}
		return nil
	}
	addr, err := m.Start(t.Context())
	if err != nil {
		return fmt.Errorf("start mirror: %w", err)
	}
	r.mirror, r.mirrorAt = m, addr
	defer func() {
		// Known only after Ensure: the registries of the images mirrored.
		if h, ok := m.(interface{ Hosts() []string }); ok {
			r.mirrorHosts = h.Hosts()
		}
	}()
	if len(r.cfg.images) > 0 {
		if err := m.Ensure(t.Context(), r.cfg.images); err != nil {
			return fmt.Errorf("mirror images: %w", err)
		}
	}
	return nil
}

// check runs a worker's Check once per Run.
func (r *runner) check(w sandbox.Worker) error {
	c, ok := w.(sandbox.Checker)
	if !ok {
		return nil
	}
	r.mu.Lock()
	o := r.checks[w.Name()]
	if o == nil {
		o = &onceValue[struct{}]{}
		r.checks[w.Name()] = o
	}
	r.mu.Unlock()
	_, err := o.get(func() (struct{}, error) { return struct{}{}, c.Check() })
	return err
}

func (r *runner) runCase(t *testing.T, c caseSpec) {
	if !c.props.serial {
		t.Parallel()
	}
	rep := r.report(t, c)
	if c.props.shared {
		// Counted down however the case ends, skipped included, so the
		// last user stops the shared backend.
		t.Cleanup(func() {
			if err := r.pool.release(c.cell.Name()); err != nil {
				t.Errorf("matrixbox: %v", err)
			}
		})
	}
	if err := r.check(c.worker); err != nil {
		rep.skip(fmt.Sprintf("worker %s unavailable: %v", c.worker.Name(), err))
		t.Skipf("matrixbox: worker %s unavailable: %v", c.worker.Name(), err)
	}
	release, err := slots(t.Context(), r.global, r.local)
	if err != nil {
		t.Fatalf("matrixbox: waiting for a sandbox slot: %v", err)
	}
	t.Cleanup(release)
	rep.started()
	if r.runQuarantined(t, c, rep) {
		return
	}

	logs := sandbox.NewLogs()
	spec := sandbox.Spec{Cell: c.cell, Worker: c.worker, Logs: logs}
	if r.mirror != nil {
		spec.Mirror = r.mirrorAt
		spec.MirrorHosts = r.mirrorHosts
		spec.NewRegistry = func(ctx context.Context, dir string, logs *sandbox.Logs) (string, func() error, error) {
			return r.mirror.NewRegistry(ctx, dir, logs.Writer("registry"))
		}
	}
	// Registered first so it runs last: after the sandbox is closed, with
	// the daemon's shutdown output and every cleanup error known.
	begun := time.Now()
	t.Cleanup(func() {
		if t.Failed() || r.settings.logsAlways {
			if s := logs.String(); s != "" {
				t.Logf("matrixbox: logs of %s:\n%s", c.cell.Name(), s)
			}
		}
		nameDamagedBlobs(t, r.mirror, begun)
	})
	if c.props.shared {
		shared, started, err := r.pool.acquire(c.worker, c.cell, spec.Mirror, spec.MirrorHosts)
		rep.startup(started)
		if shared != nil {
			t.Cleanup(func() {
				if t.Failed() || r.settings.logsAlways {
					if s := shared.logs.String(); s != "" {
						t.Logf("matrixbox: logs of the shared backend of %s:\n%s", c.cell.Name(), s)
					}
				}
			})
		}
		if err != nil {
			t.Fatalf("matrixbox: %v", err)
		}
		spec.Backend = shared.backend
	}
	start := time.Now()
	box, err := sandbox.Open(context.Background(), spec)
	if err != nil {
		t.Fatalf("matrixbox: start sandbox %s after %s: %v", c.cell.Name(), time.Since(start).Round(time.Millisecond), err)
	}
	if !c.props.shared {
		rep.startup(box.Startup())
	}
	t.Cleanup(func() {
		if err := box.Close(); err != nil {
			t.Errorf("matrixbox: sandbox cleanup: %v", err)
		}
	})
	wd := startWatchdog(t, r.settings.watchdog, logs.String, box.Abort)
	r.runTest(t, c.test, box)
	wd.stop()
}

// runTest turns a panic into a failure of this case alone, so the other
// cases of the run go on and every cleanup still runs.
func (r *runner) runTest(t *testing.T, test Test, sb sandbox.Sandbox) {
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("matrixbox: test panicked: %v\n%s", v, debug.Stack())
		}
	}()
	test.Run(t, sb)
}
