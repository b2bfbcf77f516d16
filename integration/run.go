package integration

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/matrixbox/matrixbox/internal/supervise"
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
		t.Skipf("matrixbox: %s=1", envSkip)
	}
	keep, err := readKeep()
	if err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	cfg := &config{}
	for _, o := range opts {
		o(cfg)
	}
	if len(cfg.errs) > 0 {
		t.Fatalf("matrixbox: %v", cfg.errs[0])
	}
	workers := cfg.workers
	st.ext.begin(t)
	if workers, err = withRemotes(t, workers); err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	if workers, err = applyRepoConfig(t, &st, cfg, workers); err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	p, err := makePlan(t.Name(), tests, workers, cfg, st)
	if err != nil {
		t.Fatalf("matrixbox: %v", err)
	}
	sharedOnRemote(p.cases)
	for _, d := range p.dropped {
		t.Log("matrixbox: " + d)
	}
	st.announceShard(t)
	if len(p.cases) < p.total {
		t.Logf("matrixbox: running %d of %d cases (selection %q, shard %q)", len(p.cases), p.total, st.selector.String(), st.shard.String())
	}
	if st.announce(t, p) {
		return
	}
	if st.judgePlan(t, p); len(p.cases) == 0 {
		return
	}
	if err := keep.admit(t.Name(), p.cases); err != nil {
		t.Fatalf("matrixbox: %v", err)
	}

	reapOnce.Do(func() {
		if err := supervise.StartGuard(); err != nil {
			t.Logf("matrixbox: %v: a crash of this process may leave daemons or dirs behind until the next run, and warm backends are stopped at the end of each Run", err)
		} else {
			guardStarted = true
		}
		// On stderr, not t.Log: a leftover is news even when the run passes.
		removed, leftAlone, err := supervise.Reap()
		if len(removed) > 0 {
			fmt.Fprintf(os.Stderr, "matrixbox: removed what earlier test processes that died left behind:\n  %s\n", strings.Join(removed, "\n  "))
		}
		if len(leftAlone) > 0 {
			fmt.Fprintf(os.Stderr, "matrixbox: left alone, named as the sandbox dirs of test processes that died but not made by this user (uid %d), so nothing in them was read or removed:\n  %s\n", os.Geteuid(), strings.Join(leftAlone, "\n  "))
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "matrixbox: cleaning what earlier test processes left: %v\n", err)
		}
	})
	r := &runner{settings: st, cfg: cfg, keep: keep, checks: map[string]*onceValue[struct{}]{}, parent: t}
	r.global, _ = processLimit(st.parallel)
	if cfg.parallelism > 0 {
		r.local = semaphore.NewWeighted(int64(cfg.parallelism))
	}
	begun := time.Now()
	t.Cleanup(func() {
		if err := warm.endRun(p.cases, guardStarted); err != nil {
			t.Errorf("matrixbox: %v", err)
		}
		r.judgeRefusals(t, begun)
	})
	ran := 0 // cases whose function t.Run called: those -run and -skip let through
	for _, c := range p.cases {
		t.Run(c.name, func(t *testing.T) { ran++; r.runCase(t, c) })
	}
	st.judgeRan(t, p, ran)
}

// judgeRefusals fails the Run when, during it, the mirror refused images
// that no Run of the process declared: a case that pulled one passed only
// if the image's own registry answered in the mirror's place, which it
// does not on an offline machine. Under compatopt.LogRefusals it logs
// them instead.
func (r *runner) judgeRefusals(t *testing.T, since time.Time) {
	rr, ok := r.mirror.(RefusalReporter)
	if !ok {
		return
	}
	for _, s := range rr.RefusedSince(since) {
		if r.cfg.logRefusals {
			t.Logf("matrixbox: during this Run the mirror refused %s (logged, not failed: BuildKit's harness has no such rule)", s)
			continue
		}
		t.Errorf("matrixbox: during this Run the mirror refused %s", s)
	}
}

// reapOnce makes the first Run of a process start its guard and remove what
// test processes that died earlier left behind; guardStarted says whether
// the guard runs, which is what removes the warm backends kept until the
// process ends.
var (
	reapOnce     sync.Once
	guardStarted bool
)

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
	// parent is the test that called Run; mirrorOnce prepares the mirror
	// at the first case that runs (see mirrorReady).
	parent     *testing.T
	mirrorOnce onceValue[struct{}]
	keep       keepSettings

	mu     sync.Mutex
	checks map[string]*onceValue[struct{}]
}

func (r *runner) prepareMirror(t *testing.T) error {
	m := r.cfg.mirror
	if m == nil {
		if len(r.cfg.images) > 0 {
			return fmt.Errorf("WithMirroredImages needs a mirror: give the Run integration.WithMirror(mirror.Shared())")
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
		if h, ok := m.(HostLister); ok {
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

// check runs a worker's Check once per Run for each of its versions
// (key names the worker and its versions).
func (r *runner) check(w sandbox.Worker, key string) error {
	c, ok := w.(sandbox.Checker)
	if !ok {
		return nil
	}
	r.mu.Lock()
	o := r.checks[key]
	if o == nil {
		o = &onceValue[struct{}]{}
		r.checks[key] = o
	}
	r.mu.Unlock()
	_, err := o.get(func() (struct{}, error) { return struct{}{}, c.Check() })
	return err
}
