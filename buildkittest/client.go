package buildkittest

import (
	"fmt"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Client returns a client of sb's BuildKit, closed when the test ends. The
// address is sb.Address(), which every BuildKit worker of package workers
// gives (buildkitd-oci, buildkitd-containerd, and dockerd through a socket
// of its own); plain client.New(ctx, sb.Address()) works as well.
func Client(t testing.TB, sb sandbox.Sandbox) *client.Client {
	t.Helper()
	c, err := newClient(sb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newClient(sb sandbox.Sandbox) (*client.Client, error) {
	if sb.Address() == "" {
		return nil, fmt.Errorf("buildkittest: %s has no BuildKit address: run the test on a BuildKit worker (buildkitd-oci, buildkitd-containerd, dockerd)", sb.Name())
	}
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		return nil, fmt.Errorf("buildkittest: BuildKit client of %s at %s: %w", sb.Name(), sb.Address(), err)
	}
	return c, nil
}
