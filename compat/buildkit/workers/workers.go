package workers

import (
	"os"
	"slices"

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

// InitOCIWorker registers the worker "oci": matrixbox's buildkitd with
// the OCI (runc) worker, with every feature, on the buildkitd of
// [BuildkitVersion].
func InitOCIWorker() {
	integration.Register(oci())
}

// InitContainerdWorker registers the containerd workers of BuildKit's CI,
// each a private containerd with a buildkitd (of [BuildkitVersion]) using
// it, with every feature: "containerd" on the default containerd of
// matrixbox's version table, and "containerd-<major>.<minor>" on each of
// its other containerd releases (containerd-1.7), which skip their cells,
// naming the command that installs them, where they are not installed.
func InitContainerdWorker() {
	for _, c := range containerdWorkers() {
		integration.Register(containerd(c))
	}
}

// InitDockerdWorker registers the worker "dockerd": matrixbox's private
// dockerd, without the features BuildKit's harness marks unsupported on
// dockerd (cache export and import, image and OCI exporters, direct push,
// multi-platform, provenance, SBOM, security mode, CNI, CDI). Its
// sb.Address() is a BuildKit address once matrixbox's dockerd worker
// serves one; DockerAddress is its Docker API.
func InitDockerdWorker() {
	integration.Register(dockerd())
}

// oci returns the worker InitOCIWorker registers.
func oci() sandbox.Worker {
	return buildkitd(mbw.BuildkitdOCI, "oci", "--oci-worker-labels")
}

// containerd returns the worker c of those InitContainerdWorker registers.
func containerd(c containerdWorker) sandbox.Worker {
	return buildkitd(mbw.BuildkitdContainerd, c.name, "--containerd-worker-labels", mbw.WithVersions(mbw.ContainerdAxis, c.version))
}

// dockerdUnsupported are the features BuildKit v0.28.0's harness marks
// unsupported on its "dockerd" worker.
var dockerdUnsupported = []string{
	FeatureCacheExport, FeatureCacheImport, FeatureCacheBackendAzblob,
	FeatureCacheBackendGha, FeatureCacheBackendLocal, FeatureCacheBackendRegistry,
	FeatureCacheBackendS3, FeatureDirectPush, FeatureImageExporter,
	FeatureMultiCacheExport, FeatureMultiPlatform, FeatureOCIExporter,
	FeatureOCILayout, FeatureProvenance, FeatureSBOM, FeatureSecurityMode,
	FeatureCNINetwork, FeatureCDI,
}

// dockerd returns the worker InitDockerdWorker registers.
func dockerd() sandbox.Worker {
	var have []string
	for _, f := range allFeatures {
		if !slices.Contains(dockerdUnsupported, f) {
			have = append(have, f)
		}
	}
	return mbw.Dockerd(
		mbw.WithName("dockerd"),
		mbw.WithFeatures(have...),
		mbw.WithEnv("BUILDKIT_DEBUG_EXEC_OUTPUT=1", "BUILDKIT_DEBUG_PANIC_ON_ERROR=1"),
	)
}

// IsTestDockerd reports whether TEST_DOCKERD=1: the suite should run on
// dockerd instead of buildkitd.
func IsTestDockerd() bool {
	return os.Getenv("TEST_DOCKERD") == "1"
}

// IsTestDockerdMoby reports whether sb runs on the "dockerd" worker.
func IsTestDockerdMoby(sb integration.Sandbox) bool {
	return sb.DockerAddress() != "" && sb.Name() == "dockerd"
}
