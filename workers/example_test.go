package workers_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// The workers of a BuildKit suite with a containerd-version axis: each name
// is a value of the "worker" axis, so MATRIXBOX_SELECT=worker=containerd*
// picks both containerds.
func Example() {
	ws := []sandbox.Worker{
		workers.Host(),
		workers.BuildkitdOCI(workers.WithFeatures("oci-layout")),
		workers.BuildkitdContainerd(),
		workers.Containerd(),
		workers.Containerd(workers.WithBinary("/usr/bin/containerd"), workers.WithName("containerd-1.6")),
		workers.Dockerd(),
		workers.DockerdContainerd(),
	}
	for _, w := range ws {
		_, checked := w.(sandbox.Checker)
		fmt.Println(w.Name(), checked)
	}
	// Output:
	// host false
	// buildkitd-oci true
	// buildkitd-containerd true
	// containerd true
	// containerd-1.6 true
	// dockerd true
	// dockerd-containerd true
}

// dockerd with the classic image store and with the containerd image
// store, each on the current moby and on 20.10: what each has is told
// before any daemon starts, so a test that requires an oci-layout context
// is skipped on dockerd; the cells of dockerd-containerd on 20.10, which
// has no containerd image store, are skipped whatever they require.
func ExampleDockerdContainerd() {
	axis := workers.WithVersions(workers.MobyAxis, "v29.8.1", "v20.10")
	for _, w := range []sandbox.Worker{workers.Dockerd(axis), workers.DockerdContainerd(axis)} {
		fmt.Println(w.Name(), w.(sandbox.Supporter).Supports(workers.FeatureOCILayout))
	}
	// Output:
	// dockerd false
	// dockerd-containerd true
}

func ExampleHost() {
	fmt.Println(workers.Host().Name())
	// Output: host
}

// The rootless workers are the buildkitd workers with WithRootless: the
// same daemons and version axes, run under RootlessKit as an unprivileged
// user, without FeatureRootful.
func ExampleWithRootless() {
	for _, w := range []sandbox.Worker{
		workers.BuildkitdOCI(workers.WithRootless()),
		workers.BuildkitdContainerd(workers.WithRootless()),
		workers.BuildkitdOCI(workers.WithRootless(), workers.WithName("oci-rootless")),
	} {
		fmt.Println(w.Name(), w.(sandbox.Supporter).Supports(workers.FeatureRootful))
	}
	// Output:
	// buildkitd-oci-rootless false
	// buildkitd-containerd-rootless false
	// oci-rootless false
}
