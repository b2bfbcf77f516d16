package workers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/internal/daemons"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Defaults of every daemon worker.
const (
	// startTimeout bounds the wait for a daemon's socket or API.
	startTimeout = 60 * time.Second
	// stopGrace is how long a daemon has to shut down after SIGTERM.
	stopGrace = 20 * time.Second
)

// startDaemon starts cmd as the process name, with its output in the
// sandbox logs, and waits until probe passes. On failure the daemon is
// stopped and the error carries its own log, so a daemon that does not come
// up says why.
func startDaemon(ctx context.Context, cfg *sandbox.Config, name string, cmd *exec.Cmd, probe sandbox.Probe) (*sandbox.Process, error) {
	cmd.Env = runcFirst(cmd.Env)
	p, err := cfg.Start(name, cmd)
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx, startTimeout, probe); err != nil {
		err = errors.Join(err, p.Stop(5*time.Second))
		return nil, fmt.Errorf("%w\n----- log of %s -----\n%s", err, name, cfg.Logs.Text(name))
	}
	return p, nil
}

// stopper returns the cleanup that stops p. A daemon that died before the
// end of its test makes Stop fail with how it exited; the daemon's log is
// attached so that the failure explains itself even where the sandbox logs
// are not printed.
func stopper(cfg *sandbox.Config, p *sandbox.Process) func() error {
	return func() error {
		err := p.Stop(stopGrace)
		if err != nil && p.Name() == "buildkitd" && buildkitdCleanExit(err, cfg.Logs.Text(p.Name())) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w\n----- log of %s -----\n%s", err, p.Name(), cfg.Logs.Text(p.Name()))
		}
		return nil
	}
}

// buildkitdCleanExit recognises buildkitd's normal shutdown: on SIGTERM it
// cancels its context with an error, says so ("got 1 SIGTERM/SIGINTs,
// forcing shutdown" up to v0.28, "got SIGTERM/SIGINT, forcing shutdown"
// since), and exits with status 1.
func buildkitdCleanExit(err error, log string) bool {
	return err.Error() == "buildkitd stopped with exit status 1" &&
		(strings.Contains(log, "got 1 SIGTERM/SIGINTs, forcing shutdown") || strings.Contains(log, "got SIGTERM/SIGINT, forcing shutdown"))
}

// runcFirst puts the directory of the version table's runc first on the
// PATH of env (the process's environment when nil): buildkitd, the
// containerd shims and dockerd run the runc they find there.
func runcFirst(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	path := os.Getenv("PATH")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	dir := filepath.Dir(daemons.Default(daemons.Runc).Path("runc"))
	return append(env, "PATH="+dir+string(os.PathListSeparator)+path)
}

// checkRunc says how to install the version table's runc when it is not.
func checkRunc() error { return daemons.Default(daemons.Runc).Installed() }
