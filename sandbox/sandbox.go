package sandbox

import (
	"context"
	"errors"
	"os"
	"os/exec"

	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/matrix"
)

// Sandbox is what a test reads of the cell it runs in.
type Sandbox interface {
	Context() context.Context
	// Name is the cell, e.g. "worker=host/color=red/size=l".
	Name() string
	// Value is the value of axis in this cell, nil when it has no such axis.
	Value(axis string) any
	// Address is the backend's endpoint, "" for the host worker.
	Address() string
	// Cmd returns a command wired to this sandbox: its directory, the cell's
	// values and the backend's address in the environment.
	Cmd(args ...string) *exec.Cmd
	// Logs are the case's named log buffers, all printed when the case
	// fails. Workers and tests add to them (Writer, Printf) and read them
	// (Text, String) safely while daemons still write them.
	Logs() *Logs
	// NewRegistry starts a registry private to this test and returns its
	// host:port.
	NewRegistry() (string, error)
	// Mirror is host:port of the shared registry mirror, "" when there is none.
	Mirror() string
	TempDir() string
	// Backend is the backend the worker started for the cell: what it
	// has beyond an address ([Supporter], [Enver], workers.DockerHost,
	// workers.CDIHost) is found on it. A wrapper that embeds the Sandbox
	// keeps it.
	Backend() Backend
}

// Backend is a started daemon (or nothing, for the host worker).
type Backend interface {
	// Address is the endpoint tests talk to: a unix socket address such as
	// "unix:///tmp/mbx-1-2/buildkitd.sock", or "".
	Address() string
}

// Worker starts backends.
type Worker interface {
	// Name is the worker's value on the "worker" axis.
	Name() string
	// New starts a backend for one cell. The returned func stops it and
	// reports every error of doing so; it is called exactly once.
	New(ctx context.Context, cfg *Config) (Backend, func() error, error)
}

// Config is what a worker is given to start a backend, and the part of a
// case's sandbox that describes its cell, logs and mirror. Dir and the
// backend's cgroup are made by the harness when it starts the backend; a
// Dir given there is ignored.
type Config struct {
	// Cell holds the cell's values, the "worker" axis included.
	Cell matrix.Cell
	// Dir is a private, empty directory with a short path, for sockets, roots
	// and state. It is removed after the backend stops.
	Dir string
	// Logs collects the backend's output; nil, where the harness is given
	// a Config, means a fresh set.
	Logs *Logs
	// Mirror is host:port of the shared registry mirror, "" when none.
	Mirror string
	// MirrorHosts are the registry hosts whose images the mirror holds
	// (e.g. "docker.io", "ghcr.io"); daemons are configured to pull each of
	// them through the mirror. Empty means docker.io alone.
	MirrorHosts []string
	// group is the backend's cgroup; nil where cgroups cannot be written
	// (not root), and then processes are found by their environment.
	group *supervise.Group
	// marker is the backend's directory, carried in EnvMarker by the
	// processes Start starts, so that they are found without a cgroup.
	marker string
	// daemons are the processes Start started, watched for an early end,
	// and the mount namespace they run in.
	daemons *daemons
}

// Start starts cmd as a process of the backend called name: in the
// backend's cgroup, in its own process group, its output in the log of that
// name. A worker starts every daemon with it, so that all the daemon
// causes, containers included, is killed with the backend even when the
// daemon or the test process crashed.
//
// Run as root, the backend's daemons run in a mount namespace of their own
// in which /run/runc and /run/containerd (but /run/containerd/fifo, which
// clients outside share with the shims) are directories of the backend:
// the runtime state daemons keep at those compiled-in paths goes with the
// backend, however it ends. And a daemon that ends before the backend is
// stopped has died: the harness says so, and the case on the backend
// fails.
func (c *Config) Start(name string, cmd *exec.Cmd) (*Process, error) {
	if c.marker != "" {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, supervise.EnvMarker+"="+c.marker)
	}
	if c.daemons == nil {
		return start(name, cmd, c.Logs, c.group, nil)
	}
	p, err := start(name, cmd, c.Logs, c.group, c.daemons.namespace())
	if err == nil {
		c.daemons.watch(p)
	}
	return p, err
}

// EnvCgroupParent is exported by daemon backends to the commands of
// Sandbox.Cmd: the cgroup parent under which a container made through the
// daemon's API (ctr run --cgroup, a client's container spec) is owned by
// the sandbox and killed with it, even when the daemon dies first.
const EnvCgroupParent = "MATRIXBOX_CGROUP_PARENT"

// CgroupParent is the cgroup parent a daemon should give its containers
// (buildkitd's defaultCgroupParent, dockerd's --cgroup-parent, a
// container's cgroups path) so that they sit in the backend's cgroup; ""
// when the backend has none, leaving the daemon's default.
func (c *Config) CgroupParent() string {
	if c.group == nil {
		return ""
	}
	return c.group.Parent()
}

// Versioned is implemented by workers whose cells have axes of their own:
// the versions of their daemons ("buildkit", "containerd", "moby"). Each
// cell of such a worker carries them right after the worker, e.g.
// "worker=buildkitd-oci/buildkit=v0.34.2/platform=linux-amd64".
type Versioned interface {
	// Axes are the worker's own axes, in order.
	Axes() []matrix.Axis
	// At returns the worker that runs the cells with c's values of Axes:
	// the one whose Check, features and New are those of that version. A
	// value it does not know makes that worker's Check fail with an error
	// wrapping ErrMisconfigured that lists the values it knows.
	At(c matrix.Cell) Worker
}

// Checker is implemented by workers that depend on something outside the
// process (a binary, a kernel feature). Check returns an error that says what
// to install; the cells of such a worker are skipped with that message. An
// error wrapping [ErrMisconfigured] fails them instead, in every mode; one
// wrapping errors.ErrUnsupported (a cell the worker cannot have, such as a
// daemon version without what the worker runs) skips them in every mode,
// as a lacking feature does.
type Checker interface {
	Check() error
}

// ErrMisconfigured marks a Check error that is the configuration's fault,
// not the machine's: something given explicitly, such as a daemon binary
// path, that does not exist. Skipping would hide a typo behind a green
// run, so the worker's cells fail with the error. Wrap it:
//
//	fmt.Errorf("%w: %s: %v", sandbox.ErrMisconfigured, path, err)
var ErrMisconfigured = errors.New("misconfigured")

// Enver is implemented by backends that export variables to commands made by
// Sandbox.Cmd, e.g. BUILDKIT_HOST or CONTAINERD_ADDRESS.
type Enver interface {
	Env() []string
}

// Commander is implemented by backends that run a sandbox's commands
// somewhere other than the host, e.g. inside a container of the cell's
// image. The returned command has not been started.
type Commander interface {
	Command(ctx context.Context, dir string, env []string, args ...string) *exec.Cmd
}

// Releaser is implemented by backends that keep something per sandbox
// (a [Commander]'s container): Release(dir), dir being the sandbox's
// TempDir, frees it when the sandbox closes, before a fresh backend stops.
type Releaser interface {
	Release(dir string) error
}

// Supporter is implemented by workers and backends that can say whether
// they have an optional feature. A worker answers before it starts anything,
// so that a case needing a feature its worker lacks is skipped before its
// backend starts; a backend may answer from what it learnt once running.
// The feature names belong to the kit that defines them; see [Supports].
type Supporter interface {
	Supports(feature string) bool
}

// Resetter is implemented by backends that can be wiped back to empty
// between two cases on a warm backend. Reset removes what the cases before
// left — build cache, history, images, containers, volumes, whatever the
// daemon holds — and then proves the backend empty; its error names what is
// left, and the backend is then discarded for a fresh one.
type Resetter interface {
	Reset(ctx context.Context) error
}

// Attacher is implemented by backends that can tell a person at a shell
// how to reach them: one ready command line each, such as
// "buildctl --addr unix:///tmp/mbx-1-2/b/buildkitd.sock debug workers".
// integration's MATRIXBOX_KEEP prints them for a kept sandbox; a backend
// without it gets lines made from its Env.
type Attacher interface {
	AttachCommands() []string
}
