package buildkittest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// probe tries one feature on a live daemon: nil when the daemon has it.
type probe func(ctx context.Context, t *testing.T, sb sandbox.Sandbox, c *client.Client) error

// probes try the features a test can require; each worker must pass the
// probes of the features it declares and fail the others, so the feature
// table of the package documentation is what the daemons do.
var probes = map[string]probe{
	workers.FeatureOCILayout:        probeOCILayout,
	workers.FeatureSourcePolicy:     probeSourcePolicy,
	workers.FeaturePlatformVariants: probePlatformVariants,
	workers.FeatureNetworkHost:      probeNetworkHost,
	workers.FeatureImageExporter:    probeExport(client.ExporterImage),
	workers.FeatureOCIExporter:      probeExport(client.ExporterOCI),
	workers.FeatureCacheExport:      probeCacheExport,
	workers.FeatureMultiPlatform:    probeMultiPlatform,
	workers.FeatureMergeDiff:        probeMergeDiff,
	workers.FeatureRootful:          probeRootful,
	workers.FeatureInfo: func(ctx context.Context, _ *testing.T, _ sandbox.Sandbox, c *client.Client) error {
		_, err := c.Info(ctx)
		return err
	},
}

// TestFeatures runs the probes on every BuildKit worker, dockerd on each
// moby version and image store, the rootless workers too.
func TestFeatures(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testFeatures), sharedMirror, busyboxMirrored,
		integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(),
			workers.Dockerd(workers.WithVersions(workers.MobyAxis, "v29.8.1", "v20.10")), workers.DockerdContainerd(),
			workers.BuildkitdOCI(workers.WithRootless()), workers.BuildkitdContainerd(workers.WithRootless())))
}

func testFeatures(t *testing.T, sb sandbox.Sandbox) {
	c := buildkittest.Client(t, sb)
	for _, f := range slices.Sorted(maps.Keys(probes)) {
		err := probes[f](sb.Context(), t, sb, c)
		has := sandbox.Supports(sb, f)
		switch {
		case has && err != nil:
			t.Errorf("%s declares %s, but: %v", sb.Name(), f, err)
		case !has && err == nil:
			t.Errorf("%s does not declare %s, but has it", sb.Name(), f)
		case err != nil:
			t.Logf("%s lacks %s: %s", sb.Name(), f, firstLine(err))
		default:
			t.Logf("%s has %s", sb.Name(), f)
		}
	}
}

func hostPlatform() ocispec.Platform { return platform.From(cell{}) }

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func solve(ctx context.Context, c *client.Client, st llb.State, opt client.SolveOpt) error {
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	_, err = c.Solve(ctx, def, opt, nil)
	return err
}

// solveDockerfile builds dockerfile with opt, not failing t: a probe's
// failure is an answer. It returns the directory it exports to when opt
// has no export of its own.
func solveDockerfile(ctx context.Context, t *testing.T, c *client.Client, dockerfile string, opt client.SolveOpt) (string, error) {
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	fs, err := fsutil.NewFS(ctxDir)
	if err != nil {
		return "", err
	}
	out := t.TempDir()
	opt.Frontend = "dockerfile.v0"
	opt.LocalMounts = map[string]fsutil.FS{"context": fs, "dockerfile": fs}
	if opt.Exports == nil {
		opt.Exports = []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}}
	}
	_, err = c.Solve(ctx, nil, opt, nil)
	return out, err
}

func localExport(t *testing.T) []client.ExportEntry {
	return []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: t.TempDir()}}
}

// probeOCILayout: a Dockerfile's FROM is a named context from an OCI store.
func probeOCILayout(ctx context.Context, t *testing.T, sb sandbox.Sandbox, c *client.Client) error {
	layer, err := ociimage.LayerFromFiles(map[string]ociimage.File{"/probe": {Data: []byte("oci-layout")}})
	if err != nil {
		return err
	}
	img, err := ociimage.Build(ociimage.Config{Platform: hostPlatform()}, layer)
	if err != nil {
		return err
	}
	dir := filepath.Join(t.TempDir(), "layout")
	desc, err := ociimage.WriteLayout(dir, "probe", img)
	if err != nil {
		return err
	}
	l, err := ociimage.OpenLayout(dir)
	if err != nil {
		return err
	}
	// Named after the mirrored busybox: a BuildKit that ignores named
	// contexts (dockerd 20.10's) pulls that, which has no /probe, rather
	// than an image the mirror was not told of.
	k, v := ociimage.NamedContext("busybox", "probe", desc.Digest)
	out, err := solveDockerfile(ctx, t, c, "FROM busybox\n", client.SolveOpt{
		FrontendAttrs: map[string]string{k: v},
		OCIStores:     l.OCIStores("probe"),
	})
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(out, "probe")); err != nil || string(b) != "oci-layout" {
		return fmt.Errorf("the named context was not used: /probe %q, %v", b, err)
	}
	return nil
}

// probeSourcePolicy: a DENY rule stops the build.
func probeSourcePolicy(ctx context.Context, t *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	pol := &spb.Policy{Version: 1, Rules: []*spb.Rule{{
		Action:   spb.PolicyAction_DENY,
		Selector: &spb.Selector{Identifier: "docker-image://docker.io/library/busybox:*", MatchType: spb.MatchType_WILDCARD},
	}}}
	err := solve(ctx, c, llb.Image("docker.io/library/busybox:latest"), client.SolveOpt{SourcePolicy: pol, Exports: localExport(t)})
	if err == nil {
		return errors.New("a denied source was used")
	}
	if !strings.Contains(err.Error(), "denied") {
		return err
	}
	return nil
}

// probePlatformVariants: the workers list an amd64 variant (on amd64).
func probePlatformVariants(ctx context.Context, _ *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	have, err := buildkittest.WorkerPlatforms(ctx, c)
	if err != nil {
		return err
	}
	for _, p := range have {
		if p.Architecture == hostPlatform().Architecture && p.Variant != "" && p.Variant != "v7" && p.Variant != "v6" {
			return nil
		}
	}
	return fmt.Errorf("no variant of %s among %v", hostPlatform().Architecture, have)
}

// probeNetworkHost: a step on the host's network, entitlement asked for.
func probeNetworkHost(ctx context.Context, t *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	st := llb.Image("docker.io/library/busybox:latest").Run(llb.Shlex("true"), llb.Network(llb.NetModeHost)).Root()
	return solve(ctx, c, st, client.SolveOpt{AllowedEntitlements: []string{"network.host"}, Exports: localExport(t)})
}

// probeRootful: a RUN step's root is the host's, its uid_map the
// identity of every id.
func probeRootful(ctx context.Context, t *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	out, err := solveDockerfile(ctx, t, c, "FROM busybox\nRUN cat /proc/self/uid_map > /uid_map\n", client.SolveOpt{})
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(out, "uid_map"))
	if err != nil {
		return err
	}
	if f := strings.Fields(string(b)); !slices.Equal(f, []string{"0", "0", "4294967295"}) {
		return fmt.Errorf("the RUN step runs in a user namespace; its uid_map: %s", strings.TrimSpace(string(b)))
	}
	return nil
}

// probeExport: an export of the given type.
func probeExport(typ string) probe {
	return func(ctx context.Context, t *testing.T, sb sandbox.Sandbox, c *client.Client) error {
		e := client.ExportEntry{Type: typ}
		switch typ {
		case client.ExporterImage:
			e.Attrs = map[string]string{"name": "localhost/matrixbox-probe:latest"}
		default:
			f := filepath.Join(t.TempDir(), typ+".tar")
			e.Output = func(map[string]string) (wc io.WriteCloser, err error) { return os.Create(f) }
		}
		return solve(ctx, c, llb.Scratch().File(llb.Mkfile("/f", 0o644, []byte("x"))), client.SolveOpt{Exports: []client.ExportEntry{e}})
	}
}

// probeCacheExport: the cache exported to a local directory.
func probeCacheExport(ctx context.Context, t *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	return solve(ctx, c, llb.Scratch().File(llb.Mkfile("/f", 0o644, []byte("cache"))), client.SolveOpt{
		Exports:      localExport(t),
		CacheExports: []client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"dest": t.TempDir()}}},
	})
}

// probeMultiPlatform: one Dockerfile solve for two platforms, exported
// as one OCI index.
func probeMultiPlatform(ctx context.Context, t *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	tarball := filepath.Join(t.TempDir(), "oci.tar")
	_, err := solveDockerfile(ctx, t, c, "FROM scratch\nCOPY Dockerfile /\n", client.SolveOpt{
		FrontendAttrs: map[string]string{"platform": "linux/amd64,linux/arm64"},
		Exports: []client.ExportEntry{{Type: client.ExporterOCI, Output: func(map[string]string) (io.WriteCloser, error) {
			return os.Create(tarball)
		}}},
	})
	if err != nil {
		return err
	}
	l, err := ociimage.OpenLayout(tarball)
	if err != nil {
		return err
	}
	defer l.Close()
	if roots := l.Root().Manifests; len(roots) != 1 {
		return fmt.Errorf("the export holds %d entries, want one index", len(roots))
	}
	idx, err := l.IndexImage(l.Root().Manifests[0])
	if err != nil {
		return err
	}
	return ociimage.Verify(idx, ociimage.Platforms("linux/amd64", "linux/arm64"))
}

// probeMergeDiff: LLB's merge of two states.
func probeMergeDiff(ctx context.Context, t *testing.T, _ sandbox.Sandbox, c *client.Client) error {
	a := llb.Scratch().File(llb.Mkfile("/a", 0o644, []byte("a")))
	b := llb.Scratch().File(llb.Mkfile("/b", 0o644, []byte("b")))
	return solve(ctx, c, llb.Merge([]llb.State{a, b}), client.SolveOpt{Exports: localExport(t)})
}
