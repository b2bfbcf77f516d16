package box

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Spec describes the sandbox of one case: its cell, logs and mirror (the
// [sandbox.Config] a fresh backend is started with; Open makes Dir and the cgroup) and
// where its backend comes from.
type Spec struct {
	sandbox.Config
	// Worker starts the backend. It is ignored when Backend is set.
	Worker sandbox.Worker
	// Backend, when set, is a running backend shared with other cases; the
	// box neither starts nor stops it.
	Backend sandbox.Backend
	// NewRegistry starts a private registry; nil means the sandbox has none.
	NewRegistry func(ctx context.Context, dir string, logs *sandbox.Logs) (addr string, stop func() error, err error)
}

// Box is the sandbox of one case. Open it, hand it to the test, Close it.
type Box struct {
	spec    Spec
	ctx     context.Context
	cancel  context.CancelFunc
	dir     string
	tmp     string
	logs    *sandbox.Logs
	backend sandbox.Backend
	// owned is the backend the box started and stops; nil for a shared one.
	owned *Running
	// group holds the commands of Cmd, in its leaf "c"; cmdFD is that
	// leaf, open for cloning commands into it. nil and -1 without cgroups.
	group *supervise.Group
	cmdFD int

	// cleanups are what Close undoes, the backend's stop among them.
	cleanups sandbox.Cleanups
	// aborted says Abort ended the commands: those still exiting at Close
	// are no leak of the test's.
	aborted atomic.Bool
}

// Open makes the case's directory and cgroup and starts (or attaches to)
// its backend. On error everything it made is already undone.
func Open(ctx context.Context, spec Spec) (_ *Box, err error) {
	dir, err := supervise.MkdirShort()
	if err != nil {
		return nil, err
	}
	b := &Box{spec: spec, dir: dir, tmp: filepath.Join(dir, "t"), logs: spec.Logs, cmdFD: -1}
	if b.logs == nil {
		b.logs = sandbox.NewLogs()
	}
	b.ctx, b.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Close())
		}
	}()
	if err := os.Mkdir(b.tmp, 0o755); err != nil {
		return nil, err
	}
	group, gerr := supervise.NewGroup(dir)
	if gerr == nil {
		b.group = group
		b.cmdFD, gerr = group.OpenLeaf("c")
	}
	if gerr != nil && b.group == nil {
		b.logs.Printf("matrixbox", "matrixbox: no cgroup for the sandbox (%v): its processes are found by their environment instead", gerr)
	}
	b.backend = spec.Backend
	if b.backend == nil {
		if spec.Worker == nil {
			return nil, errors.New("sandbox: Spec has neither Worker nor Backend")
		}
		// A fresh backend lives in the sandbox's own directory and cgroup,
		// which Close sweeps after the worker's stop.
		cfg := spec.Config
		cfg.Logs = b.logs
		r, err := startBackend(b.ctx, spec.Worker, cfg, dir, b.group, nil)
		if err != nil {
			return nil, err
		}
		b.owned, b.backend = r, r.Backend
		b.cleanups.Add("stop worker "+spec.Worker.Name(), r.Stop)
	}
	if rel, ok := b.backend.(sandbox.Releaser); ok {
		b.cleanups.Add("release the sandbox's resources on its backend", func() error { return rel.Release(b.tmp) })
	}
	return b, nil
}

// Startup is how long the worker took to start the backend; zero for a
// shared backend.
func (b *Box) Startup() time.Duration {
	if b.owned == nil {
		return 0
	}
	return b.owned.Startup()
}

// Defer registers fn to run at Close, after the functions registered later.
// Its error, if any, is reported by Close under name (see [sandbox.Cleanups]).
func (b *Box) Defer(name string, fn func() error) { b.cleanups.Add(name, fn) }

// Close kills and reports any command made by Cmd that is still running,
// cancels the context, runs the registered cleanups in reverse order (the
// backend's stop among them), kills and reports whatever else of the
// sandbox still runs, reports a mount left under the sandbox directory (and
// detaches it), and removes the directory and the cgroup. Every error is
// returned, joined.
func (b *Box) Close() error {
	var errs []error
	var left []supervise.Proc
	if b.cmdFD >= 0 {
		left = b.group.Kill("c")
	} else {
		left = supervise.KillMarked(b.dir)
	}
	for _, p := range left {
		if b.aborted.Load() {
			b.logs.Printf("matrixbox", "matrixbox: %q (pid %d), started by sb.Cmd, was ended by the sandbox's abort", p.Cmdline, p.Pid)
			continue
		}
		errs = append(errs, fmt.Errorf("leaked process: %q (pid %d) was started by sb.Cmd and still running at the end of the test; killed", p.Cmdline, p.Pid))
	}
	// Cancelled only now, so that the check above sees a leaked command
	// before the context's cancellation kills it.
	b.cancel()
	if err := b.cleanups.Run(); err != nil {
		errs = append(errs, err)
	}
	if b.cmdFD >= 0 {
		_ = supervise.CloseFD(b.cmdFD)
		b.cmdFD = -1
	}
	start := time.Now()
	errs = append(errs, sweep(b.dir, b.group, "")...)
	b.logs.Printf("matrixbox", "matrixbox: sandbox swept in %s", time.Since(start).Round(time.Millisecond))
	return errors.Join(errs...)
}

// Abort cancels the sandbox's context, which kills the commands made by Cmd,
// so that a test blocked on them returns. Close still runs as usual, and
// does not call a command the abort ended a leak.
func (b *Box) Abort() {
	b.aborted.Store(true)
	b.cancel()
}

// Group is the sandbox's cgroup, which holds its commands and, for a fresh
// backend, the backend's daemons and containers; nil without cgroups.
func (b *Box) Group() *supervise.Group { return b.group }

// Fresh is the backend the box started and stops itself; nil when it runs
// on a warm one (Spec.Backend).
func (b *Box) Fresh() *Running { return b.owned }

// Dir is the sandbox's directory: TempDir, and a fresh backend's state.
func (b *Box) Dir() string { return b.dir }

// Backend returns the backend the sandbox runs on.
func (b *Box) Backend() sandbox.Backend { return b.backend }

func (b *Box) Context() context.Context { return b.ctx }
func (b *Box) Name() string             { return b.spec.Cell.Name() }
func (b *Box) Value(axis string) any    { return b.spec.Cell.Value(axis) }
func (b *Box) Cell() matrix.Cell        { return b.spec.Cell }
func (b *Box) Address() string          { return b.backend.Address() }
func (b *Box) Logs() *sandbox.Logs      { return b.logs }
func (b *Box) Mirror() string           { return b.spec.Mirror }
func (b *Box) TempDir() string          { return b.tmp }

// NewRegistry starts a registry private to this case; it stops at Close.
func (b *Box) NewRegistry() (string, error) {
	if b.spec.NewRegistry == nil {
		return "", errors.New("sandbox: no registry support: give the Run a mirror (integration.WithMirror(mirror.Shared()))")
	}
	dir, err := os.MkdirTemp(b.dir, "reg")
	if err != nil {
		return "", err
	}
	addr, stop, err := b.spec.NewRegistry(b.ctx, dir, b.logs)
	if err != nil {
		return "", fmt.Errorf("new registry: %w", err)
	}
	b.cleanups.Add("stop registry "+addr, stop)
	return addr, nil
}

// Cmd returns a command for this sandbox: it runs in TempDir with the cell's
// values (MATRIXBOX_CELL, MATRIXBOX_AXIS_<NAME>) and the backend's variables
// in its environment, in its own process group, and is killed when the case
// ends. A command still running at Close is a reported leak.
func (b *Box) Cmd(args ...string) *exec.Cmd {
	if len(args) == 0 {
		return &exec.Cmd{Err: errors.New("sandbox: Cmd: no command given")}
	}
	env := append(os.Environ(), cellEnv(b.spec.Cell)...)
	env = append(env, supervise.EnvMarker+"="+b.dir, supervise.OwnerEnv())
	if e, ok := b.backend.(sandbox.Enver); ok {
		env = append(env, e.Env()...)
	}
	var cmd *exec.Cmd
	if c, ok := b.backend.(sandbox.Commander); ok {
		cmd = c.Command(b.ctx, b.tmp, env, args...)
	} else {
		cmd = exec.CommandContext(b.ctx, args[0], args[1:]...)
		cmd.Dir = b.tmp
		cmd.Env = env
		// A backend's PATH (its daemon's own buildctl first) finds the
		// program, not only the test process's.
		if p, ok := lookPathIn(args[0], env); ok {
			cmd.Path, cmd.Err = p, nil
		}
	}
	supervise.SetProcessGroup(cmd)
	if b.cmdFD >= 0 {
		supervise.CloneInto(cmd, b.cmdFD)
	}
	cmd.Cancel = func() error {
		if cmd.Process != nil {
			supervise.KillGroup(cmd.Process.Pid)
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// lookPathIn finds a bare program name in the last PATH of env.
func lookPathIn(name string, env []string) (string, bool) {
	if strings.ContainsRune(name, '/') {
		return "", false
	}
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// cellEnv returns MATRIXBOX_CELL and one MATRIXBOX_AXIS_<NAME> per axis of c,
// NAME upper-cased with every other character than A-Z and 0-9 made '_'.
func cellEnv(c matrix.Cell) []string {
	env := []string{"MATRIXBOX_CELL=" + c.Name()}
	for _, a := range c.Axes() {
		v, _ := c.Lookup(a)
		env = append(env, "MATRIXBOX_AXIS_"+envName(a)+"="+v.Name)
	}
	return env
}

// envName turns an axis name into the suffix of its environment variable.
func envName(axis string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, axis)
}
