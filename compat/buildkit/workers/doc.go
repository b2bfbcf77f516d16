// Package workers is a drop-in for BuildKit v0.28.0's
// util/testutil/workers, for suites that run on the compat integration
// package: the Feature* names, [CheckFeatureCompat] and [HasFeatureCompat],
// [IsTestDockerd] and [IsTestDockerdMoby], and the Init*Worker functions a
// suite calls from an init function to choose its workers.
//
// [InitOCIWorker] and [InitContainerdWorker] register matrixbox's
// buildkitd-oci and buildkitd-containerd workers under BuildKit's names,
// "oci" and "containerd", with every feature, and run their buildkitd as
// BuildKit's harness does: the BUILDKIT_DEBUG_* variables it sets, its
// worker label, and a buildkitd.toml that the ConfigUpdater values of the
// cell change. [InitDockerdWorker] registers matrixbox's dockerd on the
// current moby as "dockerd" (the classic image store) and
// "dockerd-containerd" (the containerd image store), each without the
// features BuildKit v0.34.2's harness marks unsupported there; their
// sb.Address() is a BuildKit address, and DockerAddress is the Docker API.
package workers
