package workers

import (
	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/sandbox"
	mbw "github.com/matrixbox/matrixbox/workers"
)

// buildkitdEnv is the environment BuildKit's harness gives its buildkitd:
// exec output in the daemon log and a panic on an error that loses its
// gRPC code.
var buildkitdEnv = []string{
	"BUILDKIT_DEBUG_EXEC_OUTPUT=1",
	"BUILDKIT_DEBUG_PANIC_ON_ERROR=1",
}

// forceOverlayDiff is what BuildKit's harness adds for every worker whose
// snapshotter is not native (all but containerd-rootless): the overlay
// differ, with no fallback. On the native snapshotter it fails every
// export of a layer ("overlay mounts not detected").
var forceOverlayDiff = mbw.WithEnv("BUILDKIT_DEBUG_FORCE_OVERLAY_DIFF=true")

// workerLabel is the worker label BuildKit's harness sets, which exercises
// buildkitd's label handling.
const workerLabel = "org.mobyproject.buildkit.worker.sandbox=true"

// InitOCIWorker registers the workers "oci": matrixbox's buildkitd with
// the OCI (runc) worker, with every feature, on the buildkitd of
// [BuildkitVersion], and "oci-rootless": the same rootless, as the user
// `matrixbox install` makes (workers.WithRootless), without
// workers.FeatureRootful, so that tests named NoRootless skip there. A
// machine that cannot run it skips its cells, saying why.
func InitOCIWorker() {
	integration.Register(oci())
	integration.Register(buildkitd(mbw.BuildkitdOCI, "oci-rootless", "--oci-worker-labels", mbw.WithRootless(), forceOverlayDiff))
}

// InitContainerdWorker registers the containerd workers of BuildKit's CI,
// each a private containerd with a buildkitd (of [BuildkitVersion]) using
// it, with every feature: "containerd" on the default containerd of
// matrixbox's version table, and "containerd-<major>.<minor>" on each of
// its other containerd releases (containerd-1.7), which skip their cells,
// naming the command that installs them, where they are not installed;
// and "containerd-rootless", the default one rootless, as "oci-rootless"
// is (see [InitOCIWorker]).
func InitContainerdWorker() {
	cs := containerdWorkers()
	for _, c := range cs {
		integration.Register(containerd(c, forceOverlayDiff))
	}
	// The native snapshotter, as in BuildKit's harness: no forced
	// overlay differ.
	integration.Register(containerd(containerdWorker{name: "containerd-rootless", version: cs[0].version}, mbw.WithRootless()))
}

// oci returns the worker InitOCIWorker registers.
func oci() sandbox.Worker {
	return buildkitd(mbw.BuildkitdOCI, "oci", "--oci-worker-labels", forceOverlayDiff)
}

// containerd returns the worker c of those InitContainerdWorker registers.
func containerd(c containerdWorker, opts ...mbw.Option) sandbox.Worker {
	return buildkitd(mbw.BuildkitdContainerd, c.name, "--containerd-worker-labels", append([]mbw.Option{mbw.WithVersions(mbw.ContainerdAxis, c.version)}, opts...)...)
}
