package workers

import (
	"slices"
	"testing"

	"github.com/matrixbox/matrixbox/sandbox"
)

// TestDockerdWorkersFeatures: each dockerd worker has exactly the
// features BuildKit v0.34.2's harness declares for it.
func TestDockerdWorkersFeatures(t *testing.T) {
	for _, tc := range []struct {
		w           sandbox.Worker
		name        string
		unsupported []string
	}{
		{dockerd(), "dockerd", dockerdUnsupported},
		{dockerdContainerd(), "dockerd-containerd", dockerdContainerdUnsupported},
	} {
		if tc.w.Name() != tc.name {
			t.Errorf("worker %q, want %q", tc.w.Name(), tc.name)
		}
		for _, f := range allFeatures {
			if has, want := tc.w.(sandbox.Supporter).Supports(f), !slices.Contains(tc.unsupported, f); has != want {
				t.Errorf("%s: Supports(%s) = %v, want %v", tc.name, f, has, want)
			}
		}
	}
	for _, f := range []string{FeatureOCILayout, FeatureMultiPlatform, FeatureMergeDiff} {
		if dockerd().(sandbox.Supporter).Supports(f) || !dockerdContainerd().(sandbox.Supporter).Supports(f) {
			t.Errorf("%s: want it on dockerd-containerd only", f)
		}
	}
}
