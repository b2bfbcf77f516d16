package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	backends map[string]*sharedBackend
}

type sharedBackend struct {
	key     string
	users   int // planned cases not yet finished
	once    sync.Once
	backend sandbox.Backend
	stop    func() error
	dir     string
	logs    *sandbox.Logs
	startup time.Duration
	err     error
	stopped bool
}

func newPool(cases []caseSpec) *pool {
	p := &pool{backends: map[string]*sharedBackend{}}
	for _, c := range cases {
		if !c.props.shared {
			continue
		}
		k := c.cell.Name()
		sb := p.backends[k]
		if sb == nil {
			sb = &sharedBackend{key: k, logs: sandbox.NewLogs()}
			p.backends[k] = sb
		}
		sb.users++
	}
	return p
}

// acquire returns the warm backend of cell, starting it on first use;
// started is how long this call spent starting it (zero when it was warm).
func (p *pool) acquire(w sandbox.Worker, cell matrix.Cell, mirror string, mirrorHosts []string) (_ *sharedBackend, started time.Duration, _ error) {
	p.mu.Lock()
	sb := p.backends[cell.Name()]
	p.mu.Unlock()
	if sb == nil {
		return nil, 0, fmt.Errorf("no shared backend planned for %s", cell.Name())
	}
	sb.once.Do(func() {
		defer func() { started = sb.startup }()
		dir, err := sandbox.MkdirShort()
		if err != nil {
			sb.err = err
			return
		}
		sb.dir = dir
		bdir := filepath.Join(dir, "b")
		if err := os.Mkdir(bdir, 0o711); err != nil {
			sb.err = err
			return
		}
		start := time.Now()
		sb.backend, sb.stop, sb.err = w.New(context.Background(), &sandbox.Config{Cell: cell, Dir: bdir, Logs: sb.logs, Mirror: mirror, MirrorHosts: mirrorHosts})
		sb.startup = time.Since(start)
		if sb.err != nil {
			sb.err = fmt.Errorf("start shared worker %s: %w", w.Name(), sb.err)
		}
	})
	return sb, started, sb.err
}

// release marks one planned case of key as finished; the last one stops the
// backend and gets its errors.
func (p *pool) release(key string) error {
	p.mu.Lock()
	sb := p.backends[key]
	if sb == nil {
		p.mu.Unlock()
		return nil
	}
	sb.users--
	last := sb.users == 0
	p.mu.Unlock()
	if !last {
		return nil
	}
	return sb.shutdown()
}

// closeAll stops every backend still running; a Run's own cleanup calls it
// so that a miscounted case can never leak a daemon.
func (p *pool) closeAll() error {
	p.mu.Lock()
	var all []*sharedBackend
	for _, sb := range p.backends {
		all = append(all, sb)
	}
	p.mu.Unlock()
	var errs []error
	for _, sb := range all {
		errs = append(errs, sb.shutdown())
	}
	return errors.Join(errs...)
}

func (sb *sharedBackend) shutdown() error {
	// once.Do with a no-op marks a never-started backend as done, so a
	// late acquire cannot start one after shutdown.
	sb.once.Do(func() { sb.err = errors.New("shared backend already shut down") })
	if sb.stopped {
		return nil
	}
	sb.stopped = true
	var errs []error
	if sb.stop != nil {
		if err := sb.stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop shared backend %s: %w", sb.key, err))
		}
	}
	if sb.dir != "" {
		if leaked := sandbox.MountsUnder(sb.dir); len(leaked) > 0 {
			errs = append(errs, fmt.Errorf("shared backend %s left mounts: %v", sb.key, leaked))
		}
		if err := os.RemoveAll(sb.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
