package workers_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// Remote workers run cells on daemons that matrixbox did not start and
// never stops: a BuildKit farm over TCP with TLS, a shared dockerd, the
// machine's containerd. Each is a value of the worker axis under the name
// given; its cells are skipped, saying why, when the daemon does not
// answer.
func ExampleRemoteBuildkit() {
	ws := []sandbox.Worker{
		workers.RemoteBuildkit("farm", "tcp://buildkit.ci.example:1234", workers.WithTLSDir("/etc/ci/buildkit")),
		workers.RemoteDockerd("shared-docker", "unix:///var/run/docker.sock"),
		workers.RemoteContainerd("host-containerd", "/run/containerd/containerd.sock", workers.WithNamespace("ci")),
	}
	for _, w := range ws {
		fmt.Println(w.Name())
	}
	// Output:
	// farm
	// shared-docker
	// host-containerd
}
