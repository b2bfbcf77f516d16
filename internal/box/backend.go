package box

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/internal/sandboxstate"
	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Running is a backend a worker started in a directory and a cgroup of its
// own. Stop undoes all of it: the worker's own stop, then whatever of the
// backend is still running (a container a crashed daemon left), mounts,
// the directory and the cgroup, each reported.
type Running struct {
	sandbox.Backend
	dir     string // "" once stopped
	group   *supervise.Group
	owned   bool // dir and group are the Running's to remove
	logs    *sandbox.Logs
	startup time.Duration
	stop    func() error
	daemons sandboxstate.Daemons
}

// StartBackend starts a backend of w for cfg's cell in a directory and a
// cgroup of its own, which it makes (cfg.Dir and the cgroup are set by it);
// cfg.Logs receives the daemons' output. On error nothing it made is left.
func StartBackend(ctx context.Context, w sandbox.Worker, cfg sandbox.Config) (_ *Running, err error) {
	dir, err := supervise.MkdirShort()
	if err != nil {
		return nil, err
	}
	group, gerr := supervise.NewGroup(dir)
	r, err := startBackend(ctx, w, cfg, dir, group, gerr)
	if r != nil {
		r.owned = true
	} else {
		err = errors.Join(err, errors.Join(sweep(dir, group, "")...))
	}
	return r, err
}

// startBackend starts a backend of w under dir ("b" below it) in group;
// gerr says why there is no group when it is nil. On error the worker's
// own stop has run; dir and group are the caller's.
func startBackend(ctx context.Context, w sandbox.Worker, cfg sandbox.Config, dir string, group *supervise.Group, gerr error) (*Running, error) {
	if cfg.Logs == nil {
		cfg.Logs = sandbox.NewLogs()
	}
	if gerr != nil {
		cfg.Logs.Printf("matrixbox", "matrixbox: no cgroup for the backend (%v): its processes are found by their environment instead", gerr)
	}
	cfg.Dir = filepath.Join(dir, "b")
	if err := os.Mkdir(cfg.Dir, 0o711); err != nil {
		return nil, err
	}
	daemons := sandboxstate.Prepare(&cfg, dir, group)
	r := &Running{dir: dir, group: group, logs: cfg.Logs, daemons: daemons}
	start := time.Now()
	be, stop, err := w.New(ctx, &cfg)
	r.startup = time.Since(start)
	cfg.Logs.Printf("matrixbox", "matrixbox: worker %s started its backend in %s", w.Name(), r.startup.Round(time.Millisecond))
	if err != nil {
		err = fmt.Errorf("start worker %s: %w", w.Name(), err)
		daemons.Stop()
		if stop != nil {
			err = errors.Join(err, stop())
		}
		daemons.CloseNS()
		return nil, err
	}
	r.Backend, r.stop = be, stop
	return r, nil
}

// Dir is the backend's directory (its daemons' state is under Dir/b).
func (r *Running) Dir() string { return r.dir }

// Startup is how long the worker took to start the backend.
func (r *Running) Startup() time.Duration { return r.startup }

// Logs are the backend's logs.
func (r *Running) Logs() *sandbox.Logs { return r.logs }

// Group is the backend's cgroup; nil when it has none.
func (r *Running) Group() *supervise.Group { return r.group }

// Died is closed when a daemon of the backend ended before the backend was
// stopped: killed, crashed. The backend is dead then, whatever its other
// daemons still do: a case on it fails, and a warm one is discarded.
func (r *Running) Died() <-chan struct{} { return r.daemons.Died() }

// Death says which daemon died and how, e.g. "containerd (pid 123) died:
// signal: killed"; "" while none has.
func (r *Running) Death() string { return r.daemons.Death() }

// Stop stops the backend and removes everything it made; its error names
// each thing that went wrong, the caller says which backend. Calling it
// twice is an error-free no-op the second time.
func (r *Running) Stop() error {
	if r.dir == "" {
		return nil
	}
	var errs []error
	start := time.Now()
	r.daemons.Stop()
	if r.stop != nil {
		if err := r.stop(); err != nil {
			errs = append(errs, err)
		}
		r.stop = nil
	}
	r.daemons.CloseNS()
	stopped := time.Now()
	if r.owned {
		errs = append(errs, sweep(r.dir, r.group, "")...)
		r.logs.Printf("matrixbox", "matrixbox: backend stopped in %s, swept in %s", stopped.Sub(start).Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
	} else {
		r.logs.Printf("matrixbox", "matrixbox: backend stopped in %s", stopped.Sub(start).Round(time.Millisecond))
	}
	r.dir = ""
	return errors.Join(errs...)
}

// sweep kills what still runs in group (below sub) or, without a group,
// what carries dir as its sandbox marker; detaches mounts under dir;
// removes dir and group. Each thing found is an error: it should have been
// gone.
func sweep(dir string, group *supervise.Group, sub string) []error {
	var errs []error
	var left []supervise.Proc
	if group != nil {
		left = group.Kill(sub)
	} else {
		left = supervise.KillMarked(dir)
	}
	if len(left) > 0 {
		errs = append(errs, fmt.Errorf("leaked processes (killed): %s", procList(left)))
	}
	if leaked := supervise.DetachMountsUnder(dir); len(leaked) > 0 {
		errs = append(errs, fmt.Errorf("leaked mounts under %s (detached): %s", dir, strings.Join(leaked, ", ")))
	}
	if outside := supervise.RemoveOutside(supervise.DefaultRunRoot, dir); len(outside) > 0 {
		errs = append(errs, fmt.Errorf("left outside the sandbox dir (removed): %s", strings.Join(outside, ", ")))
	}
	if err := supervise.RemoveDir(dir); err != nil {
		errs = append(errs, fmt.Errorf("remove sandbox dir: %w", err))
	}
	if group != nil {
		if err := group.Remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func procList(ps []supervise.Proc) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("%q (pid %d)", p.Cmdline, p.Pid)
	}
	return strings.Join(s, ", ")
}
