package workers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/sandbox"
)

// WithRootless runs the worker's daemons rootless, as BuildKit's own
// harness runs its oci-rootless and containerd-rootless workers: under
// RootlessKit, as the unprivileged user matrixbox (which `matrixbox
// install` makes, with its subordinate ids), in a user namespace where
// that user is root. For [BuildkitdOCI], whose worker is then named
// "buildkitd-oci-rootless", and [BuildkitdContainerd]
// ("buildkitd-containerd-rootless"), unless [WithName] names it; the
// version axes are the same.
//
// The test process still runs as root: it starts the daemons in the
// sandbox's cgroup, which the unprivileged daemons cannot leave, so the
// close, the guard and the reaper kill them, their containers and every
// process of their user namespace as they do a rootful worker's. Their
// state (the daemons' roots, sockets and TMPDIR, XDG_RUNTIME_DIR,
// RootlessKit's state directory) is in a directory of the sandbox that
// the user owns, removed with the sandbox. Their containers get no cgroup
// of their own (the user can make none) and MATRIXBOX_CGROUP_PARENT is not
// exported. buildkitd's containerd worker uses the native snapshotter, as
// in BuildKit's harness.
//
// A rootless worker lacks [FeatureRootful]. Its Check says what the
// machine lacks for it, with the command that sets it up.
func WithRootless() Option {
	return option("WithRootless", func(o *options) { o.rootless = true })
}

// rootlessDefaults are what WithRootless changes of a worker's defaults:
// its name (unless WithName gave one) and the features it declares by
// itself.
func (o *options) rootlessDefaults(builtin []string) []string {
	if !o.rootless {
		return builtin
	}
	if !slices.Contains(o.given, "WithName") {
		o.name += "-rootless"
	}
	return slices.DeleteFunc(slices.Clone(builtin), func(f string) bool { return f == FeatureRootful })
}

// rootlessDir is the part of a rootless backend's directory its user
// owns: everything its daemons write.
const rootlessDir = "rootless"

// rootless is what the daemons of one rootless backend share: their user,
// the directory it owns in the backend's directory (with XDG_RUNTIME_DIR,
// HOME and RootlessKit's state in it), and the RootlessKit whose user and
// mount namespaces they run in.
//
// RootlessKit runs a shell that only holds the namespaces, and each daemon
// enters them with nsenter, as BuildKit's harness runs the buildkitd of
// its containerd-rootless worker: a daemon run as RootlessKit's own child
// would get every SIGTERM of the sandbox's stop up to three times (from
// the stop, which signals the process group, and from each of
// RootlessKit's two processes, which relay the signals they get), and
// buildkitd dies at once on the third, without its shutdown.
type rootless struct {
	user rootlessUser
	dir  string
	// kit is RootlessKit's state directory; its child_pid file names the
	// process whose namespaces the daemons enter.
	kit string
}

// kitReady is what the namespace holder says once its namespaces are set
// up.
const kitReady = "matrixbox: namespaces ready"

// newRootless makes the directory of a rootless backend, owned by its
// user, lets the user reach it (the backend's directory and the sandbox's,
// both root's, become searchable, not readable, by others), and starts the
// backend's RootlessKit, which cl stops. With containerd, RootlessKit gets
// a /run of its own, as containerd's rootless script (nerdctl's
// containerd-rootless.sh, which BuildKit's harness uses) gives it, for
// what containerd keeps under /run/containerd whatever its configuration
// says (shim sockets, runc's state, FIFOs): there a directory of the
// sandbox.
func newRootless(ctx context.Context, cfg *sandbox.Config, cl *sandbox.Cleanups, containerd bool) (*rootless, error) {
	u, err := lookupRootlessUser()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.Dir, filepath.Dir(cfg.Dir)} {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				return nil, fmt.Errorf("let the user %s reach %s: %w", u.name, d, err)
			}
		}
	}
	r := &rootless{user: u, dir: filepath.Join(cfg.Dir, rootlessDir)}
	r.kit = filepath.Join(r.dir, "rootlesskit")
	for _, d := range []string{r.dir, r.runtimeDir(), r.home()} {
		if err := r.mkdir(d); err != nil {
			return nil, err
		}
	}
	// The host's network (RootlessKit's default, as in BuildKit's
	// harness): the daemons reach the mirror on 127.0.0.1.
	args := []string{"--state-dir=" + r.kit, "--net=host", "--port-driver=none"}
	// Run by the holder as root of the user namespace; $0 is the
	// directory to bind at /run/containerd, in place of the copy-up's
	// symlink to the host's.
	script := `set -e; `
	var runDir string
	if containerd {
		runDir = filepath.Join(r.runtimeDir(), "containerd")
		if err := r.mkdir(runDir); err != nil {
			return nil, err
		}
		args = append(args, "--copy-up=/run", "--propagation=rslave")
		script += `rm -f /run/containerd; mkdir /run/containerd; mount --bind "$0" /run/containerd; `
	}
	// It lives until its standard input ends: stopKit closes it, and so
	// does the death of the test process.
	script += `echo '` + kitReady + `'; while read -r _; do :; done`
	args = append(args, "--", "/bin/sh", "-c", script, runDir)
	cmd := exec.Command(rootlesskitPath(), args...)
	cmd.Env = r.env(nil)
	r.user.credential(cmd)
	stdin, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = stdin
	// Ready once the shell has set up the namespaces and RootlessKit
	// serves its API, which it starts after it has written child_pid.
	p, err := startDaemon(ctx, cfg, "rootlesskit", cmd, func(ctx context.Context) error {
		if err := sandbox.LogLine(cfg.Logs, "rootlesskit", kitReady)(ctx); err != nil {
			return err
		}
		return sandbox.UnixSocket(filepath.Join(r.kit, "api.sock"))(ctx)
	})
	_ = stdin.Close()
	if err != nil {
		_ = stdinW.Close()
		return nil, err
	}
	cl.Add("stop rootlesskit", stopKit(cfg, p, stdinW))
	return r, nil
}

// stopKit stops the namespace holder p, after the daemons that entered
// its namespaces (cleanups run in reverse), by closing stdin, the write end
// of its shell's standard input: the shell ends, then RootlessKit's child,
// then RootlessKit, each with status 0. Not with a signal: the stop of
// [sandbox.Process] signals the whole process group, RootlessKit's child
// too, which relays signals only between starting the shell and reaping
// it; a SIGTERM outside that window (right after the start, or after the
// shell ended on the first) killed the child, and RootlessKit exited with
// status 255, "child exited: signal: terminated" (one stop in eight), the
// shell living on when the child had not relayed to it. A holder that died
// before its stop, or does not end, fails the stop as any daemon does.
func stopKit(cfg *sandbox.Config, p *sandbox.Process, stdin *os.File) func() error {
	return func() error {
		if exited, _ := p.Exited(); !exited {
			_ = stdin.Close()
			select {
			case <-p.Done():
				if _, err := p.Exited(); err == nil {
					// Stop kills what the group may hold still; that the
					// holder had exited, as told, is no news.
					_ = p.Stop(stopGrace)
					return nil
				}
			case <-time.After(stopGrace):
			}
		}
		_ = stdin.Close()
		return stopper(cfg, p)()
	}
}

func (r *rootless) runtimeDir() string { return filepath.Join(r.dir, "run") }
func (r *rootless) home() string       { return filepath.Join(r.dir, "home") }

// childPid is the pid of the process whose namespaces the daemons enter.
// RootlessKit creates its child_pid file before it writes the pid in it:
// an empty or partial file is no pid yet.
func (r *rootless) childPid() (string, error) {
	p := filepath.Join(r.kit, "child_pid")
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("the RootlessKit of this backend: %w", err)
	}
	pid := strings.TrimSpace(string(b))
	if n, err := strconv.Atoi(pid); err != nil || n <= 1 {
		return "", fmt.Errorf("the RootlessKit of this backend: %s holds no pid yet (%q)", p, pid)
	}
	return pid, nil
}

// mkdir makes a directory for a daemon to write in: the rootless user's
// when r is not nil, else root's.
func (r *rootless) mkdir(path string) error {
	if err := os.Mkdir(path, 0o711); err != nil {
		return err
	}
	if r == nil {
		return nil
	}
	if err := os.Chown(path, r.user.uid, r.user.gid); err != nil {
		return fmt.Errorf("give %s to the user %s: %w", path, r.user.name, err)
	}
	return nil
}

// env is an environment for the user: env (the process's when nil) with
// the user's own HOME, USER and XDG_RUNTIME_DIR, and without the other
// XDG directories, which then default under HOME, in the sandbox.
func (r *rootless) env(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "USER" || k == "LOGNAME"
	})
	return append(out, "HOME="+r.home(), "USER="+r.user.name, "LOGNAME="+r.user.name, "XDG_RUNTIME_DIR="+r.runtimeDir())
}

// command is cmd, a daemon, run as the user in the user and mount
// namespaces of the backend's RootlessKit. nsenter executes the daemon,
// so the process is the daemon's own.
func (r *rootless) command(cmd *exec.Cmd) (*exec.Cmd, error) {
	pid, err := r.childPid()
	if err != nil {
		return nil, err
	}
	nsenter, err := lookBinary("nsenter")
	if err != nil {
		return nil, err
	}
	args := append([]string{"-U", "--preserve-credentials", "-m", "-t", pid, "--", cmd.Args[0]}, cmd.Args[1:]...)
	out := exec.Command(nsenter, args...)
	out.Env = r.env(cmd.Env)
	r.user.credential(out)
	return out, nil
}

// rootlesskitPath is RootlessKit's path; Check has made sure it is
// installed.
func rootlesskitPath() string {
	p, err := lookBinary("rootlesskit")
	if err != nil {
		return "rootlesskit"
	}
	return p
}
