package workers

import (
	"context"
	"errors"
	"slices"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Option configures a daemon worker.
type Option func(*options)

type options struct {
	name     string
	binary   string
	remote   remoteOptions // RemoteBuildkit, RemoteDockerd, RemoteContainerd
	image    string
	args     []string
	features []string
	env      []string
	// buildkitdConfig are the WithBuildkitdConfig functions, in order.
	buildkitdConfig []BuildkitdConfigFunc
	// without are the features WithoutFeatures takes away.
	without []string
}

func newOptions(defaultName string, opts []Option) options {
	o := options{name: defaultName}
	for _, f := range opts {
		f(&o)
	}
	o.features = o.declared(builtinFeatures[defaultName])
	return o
}

// WithName sets the worker's value on the "worker" axis, so that two
// workers of one kind (e.g. two containerd versions) can sit side by side.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithBinary runs the worker's daemon from path instead of the one found in
// $MATRIXBOX_BIN or PATH, e.g. Debian's containerd 1.6 at
// /usr/bin/containerd. Helpers such as the containerd shim are looked up
// first next to it.
func WithBinary(path string) Option { return func(o *options) { o.binary = path } }

// WithArgs appends arguments to the daemon's command line.
func WithArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// WithFeatures declares features the worker's backends have besides those
// the worker declares by itself (the Feature* constants of the BuildKit
// workers), for integration.Requires and [sandbox.Supports].
func WithFeatures(features ...string) Option {
	return func(o *options) { o.features = append(o.features, features...) }
}

// WithImage sets the image in which the containerd worker runs sb.Cmd,
// pulled through the mirror. The default is an offline busybox made from
// the host's static busybox.
func WithImage(ref string) Option { return func(o *options) { o.image = ref } }

// supports answers [sandbox.Supporter] for a worker from WithFeatures.
func (o options) supports(feature string) bool { return slices.Contains(o.features, feature) }

// binaryOr is the binary WithBinary chose, else def (found in
// $MATRIXBOX_BIN or PATH).
func (o options) binaryOr(def string) string {
	if o.binary != "" {
		return o.binary
	}
	return def
}

// cgroupEnv is the variable that tells sb.Cmd's commands where to put the
// containers they make through the daemon: the backend's cgroup.
func cgroupEnv(cfg *sandbox.Config) []string {
	if p := cfg.CgroupParent(); p != "" {
		return []string{sandbox.EnvCgroupParent + "=" + p}
	}
	return nil
}

// backend is a running daemon as the sandbox sees it.
type backend struct {
	address  string
	env      []string
	features []string
	// procs are the backend's daemons, for tests that kill one mid-test.
	procs []*sandbox.Process
	// reset wipes the backend and proves it empty; nil when the worker
	// cannot.
	reset func(ctx context.Context) error
	// cdiSpecDir is buildkitd's CDI spec directory, "" for other daemons.
	cdiSpecDir string
}

func (b *backend) Address() string { return b.address }

// Env returns the variables sb.Cmd exports (BUILDKIT_HOST,
// CONTAINERD_ADDRESS, DOCKER_HOST, ...).
func (b *backend) Env() []string { return b.env }

// Reset wipes the backend and proves it empty ([sandbox.Resetter]).
func (b *backend) Reset(ctx context.Context) error {
	if b.reset == nil {
		return errors.New("this backend cannot be wiped")
	}
	return b.reset(ctx)
}

// Supports reports whether the worker was declared to have feature.
func (b *backend) Supports(feature string) bool { return slices.Contains(b.features, feature) }
