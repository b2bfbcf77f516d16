package platform_test

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/mirror/image"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func init() {
	integration.UseMirror(mirror.Shared())
	// integration may not import matrix/platform: the suite registers the
	// decoder that lets matrixbox.yaml name platforms.
	integration.RegisterAxisDecoder(platform.AxisName, platform.DecodeValue)
}

// markerPlatforms are the platforms of the marker index: the ones the
// mirrored busybox has.
var markerPlatforms = []string{"linux/amd64", "linux/arm64"}

// busyboxMirrored puts the two-platform busybox into the shared mirror,
// where buildkitd pulls docker.io/library/busybox:latest from.
var busyboxMirrored = integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"})

func buildkitWorkers() integration.Option {
	return integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd())
}

// markerTests select and read images only. The three routes run one after
// the other in one case: run as separate cases sharing one warm buildkitd,
// two concurrent builds of the same oci-layout blobs from two client
// sessions were seen to fail fetching a blob from
// "http://localhost/v2/marker/blobs/…", the store read as a registry.
func markerTests() []integration.Test {
	return integration.TestFuncs(testMarkerRoutes)
}

func testMarkerRoutes(t *testing.T, sb sandbox.Sandbox) {
	for _, r := range []struct {
		name string
		fn   func(*testing.T, sandbox.Sandbox)
	}{
		{"named-context", testMarkerNamedContext},
		{"source-policy", testMarkerSourcePolicy},
		{"source-policy-llb", testMarkerLLB},
	} {
		t.Run(r.name, func(t *testing.T) { r.fn(t, sb) })
	}
}

func TestMarker(t *testing.T) {
	integration.Run(t, markerTests(), buildkitWorkers(), integration.WithAxis(platform.Axis(markerPlatforms...)))
}

// markerStore is the marker index of this cell, written as an OCI layout
// in the sandbox and opened as BuildKit's OCI store "marker".
type markerStore struct {
	stores map[string]content.Store
	name   string
	index  digest.Digest
}

func newMarkerStore(t *testing.T, sb sandbox.Sandbox) markerStore {
	t.Helper()
	dir, err := mirror.Shared().Recipe(sb.Context(), "recipe:busybox")
	if err != nil {
		t.Fatal(err)
	}
	base, err := image.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	idx, err := base.FindIndex("image")
	if err != nil {
		t.Fatal(err)
	}
	marker, err := image.MarkerIndex(idx, markerPlatforms...)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(sb.TempDir(), "marker-layout")
	desc, err := image.WriteLayout(out, "marker", marker)
	if err != nil {
		t.Fatal(err)
	}
	l, err := image.OpenLayout(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	const name = "marker"
	return markerStore{stores: l.OCIStores(name), name: name, index: desc.Digest}
}

func newClient(t *testing.T, sb sandbox.Sandbox) *client.Client {
	t.Helper()
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		t.Fatalf("buildkit client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// solveDockerfile builds dockerfile for the cell's platform and exports
// the result into a directory, which it returns.
func solveDockerfile(t *testing.T, sb sandbox.Sandbox, dockerfile string, opt client.SolveOpt) (string, error) {
	t.Helper()
	src := filepath.Join(sb.TempDir(), "src-"+digest.FromString(dockerfile).Encoded()[:12])
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(src)
	if err != nil {
		t.Fatal(err)
	}
	opt.Frontend = "dockerfile.v0"
	opt.LocalMounts = map[string]fsutil.FS{"context": fs, "dockerfile": fs}
	if opt.FrontendAttrs == nil {
		opt.FrontendAttrs = map[string]string{}
	}
	opt.FrontendAttrs[workers.FrontendPlatformKey] = workers.FrontendPlatform(sb)
	return solveTo(t, sb, nil, opt)
}

// solveTo solves into a new directory, which it returns; a failure's error
// carries the output of the build's processes (a RUN step's stderr), which
// BuildKit sends only as progress.
func solveTo(t *testing.T, sb sandbox.Sandbox, def *llb.Definition, opt client.SolveOpt) (string, error) {
	t.Helper()
	out, err := os.MkdirTemp(sb.TempDir(), "out-")
	if err != nil {
		t.Fatal(err)
	}
	opt.Exports = []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}}
	ch := make(chan *client.SolveStatus)
	logs := make(chan string, 1)
	go func() {
		var b strings.Builder
		for st := range ch {
			for _, l := range st.Logs {
				b.Write(l.Data)
			}
		}
		logs <- b.String()
	}()
	_, err = newClient(t, sb).Solve(sb.Context(), def, opt, ch)
	output := <-logs
	if err != nil && output != "" {
		err = fmt.Errorf("%w\nbuild output:\n%s", err, output)
	}
	return out, err
}

// checkSelected checks that the exported root filesystem is the cell's
// platform's image: its marker names the platform, and its busybox is an
// ELF for that platform's machine (so the base bytes, not just a label,
// are that platform's).
func checkSelected(t *testing.T, sb sandbox.Sandbox, root string) {
	t.Helper()
	want := platform.Format(platform.From(sb))
	got, err := os.ReadFile(filepath.Join(root, image.MarkerPath))
	if err != nil {
		t.Fatalf("the result has no %s (the marker index was not used): %v", image.MarkerPath, err)
	}
	if string(got) != want {
		t.Fatalf("%s = %q, want %q", image.MarkerPath, got, want)
	}
	machine, err := elfMachine(root)
	if err != nil {
		t.Fatal(err)
	}
	wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[platform.From(sb).Architecture]
	if machine != wantMachine {
		t.Fatalf("busybox of the %s result is built for %v, want %v", want, machine, wantMachine)
	}
}

func elfMachine(root string) (elf.Machine, error) {
	for _, p := range []string{"bin/busybox", "usr/bin/busybox"} {
		f, err := elf.Open(filepath.Join(root, p))
		if err != nil {
			continue
		}
		defer f.Close()
		return f.Machine, nil
	}
	return 0, fmt.Errorf("no busybox ELF under %s", root)
}

// testMarkerNamedContext: route 1, the marker index as the named context
// "base" of a Dockerfile.
func testMarkerNamedContext(t *testing.T, sb sandbox.Sandbox) {
	m := newMarkerStore(t, sb)
	k, v := image.NamedContext("base", m.name, m.index)
	out, err := solveDockerfile(t, sb, "FROM base\n", client.SolveOpt{
		FrontendAttrs: map[string]string{k: v},
		OCIStores:     m.stores,
	})
	if err != nil {
		t.Fatalf("solve with %s=%s: %v", k, v, err)
	}
	checkSelected(t, sb, out)
}

// testMarkerSourcePolicy: route 2, a source policy converting busybox to
// the marker index, for a Dockerfile that names busybox.
func testMarkerSourcePolicy(t *testing.T, sb sandbox.Sandbox) {
	m := newMarkerStore(t, sb)
	pol, err := image.SourcePolicy("busybox", m.name, m.index, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := solveDockerfile(t, sb, "FROM busybox\n", client.SolveOpt{SourcePolicy: pol, OCIStores: m.stores})
	if err != nil {
		t.Fatalf("solve with the source policy: %v", err)
	}
	checkSelected(t, sb, out)
}

// testMarkerLLB: route 2 from LLB, with the platform given by
// workers.LLBPlatform.
func testMarkerLLB(t *testing.T, sb sandbox.Sandbox) {
	m := newMarkerStore(t, sb)
	pol, err := image.SourcePolicy("busybox", m.name, m.index, "")
	if err != nil {
		t.Fatal(err)
	}
	def, err := llb.Image("docker.io/library/busybox:latest", workers.LLBPlatform(sb)).Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := solveTo(t, sb, def, client.SolveOpt{SourcePolicy: pol, OCIStores: m.stores})
	if err != nil {
		t.Fatalf("solve with the source policy: %v", err)
	}
	checkSelected(t, sb, out)
}

// unameM is what `uname -m` prints for each architecture.
var unameM = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// runUname runs `uname -m` in busybox (pulled through the mirror) for the
// cell's platform and returns what it printed.
func runUname(t *testing.T, sb sandbox.Sandbox) (string, error) {
	t.Helper()
	out, err := solveDockerfile(t, sb, "FROM busybox\nRUN uname -m > /uname-m\n", client.SolveOpt{})
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(out, "uname-m"))
	return strings.TrimSpace(string(b)), err
}

func TestRunCommand(t *testing.T) {
	// Holds off platform.WithoutEmulation in other processes while these
	// cells rely on emulation.
	platform.LockBinfmt(t)
	integration.Run(t, integration.TestFuncs(testRunUname), buildkitWorkers(), busyboxMirrored,
		integration.WithAxis(platform.Axis(markerPlatforms...)))
}

// testRunUname really executes code of the cell's platform.
func testRunUname(t *testing.T, sb sandbox.Sandbox) {
	how := platform.RequireRunnable(t, sb)
	workers.RequireWorkerPlatform(t, sb, newClient(t, sb))
	got, err := runUname(t, sb)
	if err != nil {
		t.Fatal(err)
	}
	want := unameM[platform.From(sb).Architecture]
	t.Logf("%s (%s): uname -m = %s", platform.Format(platform.From(sb)), how, got)
	if got != want {
		t.Fatalf("uname -m = %q, want %q", got, want)
	}
}

func TestTargetArgs(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testTargetArgs), buildkitWorkers(), busyboxMirrored,
		integration.WithAxis(platform.Axis("linux/amd64/v3")))
}

// testTargetArgs checks the automatic platform ARGs of a Dockerfile built
// for linux/amd64/v3, which busybox (linux/amd64 only) serves.
func testTargetArgs(t *testing.T, sb sandbox.Sandbox) {
	platform.RequireNative(t, sb)
	workers.RequireWorkerPlatform(t, sb, newClient(t, sb))
	out, err := solveDockerfile(t, sb, `FROM busybox
ARG TARGETPLATFORM
ARG TARGETOS
ARG TARGETARCH
ARG TARGETVARIANT
RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH $TARGETVARIANT" > /target
`, client.SolveOpt{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "target"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "linux/amd64/v3 linux amd64 v3\n"; string(got) != want {
		t.Fatalf("/target = %q, want %q", got, want)
	}
}
