package workers

import (
	"runtime/debug"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
	mbw "github.com/matrixbox/matrixbox/workers"
)

// buildkitModule is BuildKit's module path, whose version in the test
// binary chooses the buildkitd the workers run.
const buildkitModule = "github.com/moby/buildkit"

// BuildkitVersion is the buildkitd release the workers of this package
// run: the BuildKit the test binary is built with (its go.mod's
// requirement of github.com/moby/buildkit), when matrixbox's version table
// has that release, so that a suite's builtin frontend and its client code
// are of one BuildKit, as in BuildKit's own CI; else the table's default.
func BuildkitVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return buildkitVersionOf(bi.Deps)
	}
	return daemons.Default(daemons.BuildKit).Version
}

func buildkitVersionOf(deps []*debug.Module) string {
	for _, d := range deps {
		if d.Path != buildkitModule {
			continue
		}
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		if _, err := daemons.Lookup(daemons.BuildKit, v); err == nil {
			return v
		}
	}
	return daemons.Default(daemons.BuildKit).Version
}

// containerdWorker is one containerd worker of BuildKit's CI: its name
// and the containerd release it runs.
type containerdWorker struct {
	name, version string
}

// containerdWorkers are the containerd workers InitContainerdWorker
// registers: "containerd" on the table's default release, then, newest
// first, "containerd-<major>.<minor>" on each other release of the table,
// as BuildKit's CI names its extra containerd versions (containerd-1.7).
func containerdWorkers() []containerdWorker {
	def := daemons.Default(daemons.Containerd).Version
	out := []containerdWorker{{"containerd", def}}
	for _, v := range daemons.Versions(daemons.Containerd) {
		if v != def {
			out = append(out, containerdWorker{"containerd-" + strings.TrimPrefix(semver.MajorMinor(v), "v"), v})
		}
	}
	return out
}

// ContainerdReleases are the containerd workers InitContainerdWorker
// registers, by name, each with the containerd release of matrixbox's
// version table it runs: "containerd" → "v2.4.2", "containerd-1.7" →
// "v1.7.35".
func ContainerdReleases() map[string]string {
	m := map[string]string{}
	for _, c := range containerdWorkers() {
		m[c.name] = c.version
	}
	return m
}

// pinned returns w at its only versions: a worker whose cells carry no
// version axis, so that they are named as BuildKit names them
// (worker=oci/frontend=builtin), not worker=oci/buildkit=v0.34.2/….
// Each of w's axes must have one value (WithVersions with one version,
// or the default).
func pinned(w sandbox.Worker) sandbox.Worker {
	v, ok := w.(sandbox.Versioned)
	if !ok {
		return w
	}
	var cell matrix.Cell
	if cells, err := matrix.Expand(v.Axes()...); err == nil && len(cells) == 1 {
		cell = cells[0]
	}
	return v.At(cell)
}

// buildkitd returns a worker of BuildKit's CI on matrixbox's buildkitd:
// ctor is workers.BuildkitdOCI or workers.BuildkitdContainerd, name the
// worker's, labelsFlag the buildkitd flag that sets its worker's labels,
// and versions pin its daemons (BuildKit's own, BuildkitVersion, first).
func buildkitd(ctor func(...mbw.Option) sandbox.Worker, name, labelsFlag string, opts ...mbw.Option) sandbox.Worker {
	return pinned(ctor(append([]mbw.Option{
		mbw.WithName(name),
		mbw.WithVersions(mbw.BuildkitAxis, BuildkitVersion()),
		mbw.WithFeatures(allFeatures...),
		mbw.WithBuildkitdConfig(integration.BuildkitdConfig),
		mbw.WithEnv(buildkitdEnv...),
		mbw.WithArgs(labelsFlag + "=" + workerLabel),
	}, opts...)...))
}
