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
