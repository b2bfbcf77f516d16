package integration_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/util/entitlements"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/compat/buildkit/workers"
)

func init() {
	workers.InitOCIWorker()
	workers.InitContainerdWorker()
}

// insecure grants security.insecure through buildkitd.toml, as BuildKit's
// own suites do with a ConfigUpdater matrix value.
type insecure struct{}

func (insecure) UpdateConfigFile(in string) (string, func() error) {
	return in + "\ninsecure-entitlements = [\"security.insecure\"]\n", nil
}

type sandboxed struct{}

func (sandboxed) UpdateConfigFile(in string) (string, func() error) { return in, nil }

// TestCompat runs a BuildKit-style suite on the compat layer with real
// daemons: the sandbox answers as BuildKit's does, and a ConfigUpdater
// matrix value reaches buildkitd.
func TestCompat(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testSandboxAnswers, testBuildctl, testEntitlementFromMatrix, testRootfulNoRootless, testExportsALayer),
		integration.WithMirroredImages(integration.OfficialImages("busybox:latest")),
		integration.WithMatrix("secmode", map[string]any{"insecure": insecure{}, "sandbox": sandboxed{}}),
	)
}

func testSandboxAnswers(t *testing.T, sb integration.Sandbox) {
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ws, err := c.ListWorkers(sb.Context())
	if err != nil || len(ws) != 1 {
		t.Fatalf("workers %v: %v", ws, err)
	}
	if ws[0].Labels["org.mobyproject.buildkit.worker.sandbox"] != "true" {
		t.Errorf("worker labels %v: want BuildKit's harness label", ws[0].Labels)
	}
	var problems []string
	onContainerd := strings.HasPrefix(sb.Name(), "containerd")
	if n := sb.Name(); n != "oci" && n != "oci-rootless" && !onContainerd {
		problems = append(problems, "Name "+n+": want the worker's name")
	}
	if ca := sb.ContainerdAddress(); onContainerd != (ca != "") {
		problems = append(problems, "ContainerdAddress "+ca+" on "+sb.Name())
	} else if ca != "" {
		if fi, err := os.Stat(ca); err != nil || fi.Mode()&os.ModeSocket == 0 {
			problems = append(problems, "ContainerdAddress "+ca+": not a socket")
		}
	}
	if sb.DockerAddress() != "" || sb.Snapshotter() != "" {
		problems = append(problems, "DockerAddress or Snapshotter set on a buildkitd worker")
	}
	if rootless := strings.HasSuffix(sb.Name(), "-rootless"); sb.Rootless() != rootless {
		problems = append(problems, fmt.Sprintf("Rootless() = %v on %s", sb.Rootless(), sb.Name()))
	}
	if d := sb.CDISpecDir(); d == "" {
		problems = append(problems, "no CDISpecDir")
	} else if entries, err := os.ReadDir(d); err != nil || len(entries) != 0 {
		problems = append(problems, "CDISpecDir "+d+": want an empty directory")
	}
	if _, ok := sb.Value("secmode").(integration.ConfigUpdater); !ok {
		problems = append(problems, "Value(secmode) is not the ConfigUpdater given to WithMatrix")
	}
	if !sb.Supports(workers.FeatureOCIExporter) {
		problems = append(problems, "oci exporter unsupported")
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s", sb.Name(), strings.Join(problems, "; "))
	}
}

// A test named NoRootless never runs on a rootless worker, as on
// BuildKit's harness.
func testRootfulNoRootless(t *testing.T, sb integration.Sandbox) {
	if sb.Rootless() {
		t.Fatalf("a NoRootless test ran on %s", sb.Name())
	}
}

func testBuildctl(t *testing.T, sb integration.Sandbox) {
	out, err := sb.Cmd("debug workers --format '{{json .}}'").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "org.mobyproject.buildkit.worker.sandbox") {
		t.Fatalf("buildctl debug workers: %v\n%s", err, out)
	}
}

// testEntitlementFromMatrix runs a security.insecure step: granted by the
// insecure value's buildkitd.toml, refused in the sandbox cell.
func testEntitlementFromMatrix(t *testing.T, sb integration.Sandbox) {
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := llb.Image("busybox:latest").Run(llb.Shlex("true"), llb.Security(llb.SecurityModeInsecure)).Root()
	def, err := st.Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Solve(sb.Context(), def, client.SolveOpt{AllowedEntitlements: []string{string(entitlements.EntitlementSecurityInsecure)}}, nil)
	granted := sb.Value("secmode") == integration.ConfigUpdater(insecure{})
	if granted && err != nil {
		t.Fatalf("insecure cell: %v", err)
	}
	if !granted && (err == nil || !strings.Contains(err.Error(), "security.insecure")) {
		t.Fatalf("sandbox cell: got %v, want the entitlement refused", err)
	}
}

// testExportsALayer exports an image with a layer of its own on every
// worker: the differ BuildKit's harness forces on all but the native
// snapshotter (containerd-rootless's) fails there with "overlay mounts
// not detected", as the compat layer's containerd-rootless did when it
// forced it on every worker.
func testExportsALayer(t *testing.T, sb integration.Sandbox) {
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	def, err := llb.Image("busybox:latest").Run(llb.Shlex("touch /layer")).Root().Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Solve(sb.Context(), def, client.SolveOpt{Exports: []client.ExportEntry{{
		Type:   client.ExporterOCI,
		Output: func(map[string]string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil },
	}}}, nil)
	if err != nil {
		t.Fatalf("%s: export an image with a layer: %v", sb.Name(), err)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
