package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/leases"
	ctdsandbox "github.com/containerd/containerd/v2/core/sandbox"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// leftover names what the first case of TestResetLeavesNothing leaves.
const leftover = "docker.io/library/leftover:1"

// firstAddress holds, per cell, the backend address of the first case, so
// that the second can tell it runs on the same warm backend: the test
// means nothing otherwise.
var firstAddress sync.Map

// TestResetLeavesNothing runs two cases per worker, one after the other, on
// the same warm backend with ResetBackend: the first leaves what its daemon
// can hold (build cache, build history, an image, a container, a volume, a
// network, a lease), the second finds none of it.
func TestResetLeavesNothing(t *testing.T) {
	tests := integration.With(integration.TestFuncs(testLeaveThingsBehind, testFindNothing), integration.ResetBackend(), integration.Serial())
	integration.Run(t, tests,
		integration.WithWorkers(BuildkitdOCI(), BuildkitdContainerd(), Containerd(),
			Dockerd(WithVersions(MobyAxis, "v29.8.1", "v20.10")), DockerdContainerd(),
			BuildkitdOCI(WithRootless()), BuildkitdContainerd(WithRootless())),
		integration.WithMirror(mirror.Shared()),
		integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"}))
}

func workerOf(sb sandbox.Sandbox) string {
	w, _ := sb.Value(integration.WorkerAxis).(string)
	return w
}

func testLeaveThingsBehind(t *testing.T, sb sandbox.Sandbox) {
	firstAddress.Store(sb.Name(), sb.Address())
	switch workerOf(sb) {
	case "buildkitd-oci", "buildkitd-containerd", "buildkitd-oci-rootless", "buildkitd-containerd-rootless":
		// Build cache, a history record and an image (the OCI worker's
		// image store, or containerd's).
		leaveABuild(t, sb, "type=image,name="+leftover, true)
	case "containerd":
		// One object of every kind containerd's API makes: a namespace of
		// the test's own and, in it and in the worker's, an image, a
		// container with a running task, a sandbox record, a lease, a blob
		// of content of its own, snapshots in two snapshotters.
		c := containerdClient(t, sb)
		for _, ns := range []string{"left-behind", containerdNamespace} {
			leaveOneOfEachKind(t, namespaces.WithNamespace(sb.Context(), ns), c, sandboxEnv(sb, sandbox.EnvCgroupParent))
		}
	case "dockerd", "dockerd-containerd":
		d := dockerOf(t, sb)
		ctx := sb.Context()
		// Build cache and, where dockerd's BuildKit keeps one, a history
		// record; with the containerd store, the image in containerd.
		output := "type=moby,name=" + leftover + "-built" // the classic store's exporter
		if workerOf(sb) == "dockerd-containerd" {
			output = "type=image,name=" + leftover + "-built"
		}
		leaveABuild(t, sb, output, sb.Value(MobyAxis) != "v20.10")
		must(t, d.do(ctx, "POST", "/images/create?fromImage=docker.io/library/busybox&tag=latest", nil, nil))
		must(t, d.do(ctx, "POST", "/images/busybox/tag?repo=docker.io/library/leftover&tag=1", nil, nil))
		must(t, d.do(ctx, "POST", "/volumes/create", map[string]any{"Name": "left-volume"}, nil))
		must(t, d.do(ctx, "POST", "/networks/create", map[string]any{"Name": "left-network", "Driver": "bridge", "Internal": true}, nil))
		var created struct{ ID string }
		must(t, d.do(ctx, "POST", "/containers/create?name=left-container", map[string]any{
			"Image": "busybox", "Cmd": []string{"sleep", "600"},
			"HostConfig": map[string]any{"NetworkMode": "none", "Binds": []string{"left-volume:/data"}},
		}, &created))
		must(t, d.do(ctx, "POST", "/containers/"+created.ID+"/start", nil, nil))
		// A swarm, with a secret and a config in it.
		port := freePort(t)
		must(t, d.do(ctx, "POST", "/swarm/init", map[string]any{"ListenAddr": "127.0.0.1:" + port, "AdvertiseAddr": "127.0.0.1:" + port}, nil))
		must(t, d.do(ctx, "POST", "/secrets/create", map[string]any{"Name": "left-secret", "Data": "bGVmdA=="}, nil))
		must(t, d.do(ctx, "POST", "/configs/create", map[string]any{"Name": "left-config", "Data": "bGVmdA=="}, nil))
	}
}

// freePort is a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// leaveABuild builds a Dockerfile with a RUN step through sb.Address()
// with output and checks that it left build cache and, when history, a
// history record.
func leaveABuild(t *testing.T, sb sandbox.Sandbox, output string, history bool) {
	t.Helper()
	dir := filepath.Join(sb.TempDir(), "ctx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN echo left > /left\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, sb, "buildctl", "--addr", sb.Address(), "build", "--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir, "--output", output)
	if out := run(t, sb, "buildctl", "--addr", sb.Address(), "du"); !strings.Contains(out, "Total:") || strings.Count(out, "\n") < 3 {
		t.Fatalf("precondition: the build left no cache:\n%s", out)
	}
	if !history {
		return
	}
	if out := run(t, sb, "buildctl", "--addr", sb.Address(), "debug", "histories"); strings.Count(strings.TrimSpace(out), "\n") < 1 {
		t.Fatalf("precondition: the build left no history record:\n%s", out)
	}
}

// checkNoBuild fails t if the BuildKit at sb.Address() holds build cache
// or, when history, a history record.
func checkNoBuild(t *testing.T, sb sandbox.Sandbox, history bool) {
	t.Helper()
	var recs []json.RawMessage
	du := run(t, sb, "buildctl", "--addr", sb.Address(), "du", "--format", "{{json .}}")
	for _, l := range strings.Split(strings.TrimSpace(du), "\n") {
		if l != "" && l != "null" && l != "[]" {
			recs = append(recs, json.RawMessage(l))
		}
	}
	if len(recs) > 0 {
		t.Errorf("build cache left: %s", recs)
	}
	if !history {
		return
	}
	if h := strings.TrimSpace(run(t, sb, "buildctl", "--addr", sb.Address(), "debug", "histories", "--format", "{{json .}}")); h != "" && h != "null" && h != "[]" {
		t.Errorf("build history left: %s", h)
	}
}

func testFindNothing(t *testing.T, sb sandbox.Sandbox) {
	if first, _ := firstAddress.Load(sb.Name()); first != sb.Address() {
		t.Fatalf("precondition: the second case ran on %s, not on the first case's warm backend %v", sb.Address(), first)
	}
	switch workerOf(sb) {
	case "buildkitd-oci", "buildkitd-containerd", "buildkitd-oci-rootless", "buildkitd-containerd-rootless":
		checkNoBuild(t, sb, true)
		if strings.HasPrefix(workerOf(sb), "buildkitd-containerd") {
			c := containerdClient(t, sb)
			ctx := namespaces.WithNamespace(sb.Context(), buildkitdNamespace)
			if _, err := c.ImageService().Get(ctx, leftover); err == nil {
				t.Errorf("image %s left in containerd", leftover)
			}
		}
	case "containerd":
		c := containerdClient(t, sb)
		nss, err := c.NamespaceService().List(sb.Context())
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(nss, "left-behind") {
			t.Errorf("namespace left-behind, made by the first case, is left")
		}
		for _, ns := range nss {
			ctx := namespaces.WithNamespace(sb.Context(), ns)
			if _, err := c.ImageService().Get(ctx, leftover); err == nil {
				t.Errorf("image %s left in namespace %s", leftover, ns)
			}
			cs, _ := c.Containers(ctx)
			for _, x := range cs {
				// This sandbox's own: sb.Cmd made it.
				if x.ID() != "mbx-"+shortHash(sb.TempDir()) {
					t.Errorf("container %s left in namespace %s", x.ID(), ns)
				}
			}
			ls, _ := c.LeasesService().List(ctx)
			for _, l := range ls {
				t.Errorf("lease %s left in namespace %s", l.ID, ns)
			}
			if _, err := c.ContentStore().Info(ctx, leftBlob); err == nil {
				t.Errorf("blob %s left in namespace %s", leftBlob, ns)
			}
			sbs, _ := c.SandboxStore().List(ctx)
			for _, x := range sbs {
				t.Errorf("sandbox %s left in namespace %s", x.ID, ns)
			}
			if _, err := c.SnapshotService("native").Stat(ctx, "left-native"); err == nil {
				t.Errorf("native snapshot left-native left in namespace %s", ns)
			}
		}
	case "dockerd", "dockerd-containerd":
		checkNoBuild(t, sb, sb.Value(MobyAxis) != "v20.10")
		d := dockerOf(t, sb)
		ctx := sb.Context()
		st, err := d.state(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// dockerd's containerd: no image, content, snapshot or lease of
		// the first case (with the classic store it never had any).
		c := containerdClient(t, sb)
		cst, err := readContainerd(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		for ns, kinds := range cst {
			for kind, names := range kinds {
				if len(names) > 0 {
					t.Errorf("containerd %s %s left: %v", ns, kind, names)
				}
			}
		}
		for _, kind := range []string{"containers", "images", "volumes", "build cache"} {
			if len(st[kind]) > 0 {
				t.Errorf("%s left: %v", kind, st[kind])
			}
		}
		var info struct {
			Swarm struct{ LocalNodeState string }
		}
		must(t, d.do(ctx, "GET", "/info", nil, &info))
		if s := info.Swarm.LocalNodeState; s != "inactive" {
			t.Errorf("the first case's swarm is left: %s", s)
		}
		var nets []struct{ Name string }
		must(t, d.do(ctx, "GET", "/networks", nil, &nets))
		for _, n := range nets {
			if n.Name == "left-network" {
				t.Errorf("network %s left", n.Name)
			}
		}
	}
}

func run(t *testing.T, sb sandbox.Sandbox, args ...string) string {
	t.Helper()
	out, err := sb.Cmd(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sandboxEnv is the value of key in the environment of sb's commands.
func sandboxEnv(sb sandbox.Sandbox, key string) string {
	v := ""
	for _, kv := range sb.Cmd("true").Env {
		if x, ok := strings.CutPrefix(kv, key+"="); ok {
			v = x
		}
	}
	return v
}

func containerdClient(t *testing.T, sb sandbox.Sandbox) *ctd.Client {
	t.Helper()
	c, err := ctd.New(sandboxEnv(sb, "CONTAINERD_ADDRESS"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dockerOf(t *testing.T, sb sandbox.Sandbox) *dockerAPI {
	t.Helper()
	sock, ok := strings.CutPrefix(sandboxEnv(sb, "DOCKER_HOST"), "unix://")
	if !ok {
		t.Fatal("no unix DOCKER_HOST in the sandbox's environment")
	}
	return newDockerAPI(sock)
}

// importBusybox imports the offline busybox into the namespace of ctx and
// unpacks it.
func importBusybox(t *testing.T, ctx context.Context, c *ctd.Client) ctd.Image {
	t.Helper()
	var buf strings.Builder
	if _, err := writeBusyboxArchive(&buf); err != nil {
		t.Fatal(err)
	}
	imgs, err := c.Import(ctx, strings.NewReader(buf.String()))
	if err != nil || len(imgs) != 1 {
		t.Fatalf("import: %v (%d images)", err, len(imgs))
	}
	img := ctd.NewImage(c, imgs[0])
	if err := img.Unpack(ctx, snapshotter); err != nil {
		t.Fatal(err)
	}
	return img
}

func imageRecord(img ctd.Image, name string) images.Image {
	return images.Image{Name: name, Target: img.Target()}
}

func leasesWithID(id string) leases.Opt { return leases.WithID(id) }

// leftBlob is the blob leaveOneOfEachKind writes.
var leftBlob = digest.FromString("left behind")

// leaveOneOfEachKind makes, in the namespace of ctx, one object of every
// kind containerd's API makes.
func leaveOneOfEachKind(t *testing.T, ctx context.Context, c *ctd.Client, cgroupParent string) {
	t.Helper()
	ns, _ := namespaces.Namespace(ctx)
	img := importBusybox(t, ctx, c)
	if _, err := c.ImageService().Create(ctx, imageRecord(img, leftover)); err != nil {
		t.Fatal(err)
	}
	// Unique on the machine: runc keeps state by id under one root.
	startSleeper(t, ctx, c, img, fmt.Sprintf("left-%s-%d", ns, os.Getpid()), cgroupParent)
	if _, err := c.LeasesService().Create(ctx, leasesWithID("left-lease")); err != nil {
		t.Fatal(err)
	}
	if err := content.WriteBlob(ctx, c.ContentStore(), "left-blob", strings.NewReader("left behind"),
		ocispec.Descriptor{Digest: leftBlob, Size: int64(len("left behind"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SandboxStore().Create(ctx, ctdsandbox.Sandbox{ID: "left-sandbox", Runtime: ctdsandbox.RuntimeOpts{Name: "io.containerd.runc.v2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SnapshotService("native").Prepare(ctx, "left-native", ""); err != nil {
		t.Fatal(err)
	}
}

// startSleeper starts a container of img that sleeps, in the backend's
// cgroup (MATRIXBOX_CGROUP_PARENT), as a well-behaved test does.
func startSleeper(t *testing.T, ctx context.Context, c *ctd.Client, img ctd.Image, id, parent string) {
	t.Helper()
	opts := []oci.SpecOpts{oci.WithImageConfig(img), oci.WithProcessArgs("sleep", "600"), oci.WithHostNamespace(specs.NetworkNamespace)}
	if parent != "" {
		opts = append(opts, oci.WithCgroup(parent+"/"+id))
	}
	cont, err := c.NewContainer(ctx, id, ctd.WithImage(img), ctd.WithSnapshotter(snapshotter), ctd.WithNewSnapshot(id, img), ctd.WithNewSpec(opts...))
	if err != nil {
		t.Fatal(err)
	}
	task, err := cont.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

// stillBuilding is the build the first case of TestResetFallsBackToFresh
// leaves running; the test ends it.
var stillBuilding struct {
	sync.Mutex
	cmd *exec.Cmd
}

// TestResetFallsBackToFresh leaves what a wipe cannot remove — a build
// still running, whose session belongs to its client — on a warm
// buildkitd: the backend is discarded, the next case runs on a fresh one,
// and its log says what was left.
func TestResetFallsBackToFresh(t *testing.T) {
	t.Cleanup(func() {
		stillBuilding.Lock()
		defer stillBuilding.Unlock()
		if c := stillBuilding.cmd; c != nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	tests := integration.With(integration.TestFuncs(testLeaveABuildRunning, testRunsOnAFreshBackend), integration.ResetBackend(), integration.Serial())
	integration.Run(t, tests,
		integration.WithWorkers(BuildkitdOCI()),
		integration.WithMirror(mirror.Shared()),
		integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"}))
}

func testLeaveABuildRunning(t *testing.T, sb sandbox.Sandbox) {
	firstAddress.Store(sb.Name()+"/fallback", sb.Address())
	dir := filepath.Join(sb.TempDir(), "ctx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tok := "7" + strconv.Itoa(os.Getpid()%100000)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN sleep "+tok+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	buildctl, err := lookBinary("buildctl")
	if err != nil {
		t.Fatal(err)
	}
	// Not sb.Cmd: this client outlives the case, as a careless test's
	// goroutine would.
	cmd := exec.Command(buildctl, "--addr", sb.Address(), "build", "--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stillBuilding.Lock()
	stillBuilding.cmd = cmd
	stillBuilding.Unlock()
	for !processRuns("sleep\x00" + tok + "\x00") {
		select {
		case <-sb.Context().Done():
			t.Fatal(sb.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func testRunsOnAFreshBackend(t *testing.T, sb sandbox.Sandbox) {
	if first, _ := firstAddress.Load(sb.Name() + "/fallback"); first == sb.Address() {
		t.Errorf("the case runs on the backend whose wipe could not remove a running build (%s)", first)
	}
	if log := sb.Logs().Text("matrixbox"); !strings.Contains(log, "the one an earlier case used was discarded: buildkitd: builds still running:") {
		t.Errorf("the case's log does not say what was left:\n%s", log)
	}
}

func processRuns(cmdline string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(b) == cmdline {
			return true
		}
	}
	return false
}
