package buildkittest_test

import (
	"testing"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// TestMarkerSourcePolicyFirst runs the marker route through a source policy
// for a Dockerfile as the first build of a fresh daemon: nothing built
// before has put the marker store's blobs into the daemon, so the build
// must take them from the OCI store (issue 22: it fetched them from a
// registry at localhost:80 instead).
func TestMarkerSourcePolicyFirst(t *testing.T) {
	axis, err := platform.Axis("linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(t, []integration.Test{integration.NewTest("TestSourcePolicyDockerfile", testSourcePolicyFirst,
		integration.Requires(workers.FeatureOCILayout, workers.FeatureSourcePolicy))},
		integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd()), sharedMirror,
		integration.WithAxes(axis))
}

func testSourcePolicyFirst(t *testing.T, sb sandbox.Sandbox) {
	m := buildkittest.NewMarkerStore(t, sb, busyboxBase(t, sb.Context()))
	m.Check(t, buildkittest.Dockerfile(t, sb, "FROM busybox\n", nil, m.SourcePolicy("busybox")))
}
