package workers

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"
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

func TestPlatformHelpers(t *testing.T) {
	v3 := cell{platform.AxisName: mustParse(t, "linux/amd64/v3")}
	if got := FrontendPlatform(v3); got != "linux/amd64/v3" {
		t.Errorf("FrontendPlatform = %q", got)
	}
	arm := cell{platform.AxisName: mustParse(t, "linux/arm64")}
	def, err := llb.Image("docker.io/library/busybox:latest", LLBPlatform(arm)).Marshal(t.Context())
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
		if got := ListsPlatform(have, mustParse(t, s)); got != want {
			t.Errorf("ListsPlatform(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestWorkerPlatforms asks a real buildkitd: it lists this machine's
// platform, and linux/arm64 exactly when arm64 emulation is there.
func TestWorkerPlatforms(t *testing.T) {
	platform.LockBinfmt(t)
	b := openBox(t, BuildkitdOCI())
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	c, err := client.New(b.Context(), b.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	have, err := WorkerPlatforms(b.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("buildkitd-oci lists %v", have)
	host := platform.From(cell{})
	if err := CheckWorkerPlatform(b.Context(), c, host); err != nil {
		t.Errorf("this machine's platform: %v", err)
	}
	arm64 := mustParse(t, "linux/arm64")
	if !platform.Native(arm64) && ListsPlatform(have, arm64) != platform.Emulated(arm64) {
		t.Errorf("buildkitd lists linux/arm64: %v; binfmt_misc emulates it: %v", ListsPlatform(have, arm64), platform.Emulated(arm64))
	}
	err = CheckWorkerPlatform(b.Context(), c, mustParse(t, "windows/amd64"))
	if err == nil || !strings.Contains(err.Error(), "BuildKit cannot run windows/amd64") || !strings.Contains(err.Error(), "not windows") {
		t.Errorf("CheckWorkerPlatform(windows/amd64) = %v", err)
	}
}
