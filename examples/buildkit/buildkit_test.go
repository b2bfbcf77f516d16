package buildkit

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/moby/buildkit/client/llb"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// TestMain stops the warm backends after the tests.
func TestMain(m *testing.M) {
	os.Exit(integration.Main(m))
}

func TestBuildkit(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testLLBScratch, testDockerfileScratch, testLLBBusyboxRun, testDockerfileBusyboxRun),
		integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(),
			workers.Dockerd(workers.WithVersions(workers.MobyAxis, "v29.8.1", "v20.10")), workers.DockerdContainerd()),
		integration.WithMirror(mirror.Shared()),
		integration.WithMirroredImages(map[string]string{busybox: "recipe:busybox"}),
	)
}

// busybox is pulled by every daemon from the shared mirror, which serves
// docker.io/library/busybox:latest built offline from Debian's
// busybox-static (recipe:busybox): the daemons are configured to use the
// mirror for docker.io, so the tests name the image as users do.
const busybox = "docker.io/library/busybox:latest"

func testLLBScratch(t *testing.T, sb sandbox.Sandbox) {
	st := llb.Scratch().
		File(llb.Mkdir("/dir", 0o755)).
		File(llb.Mkfile("/dir/hello", 0o644, []byte("hello from "+sb.Name())))
	out := buildkittest.Solve(t, sb, st)
	buildkittest.CheckDir(t, out, fstest.MapFS{"dir/hello": {Data: []byte("hello from " + sb.Name()), Mode: 0o644}}, buildkittest.NothingElse())
}

func testDockerfileScratch(t *testing.T, sb sandbox.Sandbox) {
	out := buildkittest.Dockerfile(t, sb, "FROM scratch\nCOPY hello.txt /copied.txt\n",
		map[string]string{"hello.txt": "hello dockerfile\n"})
	buildkittest.CheckDir(t, out, fstest.MapFS{"copied.txt": {Data: []byte("hello dockerfile\n")}}, buildkittest.NothingElse())
}

// testLLBBusyboxRun runs a step on the default network, which every
// worker has (dockerd's is a bridge of its own).
func testLLBBusyboxRun(t *testing.T, sb sandbox.Sandbox) {
	st := llb.Image(busybox).Run(llb.Shlex(`sh -c "echo ran in busybox > /out.txt"`)).Root()
	out := buildkittest.Solve(t, sb, llb.Scratch().File(llb.Copy(st, "/out.txt", "/out.txt")))
	buildkittest.CheckDir(t, out, fstest.MapFS{"out.txt": {Data: []byte("ran in busybox\n")}})
}

func testDockerfileBusyboxRun(t *testing.T, sb sandbox.Sandbox) {
	out := buildkittest.Dockerfile(t, sb, "FROM busybox AS base\nRUN echo from-dockerfile > /r.txt\nFROM scratch\nCOPY --from=base /r.txt /\n", nil)
	buildkittest.CheckDir(t, out, fstest.MapFS{"r.txt": {Data: []byte("from-dockerfile\n")}})
}
