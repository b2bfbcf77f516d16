package buildkittest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// sharedMirror gives a Run the shared mirror.
var sharedMirror = integration.WithMirror(mirror.Shared())

// busyboxMirrored serves docker.io/library/busybox:latest from the shared
// mirror, made offline from Debian's busybox (recipe:busybox).
var busyboxMirrored = integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"})

func buildkitWorkers() integration.Option {
	return integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(), workers.Dockerd(),
		workers.BuildkitdOCI(workers.WithRootless()), workers.BuildkitdContainerd(workers.WithRootless()))
}

// TestKit runs every helper of the kit on the BuildKit workers, rootless
// ones included, with no per-worker code.
func TestKit(t *testing.T) {
	tests := integration.TestFuncs(testDockerfileRunCopy, testDockerfileFailingStep, testSolveLLB, testBuildGateway, testSteps)
	tests = append(tests, integration.NewTest("TestExportOCI", testExportOCI, integration.Requires(workers.FeatureOCIExporter)))
	integration.Run(t, tests, buildkitWorkers(), sharedMirror, busyboxMirrored)
}

// testSteps: a second build of a Dockerfile whose last COPY changed takes
// its other instructions from the cache, which WithSteps tells step by
// step: 3 cached, 1 ran, without reading the progress log. (A FROM of an
// image would be resolved again, and reported done, on every build.)
func testSteps(t *testing.T, sb sandbox.Sandbox) {
	const dockerfile = "FROM scratch\nCOPY a /a\nCOPY b /b\nCOPY c /c\nCOPY x /x\n"
	files := map[string]string{"a": "a", "b": "b", "c": "c", "x": "1"}
	var first, second buildkittest.Steps
	buildkittest.Dockerfile(t, sb, dockerfile, files, buildkittest.WithSteps(&first))
	files["x"] = "2"
	out := buildkittest.Dockerfile(t, sb, dockerfile, files, buildkittest.WithSteps(&second))
	buildkittest.CheckDir(t, out, fstest.MapFS{"a": {Data: []byte("a")}, "b": {Data: []byte("b")}, "c": {Data: []byte("c")}, "x": {Data: []byte("2")}})
	if in := first.Instructions(); len(in) != 4 || len(in.Cached()) != 0 || len(in.Ran()) != 4 {
		t.Errorf("first build: want 4 instructions, all run:\n%s", in)
	}
	in := second.Instructions()
	if len(in) != 4 || len(in.Cached()) != 3 || len(in.Ran()) != 1 || !strings.HasPrefix(in.Ran()[0].Name, "[4/4] COPY x") {
		t.Errorf("second build: want 3 instructions cached and COPY x run:\n%s", in)
	}
	for _, st := range in.Ran() {
		if st.Started.IsZero() || st.Completed.Before(st.Started) || st.Duration != st.Completed.Sub(st.Started) || st.Digest == "" {
			t.Errorf("step %+v: want its start, end, duration and digest", st)
		}
	}
}

// testExportOCI: an OCI export lands in the returned directory as
// oci.tar, which the image toolkit reads.
func testExportOCI(t *testing.T, sb sandbox.Sandbox) {
	out := buildkittest.Dockerfile(t, sb, "FROM scratch\nCOPY app.conf /etc/\n", map[string]string{"app.conf": "debug=1\n"},
		buildkittest.WithExport(client.ExportEntry{Type: client.ExporterOCI}))
	l, err := ociimage.OpenLayout(filepath.Join(out, "oci.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	img, err := l.Find(ociimage.WithPlatform(platform.Format(platform.From(sb))))
	if err != nil {
		t.Fatal(err)
	}
	ociimage.Check(t, img, ociimage.LayerCount(1), ociimage.HasFile("/etc/app.conf", "debug=1\n"))
}

// testDockerfileRunCopy: FROM busybox, a RUN step and a COPY of a context
// file.
func testDockerfileRunCopy(t *testing.T, sb sandbox.Sandbox) {
	out := buildkittest.Dockerfile(t, sb, `FROM busybox AS base
RUN echo ran > /ran.txt
FROM scratch
COPY --from=base /ran.txt /
COPY conf/app.conf /etc/
`, map[string]string{"conf/app.conf": "debug=1\n"})
	buildkittest.CheckDir(t, out, fstest.MapFS{
		"ran.txt":      {Data: []byte("ran\n")},
		"etc/app.conf": {Data: []byte("debug=1\n")},
	}, buildkittest.NothingElse())
}

// testDockerfileFailingStep: the error of a failing RUN step carries what
// the step wrote (the number is computed, so it is not in the command).
func testDockerfileFailingStep(t *testing.T, sb sandbox.Sandbox) {
	buildkittest.Dockerfile(t, sb, "FROM busybox\nRUN echo \"$((6*7)) on stderr\" >&2; exit 3\n", nil,
		buildkittest.ExpectError("42 on stderr"))
	if !strings.Contains(sb.Logs().Text("buildkit"), "#2 42 on stderr") && !strings.Contains(sb.Logs().Text("buildkit"), "42 on stderr") {
		t.Errorf("the progress in the sandbox log lacks the step's output:\n%s", sb.Logs().Text("buildkit"))
	}
}

// testSolveLLB: an LLB state with a RUN on the default network.
func testSolveLLB(t *testing.T, sb sandbox.Sandbox) {
	run := llb.Image("docker.io/library/busybox:latest").
		Run(llb.Shlex(`sh -c "uname -m > /uname"`)).Root()
	out := buildkittest.Solve(t, sb, llb.Scratch().File(llb.Copy(run, "/uname", "/uname")))
	want := map[string]string{"amd64": "x86_64\n", "arm64": "aarch64\n"}[platform.From(sb).Architecture]
	buildkittest.CheckDir(t, out, fstest.MapFS{"uname": {Data: []byte(want)}}, buildkittest.NothingElse())
}

// testBuildGateway: a frontend in the test process, which reads the
// platform the kit passed it.
func testBuildGateway(t *testing.T, sb sandbox.Sandbox) {
	out := buildkittest.Build(t, sb, func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		p := c.BuildOpts().Opts["platform"]
		st := llb.Scratch().File(llb.Mkfile("/platform", 0o644, []byte(p)))
		def, err := st.Marshal(ctx, buildkittest.LLBPlatform(sb))
		if err != nil {
			return nil, err
		}
		return c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
	}, buildkittest.WithFrontendAttr("platform", "linux/arm64"))
	buildkittest.CheckDir(t, out, fstest.MapFS{"platform": {Data: []byte("linux/arm64"), Mode: 0o644}})
}

// TestMarkers: the platform-marker route proves, for linux/amd64,
// linux/arm64 and linux/amd64/v3, which manifest BuildKit chose, by a named
// context and by a source policy, without running code of the platform.
// dockerd 20.10 has neither oci-layout contexts nor source policies: its
// cells are skipped before it starts.
func TestMarkers(t *testing.T) {
	base := busyboxBase(t, t.Context())
	axis, err := platform.Axis("linux/amd64", "linux/arm64", "linux/amd64/v3")
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(t, []integration.Test{
		integration.NewTest("TestMarkerRoutes", func(t *testing.T, sb sandbox.Sandbox) {
			m := buildkittest.NewMarkerStore(t, sb, base)
			m.Check(t, buildkittest.Dockerfile(t, sb, "FROM base\n", nil, m.NamedContext("base")))
			m.Check(t, buildkittest.Dockerfile(t, sb, "FROM busybox\n", nil, m.SourcePolicy("busybox")))
			m.Check(t, buildkittest.Solve(t, sb, llb.Image("docker.io/library/busybox:latest"), m.SourcePolicy("busybox")))
		}, integration.Requires(workers.FeatureOCILayout, workers.FeatureSourcePolicy)),
	}, buildkitWorkers(), sharedMirror, integration.WithAxes(axis))
}

// countingWorker counts the backends w starts, answering Check and
// Supports as w does.
type countingWorker struct {
	sandbox.Worker
	started atomic.Int32
}

func (w *countingWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	w.started.Add(1)
	return w.Worker.New(ctx, cfg)
}

func (w *countingWorker) Check() error {
	if c, ok := w.Worker.(sandbox.Checker); ok {
		return c.Check()
	}
	return nil
}

func (w *countingWorker) Supports(f string) bool {
	s, ok := w.Worker.(sandbox.Supporter)
	return ok && s.Supports(f)
}

// TestFeatureSkipStartsNothing: a test that needs a feature dockerd 20.10
// lacks is skipped with the feature's and the worker's names, and no
// dockerd of its cells starts, while a test without the need runs there.
func TestFeatureSkipStartsNothing(t *testing.T) {
	w := &countingWorker{Worker: workers.Dockerd()}
	if err := w.Check(); err != nil {
		t.Skipf("dockerd unavailable: %v", err)
	}
	if w.Supports(workers.FeatureOCILayout) {
		t.Skip("this dockerd has oci-layout contexts: the test needs one that lacks them (20.10)")
	}
	report := filepath.Join(t.TempDir(), "report.jsonl")
	t.Setenv(integration.EnvReport, report)
	t.Cleanup(func() {
		if n := w.started.Load(); n != 0 {
			t.Errorf("%d dockerd backends started for cases that were all to be skipped", n)
		}
		var skips []string
		f, err := os.Open(report)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var rec struct {
				Status     string
				SkipReason string `json:"skip_reason"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Status == "skip" {
				skips = append(skips, rec.SkipReason)
			}
		}
		if len(skips) != 2 {
			t.Fatalf("%d cases skipped, want 2: %q", len(skips), skips)
		}
		for _, s := range skips {
			if !strings.Contains(s, `worker dockerd lacks feature "oci_layout"`) {
				t.Errorf("skip reason %q does not name the feature and the worker", s)
			}
		}
	})
	never := func(t *testing.T, sb sandbox.Sandbox) { t.Errorf("ran on %s", sb.Name()) }
	axis, err := platform.Axis("linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(t, []integration.Test{
		integration.NewTest("TestNeedsOCILayout", never, integration.Requires(workers.FeatureOCILayout)),
	}, integration.WithWorkers(w), sharedMirror, integration.WithAxes(axis))
}

// busyboxBase is the mirror's busybox recipe, every platform of it, read
// from the layout the mirror keeps it in.
func busyboxBase(t testing.TB, ctx context.Context) ociimage.Artifact {
	t.Helper()
	path, err := mirror.Shared().Recipe(ctx, "recipe:busybox")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ociimage.OpenLayout(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	base, err := l.Artifact()
	if err != nil {
		t.Fatal(err)
	}
	return base
}
