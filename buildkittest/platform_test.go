package buildkittest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// cell is a sandbox's Value alone, for the helpers that need no backend.
type cell map[string]any

func (c cell) Value(axis string) any { return c[axis] }

func mustParse(t *testing.T, s string) ocispec.Platform {
	t.Helper()
	p, err := platform.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLLBPlatform(t *testing.T) {
	arm := cell{platform.AxisName: mustParse(t, "linux/arm64")}
	def, err := llb.Image("docker.io/library/busybox:latest", buildkittest.LLBPlatform(arm)).Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if op.GetSource() == nil {
			continue
		}
		found = true
		if p := op.Platform; p == nil || p.OS != "linux" || p.Architecture != "arm64" {
			t.Errorf("source op platform = %v, want linux/arm64", p)
		}
	}
	if !found {
		t.Fatal("no source op in the definition")
	}
}

func TestListsPlatform(t *testing.T) {
	have := []ocispec.Platform{mustParse(t, "linux/amd64"), mustParse(t, "linux/amd64/v2"), mustParse(t, "linux/arm/v7")}
	for s, want := range map[string]bool{
		"linux/amd64":    true,
		"linux/amd64/v2": true,
		"linux/amd64/v3": false, // the level's instructions may be missing
		"linux/arm/v6":   true,  // an armv7 CPU runs armv6 code
		"linux/arm64":    false,
		"windows/amd64":  false,
	} {
		if got := buildkittest.ListsPlatform(have, mustParse(t, s)); got != want {
			t.Errorf("ListsPlatform(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestWorkerPlatforms asks real daemons: each lists this machine's
// platform, and linux/arm64 exactly when arm64 emulation is there; on a
// dockerd without architecture variants, RequireWorkerPlatform for
// linux/amd64/v3 skips naming the missing feature, not advising a restart.
func TestWorkerPlatforms(t *testing.T) {
	platform.LockBinfmt(t)
	integration.Run(t, integration.TestFuncs(testWorkerPlatforms), buildkitWorkers(), sharedMirror)
}

func testWorkerPlatforms(t *testing.T, sb sandbox.Sandbox) {
	c := buildkittest.Client(t, sb)
	have, err := buildkittest.WorkerPlatforms(sb.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s lists %v", sb.Name(), have)
	if err := buildkittest.CheckWorkerPlatform(sb.Context(), c, platform.From(cell{})); err != nil {
		t.Errorf("this machine's platform: %v", err)
	}
	arm64 := mustParse(t, "linux/arm64")
	if !platform.Native(arm64) && buildkittest.ListsPlatform(have, arm64) != platform.Emulated(arm64) {
		t.Errorf("BuildKit lists linux/arm64: %v; binfmt_misc emulates it: %v", buildkittest.ListsPlatform(have, arm64), platform.Emulated(arm64))
	}
	err = buildkittest.CheckWorkerPlatform(sb.Context(), c, mustParse(t, "windows/amd64"))
	if err == nil || !strings.Contains(err.Error(), "BuildKit cannot run windows/amd64") || !strings.Contains(err.Error(), "not windows") {
		t.Errorf("CheckWorkerPlatform(windows/amd64) = %v", err)
	}
	if sandbox.Supports(sb, workers.FeaturePlatformVariants) {
		return
	}
	v3 := cell{platform.AxisName: mustParse(t, "linux/amd64/v3")}
	skipped := &skipRecorder{TB: t}
	buildkittest.RequireWorkerPlatform(skipped, withValues{sb, v3})
	if !strings.Contains(skipped.reason, `lacks feature "platform_variants"`) || strings.Contains(skipped.reason, "restart") {
		t.Errorf("RequireWorkerPlatform(linux/amd64/v3) on %s: skip reason %q, want the missing feature named and no restart advised", sb.Name(), skipped.reason)
	}
}

// withValues is sb with other axis values.
type withValues struct {
	sandbox.Sandbox
	v cell
}

func (w withValues) Value(axis string) any {
	if v, ok := w.v[axis]; ok {
		return v
	}
	return w.Sandbox.Value(axis)
}

// skipRecorder records a skip instead of skipping; the function skipping
// must return right after (as RequireWorkerPlatform does).
type skipRecorder struct {
	testing.TB
	reason string
}

func (s *skipRecorder) Skip(args ...any)                 { s.reason = strings.TrimSpace(fmt.Sprintln(args...)) }
func (s *skipRecorder) Skipf(format string, args ...any) { s.reason = fmt.Sprintf(format, args...) }
