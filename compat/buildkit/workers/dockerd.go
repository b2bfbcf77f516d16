package workers

import (
	"os"
	"slices"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/sandbox"
	mbw "github.com/matrixbox/matrixbox/workers"
)

// InitDockerdWorker registers BuildKit's two dockerd workers on the
// current moby (the default of matrixbox's version table, pinned: the
// cells are named worker=dockerd/…, as BuildKit names them): "dockerd",
// matrixbox's dockerd with the classic image store, and
// "dockerd-containerd", with the containerd image store, each without
// the features BuildKit v0.34.2's harness marks unsupported there. Their
// sb.Address() is a BuildKit address; DockerAddress is the Docker API.
func InitDockerdWorker() {
	integration.Register(dockerd())
	integration.Register(dockerdContainerd())
}

// dockerdUnsupported are the features BuildKit v0.34.2's harness marks
// unsupported on its "dockerd" worker.
var dockerdUnsupported = []string{
	FeatureCacheExport, FeatureCacheImport, FeatureCacheBackendAzblob,
	FeatureCacheBackendGha, FeatureCacheBackendLocal, FeatureCacheBackendRegistry,
	FeatureCacheBackendS3, FeatureDirectPush, FeatureImageExporter,
	FeatureMergeDiff, FeatureMultiCacheExport, FeatureMultiPlatform,
	FeatureOCIExporter, FeatureOCILayout, FeatureProvenance, FeatureSBOM,
	FeatureSecurityMode, FeatureCNINetwork, FeatureCDI,
}

// dockerdContainerdUnsupported are those it marks unsupported on its
// "dockerd-containerd" worker.
var dockerdContainerdUnsupported = []string{
	FeatureSecurityMode, FeatureCNINetwork, FeatureContentCheck, FeatureCDI,
}

// dockerdEnv is the environment BuildKit's harness gives its dockerd.
var dockerdEnv = []string{"BUILDKIT_DEBUG_EXEC_OUTPUT=1", "BUILDKIT_DEBUG_PANIC_ON_ERROR=1", "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1"}

// dockerd returns the worker "dockerd" InitDockerdWorker registers.
func dockerd() sandbox.Worker {
	return pinned(mbw.Dockerd(mbw.WithName("dockerd"), mbw.WithFeatures(featuresBut(dockerdUnsupported)...), mbw.WithEnv(dockerdEnv...)))
}

// dockerdContainerd returns the worker "dockerd-containerd"
// InitDockerdWorker registers.
func dockerdContainerd() sandbox.Worker {
	return pinned(mbw.DockerdContainerd(mbw.WithName("dockerd-containerd"), mbw.WithFeatures(featuresBut(dockerdContainerdUnsupported)...), mbw.WithEnv(dockerdEnv...)))
}

// featuresBut are the features BuildKit names, but unsupported.
func featuresBut(unsupported []string) []string {
	var have []string
	for _, f := range allFeatures {
		if !slices.Contains(unsupported, f) {
			have = append(have, f)
		}
	}
	return have
}

// IsTestDockerd reports whether TEST_DOCKERD=1: the suite should run on
// dockerd instead of buildkitd.
func IsTestDockerd() bool {
	return os.Getenv("TEST_DOCKERD") == "1"
}

// IsTestDockerdMoby reports whether sb runs on the "dockerd" worker (not
// on "dockerd-containerd", as in BuildKit's harness).
func IsTestDockerdMoby(sb integration.Sandbox) bool {
	return sb.DockerAddress() != "" && sb.Name() == "dockerd"
}
