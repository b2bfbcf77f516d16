package workers

import (
	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/sandbox"
	mbw "github.com/matrixbox/matrixbox/workers"
)

// buildkitdEnv is the environment BuildKit's harness gives its buildkitd:
// exec output in the daemon log, a panic on an error that loses its gRPC
// code, and the overlay differ forced where the snapshotter allows it.
var buildkitdEnv = []string{
	"BUILDKIT_DEBUG_EXEC_OUTPUT=1",
	"BUILDKIT_DEBUG_PANIC_ON_ERROR=1",
	"BUILDKIT_DEBUG_FORCE_OVERLAY_DIFF=true",
}

// workerLabel is the worker label BuildKit's harness sets, which exercises
// buildkitd's label handling.
const workerLabel = "org.mobyproject.buildkit.worker.sandbox=true"

// InitOCIWorker registers the worker "oci": matrixbox's buildkitd with the
// OCI (runc) worker, with every feature. BuildKit's rootless and
// alternative-snapshotter variants are not registered.
func InitOCIWorker() {
	integration.Register(oci())
}

// InitContainerdWorker registers the worker "containerd": matrixbox's
// private containerd with a buildkitd using it, with every feature.
func InitContainerdWorker() {
	integration.Register(containerd())
}

// oci returns the worker InitOCIWorker registers.
func oci() sandbox.Worker {
	return mbw.BuildkitdOCI(buildkitdOptions("oci", "--oci-worker-labels")...)
}

// containerd returns the worker InitContainerdWorker registers.
func containerd() sandbox.Worker {
	return mbw.BuildkitdContainerd(buildkitdOptions("containerd", "--containerd-worker-labels")...)
}

// buildkitdOptions run a buildkitd worker as BuildKit's harness runs its
// own; labelsFlag is the buildkitd flag that sets its worker's labels.
func buildkitdOptions(name, labelsFlag string) []mbw.Option {
	return []mbw.Option{
		mbw.WithName(name),
		mbw.WithFeatures(allFeatures...),
		mbw.WithBuildkitdConfig(integration.BuildkitdConfig),
		mbw.WithEnv(buildkitdEnv...),
		mbw.WithArgs(labelsFlag + "=" + workerLabel),
	}
}
