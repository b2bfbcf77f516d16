package versions

import (
	"context"
	"os"
	"strings"
	"testing"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/moby/buildkit/client"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestMain(m *testing.M) {
	os.Exit(integration.Main(m, integration.WithMirror(mirror.Shared())))
}

func TestVersions(t *testing.T) {
	integration.Run(t, []integration.Test{
		integration.NewTest("TestReportsItsVersion", testReportsItsVersion),
		integration.NewTest("TestNeedsNewBuildKit", testNeedsNewBuildKit,
			integration.Requires(workers.MinVersion(workers.BuildkitAxis, "v0.30.0"))),
	}, integration.WithWorkers(
		workers.BuildkitdOCI(workers.WithVersions(workers.BuildkitAxis, "v0.34.2", "v0.28.0")),
		workers.Containerd(workers.WithVersions(workers.ContainerdAxis, "v2.4.2", "v1.6")),
		workers.BuildkitdContainerd(workers.WithVersions(workers.ContainerdAxis, "v2.4.2", "v1.6")),
	))
}

// testReportsItsVersion asks the cell's daemon its version.
func testReportsItsVersion(t *testing.T, sb sandbox.Sandbox) {
	if want, ok := sb.Value(workers.BuildkitAxis).(string); ok {
		if got := buildkitVersion(t, sb); got != want {
			t.Errorf("buildkitd reports %s in cell %s", got, sb.Name())
		}
	}
	if want, ok := sb.Value(workers.ContainerdAxis).(string); ok {
		c, err := ctd.New(containerdAddress(sb))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		v, err := c.Version(sb.Context())
		if err != nil {
			t.Fatal(err)
		}
		// Debian's says "1.6.20~ds1": its cell names the line, v1.6.
		if got := "v" + strings.TrimPrefix(v.Version, "v"); got != want && !strings.HasPrefix(got, want+".") {
			t.Errorf("containerd reports %s in cell %s", v.Version, sb.Name())
		}
	}
}

// containerdAddress is the socket of the cell's containerd: the worker's
// address on the containerd worker, CONTAINERD_ADDRESS in the environment
// sb.Cmd gives on buildkitd-containerd.
func containerdAddress(sb sandbox.Sandbox) string {
	if sb.Value(workers.BuildkitAxis) == nil {
		return strings.TrimPrefix(sb.Address(), "unix://")
	}
	for _, kv := range sb.Cmd("true").Env {
		if v, ok := strings.CutPrefix(kv, "CONTAINERD_ADDRESS="); ok {
			return v
		}
	}
	return ""
}

// testNeedsNewBuildKit runs only where the BuildKit is v0.30.0 or later.
func testNeedsNewBuildKit(t *testing.T, sb sandbox.Sandbox) {
	if got := buildkitVersion(t, sb); got < "v0.30" {
		t.Errorf("a cell of buildkitd %s ran, though the test requires v0.30.0", got)
	}
}

func buildkitVersion(t *testing.T, sb sandbox.Sandbox) string {
	t.Helper()
	c, err := client.New(context.Background(), sb.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.Info(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.BuildkitVersion.Version
}
