package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/shlex"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// Backend is what a suite reads of the daemon behind its sandbox.
type Backend interface {
	// Address is the BuildKit address for client.New.
	Address() string
	// DockerAddress is the Docker API of a dockerd worker, "" otherwise.
	DockerAddress() string
	// ContainerdAddress is the socket path of the containerd a
	// buildkitd-with-containerd worker uses, "" otherwise.
	ContainerdAddress() string
	// DebugAddress is always "": matrixbox's watchdog prints every
	// goroutine's stack of a case that runs too long instead.
	DebugAddress() string
	Rootless() bool
	NetNSDetached() bool
	// Snapshotter is "" (the daemon's default) for every worker here.
	Snapshotter() string
	ExtraEnv() []string
	// Supports reports whether the worker has feature (one of the
	// Feature* constants of package workers).
	Supports(feature string) bool
}

// Sandbox is the cell a test runs in, with the method set of BuildKit's.
type Sandbox interface {
	Backend

	Context() context.Context
	// Cmd returns a buildctl command talking to the sandbox's BuildKit; a
	// single argument is split like a shell would.
	Cmd(...string) *exec.Cmd
	Logs() map[string]*bytes.Buffer
	PrintLogs(*testing.T)
	ClearLogs()
	NewRegistry() (string, error)
	// Value is the matrix value of key in this cell, nil when none.
	Value(string) any
	// Name is the worker's name ("oci", "containerd", "dockerd").
	Name() string
	CDISpecDir() string
}

// box adapts a matrixbox sandbox to BuildKit's Sandbox.
type box struct {
	sb sandbox.Sandbox
}

var _ Sandbox = box{}

func (b box) Address() string { return b.sb.Address() }

// DockerAddress is the sandbox's or its backend's own (a
// [workers.DockerHost]) where it has one, else the DOCKER_HOST its
// backend exports to commands.
func (b box) DockerAddress() string {
	if a := workers.DockerAddress(b.sb); a != "" {
		return a
	}
	return b.env("DOCKER_HOST")
}

func (b box) ContainerdAddress() string { return b.env("CONTAINERD_ADDRESS") }
func (b box) DebugAddress() string      { return "" }

// Rootless reports whether the worker's daemons run rootless (BuildKit's
// oci-rootless and containerd-rootless): they lack workers.FeatureRootful.
func (b box) Rootless() bool { return !sandbox.Supports(b.sb, workers.FeatureRootful) }

func (b box) NetNSDetached() bool { return false }
func (b box) Snapshotter() string { return "" }
func (b box) ExtraEnv() []string  { return nil }

// Supports honours BuildKit's BUILDKIT_TEST_ENABLE_FEATURES and
// BUILDKIT_TEST_DISABLE_FEATURES (comma-separated), then asks the worker.
func (b box) Supports(feature string) bool {
	if slices.Contains(strings.Split(os.Getenv("BUILDKIT_TEST_ENABLE_FEATURES"), ","), feature) {
		return true
	}
	if slices.Contains(strings.Split(os.Getenv("BUILDKIT_TEST_DISABLE_FEATURES"), ","), feature) {
		return false
	}
	return sandbox.Supports(b.sb, feature)
}

func (b box) Context() context.Context       { return b.sb.Context() }
func (b box) Logs() map[string]*bytes.Buffer { return b.sb.Logs().Map() }
func (b box) NewRegistry() (string, error)   { return b.sb.NewRegistry() }
func (b box) Value(key string) any           { return b.sb.Value(key) }
func (b box) CDISpecDir() string             { return workers.CDISpecDir(b.sb) }

func (b box) Name() string {
	name, _ := b.sb.Value(workerAxis).(string)
	return name
}

// Cmd is buildctl with args, run by the matrixbox sandbox: in its temp
// dir, killed when the case ends, reported if it is still running then.
// The buildctl is the one of the cell's buildkitd, first on the PATH its
// backend exports; on a backend that exports none (dockerd), matrixbox's
// default BuildKit's.
func (b box) Cmd(args ...string) *exec.Cmd {
	if len(args) == 1 {
		if split, err := shlex.Split(strings.ReplaceAll(args[0], `\`, "/")); err == nil {
			args = split
		}
	}
	cmd := b.sb.Cmd(append([]string{b.buildctl()}, args...)...)
	cmd.Env = append(cmd.Env, "BUILDKIT_HOST="+b.Address())
	return cmd
}

func (b box) PrintLogs(t *testing.T) {
	t.Helper()
	t.Log(b.sb.Logs().String())
}

// ClearLogs empties the sandbox's log buffers, so that what was logged so
// far is not printed if the case fails.
func (b box) ClearLogs() { b.sb.Logs().Reset() }

// env is the value of key among the variables the backend exports.
func (b box) env(key string) string {
	e, ok := b.sb.Backend().(sandbox.Enver)
	if !ok {
		return ""
	}
	v := ""
	for _, kv := range e.Env() {
		if k, val, _ := strings.Cut(kv, "="); k == key {
			v = val
		}
	}
	return v
}

// buildctl is "buildctl" for the sandbox to find on its backend's PATH, or
// matrixbox's default BuildKit's when the backend exports no PATH and that
// is installed.
func (b box) buildctl() string {
	if b.env("PATH") == "" {
		if r := daemons.Default(daemons.BuildKit); r.Installed() == nil {
			return r.Path("buildctl")
		}
	}
	return "buildctl"
}
