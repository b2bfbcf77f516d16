package workers

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// axesOf returns the worker's own axes as "axis=v1|v2" strings.
func axesOf(t *testing.T, w sandbox.Worker) []string {
	t.Helper()
	v, ok := w.(sandbox.Versioned)
	if !ok {
		t.Fatalf("%s is no sandbox.Versioned", w.Name())
	}
	var out []string
	for _, a := range v.Axes() {
		names := make([]string, len(a.Values))
		for i, x := range a.Values {
			names[i] = x.Name
		}
		out = append(out, a.Name+"="+strings.Join(names, "|"))
	}
	return out
}

func TestVersionAxes(t *testing.T) {
	bk, ctd, moby := daemons.Default(daemons.BuildKit).Version, daemons.Default(daemons.Containerd).Version, daemons.Default(daemons.Moby).Version
	for _, tc := range []struct {
		w    sandbox.Worker
		want []string
	}{
		{BuildkitdOCI(), []string{"buildkit=" + bk}},
		{BuildkitdContainerd(), []string{"buildkit=" + bk, "containerd=" + ctd}},
		{Containerd(), []string{"containerd=" + ctd}},
		{Dockerd(), []string{"moby=" + moby}},
		{DockerdContainerd(WithVersions(MobyAxis, "v29.8.1", "v20.10")), []string{"moby=v29.8.1|v20.10"}},
		{BuildkitdOCI(WithVersions(BuildkitAxis, "v0.28.0", "v0.34.2")), []string{"buildkit=v0.28.0|v0.34.2"}},
		{BuildkitdContainerd(WithVersions(ContainerdAxis, "v1.7.35")), []string{"buildkit=" + bk, "containerd=v1.7.35"}},
		// The binary given is the daemon: its version is not the worker's.
		{Containerd(WithBinary("/usr/bin/containerd")), nil},
		{BuildkitdContainerd(WithBinary("/usr/bin/buildkitd")), []string{"containerd=" + ctd}},
	} {
		if got := axesOf(t, tc.w); !slices.Equal(got, tc.want) {
			t.Errorf("%s: axes %v, want %v", tc.w.Name(), got, tc.want)
		}
	}
}

// at pins w at the cell of its own axes given as "axis=value" pairs.
func at(w sandbox.Worker, pairs ...string) sandbox.Worker {
	var axes []matrix.Axis
	for _, p := range pairs {
		a, v, _ := strings.Cut(p, "=")
		axes = append(axes, matrix.Strings(a, v))
	}
	cells, err := matrix.Expand(axes...)
	if err != nil {
		panic(err)
	}
	return w.(sandbox.Versioned).At(cells[0])
}

func TestVersionMisconfigured(t *testing.T) {
	for _, tc := range []struct {
		w    sandbox.Worker
		want string
	}{
		{at(BuildkitdOCI(), "buildkit=v0.99.0"), `buildkit "v0.99.0" is not a version matrixbox supports; it supports v0.34.2`},
		{BuildkitdOCI(WithVersions(MobyAxis, "v29.8.1")), `workers.WithVersions("moby"): worker "buildkitd-oci" (workers.BuildkitdOCI) has no such daemon`},
		{Containerd(WithBinary("/usr/bin/containerd"), WithVersions(ContainerdAxis, "v1.6")), "the binary given is the containerd daemon"},
		{Dockerd(WithVersions(MobyAxis)), "names no version"},
		{RemoteBuildkit("farm", "unix:///nowhere.sock", WithVersions(BuildkitAxis, "v0.34.2")), "workers.WithVersions: worker \"farm\""},
	} {
		err := tc.w.(sandbox.Checker).Check()
		if !errors.Is(err, sandbox.ErrMisconfigured) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want a misconfiguration saying %q", tc.w.Name(), err, tc.want)
		}
	}
}

// TestVersionNotInstalled: a version of the table that is not installed
// is a skip naming the command that installs it, not a misconfiguration.
func TestVersionNotInstalled(t *testing.T) {
	t.Setenv(daemons.EnvBin, t.TempDir())
	err := at(BuildkitdOCI(), "buildkit=v0.28.0").(sandbox.Checker).Check()
	if err == nil || errors.Is(err, sandbox.ErrMisconfigured) ||
		!strings.Contains(err.Error(), "buildkit v0.28.0 is not installed") ||
		!strings.Contains(err.Error(), "go run github.com/matrixbox/matrixbox/cmd/matrixbox install buildkit@v0.28.0") {
		t.Errorf("Check() = %v, want a skip with the install command", err)
	}
}

func TestMinVersion(t *testing.T) {
	req := MinVersion(BuildkitAxis, "v0.30.0")
	if req != "buildkit>=v0.30.0" {
		t.Fatalf("MinVersion = %q", req)
	}
	for _, tc := range []struct {
		w    sandbox.Worker
		want bool
	}{
		{at(BuildkitdOCI(), "buildkit=v0.34.2"), true},
		{at(BuildkitdOCI(), "buildkit=v0.28.0"), false},
		{at(BuildkitdContainerd(), "buildkit=v0.34.2", "containerd=v2.4.2"), true},
		// A dockerd answers with the BuildKit inside it.
		{at(Dockerd(), "moby=v29.8.1"), true},
		{at(Dockerd(), "moby=v20.10"), false},
		{at(Containerd(), "containerd=v2.4.2"), false},
	} {
		if got := tc.w.(sandbox.Supporter).Supports(req); got != tc.want {
			t.Errorf("%s at %s: Supports(%q) = %v, want %v", tc.w.Name(), describeVersions(tc.w), req, got, tc.want)
		}
	}
	if !at(Containerd(), "containerd=v2.4.2").(sandbox.Supporter).Supports(MinVersion(ContainerdAxis, "v2.0.0")) ||
		at(Containerd(), "containerd=v1.6").(sandbox.Supporter).Supports(MinVersion(ContainerdAxis, "v2.0.0")) {
		t.Error("containerd>=v2.0.0: want true on v2.4.2, false on v1.6")
	}
}

func describeVersions(w sandbox.Worker) string {
	switch w := w.(type) {
	case *buildkitdWorker:
		return w.versions.describe()
	case *containerdWorker:
		return w.versions.describe()
	case *dockerdWorker:
		return w.versions.describe()
	}
	return ""
}

// TestDockerdFeaturesByVersion: what a dockerd's BuildKit has is told by
// its version and image store before it starts, as BuildKit v0.34.2's
// harness declares its dockerd workers: 20.10 lacks what it declares for
// a current dockerd; the classic store lacks oci-layout contexts,
// exporters, cache export and multi-platform images, which the
// containerd store has.
func TestDockerdFeaturesByVersion(t *testing.T) {
	for _, tc := range []struct {
		w         sandbox.Worker
		has, lack []string
	}{
		{at(Dockerd(), "moby=v20.10"), []string{FeatureNetworkHost},
			[]string{FeatureSourcePolicy, FeatureInfo, FeatureOCILayout, FeatureMultiPlatform, FeatureMergeDiff}},
		{at(Dockerd(), "moby=v29.8.1"), []string{FeatureSourcePolicy, FeatureNetworkHost, FeatureInfo, FeatureCacheBackendInline, FeatureSourceDateEpoch},
			[]string{FeatureOCILayout, FeatureImageExporter, FeatureOCIExporter, FeatureCacheExport, FeatureCacheImport, FeatureMultiPlatform, FeatureMergeDiff}},
		{at(DockerdContainerd(), "moby=v29.8.1"), append(slices.Clone(buildkitdFeatures), FeatureNetworkHost), nil},
	} {
		s := tc.w.(sandbox.Supporter)
		for _, f := range tc.has {
			if !s.Supports(f) {
				t.Errorf("%s at %s lacks %s", tc.w.Name(), describeVersions(tc.w), f)
			}
		}
		for _, f := range tc.lack {
			if s.Supports(f) {
				t.Errorf("%s at %s has %s", tc.w.Name(), describeVersions(tc.w), f)
			}
		}
	}
}

// TestDockerdContainerdOn2010: moby 20.10 has no containerd image store;
// the cells of dockerd-containerd on it are unsupported (a skip in every
// mode), not unavailable or misconfigured, and say why.
func TestDockerdContainerdOn2010(t *testing.T) {
	err := at(DockerdContainerd(), "moby=v20.10").(sandbox.Checker).Check()
	if !errors.Is(err, errors.ErrUnsupported) || errors.Is(err, sandbox.ErrMisconfigured) ||
		!strings.Contains(err.Error(), "moby v20.10 has no containerd image store") {
		t.Errorf("Check() = %v, want errors.ErrUnsupported saying moby v20.10 has no containerd image store", err)
	}
	if _, _, err := at(DockerdContainerd(), "moby=v20.10").New(t.Context(), nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("New() = %v, want errors.ErrUnsupported", err)
	}
	if err := at(Dockerd(), "moby=v20.10").(sandbox.Checker).Check(); errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("dockerd on v20.10: Check() = %v", err)
	}
}

// TestWorkersMadeAgainAreEqual: a warm backend serves the cases of an
// equal worker made by a later Run (integration compares them with
// reflect.DeepEqual), so a worker holds no state filled in lazily.
func TestWorkersMadeAgainAreEqual(t *testing.T) {
	for _, mk := range []func() sandbox.Worker{
		func() sandbox.Worker { return Dockerd() },
		func() sandbox.Worker { return DockerdContainerd() },
		func() sandbox.Worker { return BuildkitdOCI() },
		func() sandbox.Worker { return Containerd() },
	} {
		a := mk()
		a.(sandbox.Supporter).Supports(FeatureInfo)
		_ = a.(sandbox.Checker).Check()
		b := mk()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: a worker used once is not equal to one made again", a.Name())
		}
		ca, cb := at(a, versionPairs(a)...), at(b, versionPairs(b)...)
		if !reflect.DeepEqual(ca, cb) {
			t.Errorf("%s: the same versions of two equal workers are not equal", a.Name())
		}
	}
}

// versionPairs are "axis=value" for the first value of each own axis of w.
func versionPairs(w sandbox.Worker) []string {
	var out []string
	for _, a := range w.(sandbox.Versioned).Axes() {
		out = append(out, a.Name+"="+a.Values[0].Name)
	}
	return out
}

// TestPinnedWorkerHasNoAxis: the worker At returns runs its versions in
// every cell without an axis for them, and a later At (the one integration
// makes for each cell) keeps them.
func TestPinnedWorkerHasNoAxis(t *testing.T) {
	w := at(BuildkitdContainerd(WithName("containerd-1.7"), WithVersions(ContainerdAxis, "v1.7.35")), "buildkit=v0.28.0", "containerd=v1.7.35")
	if got := axesOf(t, w); len(got) != 0 {
		t.Errorf("pinned worker: axes %v, want none", got)
	}
	again := at(w)
	if got := describeVersions(again); got != "buildkit=v0.28.0, containerd=v1.7.35" {
		t.Errorf("pinned worker at an empty cell runs %s, want buildkit=v0.28.0, containerd=v1.7.35", got)
	}
	half := at(BuildkitdContainerd(), "containerd=v1.6")
	if got := axesOf(t, half); !slices.Equal(got, []string{"buildkit=" + daemons.Default(daemons.BuildKit).Version}) {
		t.Errorf("containerd pinned: axes %v, want only buildkit's", got)
	}
	if got := describeVersions(at(half, "buildkit=v0.28.0")); got != "buildkit=v0.28.0, containerd=v1.6" {
		t.Errorf("containerd pinned, then buildkit: %s", got)
	}
}
