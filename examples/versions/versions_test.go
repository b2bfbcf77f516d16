package versions

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/moby/buildkit/client"
	"golang.org/x/mod/semver"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestMain(m *testing.M) {
	os.Exit(integration.Main(m))
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
		workers.Dockerd(workers.WithVersions(workers.MobyAxis, "v29.8.1", "v20.10")),
		workers.DockerdContainerd(),
	), integration.WithMirror(mirror.Shared()))
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
	if want, ok := sb.Value(workers.MobyAxis).(string); ok {
		// Debian's says "20.10.24+dfsg1": its cell names the line, v20.10.
		if got := "v" + dockerVersion(t, sb); got != want && !strings.HasPrefix(got, want+".") {
			t.Errorf("dockerd reports %s in /version in cell %s", got, sb.Name())
		}
	}
}

// dockerVersion is what the Docker API of the cell's dockerd says its
// version is.
func dockerVersion(t *testing.T, sb sandbox.Sandbox) string {
	t.Helper()
	sock := strings.TrimPrefix(workers.DockerAddress(sb), "unix://")
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequestWithContext(sb.Context(), http.MethodGet, "http://docker/version", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("dockerd /version: %v", err)
	}
	return v.Version
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
	if got := buildkitVersion(t, sb); !semver.IsValid(got) || semver.Compare(got, "v0.30.0") < 0 {
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
