package integration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// pool holds the warm backends of one Run: one per (worker, cell) for the
// tests marked SharedBackend. A backend starts with its first case and stops
// after its last one, counted from the plan.
type pool struct {
	mu       sync.Mutex
	backends map[string]*lease
}

// lease is a warm backend and what the cases running on it need of it.
type lease struct {
	key     string
	users   int // planned cases not yet finished
	once    sync.Once
	running *sandbox.Running
	backend sandbox.Backend
	logs    *sandbox.Logs
	startup time.Duration
	err     error
	stopped bool
}

func newPool(cases []caseSpec) *pool {
	p := &pool{backends: map[string]*lease{}}
	for _, c := range cases {
		if !c.props.shared {
			continue
		}
		k := c.cell.Name()
		l := p.backends[k]
		if l == nil {
			l = &lease{key: k, logs: sandbox.NewLogs()}
			p.backends[k] = l
		}
		l.users++
	}
	return p
}

// acquire returns the warm backend of cell, starting it on first use. Its
// startup is how long that start took; a non-nil lease comes with a start
// error too, so that the case can print the logs of the failed start.
func (p *pool) acquire(w sandbox.Worker, cell matrix.Cell, mirror string, mirrorHosts []string) (*lease, error) {
	p.mu.Lock()
	l := p.backends[cell.Name()]
	p.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("no warm backend planned for %s", cell.Name())
	}
	l.once.Do(func() { l.err = l.start(w, cell, mirror, mirrorHosts) })
	return l, l.err
}

func (l *lease) start(w sandbox.Worker, cell matrix.Cell, mirror string, mirrorHosts []string) error {
	r, err := sandbox.StartBackend(context.Background(), w, sandbox.Config{Cell: cell, Logs: l.logs, Mirror: mirror, MirrorHosts: mirrorHosts})
	if err != nil {
		return fmt.Errorf("start warm backend: %w", err)
	}
	l.running, l.backend, l.startup = r, r.Backend, r.Startup()
	return nil
}

// done marks one planned case of key as finished; the last one stops the
// backend and gets its errors.
func (p *pool) done(key string) error {
	p.mu.Lock()
	l := p.backends[key]
	if l == nil {
		p.mu.Unlock()
		return nil
	}
	l.users--
	last := l.users == 0
	p.mu.Unlock()
	if !last {
		return nil
	}
	return l.shutdown()
}

// closeAll stops every backend still running; a Run's own cleanup calls it
// so that a miscounted case can never leak a daemon.
func (p *pool) closeAll() error {
	p.mu.Lock()
	var all []*lease
	for _, l := range p.backends {
		all = append(all, l)
	}
	p.mu.Unlock()
	var errs []error
	for _, l := range all {
		errs = append(errs, l.shutdown())
	}
	return errors.Join(errs...)
}

func (l *lease) shutdown() error {
	// once.Do with a no-op marks a never-started backend as done, so a
	// late acquire cannot start one after shutdown.
	l.once.Do(func() { l.err = errors.New("warm backend already shut down") })
	if l.stopped || l.running == nil {
		l.stopped = true
		return nil
	}
	l.stopped = true
	if err := l.running.Stop(); err != nil {
		return fmt.Errorf("stop warm backend %s: %w", l.key, err)
	}
	return nil
}
