package workers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Option configures a worker. Each option says, in its doc, which workers
// read it; a worker given one it does not read is misconfigured: its Check
// (and New) fails with an error wrapping [sandbox.ErrMisconfigured] that
// names the option and the worker, so that its cells fail rather than run
// without what was asked.
type Option func(*options)

// Names of the worker constructors, as optionReaders and the errors name
// them.
const (
	ctorBuildkitdOCI        = "BuildkitdOCI"
	ctorBuildkitdContainerd = "BuildkitdContainerd"
	ctorContainerd          = "Containerd"
	ctorDockerd             = "Dockerd"
	ctorDockerdContainerd   = "DockerdContainerd"
	ctorRemoteBuildkit      = "RemoteBuildkit"
	ctorRemoteDockerd       = "RemoteDockerd"
	ctorRemoteContainerd    = "RemoteContainerd"
)

var (
	// localWorkers start their daemon; remoteWorkers attach to one.
	localWorkers  = []string{ctorBuildkitdOCI, ctorBuildkitdContainerd, ctorContainerd, ctorDockerd, ctorDockerdContainerd}
	remoteWorkers = []string{ctorRemoteBuildkit, ctorRemoteDockerd, ctorRemoteContainerd}
	// buildkitdWorkers are those whose daemon is a buildkitd of ours.
	buildkitdWorkers = []string{ctorBuildkitdOCI, ctorBuildkitdContainerd}
)

// optionReaders are, for each option, the workers that read it; every
// other worker given it is misconfigured.
var optionReaders = map[string][]string{
	"WithName":            localWorkers, // a remote worker's name is its first argument
	"WithBinary":          localWorkers,
	"WithVersions":        localWorkers,
	"WithRootless":        buildkitdWorkers,
	"WithArgs":            {ctorBuildkitdOCI, ctorBuildkitdContainerd, ctorDockerd, ctorDockerdContainerd},
	"WithEnv":             {ctorBuildkitdOCI, ctorBuildkitdContainerd, ctorDockerd, ctorDockerdContainerd},
	"WithBuildkitdConfig": buildkitdWorkers,
	"WithFeatures":        append(slices.Clone(localWorkers), remoteWorkers...),
	"WithoutFeatures":     append(slices.Clone(localWorkers), remoteWorkers...),
	"WithImage":           {ctorContainerd, ctorRemoteContainerd},
	"WithNamespace":       {ctorRemoteContainerd},
	"WithTLS":             {ctorRemoteBuildkit, ctorRemoteDockerd},
	"WithTLSDir":          {ctorRemoteBuildkit, ctorRemoteDockerd},
}

// option is the Option called name that set applies; the worker it is
// given to checks that it reads it (optionReaders).
func option(name string, set func(*options)) Option {
	return func(o *options) {
		o.given = append(o.given, name)
		set(o)
	}
}

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
	// versions are WithVersions', by axis.
	versions map[string][]string
	// rootless is WithRootless.
	rootless bool
	// without are the features WithoutFeatures takes away.
	without []string
	// given are the names of the options given, in order.
	given []string
	// err is the first option given that the worker does not read.
	err error
}

// newOptions applies opts for the worker that ctor makes, named name
// unless WithName says otherwise.
func newOptions(ctor, name string, opts []Option) options {
	o := options{name: name}
	for _, f := range opts {
		f(&o)
	}
	builtin := builtinFeatures[ctor]
	if slices.Contains(optionReaders["WithRootless"], ctor) {
		builtin = o.rootlessDefaults(builtin)
	}
	o.features = o.declared(builtin)
	if !slices.Contains(optionReaders["WithName"], ctor) {
		o.name = name
	}
	for _, g := range o.given {
		if readers := optionReaders[g]; !slices.Contains(readers, ctor) {
			o.err = fmt.Errorf("%w: workers.%s: worker %q (workers.%s) does not read it; only %s",
				sandbox.ErrMisconfigured, g, o.name, ctor, readersOf(readers))
			break
		}
	}
	return o
}

// readersOf says which constructors' workers read an option.
func readersOf(ctors []string) string {
	names := make([]string, len(ctors))
	for i, c := range ctors {
		names[i] = "workers." + c
	}
	if len(names) == 1 {
		return names[0] + " reads it"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " read it"
}

// WithName sets the worker's value on the "worker" axis, so that two
// workers of one kind (e.g. two containerd versions) can sit side by side.
// For the workers that start their daemon; a remote worker's name is its
// constructor's first argument.
func WithName(name string) Option {
	return option("WithName", func(o *options) { o.name = name })
}

// WithBinary runs the worker's daemon from path instead of the one found in
// $MATRIXBOX_BIN or PATH, e.g. Debian's containerd 1.6 at
// /usr/bin/containerd. Helpers such as the containerd shim are looked up
// first next to it. For the workers that start their daemon, not the
// remote ones.
func WithBinary(path string) Option {
	return option("WithBinary", func(o *options) { o.binary = path })
}

// WithArgs appends arguments to the daemon's command line: buildkitd's for
// [BuildkitdOCI] and [BuildkitdContainerd], dockerd's for [Dockerd] and
// [DockerdContainerd].
func WithArgs(args ...string) Option {
	return option("WithArgs", func(o *options) { o.args = append(o.args, args...) })
}

// WithFeatures declares features the worker's backends have besides those
// the worker declares by itself (the Feature* constants of the BuildKit
// workers), for integration.Requires and [sandbox.Supports]. Every worker
// reads it.
func WithFeatures(features ...string) Option {
	return option("WithFeatures", func(o *options) { o.features = append(o.features, features...) })
}

// WithImage sets the image in which the [Containerd] and
// [RemoteContainerd] workers run sb.Cmd, pulled through the mirror. The
// default is an offline busybox made from the host's static busybox.
func WithImage(ref string) Option {
	return option("WithImage", func(o *options) { o.image = ref })
}

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

// WithEnv adds variables ("KEY=value") to the environment of the daemon a
// worker starts: buildkitd for [BuildkitdOCI] and [BuildkitdContainerd],
// dockerd for [Dockerd] and [DockerdContainerd]. Later entries win over
// earlier ones and over the test process's own environment.
func WithEnv(env ...string) Option {
	return option("WithEnv", func(o *options) { o.env = append(o.env, env...) })
}
