package platform_test

import (
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// TestNoEmulation is the proof the scenario asks for: the marker tests
// pass for linux/amd64 and linux/arm64 on this amd64 machine with arm64
// emulation absent. Every binfmt_misc handler for arm64 is switched off
// before Run starts any buildkitd (so BuildKit's platform probe finds
// none) and back on when the test ends; the other tests show that the
// absence is real: BuildKit does not list linux/arm64, and an arm64 RUN
// fails where an amd64 one runs.
func TestNoEmulation(t *testing.T) {
	arm64, err := platform.Parse("linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	if platform.Native(arm64) {
		t.Skip("this machine runs linux/arm64 natively: written for an amd64 machine")
	}
	platform.WithoutEmulation(t, arm64)
	integration.Run(t, append(markerTests(), integration.TestFuncs(testNoArm64Worker, testRunNeedsEmulation)...),
		integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd()),
		integration.WithMirror(mirror.Shared()), busyboxMirrored,
		platforms(t, "linux/amd64", "linux/arm64"))
}

// testNoArm64Worker: the buildkitd of this cell lists no linux/arm64, and
// CheckWorkerPlatform's reason names it and what is missing.
func testNoArm64Worker(t *testing.T, sb sandbox.Sandbox) {
	c := buildkittest.Client(t, sb)
	have, err := buildkittest.WorkerPlatforms(sb.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	arm64, _ := platform.Parse("linux/arm64")
	if buildkittest.ListsPlatform(have, arm64) {
		t.Fatalf("buildkitd lists linux/arm64 with emulation off: %v", have)
	}
	err = buildkittest.CheckWorkerPlatform(sb.Context(), c, arm64)
	t.Logf("%v", err)
	if err == nil || !strings.Contains(err.Error(), "linux/arm64") || !strings.Contains(err.Error(), "qemu-aarch64") {
		t.Fatalf("CheckWorkerPlatform(linux/arm64) = %v, want an error naming linux/arm64 and qemu-aarch64", err)
	}
	amd64, _ := platform.Parse("linux/amd64")
	if err := buildkittest.CheckWorkerPlatform(sb.Context(), c, amd64); err != nil {
		t.Fatal(err)
	}
}

// testRunNeedsEmulation is the control: with emulation off, a RUN for
// linux/arm64 fails (exec format error), while one for linux/amd64 runs,
// so the marker tests above passed without executing arm64 code.
func testRunNeedsEmulation(t *testing.T, sb sandbox.Sandbox) {
	if platform.From(sb).Architecture == "amd64" {
		if got := readUname(t, buildkittest.Dockerfile(t, sb, unameDockerfile, nil)); got != "x86_64" {
			t.Fatalf("amd64 RUN: uname -m = %q", got)
		}
		return
	}
	buildkittest.Dockerfile(t, sb, unameDockerfile, nil, buildkittest.ExpectError("exec format error"))
}
