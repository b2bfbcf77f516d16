package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// isolation is how a test's cases get their backend.
type isolation int

const (
	// fresh: a backend started for the case and stopped after it.
	fresh isolation = iota
	// shared: one warm backend per (worker, cell), used by many cases at
	// once, whose state they leave alone.
	shared
	// reset: a warm backend used by one case at a time and wiped, and
	// proven empty, between cases.
	reset
)

func (i isolation) String() string {
	return [...]string{"fresh", "shared", "reset"}[i]
}

// warmPool holds the process's warm backends, shared by all its Runs: a
// backend is kept after a Run's last case, for the next Run that needs the
// same worker and cell. Those still kept when the process ends are stopped
// by Main, or removed by the process's guard, quietly: they are not
// leftovers. Where the guard could not start, a Run stops its warm backends
// when it ends.
type warmPool struct {
	mu sync.Mutex
	// shared: key → the backends of shared cases, one per equal worker.
	shared map[string][]*warmBackend
	// idle: key → reset backends, wiped and proven empty, free.
	idle map[string][]*warmBackend
	// discarded: key → why the last reset backend of key was discarded,
	// told to the next case, which gets a fresh one.
	discarded map[string]string
	// stopping counts the discarded backends being stopped.
	stopping sync.WaitGroup
}

var warm = &warmPool{shared: map[string][]*warmBackend{}, idle: map[string][]*warmBackend{}, discarded: map[string]string{}}

// warmBackend is one warm backend.
type warmBackend struct {
	key     string
	cell    string
	worker  sandbox.Worker
	logs    *sandbox.Logs
	once    sync.Once // starts it
	running *box.Running
	err     error
	// started is set once the start is over (running and err are then
	// read without a lock).
	started atomic.Bool
	// stopOnce stops it; stopErr is what the stop said.
	stopOnce sync.Once
	stopErr  error
}

// warmKey says which cases may share a backend: the same worker name, cell
// and mirror (its address and the registries it serves). Workers of the
// same name must also be equal (see sameWorker).
func warmKey(w sandbox.Worker, cell matrix.Cell, mirror string, hosts []string) string {
	return strings.Join([]string{w.Name(), cell.Name(), mirror, strings.Join(hosts, ",")}, "\x00")
}

// sameWorker reports whether a backend of a may serve b's cases: the same
// worker, or an equal one (the same kind and options, made again by a
// later Run).
func sameWorker(a, b sandbox.Worker) bool {
	return a == b || reflect.DeepEqual(a, b)
}

// take removes from list the first backend of a worker equal to w.
func take(list []*warmBackend, w sandbox.Worker) (*warmBackend, []*warmBackend) {
	for i, wb := range list {
		if sameWorker(wb.worker, w) {
			return wb, append(list[:i:i], list[i+1:]...)
		}
	}
	return nil, list
}

// lease is a case's hold on a warm backend.
type lease struct {
	wb *warmBackend
	// startup is how long this case waited for the backend to start; zero
	// when it was warm.
	startup time.Duration
	// mark is where the backend's logs stood when the case took it.
	mark box.LogMark
	// discarded says why the backend an earlier case used was discarded,
	// when this case gets a fresh one in its place.
	discarded string
}

func (l *lease) logs() *sandbox.Logs { return l.wb.logs }

// acquire returns a warm backend for a case of c, starting one when none
// is there (shared) or free (reset).
func (p *warmPool) acquire(c caseSpec, cfg sandbox.Config) (*lease, error) {
	k := warmKey(c.worker, c.cell, cfg.Mirror, cfg.MirrorHosts)
	p.mu.Lock()
	var wb *warmBackend
	// A backend one of whose daemons died is never handed on: it goes,
	// and the case gets a fresh one, and is told why.
	died := p.dropDead(k)
	switch c.props.isolation {
	case shared:
		for _, x := range p.shared[k] {
			if sameWorker(x.worker, c.worker) {
				wb = x
				break
			}
		}
		if wb == nil {
			wb = &warmBackend{key: k, cell: c.cell.Name(), worker: c.worker, logs: sandbox.NewLogs()}
			p.shared[k] = append(p.shared[k], wb)
		}
	case reset:
		wb, p.idle[k] = take(p.idle[k], c.worker)
		if wb == nil {
			wb = &warmBackend{key: k, cell: c.cell.Name(), worker: c.worker, logs: sandbox.NewLogs()}
		}
	}
	discarded := p.discarded[k]
	delete(p.discarded, k)
	p.mu.Unlock()
	if discarded == "" {
		discarded = died
	}
	l := &lease{wb: wb, mark: box.Mark(wb.logs), discarded: discarded}
	start := time.Now()
	started := false
	wb.once.Do(func() {
		started = true
		cfg.Logs = wb.logs
		wb.running, wb.err = box.StartBackend(context.Background(), c.worker, cfg)
		if wb.err == nil {
			wb.err = markWarm(wb.running.Dir())
		}
		wb.started.Store(true)
	})
	if started {
		l.startup = time.Since(start)
	}
	if wb.err != nil {
		return l, fmt.Errorf("start warm backend: %w", wb.err)
	}
	return l, nil
}

// dropDead removes from the pool the backends of key k that are dead (a
// daemon of theirs died, while a case ran or between cases), stops them in
// the background, and says why the last went; "" when none was. p.mu is
// held.
func (p *warmPool) dropDead(k string) string {
	why := ""
	for _, m := range []map[string][]*warmBackend{p.shared, p.idle} {
		var live []*warmBackend
		for _, wb := range m[k] {
			if d := wb.death(); d != "" {
				why = d
				p.discard(wb, d)
				continue
			}
			live = append(live, wb)
		}
		m[k] = live
	}
	return why
}

// death says which daemon of wb died and how; "" while none has (or wb
// never started).
func (wb *warmBackend) death() string {
	if !wb.started.Load() || wb.running == nil {
		return ""
	}
	return wb.running.Death()
}

// discard stops wb in the background: a daemon with work it was left may
// take its whole grace to stop, and no case should wait for that.
func (p *warmPool) discard(wb *warmBackend, why string) {
	p.stopping.Add(1)
	go func() {
		defer p.stopping.Done()
		if err := wb.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "matrixbox: stopping the discarded warm backend of %s (%s): %v\n", wb.cell, why, err)
		}
	}()
}

// release gives a reset case's backend back: wiped and proven empty, it
// waits for the next case; when the wipe or the proof fails it is
// discarded, and the log says what was left.
func (p *warmPool) release(t *testing.T, c caseSpec, l *lease) {
	wb := l.wb
	if wb.err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if d := wb.death(); d != "" {
		err = errors.New(d)
	} else if r, ok := wb.running.Backend.(sandbox.Resetter); ok {
		start := time.Now()
		err = r.Reset(ctx)
		if err == nil {
			wb.logs.Printf("matrixbox", "matrixbox: backend wiped and proven empty in %s", time.Since(start).Round(time.Millisecond))
		}
	} else {
		err = fmt.Errorf("worker %s cannot wipe its backends (its backend is no sandbox.Resetter)", c.worker.Name())
	}
	if err != nil {
		t.Logf("matrixbox: the warm backend of %s is discarded, the next case gets a fresh one: %v", c.cell.Name(), err)
		p.mu.Lock()
		p.discarded[wb.key] = err.Error()
		p.mu.Unlock()
		p.discard(wb, err.Error())
		return
	}
	p.mu.Lock()
	p.idle[wb.key] = append(p.idle[wb.key], wb)
	p.mu.Unlock()
}

// endRun is called when a Run ends. With a guard to remove them at the
// process's end, warm backends are kept for later Runs; without one, those
// of the Run's workers are stopped now. Those of remote workers are always
// stopped now: what they made on a daemon matrixbox did not start (a
// containerd namespace) is beyond the guard's reach, and attaching again
// is cheap.
func (p *warmPool) endRun(cases []caseSpec, keep bool) error {
	ours := func(wb *warmBackend) bool {
		for _, c := range cases {
			if wb.worker == c.worker && (!keep || remote.Is(c.worker)) {
				return true
			}
		}
		return false
	}
	p.mu.Lock()
	var stop []*warmBackend
	for _, m := range []map[string][]*warmBackend{p.shared, p.idle} {
		for k, list := range m {
			var rest []*warmBackend
			for _, wb := range list {
				if ours(wb) {
					stop = append(stop, wb)
				} else {
					rest = append(rest, wb)
				}
			}
			m[k] = rest
		}
	}
	p.mu.Unlock()
	var errs []error
	for _, wb := range stop {
		errs = append(errs, wb.stop())
	}
	return errors.Join(errs...)
}

func (wb *warmBackend) stop() error {
	// once.Do with a no-op marks a never-started backend as done.
	wb.once.Do(func() { wb.err = errors.New("warm backend stopped before it started") })
	if wb.running == nil {
		return nil
	}
	wb.stopOnce.Do(func() {
		if err := wb.running.Stop(); err != nil {
			wb.stopErr = fmt.Errorf("stop warm backend of %s: %w", wb.cell, err)
		}
	})
	return wb.stopErr
}

// stopAll stops every warm backend of the process.
func (p *warmPool) stopAll() error {
	p.mu.Lock()
	var all []*warmBackend
	for _, m := range []map[string][]*warmBackend{p.shared, p.idle} {
		for k, list := range m {
			all = append(all, list...)
			delete(m, k)
		}
	}
	p.mu.Unlock()
	var errs []error
	for _, wb := range all {
		errs = append(errs, wb.stop())
	}
	p.stopping.Wait()
	return errors.Join(errs...)
}

// markWarm writes, in a warm backend's directory, the mark that tells the
// guard to remove it quietly when the process ends: it is kept on purpose.
func markWarm(dir string) error {
	return os.WriteFile(filepath.Join(dir, supervise.WarmMark), nil, 0o644)
}
