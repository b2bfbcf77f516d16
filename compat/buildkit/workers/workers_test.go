package workers

import (
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/report"
)

func testNothing(*testing.T, integration.Sandbox) {}

// TestCellsAreNamedAsBuildkitNamesThem: the workers carry no version axis
// of matrixbox's in their cells' names, and the containerd releases of the
// table are BuildKit's containerd-<major>.<minor> workers. The plan is
// written and nothing starts (MATRIXBOX_PLAN).
func TestCellsAreNamedAsBuildkitNamesThem(t *testing.T) {
	plan := filepath.Join(t.TempDir(), "plan.jsonl")
	t.Setenv("MATRIXBOX_PLAN", plan)
	t.Setenv("MATRIXBOX_CONFIG", "none")
	InitOCIWorker()
	InitContainerdWorker()
	InitDockerdWorker()
	t.Run("suite", func(t *testing.T) {
		integration.Run(t, integration.TestFuncs(testNothing), integration.WithMatrix("frontend", map[string]any{"builtin": 1}))
	})
	recs, err := report.Read(plan)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Kind == report.KindPlan {
			got = append(got, r.Case[strings.Index(r.Case, "TestNothing/"):])
		}
	}
	want := []string{"TestNothing/worker=oci/frontend=builtin", "TestNothing/worker=oci-rootless/frontend=builtin", "TestNothing/worker=containerd/frontend=builtin"}
	for _, v := range daemons.Versions(daemons.Containerd)[1:] {
		want = append(want, "TestNothing/worker=containerd-"+strings.Join(strings.Split(strings.TrimPrefix(v, "v"), ".")[:2], ".")+"/frontend=builtin")
	}
	want = append(want, "TestNothing/worker=containerd-rootless/frontend=builtin", "TestNothing/worker=dockerd/frontend=builtin", "TestNothing/worker=dockerd-containerd/frontend=builtin")
	if !slices.Equal(got, want) {
		t.Errorf("cases\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuildkitVersionIsTheBinarysWhenTheTableHasIt(t *testing.T) {
	def := daemons.Default(daemons.BuildKit).Version
	for _, tc := range []struct {
		deps []*debug.Module
		want string
	}{
		{[]*debug.Module{{Path: buildkitModule, Version: "v0.28.0"}}, "v0.28.0"},
		{[]*debug.Module{{Path: buildkitModule, Version: "v0.28.0", Replace: &debug.Module{Path: buildkitModule, Version: "v0.34.2"}}}, "v0.34.2"},
		{[]*debug.Module{{Path: buildkitModule, Version: "v0.29.1"}}, def},
		{nil, def},
	} {
		if got := buildkitVersionOf(tc.deps); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.deps, got, tc.want)
		}
	}
}
