package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func planNames(t *testing.T, ws []sandbox.Worker, cfg *config, st settings) []string {
	t.Helper()
	p, err := makePlan("TestV", TestFuncs(func(*testing.T, sandbox.Sandbox) {}), ws, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.cases {
		_, cell, _ := strings.Cut(c.name, "/")
		names = append(names, cell)
	}
	return names
}

// TestVersionAxes: a worker's daemon versions are axes of its own, right
// after the worker and before the Run's, in its cells alone; the file's
// axes name others; a selection picks them like any axis.
func TestVersionAxes(t *testing.T) {
	ws := []sandbox.Worker{
		hostworker.New(),
		workers.BuildkitdOCI(workers.WithVersions(workers.BuildkitAxis, "v0.34.2", "v0.28.0")),
		workers.BuildkitdContainerd(workers.WithVersions(workers.ContainerdAxis, "v2.4.2", "v1.7.35")),
	}
	code := &config{}
	WithAxes(matrix.FromMap("n", map[string]any{"1": 1}))(code)
	got := planNames(t, ws, code, settings{})
	want := []string{
		"worker=host/n=1",
		"worker=buildkitd-oci/buildkit=v0.34.2/n=1",
		"worker=buildkitd-oci/buildkit=v0.28.0/n=1",
		"worker=buildkitd-containerd/buildkit=v0.34.2/containerd=v2.4.2/n=1",
		"worker=buildkitd-containerd/buildkit=v0.34.2/containerd=v1.7.35/n=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cells\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Each cell runs on the worker at its versions.
	p, err := makePlan("TestV", TestFuncs(func(*testing.T, sandbox.Sandbox) {}), ws, code, settings{})
	if err != nil {
		t.Fatal(err)
	}
	old := p.cases[2]
	if old.worker.(sandbox.Supporter).Supports(workers.MinVersion(workers.BuildkitAxis, "v0.30.0")) ||
		!p.cases[1].worker.(sandbox.Supporter).Supports(workers.MinVersion(workers.BuildkitAxis, "v0.30.0")) {
		t.Errorf("the cells' workers are not at their cells' versions")
	}
	if old.workerKey != "worker=buildkitd-oci/buildkit=v0.28.0" {
		t.Errorf("workerKey = %q", old.workerKey)
	}

	// MATRIXBOX_SELECT picks versions; it drops the cells that have none.
	var st settings
	st.selector, _ = matrix.ParseSelector("buildkit=v0.28.*")
	if got := planNames(t, ws, code, st); !slices.Equal(got, []string{"worker=buildkitd-oci/buildkit=v0.28.0/n=1"}) {
		t.Errorf("buildkit=v0.28.*: %q", got)
	}

	// matrixbox.yaml names the versions of a worker's axis.
	fc, err := repoconfig.Parse("m.yaml", []byte("axes:\n  buildkit: [v0.28.0]\n  containerd: [v1.6]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config{}
	ws2, notes, err := applyConfig(fc, &settings{}, cfg, ws)
	if err != nil || len(notes) > 0 {
		t.Fatalf("applyConfig: %v %q", err, notes)
	}
	want = []string{
		"worker=host",
		"worker=buildkitd-oci/buildkit=v0.28.0",
		"worker=buildkitd-containerd/buildkit=v0.28.0/containerd=v1.6",
	}
	if got := planNames(t, ws2, cfg, settings{}); !slices.Equal(got, want) {
		t.Errorf("with the file's axes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A Run axis named like a worker's is refused, naming both.
	clash := &config{}
	WithAxes(matrix.FromMap("buildkit", map[string]any{"x": 1}))(clash)
	if _, err := makePlan("TestV", TestFuncs(func(*testing.T, sandbox.Sandbox) {}), ws, clash, settings{}); err == nil ||
		!strings.Contains(err.Error(), `axis "buildkit" is an axis of worker buildkitd-oci`) {
		t.Errorf("a Run axis named buildkit: %v", err)
	}
}
