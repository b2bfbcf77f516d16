package platform_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/moby/buildkit/client/llb"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// TestMain lets matrixbox.yaml name platforms (integration does not import
// matrix/platform, so the suite gives its decoder), then stops the warm
// backends after the tests.
func TestMain(m *testing.M) {
	os.Exit(integration.Main(m, integration.WithAxisDecoder(platform.AxisName, platform.DecodeValue)))
}

// markerPlatforms are the platforms of the marker tests: the two the
// mirrored busybox has, and an amd64 variant it does not have, which
// BuildKit serves from amd64.
var markerPlatforms = []string{"linux/amd64", "linux/arm64", "linux/amd64/v3"}

// busybox is pulled through the shared mirror, where recipe:busybox puts
// a linux/amd64+arm64 image made offline from Debian's busybox.
const busybox = "docker.io/library/busybox:latest"

var busyboxMirrored = integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"})

// platforms is the Run's platform axis of specs; a spec that does not
// parse fails t, naming it.
func platforms(t *testing.T, specs ...string) integration.Option {
	t.Helper()
	axis, err := platform.Axis(specs...)
	if err != nil {
		t.Fatal(err)
	}
	return integration.WithAxes(axis)
}

// buildkitWorkers are the BuildKit workers, dockerd on the current moby
// and on 20.10, and with the containerd image store.
func buildkitWorkers() integration.Option {
	return integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(),
		workers.Dockerd(workers.WithVersions(workers.MobyAxis, "v29.8.1", "v20.10")), workers.DockerdContainerd())
}

// markerTests select and inspect images only; they need oci-layout
// stores and source policies: dockerd with the classic image store lacks
// the first, dockerd 20.10 both, so their cells are skipped before they
// start; dockerd with the containerd image store has both.
func markerTests() []integration.Test {
	return []integration.Test{integration.NewTest("TestMarkerRoutes", testMarkerRoutes,
		integration.Requires(workers.FeatureOCILayout, workers.FeatureSourcePolicy))}
}

func TestMarker(t *testing.T) {
	integration.Run(t, markerTests(), buildkitWorkers(), integration.WithMirror(mirror.Shared()),
		platforms(t, markerPlatforms...))
}

// testMarkerRoutes hands the marker index of busybox to BuildKit by both
// routes and checks, each time, that the result is the cell's platform's
// image: a source policy for a Dockerfile, a named context, and a source
// policy for LLB.
func testMarkerRoutes(t *testing.T, sb sandbox.Sandbox) {
	path, err := mirror.Shared().Recipe(sb.Context(), "recipe:busybox")
	if err != nil {
		t.Fatal(err)
	}
	layout, err := ociimage.OpenLayout(path)
	if err != nil {
		t.Fatal(err)
	}
	defer layout.Close()
	base, err := layout.Artifact()
	if err != nil {
		t.Fatal(err)
	}
	m := buildkittest.NewMarkerStore(t, sb, base)
	// The source policy first: on a daemon no build has given the marker
	// store's blobs to, a Dockerfile must still take them from the store.
	t.Run("source-policy", func(t *testing.T) {
		m.Check(t, buildkittest.Dockerfile(t, sb, "FROM busybox\n", nil, m.SourcePolicy("busybox")))
	})
	t.Run("named-context", func(t *testing.T) {
		m.Check(t, buildkittest.Dockerfile(t, sb, "FROM base\n", nil, m.NamedContext("base")))
	})
	t.Run("source-policy-llb", func(t *testing.T) {
		m.Check(t, buildkittest.Solve(t, sb, llb.Image(busybox), m.SourcePolicy("busybox")))
	})
}

// unameM is what `uname -m` prints for each architecture.
var unameM = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

const unameDockerfile = "FROM busybox AS run\nRUN uname -m > /uname-m\nFROM scratch\nCOPY --from=run /uname-m /\n"

func TestRunCommand(t *testing.T) {
	// Holds off platform.WithoutEmulation in other processes while these
	// cells rely on emulation.
	platform.LockBinfmt(t)
	integration.Run(t, integration.TestFuncs(testRunUname), buildkitWorkers(), integration.WithMirror(mirror.Shared()), busyboxMirrored,
		platforms(t, "linux/amd64", "linux/arm64"))
}

// testRunUname really executes code of the cell's platform, natively or
// emulated.
func testRunUname(t *testing.T, sb sandbox.Sandbox) {
	how := platform.RequireRunnable(t, sb)
	buildkittest.RequireWorkerPlatform(t, sb)
	out := buildkittest.Dockerfile(t, sb, unameDockerfile, nil)
	want := unameM[platform.From(sb).Architecture]
	t.Logf("%s (%s): uname -m should say %s", platform.Format(platform.From(sb)), how, want)
	buildkittest.CheckDir(t, out, fstest.MapFS{"uname-m": {Data: []byte(want + "\n")}})
}

func TestTargetArgs(t *testing.T) {
	integration.Run(t, []integration.Test{integration.NewTest("TestTargetArgs", testTargetArgs,
		integration.Requires(workers.FeaturePlatformVariants))},
		buildkitWorkers(), integration.WithMirror(mirror.Shared()), busyboxMirrored, platforms(t, "linux/amd64/v3"))
}

// testTargetArgs checks the automatic platform ARGs of a Dockerfile built
// for linux/amd64/v3, which busybox (linux/amd64 only) serves.
func testTargetArgs(t *testing.T, sb sandbox.Sandbox) {
	platform.RequireNative(t, sb)
	buildkittest.RequireWorkerPlatform(t, sb)
	out := buildkittest.Dockerfile(t, sb, `FROM busybox AS run
ARG TARGETPLATFORM
ARG TARGETOS
ARG TARGETARCH
ARG TARGETVARIANT
RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH $TARGETVARIANT" > /target
FROM scratch
COPY --from=run /target /
`, nil)
	buildkittest.CheckDir(t, out, fstest.MapFS{"target": {Data: []byte("linux/amd64/v3 linux amd64 v3\n")}})
}

// readUname returns what the uname Dockerfile left in out.
func readUname(t *testing.T, out string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "uname-m"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
